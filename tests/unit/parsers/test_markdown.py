from __future__ import annotations

import os
import time

import pytest

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, flatten
from go_doc_go.parsers import get_parser
from go_doc_go.parsers._headings import Slugger, slugify
from go_doc_go.parsers.markdown import BACKEND, parse, parse_with_markdown_it, parse_with_pyromark
from tests.unit.parsers.trees import by_path, parse_data, types

BACKENDS = {"markdown-it": parse_with_markdown_it, "pyromark": parse_with_pyromark}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request):
    """Each backend's parse function in turn; every test below runs against both."""
    if request.param == "pyromark":
        pytest.importorskip("pyromark")
    return BACKENDS[request.param]


_current_parse = parse


@pytest.fixture(autouse=True)
def _use_backend(backend, monkeypatch):
    monkeypatch.setitem(globals(), "_current_parse", backend)


def run(data: bytes | str, **limits: int):
    return parse_data(_current_parse, data, "doc.md", **limits)


def lines(el) -> tuple[int, int]:
    return el.location["line_start"], el.location["line_end"]


NESTED = """\
Intro line.

# Title

Top text.

## Part A

Text A.

### Detail

Deep text.

## Part B

Text B.

# Second
"""


def test_registered():
    assert get_parser("markdown") is parse


def test_backend_choice_is_explicit():
    try:
        import pyromark  # noqa: F401
    except ImportError:
        assert (BACKEND, parse) == ("markdown-it", parse_with_markdown_it)
    else:
        assert (BACKEND, parse) == ("pyromark", parse_with_pyromark)


def test_header_nesting_and_closing():
    result = run(NESTED)
    root = result.root
    assert types(root) == ["paragraph", "header", "header"]
    assert root.children[0].text == "Intro line."
    title = root.children[1]
    assert (title.text, title.metadata, title.anchor) == ("Title", {"level": 1}, "title")
    assert types(title) == ["paragraph", "header", "header"]
    part_a, part_b = title.children[1], title.children[2]
    assert (part_a.text, part_a.metadata["level"]) == ("Part A", 2)
    assert types(part_a) == ["paragraph", "header"]
    detail = part_a.children[1]
    assert (detail.text, detail.metadata["level"]) == ("Detail", 3)
    assert [c.text for c in detail.children] == ["Deep text."]
    # h2 after h3 closes the h3 and goes back under the h1.
    assert part_b.text == "Part B"
    assert [c.text for c in part_b.children] == ["Text B."]
    assert root.children[2].text == "Second" and root.children[2].children == []
    assert result.title == "Title"

    paths = by_path(result)
    assert paths["root/header[0]/header[0]/header[0]/paragraph[0]"].text == "Deep text."
    assert paths["root/header[0]/header[1]/paragraph[0]"].text == "Text B."
    assert paths["root/header[1]"].text == "Second"
    assert lines(paths["root/header[0]/header[0]/header[0]"]) == (11, 11)
    assert lines(paths["root/paragraph[0]"]) == (1, 1)


def test_header_levels_can_skip():
    result = run("### Deep first\n\ntext\n\n# Top\n\n### Under top\n\n## Mid\n")
    root = result.root
    assert types(root) == ["header", "header"]
    assert root.children[0].children[0].text == "text"
    top = root.children[1]
    assert [c.text for c in top.children] == ["Under top", "Mid"]


def test_anchors_are_github_slugs_and_unique():
    result = run("# Hello, World!\n\n## Hello, World!\n\n## `code` & _under_score_ -x-\n\n# Hello World\n")
    anchors = [e.anchor for e in flatten("d", result.root)[0] if e.element_type == "header"]
    assert anchors == ["hello-world", "hello-world-1", "code--under_score--x-", "hello-world-2"]


def test_slugger_basics():
    assert slugify("  Ünïcode Title ") == "ünïcode-title"
    s = Slugger()
    assert [s.slug("a"), s.slug("a"), s.slug("a-1"), s.slug("a")] == ["a", "a-1", "a-1-1", "a-2"]
    assert s.slug("!!!") is None


def test_paragraph_text_and_multiline_location():
    result = run("First *emphasis* and `code`\nsecond line.\n\nNext.\n")
    first, second = result.root.children
    assert first.text == "First emphasis and code\nsecond line."
    assert lines(first) == (1, 2)
    assert lines(second) == (4, 4)


def test_table_structure():
    md = "# T\n\n| Name | Value |\n|------|:-----:|\n| a | 1 |\n| b | [two](http://two) |\n"
    result = run(md)
    table = result.root.children[0].children[0]
    assert table.element_type == ElementType.TABLE
    assert types(table) == ["table_header", "table_row", "table_row"]
    header, row1, row2 = table.children
    assert [c.element_type for c in header.children] == [ElementType.TABLE_CELL] * 2
    assert [c.text for c in header.children] == ["Name", "Value"]
    assert header.text == "Name | Value"
    assert [c.text for c in row2.children] == ["b", "two"]
    assert row1.text == "a | 1"
    assert table.text == "Name | Value\na | 1\nb | two"
    assert lines(table) == (3, 6)
    assert lines(row2) == (6, 6)
    (link,) = result.links
    assert (link.href, link.text, link.node) == ("http://two", "two", row2.children[1])
    paths = by_path(result)
    assert paths["root/header[0]/table[0]/table_row[1]/table_cell[1]"].text == "two"


def test_nested_lists():
    md = "- one\n- two\n  - two.a\n  - two.b\n    1. deep\n- three\n\n3. x\n4. y\n"
    result = run(md)
    bullet, ordered = result.root.children
    assert bullet.metadata == {"ordered": False}
    assert ordered.metadata == {"ordered": True, "start": 3}
    assert types(bullet) == ["list_item"] * 3
    one, two, three = bullet.children
    # Tight list: the item holds its own text, no paragraph child.
    assert one.text == "one" and one.children == []
    assert types(two) == ["list"]
    inner = two.children[0]
    assert [i.text for i in inner.children] == ["two.a", "two.b\ndeep"]
    deep_list = inner.children[1].children[0]
    assert deep_list.metadata == {"ordered": True} and deep_list.children[0].text == "deep"
    assert two.text == "two\ntwo.a\ntwo.b\ndeep"
    assert bullet.text == "one\ntwo\ntwo.a\ntwo.b\ndeep\nthree"
    assert lines(two) == (2, 5)
    paths = by_path(result)
    assert paths["root/list[0]/list_item[1]/list[0]/list_item[1]/list[0]/list_item[0]"].text == "deep"


def test_loose_list_items_hold_paragraphs():
    result = run("1. first para\n\n   second para\n2. other\n")
    item = result.root.children[0].children[0]
    assert types(item) == ["paragraph", "paragraph"]
    assert item.text == "first para\nsecond para"


def test_code_blocks():
    md = "```python title=x\ndef f():\n    return 1\n```\n\n~~~\nplain\n~~~\n\n    indented\n    code\n"
    fenced, bare, indented = run(md).root.children
    assert fenced.element_type == ElementType.CODE_BLOCK
    assert fenced.metadata == {"language": "python"}
    assert fenced.text == "def f():\n    return 1"
    assert lines(fenced) == (1, 4)
    assert bare.metadata == {"language": None} and bare.text == "plain"
    assert indented.metadata == {"language": None} and indented.text == "indented\ncode"


def test_blockquote_contains_blocks():
    result = run("> quoted *text*\n> more\n>\n> - item\n> > inner\n\nafter\n")
    quote, after = result.root.children
    assert quote.element_type == ElementType.BLOCKQUOTE
    assert types(quote) == ["paragraph", "list", "blockquote"]
    assert quote.children[0].text == "quoted text\nmore"
    assert quote.children[2].children[0].text == "inner"
    assert quote.text == "quoted text\nmore\nitem\ninner"
    assert lines(quote) == (1, 5)
    assert after.text == "after"


def test_header_inside_blockquote_is_a_plain_block():
    result = run("# Top\n\n> ## Quoted heading\n> text\n\nafter\n")
    top = result.root.children[0]
    quote = top.children[0]
    assert types(quote) == ["header", "paragraph"]
    assert quote.children[0].anchor == "quoted-heading"
    assert top.children[1].text == "after"


def test_front_matter_to_metadata_and_title():
    md = "---\ntitle: From Front\ndate: 2024-01-02\ntags: [a, b]\n---\n# Heading\n\ntext\n"
    result = run(md)
    assert result.metadata == {"title": "From Front", "date": "2024-01-02", "tags": ["a", "b"]}
    assert result.title == "From Front"
    header = result.root.children[0]
    assert header.text == "Heading"
    assert lines(header) == (6, 6)  # line numbers count the front matter


@pytest.mark.parametrize(
    "front, fragment",
    [
        ("- just\n- a list\n", "not a mapping"),
        ("key: [unclosed\n", "invalid YAML"),
        (  # a "billion laughs" of YAML aliases must not expand into a huge value
            "a: &a [1,2,3,4,5,6,7,8,9]\n"
            "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
            "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
            "more than",
        ),
    ],
)
def test_bad_front_matter_is_reported_not_fatal(front, fragment):
    result = run(f"---\n{front}---\n# Still parsed\n")
    assert fragment in result.metadata["front_matter_error"]
    assert result.root.children[0].text == "Still parsed"
    assert result.title == "Still parsed"


def test_links_with_their_blocks():
    md = (
        "# See [the docs](docs/index.md#intro)\n\n"
        "Text with [a **bold** link](http://example.com \"title\") and <https://auto.example>.\n\n"
        "- item [x](x.md)\n\n"
        "[empty]()\n"
    )
    result = run(md)
    header = result.root.children[0]
    para, lst, _empty = header.children
    item = lst.children[0]
    got = [(link.href, link.text, link.node) for link in result.links]
    assert got == [
        ("docs/index.md#intro", "the docs", header),
        ("http://example.com", "a bold link", para),
        ("https://auto.example", "https://auto.example", para),
        ("x.md", "x", item),
    ]
    assert para.text == "Text with a bold link and https://auto.example."
    # Links map to element ids through flatten.
    _, ids = flatten("doc", result.root)
    assert all(id(link.node) in ids for link in result.links)


def test_image_is_a_child_of_its_paragraph():
    result = run("Look: ![A *diagram*](img/d.png \"Diagram\") here.\n\n![solo](s.png)\n")
    para, solo = result.root.children
    assert para.text == "Look: A diagram here."
    (image,) = para.children
    assert image.element_type == ElementType.IMAGE
    assert image.metadata == {"src": "img/d.png", "alt": "A diagram", "title": "Diagram"}
    assert image.text == "A diagram"
    assert lines(image) == (1, 1)
    assert types(solo) == ["image"] and solo.children[0].metadata["src"] == "s.png"
    assert result.links == []  # images are elements, not links
    assert "root/paragraph[0]/image[0]" in by_path(result)


def test_html_block_and_hr():
    result = run("<div class=\"x\">\nraw\n</div>\n\n---\n\ntext\n")
    html, hr, text = result.root.children
    assert html.element_type == ElementType.PARAGRAPH and html.metadata == {"html": True}
    assert html.text == "raw"  # the HTML's text, not its source
    assert lines(html) == (1, 3)
    assert hr.element_type == ElementType.HORIZONTAL_RULE
    assert text.text == "text"


def test_empty_and_whitespace_documents():
    for data in (b"", b"   \n\n  \n", b"\xef\xbb\xbf"):
        result = run(data)
        assert result.root.element_type == ElementType.ROOT
        assert result.root.children == [] and result.links == [] and result.title is None
        assert len(flatten("doc", result.root)[0]) == 1


def test_latin1_bytes_are_decoded_as_cp1252():
    # Not UTF-8: the bytes are read as the legacy encoding they are, not replaced by U+FFFD.
    result = run(b"# Caf\xe9 \xff\n\nok \x80 text\n")
    header = result.root.children[0]
    assert header.text == "Caf\u00e9 \u00ff"
    assert header.children[0].text == "ok \u20ac text"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_files_with_a_bom_parse(codec):
    text = "# Titre été\n\n- ça [lien](b.md)\n- 漢字\n"
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    result = run(data)
    header = result.root.children[0]
    assert (header.text, header.anchor) == ("Titre été", "titre-été")
    assert [i.text for i in header.children[0].children] == ["ça lien", "漢字"]
    assert [link.href for link in result.links] == ["b.md"]
    assert lines(header.children[0]) == (3, 4)


def test_binary_garbage_parses_or_fails_cleanly():
    data = os.urandom(1) + bytes(range(256)) * 200 + b"\x00" * 1000
    try:
        result = run(data)
    except ParseError:
        return
    flatten("doc", result.root)


def test_deep_blockquotes_finish_quickly():
    start = time.monotonic()
    try:
        result = run(">" * 30_000 + " deep\n")
    except ParseError:
        pass
    else:
        elements, _ = flatten("doc", result.root)
        assert elements[1].element_type == "blockquote"
    assert time.monotonic() - start < 10


def test_deep_lists_and_brackets_finish():
    start = time.monotonic()
    cases = (
        # markdown-it-py works per level on the whole line until its recursion limit (~490
        # levels): 20,000 levels cost it seconds, not more (pyromark: milliseconds).
        "- " * 5_000 + "x\n",
        "[" * 50_000 + "x" + "]" * 50_000,
        "\n".join("  " * i + "- x" for i in range(500)),
    )
    for data in cases:
        try:
            result = run(data)
        except ParseError:
            continue
        flatten("doc", result.root)
    assert time.monotonic() - start < 20


def test_budget_limits_become_parse_errors():
    with pytest.raises(ParseError, match="max_elements"):
        run("\n\n".join(f"p{i}" for i in range(50)), max_elements=10)
    with pytest.raises(ParseError, match="max_links"):
        run(" ".join(f"[l{i}](u{i}.md)" for i in range(20)), max_links=10)
    with pytest.raises(ParseError, match="max_cells"):
        run("| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 10, max_cells=10)


def test_max_depth_flattens_instead_of_failing():
    result = run("> > > > > x\n> > > > > y\n\nafter\n", max_depth=3)
    assert result.metadata == {"flattened_at_depth": 3}
    elements, _ = flatten("doc", result.root)
    assert [e.element_type for e in elements] == ["root", "blockquote", "blockquote", "blockquote", "paragraph", "paragraph"]
    assert [e.text for e in elements[-2:]] == ["x\ny", "after"]
    assert elements[3].text == "x\ny"  # the deepest quote kept holds the deeper ones' content


def test_table_cells_count_against_max_cells_not_max_elements():
    # 1 table + 3 rows = 4 elements; the 6 cells are not elements for the budget.
    result = run("| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n", max_elements=4, max_cells=6)
    assert len(flatten("doc", result.root)[0]) == 11


def test_unexpected_errors_become_parse_errors(monkeypatch, backend):
    import go_doc_go.parsers.markdown as markdown

    def boom(*_args, **_kwargs):
        raise ValueError("tokenizer exploded")

    if backend is parse_with_pyromark:
        import go_doc_go.parsers._markdown_pyromark as fast

        monkeypatch.setattr(fast, "_events", boom)
    else:
        monkeypatch.setattr(markdown._MD, "parse", boom)
    with pytest.raises(ParseError, match="tokenizer exploded"):
        run("x")


def test_editing_one_section_keeps_other_ids():
    def doc(section2: str) -> str:
        return (
            "# One\n\nfirst para\n\n- a\n- b\n\n"
            f"# Two\n\n{section2}\n\n"
            "# Three\n\nthird para\n\n| h |\n|---|\n| c |\n"
        )

    before = by_path(run(doc("original paragraph")))
    after = by_path(run(doc("an edited paragraph\nthat is now longer\n\nand split in two")))

    def ids(paths, prefix):
        return {p: e.element_id for p, e in paths.items() if p.startswith(prefix)}

    for prefix in ("root/header[0]", "root/header[2]"):
        assert ids(before, prefix) == ids(after, prefix)
        assert ids(before, prefix)
    assert before["root/header[1]/paragraph[0]"].element_id == after["root/header[1]/paragraph[0]"].element_id
    assert before["root/header[1]/paragraph[0]"].content_hash != after["root/header[1]/paragraph[0]"].content_hash
    assert "root/header[1]/paragraph[1]" in after
