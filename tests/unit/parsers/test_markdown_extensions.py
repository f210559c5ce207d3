"""Markdown beyond the basic tree: deep nesting, raw HTML, anchors, admonitions and tabs.

Every test runs against both backends.
"""

from __future__ import annotations

import sys
import time

import pytest

from go_doc_go.config import MarkdownConfig, ParsersConfig
from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, flatten
from go_doc_go.parsers.base import ParseInput
from go_doc_go.parsers.markdown import parse_with_markdown_it, parse_with_pyromark
from tests.unit.parsers.trees import by_path, types

BACKENDS = {"markdown-it": parse_with_markdown_it, "pyromark": parse_with_pyromark}


@pytest.fixture(params=sorted(BACKENDS))
def parse(request):
    if request.param == "pyromark":
        pytest.importorskip("pyromark")
    return BACKENDS[request.param]


def run(parse, text: str, admonitions: bool = True, **limits: int):
    config = ParsersConfig(markdown=MarkdownConfig(admonitions=admonitions), **limits)
    return parse(ParseInput(text.encode("utf-8"), "doc.md", config))


def lines(node) -> tuple[int, int]:
    return node.location["line_start"], node.location["line_end"]


def all_text(result) -> str:
    return "\n".join(e.text for e in flatten("doc", result.root)[0])


# ------------------------------------------------------------------ nesting


def test_a_deep_outline_keeps_its_tail(parse):
    # markdown-it's CommonMark preset (maxNesting 20) used to drop everything after this outline.
    outline = "".join("  " * i + f"- level{i}\n" for i in range(12))
    result = run(parse, outline + "\nclosing paragraph\n\n## Section\n\nsection text\n")
    first, para, section = result.root.children
    assert first.element_type == ElementType.LIST
    assert "level11" in first.text
    assert para.text == "closing paragraph"
    assert (section.text, section.children[0].text) == ("Section", "section text")
    assert "flattened_at_depth" not in result.metadata


def test_nesting_past_max_depth_is_flattened_with_all_text(parse):
    text = "- a\n  - b\n    - c\n      - d [l](d.md)\n\n        d2\n- e\n\nafter\n"
    result = run(parse, text, max_depth=2)
    assert result.metadata == {"flattened_at_depth": 2}
    outer = result.root.children[0]
    item_a = outer.children[0]
    # depth 1 list, depth 2 item; the deeper lists and items are not created:
    assert types(item_a) == ["paragraph", "paragraph", "paragraph", "paragraph"]
    assert [p.text for p in item_a.children] == ["b", "c", "d l", "d2"]
    assert item_a.text == "a\nb\nc\nd l\nd2"
    assert [lines(p) for p in item_a.children] == [(2, 2), (3, 3), (4, 4), (6, 6)]
    assert [(link.href, link.node) for link in result.links] == [("d.md", item_a.children[2])]
    assert result.root.children[1].text == "after"


def test_headers_past_max_depth_stay_in_the_deepest_section(parse):
    result = run(parse, "# A\n\n## B\n\n### C\n\nc text\n\n## D\n", max_depth=2)
    a = result.root.children[0]
    b, d = a.children
    assert types(b) == ["header", "paragraph"]  # h3 is a plain block of the h2 section
    assert [c.text for c in b.children] == ["C", "c text"]
    assert d.text == "D" and result.metadata == {"flattened_at_depth": 2}


@pytest.mark.parametrize("shape", ["list", "quote"])
def test_pyromark_handles_5000_levels_quickly(shape):
    pytest.importorskip("pyromark")
    text = ("- " * 5000 if shape == "list" else ">" * 5000 + " ") + "deepest words\n\ntail text\n"
    start = time.process_time()
    result = parse_with_pyromark(ParseInput(text.encode(), "doc.md"))
    assert time.process_time() - start < 2
    elements, _ = flatten("doc", result.root)
    assert result.metadata == {"flattened_at_depth": 100}
    texts = [e.text for e in elements if e.element_type == "paragraph"]
    assert texts == ["deepest words", "tail text"]
    containers = [e for e in elements if e.element_type in ("list", "list_item", "blockquote")]
    assert len(containers) == 100


def test_markdown_it_reports_its_recursion_limit():
    text = "> " * 2000 + "x\n"
    with pytest.raises(ParseError, match=rf"recursion limit \({sys.getrecursionlimit()}\)"):
        parse_with_markdown_it(ParseInput(text.encode(), "doc.md"))


def test_markdown_it_parses_hundreds_of_levels():
    result = parse_with_markdown_it(ParseInput(("> " * 300 + "x\n").encode(), "doc.md"))
    assert result.metadata == {"flattened_at_depth": 100}
    assert all_text(result).endswith("x")


def test_text_repeated_by_nesting_is_bounded(parse):
    # Lazy continuation lines stay in the paragraph inside all 100 quotes: each quote repeats them.
    text = "> " * 100 + "x\n" + "lazy continuation line\n" * 700
    with pytest.raises(ParseError, match="16x the document size"):
        run(parse, text)


# ------------------------------------------------------------------ inline HTML


def test_inline_html_keeps_word_boundaries(parse):
    md = "Runs on <code>linux</code><code>win32</code><code>darwin</code>, a wo<b>r</b>d and <em>x</em>y.\n"
    (para,) = run(parse, md).root.children
    assert para.text == "Runs on linux win32 darwin, a word and xy."


@pytest.mark.parametrize(
    "md, text",
    [
        ("line one<br>line two", "line one\nline two"),
        ("a<br/>b<br />c", "a\nb\nc"),
        ("<span>one</span><span>two</span>", "one two"),  # two elements side by side: two words
        ("H<sub>2</sub>O and x<sup>2</sup>", "H2O and x2"),
        ("a<kbd>Ctrl</kbd>b", "a Ctrl b"),
        ("wo<!-- note -->rd", "word"),
        ("cell<div>block</div>", "cell block"),
    ],
)
def test_inline_html_separators(parse, md, text):
    assert run(parse, md + "\n").root.children[0].text == text


def test_inline_html_anchors_and_links(parse):
    md = (
        '## <a id="install"></a>Installation\n\n'
        'Text <a name="here">here</a> and <a href="guide.md#x">the <b>guide</b></a>.\n\n'
        "- item <span id='it'>x</span>\n"
    )
    result = run(parse, md)
    header = result.root.children[0]
    para, lst = header.children
    assert header.text == "Installation"
    assert header.anchors == ["installation", "install"]  # the GitHub slug first, then the HTML id
    assert para.anchors == ["here"]
    assert para.text == "Text here and the guide."
    assert lst.children[0].anchors == ["it"]
    assert [(link.href, link.text, link.node) for link in result.links] == [("guide.md#x", "the guide", para)]


# ------------------------------------------------------------------ HTML blocks


def test_html_block_text_links_and_anchors(parse):
    md = (
        "# Top\n\n"
        '<div id="box" class="note">\n'
        '<p>First <a href="a.md">link <b>A</b></a></p><p>Second<img src="i.png" alt="pic"></p>\n'
        '<a name="legacy"></a><ul><li>one</li><li>two</li></ul>\n'
        "</div>\n\n"
        "after\n"
    )
    result = run(parse, md)
    top = result.root.children[0]
    html, after = top.children
    assert html.metadata == {"html": True}
    assert html.text == "First link A\nSecond pic\none\ntwo"
    assert "<" not in html.text
    assert html.anchors == ["box", "legacy"]
    assert [(link.href, link.text, link.node) for link in result.links] == [("a.md", "link A", html)]
    (image,) = html.children
    assert (image.element_type, image.metadata) == (ElementType.IMAGE, {"src": "i.png", "alt": "pic"})
    assert lines(html) == (3, 6) and after.text == "after"


def test_html_block_scripts_and_comments_are_not_text(parse):
    md = "<div>\n<script>var x = 1;</script><!-- hidden --><style>p {}</style>shown\n</div>\n"
    assert run(parse, md).root.children[0].text == "shown"


def test_html_block_too_deep_for_libxml2_keeps_its_text(parse):
    md = "<div>" * 300 + "deep words" + "</div>" * 300 + "tail\n"
    (html,) = run(parse, md).root.children
    assert html.text.split() == ["deep", "words", "tail"]
    assert html.metadata == {"html": True, "html_flattened": True}


def test_html_block_links_count_against_max_links(parse):
    md = "<p>" + "".join(f'<a href="u{i}">x</a>' for i in range(6)) + "</p>\n"
    with pytest.raises(ParseError, match="max_links"):
        run(parse, md, max_links=5)


# ------------------------------------------------------------------ header attribute lists


@pytest.mark.parametrize(
    "md, text, anchor, meta",
    [
        ("## Title {#custom-id}", "Title", "custom-id", {"level": 2}),
        ("## Title {: #id .cls }", "Title", "id", {"level": 2, "classes": ["cls"]}),
        ("## Title {.a .b #x data-k=v}", "Title", "x", {"level": 2, "classes": ["a", "b"], "attributes": {"data-k": "v"}}),
        ("Setext {#set}\n===", "Setext", "set", {"level": 1}),
        ("## Only classes {.c}", "Only classes", "only-classes", {"level": 2, "classes": ["c"]}),
        ("## Literal {braces here}", "Literal {braces here}", "literal-braces-here", {"level": 2}),
        ("## Mid {#x} text", "Mid {#x} text", "mid-x-text", {"level": 2}),
    ],
)
def test_header_attribute_lists(parse, md, text, anchor, meta):
    header = run(parse, md + "\n").root.children[0]
    assert (header.text, header.anchor, header.metadata) == (text, anchor, meta)


def test_explicit_header_ids_are_reserved(parse):
    result = run(parse, "## First {#intro}\n\n## Intro\n")
    assert [h.anchor for h in result.root.children] == ["intro", "intro-1"]


# ------------------------------------------------------------------ admonitions and tabs

DOC = """\
# Guide

Intro text.

!!! note "Read this"
    Body with a [link](body.md).

    - item one
    - item two

    ??? tip "Nested"
        Deep [inner](inner.md) text.

        ```python
        !!! not a marker inside code
        ```

!!! warning
    No title here.

???+ danger "Open one"
    Shown.

After all.
"""


def test_admonitions_are_containers(parse):
    result = run(parse, DOC)
    guide = result.root.children[0]
    assert types(guide) == ["paragraph", "admonition", "admonition", "admonition", "paragraph"]
    note, warning, danger = guide.children[1:4]
    assert note.metadata == {"kind": "note", "title": "Read this", "collapsible": False, "open": False}
    assert warning.metadata == {"kind": "warning", "title": None, "collapsible": False, "open": False}
    assert danger.metadata == {"kind": "danger", "title": "Open one", "collapsible": True, "open": True}
    assert types(note) == ["paragraph", "list", "admonition"]
    tip = note.children[2]
    assert tip.metadata == {"kind": "tip", "title": "Nested", "collapsible": True, "open": False}
    assert types(tip) == ["paragraph", "code_block"]
    assert tip.children[1].text == "!!! not a marker inside code"
    assert tip.children[1].metadata == {"language": "python"}
    assert note.text.startswith("Read this\nBody with a link.\nitem one\nitem two\nNested\nDeep inner text.")
    assert warning.text == "No title here."
    links = [(link.href, link.node) for link in result.links]
    assert links == [("body.md", note.children[0]), ("inner.md", tip.children[0])]
    assert guide.children[4].text == "After all."


def test_admonition_line_ranges_are_the_files_lines(parse):
    result = run(parse, DOC)
    guide = result.root.children[0]
    note, warning, danger = guide.children[1:4]
    assert lines(note) == (5, 16)
    assert lines(note.children[0]) == (6, 6)
    assert lines(note.children[1]) == (8, 9)
    tip = note.children[2]
    assert lines(tip) == (11, 16)
    assert lines(tip.children[1]) == (14, 16)
    assert lines(warning) == (18, 19) and lines(warning.children[0]) == (19, 19)
    assert lines(danger) == (21, 22)
    assert lines(guide.children[4]) == (24, 24)


def test_tabs_are_sibling_containers(parse):
    md = '=== "Tab 1"\n    One [a](a.md).\n\n=== "Tab 2"\n\n    Two.\n\n    !!! note\n        In a tab.\n\nAfter.\n'
    result = run(parse, md)
    tab1, tab2, after = result.root.children
    assert (tab1.element_type, tab1.metadata, tab1.text) == (ElementType.TAB, {"title": "Tab 1"}, "Tab 1\nOne a.")
    assert types(tab2) == ["paragraph", "admonition"]
    assert tab2.children[1].children[0].text == "In a tab."
    assert (lines(tab1), lines(tab2)) == ((1, 2), (4, 9))
    assert after.text == "After." and result.links[0].node is tab1.children[0]


def test_admonition_body_ends_at_the_first_line_indented_less(parse):
    result = run(parse, "!!! note\n    body\nnot body\n")
    note, para = result.root.children
    assert (note.text, para.text) == ("body", "not body")
    assert (lines(note), lines(para)) == ((1, 2), (3, 3))


def test_strict_commonmark_when_admonitions_are_off(parse):
    md = '!!! note "T"\n\n    [link](x.md)\n'
    on = run(parse, md)
    off = run(parse, md, admonitions=False)
    assert types(on.root) == ["admonition"] and [link.href for link in on.links] == ["x.md"]
    assert types(off.root) == ["paragraph", "code_block"] and off.links == []
    assert off.root.children[1].text == "[link](x.md)"


def test_reference_links_resolve_across_admonitions(parse):
    md = "!!! note\n    See [the guide][g].\n\nAnd [here][g].\n\n[g]: guide.md\n"
    result = run(parse, md)
    assert [(link.href, link.text) for link in result.links] == [("guide.md", "the guide"), ("guide.md", "here")]
    elements, _ = flatten("doc", result.root)
    assert all("[g]" not in e.text for e in elements)
    assert max(e.location.get("line_end", 0) for e in elements) <= 6


def test_front_matter_with_admonitions(parse):
    result = run(parse, "---\ntitle: T\n---\n!!! note\n    x\n")
    assert result.metadata == {"title": "T"}
    (note,) = result.root.children
    assert lines(note) == (4, 5) and note.text == "x"


def test_admonitions_past_max_depth_are_flattened(parse):
    md = '!!! a "A"\n    !!! b "B"\n        !!! c "C"\n            deep\n'
    result = run(parse, md, max_depth=2)
    a = result.root.children[0]
    b = a.children[0]
    assert types(b) == ["paragraph", "paragraph"]
    assert [p.text for p in b.children] == ["C", "deep"]
    assert a.text == "A\nB\nC\ndeep" and result.metadata == {"flattened_at_depth": 2}


def test_deeply_nested_admonitions_do_not_recurse(parse):
    md = "".join("    " * i + "!!! note\n" for i in range(1000)) + "    " * 1000 + "deep\n"
    result = run(parse, md)
    assert result.metadata == {"flattened_at_depth": 100}
    assert all_text(result).endswith("deep")


def test_ids_of_admonition_contents_are_structural(parse):
    paths = by_path(run(parse, DOC))
    assert paths["root/header[0]/admonition[0]/admonition[0]/code_block[0]"].text == "!!! not a marker inside code"
