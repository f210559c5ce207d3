"""The pyromark backend must build exactly the markdown-it backend's tree.

Differential test: the example Markdown files and a few hundred documents from
a seeded random generator (plain CommonMark, and MkDocs-flavoured: admonitions,
tabs, raw HTML, attribute lists) are parsed by both backends, and
``model.flatten``'s rows (ids, types, parents, text, metadata, locations, all
anchors), the links (href, text, element) and the document metadata and title
must be identical. Deeply nested documents are compared at several
``parsers.max_depth`` values, up to the depth markdown-it-py can parse.

Known differences, kept out of the generator (rare in real documents):

* Links and images whose destination markdown-it refuses (``javascript:``,
  ``vbscript:``, ``file:``, non-image ``data:``): markdown-it leaves the source
  as literal text, pulldown-cmark makes a link.
* An image inside an image's alt text: markdown-it keeps the inner label's raw
  source in the alt, pulldown-cmark its plain text.
* Tabs at line ends: markdown-it keeps a tab before a soft line break,
  pulldown-cmark drops it; pulldown-cmark does not take ``#`` (closing an ATX
  heading) or a closing code fence as such when a tab follows.
* Corner cases where the two CommonMark implementations themselves disagree,
  e.g. some HTML-block start/end conditions, a table directly interrupting a
  paragraph or continued by a line without pipes, and link reference
  definitions interrupting or inside other blocks.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from go_doc_go.config import ParsersConfig
from go_doc_go.model import flatten
from go_doc_go.parsers.base import ParseInput
from go_doc_go.parsers.markdown import parse_with_markdown_it, parse_with_pyromark

pytest.importorskip("pyromark")

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "docs"


def snapshot(parse, text: str, **limits: int):
    result = parse(ParseInput(text.encode("utf-8"), "doc.md", ParsersConfig(**limits)))
    elements, ids = flatten("doc", result.root)
    rows = [
        (e.element_id, e.element_type, e.parent_id, e.text, e.metadata, e.location, e.anchors)
        for e in elements
    ]
    links = [(link.href, link.text, ids[id(link.node)]) for link in result.links]
    return rows, links, result.metadata, result.title


def assert_same(text: str, **limits: int) -> None:
    expected = snapshot(parse_with_markdown_it, text, **limits)
    got = snapshot(parse_with_pyromark, text, **limits)
    if got != expected:  # point at the first differing row, not a wall of text
        for name, a, b in zip(("rows", "links", "metadata", "title"), expected, got):
            if a != b and isinstance(a, list):
                for i, (x, y) in enumerate(zip(a, b)):
                    assert y == x, f"{name}[{i}] differs in:\n{text}"
            assert b == a, f"{name} differs in:\n{text}"


# ------------------------------------------------------------------ generator

WORDS = (
    "alpha beta gamma delta data store parser index token café naïve résumé "
    "漢字 テスト 😀 🚀 élan Straße über x y z 42 3.14 a_b foo-bar"
).split()
URLS = (
    "http://example.com", "https://example.com/path?q=1&r=2#frag", "docs/guide.md",
    "../up/file.md#anchor", "#local", "mailto:someone@example.com", "/abs/path",
    "https://例え.jp/ページ", "foo%20bar", "a b", "http://x.org/%zz", "HTTP://Example.COM/A",
)


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def words(self, lo: int = 1, hi: int = 6) -> str:
        return " ".join(self.r.choice(WORDS) for _ in range(self.r.randint(lo, hi)))

    def url(self) -> str:
        url = self.r.choice(URLS)
        return f"<{url}>" if " " in url else url

    def inline(self) -> str:
        r = self.r
        pieces = []
        for _ in range(r.randint(1, 6)):
            k = r.random()
            if k < 0.35:
                pieces.append(self.words())
            elif k < 0.45:
                pieces.append(f"*{self.words(1, 3)}*")
            elif k < 0.52:
                pieces.append(f"**{self.words(1, 3)}**")
            elif k < 0.6:
                pieces.append(f"`{self.words(1, 2)}`")
            elif k < 0.72:
                title = f' "{self.words(1, 2)}"' if r.random() < 0.3 else ""
                pieces.append(f"[{self.words(1, 3)}]({self.url()}{title})")
            elif k < 0.78:
                title = f' "{self.words(1, 2)}"' if r.random() < 0.4 else ""
                pieces.append(f"![{self.words(0, 3)}](img/{r.choice(WORDS)}.png{title})")
            elif k < 0.82:
                pieces.append(r.choice(["<https://auto.example/x>", "<me@example.org>", "<http://a.b/%41>"]))
            elif k < 0.86:
                pieces.append(r.choice(["&amp;", "&copy;", "\\*not em\\*", "a\\_b", "&#35;"]))
            elif k < 0.9:
                pieces.append(f"<span>{self.words(1, 2)}</span>")
            elif k < 0.95:
                pieces.append(f"[{self.words(1, 2)} ![{self.words(1, 2)}](i.png)](link.md)")
            else:
                pieces.append(f"[{self.words(1, 2)}][ref{r.randint(0, 2)}]")
        return " ".join(pieces)

    def paragraph(self, indent: str = "") -> str:
        lines = [self.inline() for _ in range(self.r.randint(1, 3))]
        joined = ""
        for i, line in enumerate(lines):
            if i:
                joined += self.r.choice(["\n", "  \n", "\\\n", "\n"]) + indent
            joined += line
        return joined

    def heading(self) -> str:
        r = self.r
        text = self.inline() if r.random() < 0.5 else self.words()
        if r.random() < 0.15:
            return f"{text}\n{'=' if r.random() < 0.5 else '-' * 3}"
        closing = " " + "#" * r.randint(1, 3) if r.random() < 0.1 else ""
        return f"{'#' * r.randint(1, 6)} {text}{closing}"

    def table(self) -> str:
        r = self.r
        cols = r.randint(1, 4)
        aligns = [r.choice(["---", ":--", "--:", ":-:"]) for _ in range(cols)]
        head = "| " + " | ".join(self.words(1, 2) for _ in range(cols)) + " |"
        rows = [head, "| " + " | ".join(aligns) + " |"]
        for _ in range(r.randint(0, 4)):
            n = max(1, cols + r.choice([0, 0, 0, -1, 1]))
            cells = [self.inline() if r.random() < 0.3 else self.words(0, 2) for _ in range(n)]
            rows.append("| " + " | ".join(cells) + " |")
        return "\n".join(rows)

    def code(self, indent: str = "") -> str:
        r = self.r
        body = [self.words() for _ in range(r.randint(0, 4))]
        if r.random() < 0.3 and not indent:
            return "\n".join("    " + line for line in body or ["x"])
        fence = r.choice(["```", "~~~", "````"])
        info = r.choice(["", "python", "js title=x", " rust ", "c++"])
        lines = [fence + info, *body, fence]
        return ("\n" + indent).join(lines)

    def html(self) -> str:
        return self.r.choice(
            [
                f'<div class="note">\n{self.words()}\n</div>',
                f"<!-- {self.words()} -->",
                f"<table><tr><td>{self.words()}</td></tr></table>",
                "<details>\n<summary>more</summary>\n\nhidden *md*\n\n</details>",
            ]
        )

    def list_(self, depth: int, indent: str = "") -> str:
        r = self.r
        ordered = r.random() < 0.4
        start = r.choice([1, 1, 0, 3, 10, 99]) if ordered else 1
        loose = r.random() < 0.35
        bullet = r.choice("-*+")
        items = []
        for i in range(r.randint(1, 4)):
            marker = f"{start + i}{r.choice('.)') if False else '.'}" if ordered else bullet
            pad = indent + " " * (len(marker) + 1)
            body = [self.paragraph(pad) if r.random() < 0.8 else self.words()]
            if r.random() < 0.3 and depth < 3:
                body.append(self.list_(depth + 1, pad))
            if r.random() < 0.1:
                body.append(self.code(pad))
            if loose and r.random() < 0.4:
                body.append(self.paragraph(pad))
            sep = "\n\n" + pad if loose else "\n" + pad
            items.append(f"{marker} " + sep.join(body))
        return ("\n\n" + indent if loose else "\n" + indent).join(items)

    def blockquote(self, depth: int) -> str:
        r = self.r
        blocks = []
        for _ in range(r.randint(1, 3)):
            k = r.random()
            if k < 0.5:
                blocks.append(self.paragraph())
            elif k < 0.75:
                blocks.append(self.list_(1))
            elif k < 0.85 and depth < 3:
                blocks.append(self.blockquote(depth + 1))
            else:
                blocks.append(self.heading())
        text = "\n\n".join(blocks)
        return "\n".join("> " + line if line else ">" for line in text.split("\n"))

    def front_matter(self) -> str:
        r = self.r
        return r.choice(
            [
                f"---\ntitle: {self.words()}\ntags: [a, b]\ndate: 2024-05-06\n---\n",
                "---\nauthor: é 漢字\n...\n",
                "---\n- not\n- a mapping\n---\n",
                "---\nbad: [unclosed\n---\n",
                "----\nk: v\n----\n",
            ]
        )

    def document(self) -> str:
        r = self.r
        blocks = []
        for _ in range(r.randint(1, 14)):
            k = r.random()
            if k < 0.2:
                blocks.append(self.heading())
            elif k < 0.45:
                blocks.append(self.paragraph())
            elif k < 0.6:
                blocks.append(self.list_(1))
            elif k < 0.67:
                blocks.append(self.table())
            elif k < 0.75:
                blocks.append(self.code())
            elif k < 0.83:
                blocks.append(self.blockquote(1))
            elif k < 0.87:
                blocks.append(self.html())
            elif k < 0.9:
                blocks.append(r.choice(["---", "***", "_ _ _"]))
            else:
                blocks.append(f"[ref{r.randint(0, 2)}]: {self.url()}")
        seps = ["\n\n", "\n\n", "\n\n\n"]
        text = blocks[0]
        for block in blocks[1:]:
            text += r.choice(seps) + block
        if r.random() < 0.25:
            text = self.front_matter() + text
        return text + r.choice(["\n", "", "\n\n"])


    # MkDocs-flavoured documents: admonitions, tabs, raw HTML, attribute lists.

    def inline_html(self) -> str:
        r = self.r
        w = r.choice(WORDS)
        return r.choice(
            [
                f"<code>{w}</code><code>{r.choice(WORDS)}</code>",
                f"wo<b>{w}</b>rd",
                f"a<br>{w}",
                f'<a id="{w}-id"></a>{w}',
                f'<a href="{self.url()}">{self.words(1, 2)}</a>',
                f"<kbd>{w}</kbd>+<kbd>x</kbd>",
                f"<span>{w}</span><span>{w}</span>",
            ]
        )

    def mkdocs_heading(self) -> str:
        r = self.r
        text = self.words(1, 3)
        if r.random() < 0.3:
            text += " " + self.inline_html()
        attrs = r.choice(["", "", " {#custom-id}", " {: #x .c }", " {.a .b}", " {not attrs}"])
        return f"{'#' * r.randint(1, 4)} {text}{attrs}"

    def body_block(self, depth: int) -> str:
        r = self.r
        k = r.random()
        if k < 0.3:
            return self.paragraph() + (" " + self.inline_html() if r.random() < 0.4 else "")
        if k < 0.45:
            return self.list_(1)
        if k < 0.55:
            return self.code()
        if k < 0.6:
            return self.table()
        if k < 0.65:
            return self.blockquote(2)
        if k < 0.72:
            return self.html()
        if k < 0.78:
            return self.mkdocs_heading()
        if depth < 3:
            return self.admonition(depth + 1)
        return self.words()

    def admonition(self, depth: int) -> str:
        r = self.r
        if r.random() < 0.25:
            head = f'==={r.choice(["", "+", "!"])} "{self.words(1, 2)}"'
        else:
            kind = r.choice(["note", "warning", "tip", "danger highlight", "info"])
            title = r.choice(["", ' ""', f' "{self.words(1, 3)}"'])
            head = f"{r.choice(['!!!', '???', '???+'])} {kind}{title}"
        blocks = [self.body_block(depth) for _ in range(r.randint(0, 3))]
        body = r.choice(["\n\n", "\n\n\n"]).join(blocks)
        indented = "\n".join("    " + line if line.strip() else "" for line in body.split("\n"))
        return head + (r.choice(["\n", "\n\n"]) + indented if blocks else "")

    def mkdocs_document(self) -> str:
        r = self.r
        blocks = []
        for _ in range(r.randint(1, 10)):
            k = r.random()
            if k < 0.35:
                blocks.append(self.admonition(1))
            elif k < 0.5:
                blocks.append(self.mkdocs_heading())
            elif k < 0.6:
                blocks.append(f"[ref{r.randint(0, 2)}]: {self.url()}")
            else:
                blocks.append(self.body_block(3))
        text = blocks[0]
        for block in blocks[1:]:
            # A marker may follow the previous block directly (it starts a block of its own).
            tight = block[:3] in ("!!!", "???", "===") and r.random() < 0.3
            text += "\n" if tight else r.choice(["\n\n", "\n\n\n"])
            text += block
        if r.random() < 0.2:
            text = self.front_matter() + text
        return text + r.choice(["\n", "", "\n\n"])


# ---------------------------------------------------------------------- tests


@pytest.mark.parametrize("path", sorted(EXAMPLES.rglob("*.md")), ids=lambda p: p.name)
def test_example_documents_agree(path):
    assert_same(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("chunk", range(8))
def test_generated_documents_agree(chunk):
    for seed in range(chunk * 60, (chunk + 1) * 60):  # 480 documents in all
        assert_same(Gen(seed).document())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "# Only a heading",
        "plain",
        "- a\n- b\n\n\n\nafter\n",
        "- a\n  - b\n    - c\n\n\n\npara\n",
        "1. a\n\n   b\n2. c\n",
        "- a\n  ```\n  code\n  ```\n  b\n",
        "- <b>\n  - sub\n",
        "- ![only](i.png)\n- [l](x)\n",
        "-\n  foo\n-\n- bar\n",
        "> a\nlazy\n> > b\n\n> c\n",
        "> - a\n>\n>   b\n> - c\n",
        "Title\n===\n\nSub\n---\n",
        "```\nunclosed\n",
        "    code\n\n    more\n",
        "| a |\n|---|\n",
        "| a | b |\n|:-:|--:|\n| 1 |\n| 1 | 2 | 3 |\n",
        "a\r\nb\r\n\r\n# c\r",
        "nul \0 byte\n",
        "tab\tin\ttext\n\n-\ttab item\n",
        "---\ntitle: T\n---\n# H\n",
        "---\n---\n# empty front matter\n",
        "---\nnot closed\n# H\n",
        "--- x\na: 1\n  ---\npara\n",
        "---\na: 1\n   ---   \n",
        "# é 漢字 😀\n\n- é\n- 漢字 😀 [l](é.md)\n\n| é | 😀 |\n|---|---|\n| 漢 | 字 |\n",
        "[a](<b c>) [d](e\\)f) [g](&amp;) ![h](https://例え.jp/ä.png)\n",
        "<foo@bar.example> <https://x.y/%20é>\n",
        "*a **b** c* `` co`de `` \\\nline\n",
        "&nbsp;&amp;&#x41;&bogus;\n",
    ],
)
def test_edge_documents_agree(text):
    assert_same(text)


@pytest.mark.parametrize("chunk", range(4))
def test_generated_mkdocs_documents_agree(chunk):
    for seed in range(chunk * 50, (chunk + 1) * 50):  # 200 documents in all
        assert_same(Gen(10_000 + seed).mkdocs_document())


DEEP = [
    "> " * 25 + "deep\n\nafter\n",
    ">" * 30 + " deep\n> back\n\nafter\n",
    "- " * 11 + "x\n\nafter\n",
    "- " * 12 + "x\n- y\n\nafter\n",
    "1. " * 10 + "x\n\n   para\n",
    "> " + "- " * 10 + "x\n> tail\n\nafter\n",
    "> " * 5 + "- " * 10 + "![i](i.png) x\n\nafter\n",
    "- a\n" + "".join("  " * i + "- x\n" for i in range(1, 15)) + "\nend\n",
    "> " * 19 + "- x\n\nafter\n",
    "> " * 18 + "- x\n  - y\n",
    "> " * 20 + "\n\nafter\n",
    "".join("  " * i + f"- level{i} [l{i}](l{i}.md)\n" for i in range(12)) + "\npara\n\n## Section\n\ntext\n",
    "- a\n  - b\n    - c\n      - d\n\n        d2\n- e\n\nafter\n",
    "- a\n  - b\n    -\n    - c\n\n\n      lazy\n- e\n",
    "> a\n> > b\n> > > c\n> > > > | t |\n> > > > |---|\n> > > > | v |\n\nafter\n",
    "> > > > x\n>\n>\n> y\n",
    "- > - > - > x\n  y\n",
    "# A\n\n## B\n\n### C\n\n#### D\n\nd\n\n## E\n",
    "!!! a\n    !!! b\n        !!! c\n            - x\n              - y\n\n    back\n",
    "> " * 150 + "x\n",
    "- " * 150 + "x\n\n- " + "- " * 120 + "y\n",
    "".join("  " * i + f"- w{i}\n" for i in range(150)),
    "> " * 400 + "x\n> lazy\n\nafter\n",  # about as deep as markdown-it-py's recursion allows
    "- " * 400 + "x\n\n" + "  " * 3 + "y\n",
]


@pytest.mark.parametrize("text", DEEP)
@pytest.mark.parametrize("max_depth", [1, 2, 3, 5, 100])
def test_deep_nesting_agrees(text, max_depth):
    """No truncation any more: both backends keep everything, flattened past max_depth alike."""
    assert_same(text, max_depth=max_depth)


@pytest.mark.parametrize(
    "text",
    [
        '!!! note "T"\n    body\n',
        "!!! note\n    a\nb\n",
        "!!! note\n\n\n    a\n\n\n\nb\n",
        "!!! note\n",
        "text\n!!! note\n    body\n",
        "- item\n!!! note\n    body\n",
        "```\n!!! note\n    x\n```\n",
        "!!! note\n    ```\n    unclosed [r]\n\nafter [r]\n\n[r]: u.md\n",
        "!!! note\n\t tab body\n\t\tcode?\n",
        '=== "A"\n    a\n=== "B"\n    b\n===+ "C"\n    c\n',
        "??? x\n    > quote\n    lazy\n",
        "!!! x\n    [a][r]\n\n[r]: <u v> 'title'\n[bad]: <x>y\n",
        "!!! x\n    # Heading {#hid}\n\n# Heading\n",
        "---\ntitle: T\n---\n!!! x\n    y\n",
        "---\n- list fm\n---\n??? x\n",
        "!!! x\n    <div>\n    <p>html</p>\n\n    </div>\n",
        "    !!! indented code\n",
        '!!! note "unclosed\n    body\n',
    ],
)
def test_admonition_edges_agree(text):
    assert_same(text)


@pytest.mark.parametrize(
    "text",
    [
        "<code>a</code><code>b</code> wo<b>r</b>d a<br>b <a href='x'>y</a> <a href=z>unclosed\n",
        "# <a id='i'></a>H <span id=\"s\">t</span>\n",
        "- <a name=n>item</a>\n- x<br/>y\n",
        "| <b>a</b><i>b</i> | <code>c</code> |\n|---|---|\n| <a href=q>r</a> | s |\n",
        "![alt <b>x</b>](i.png) [t <i>u</i>](v)\n",
        "<div id=a><a href='l'>L</a><img src=i alt=A></div>\n",
        "<table><tr><td>x</td><td>y</td></tr></table>\n",
        "<!-- only a comment -->\n",
        "<pre>\n  kept   spaces\n</pre>\n",
        "## T {#x .y k=v}\n## T {: #z}\n## {#only}\n## T {#}\n",
    ],
)
def test_html_and_anchor_edges_agree(text):
    assert_same(text)


def test_hostile_nesting_is_fast_and_complete():
    import time

    for text in (">" * 20_000 + " deep\n", ">" * 20_000 + " deep\n\nafter\n", "- " * 20_000 + "x\n"):
        start = time.process_time()
        result = parse_with_pyromark(ParseInput(text.encode(), "doc.md"))
        assert time.process_time() - start < 2
        elements, _ = flatten("doc", result.root)
        assert sum(e.element_type in ("blockquote", "list", "list_item") for e in elements) == 100
        assert "deep" in elements[-1].text or "after" in elements[-1].text or elements[-1].text == "x"
        assert result.metadata == {"flattened_at_depth": 100}
