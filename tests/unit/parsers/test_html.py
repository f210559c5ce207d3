from __future__ import annotations

import os
import time

import pytest

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, flatten
from go_doc_go.parsers import get_parser
from go_doc_go.parsers.html import parse
from tests.unit.parsers.trees import by_path, parse_data, types


def run(data: bytes | str, **limits: int):
    return parse_data(parse, data, "doc.html", **limits)


PAGE = """<!DOCTYPE html>
<html>
<head><title>Page  Title</title><style>p { color: red }</style></head>
<body>
<div class="wrapper">
<h1>Main</h1>
<p>Intro</p>
<section>
<h2>Part A</h2>
<p>Text A</p>
<h3>Detail</h3>
<p>Deep</p>
</section>
<h2>Part B</h2>
<p>Text B</p>
</div>
<h1>Second</h1>
</body>
</html>
"""


def test_registered():
    assert get_parser("html") is parse


def test_header_nesting_through_wrappers():
    result = run(PAGE)
    root = result.root
    assert types(root) == ["header", "header"]
    main = root.children[0]
    assert (main.text, main.metadata, main.anchor) == ("Main", {"level": 1}, "main")
    assert types(main) == ["paragraph", "header", "header"]
    part_a, part_b = main.children[1], main.children[2]
    assert types(part_a) == ["paragraph", "header"]
    detail = part_a.children[1]
    assert (detail.text, detail.metadata["level"]) == ("Detail", 3)
    assert [c.text for c in detail.children] == ["Deep"]
    assert (part_b.text, [c.text for c in part_b.children]) == ("Part B", ["Text B"])
    assert root.children[1].text == "Second"
    assert result.title == "Page Title"

    paths = by_path(result)
    deep = paths["root/header[0]/header[0]/header[0]/paragraph[0]"]
    assert deep.text == "Deep"
    assert deep.location["xpath"] == "/html/body/div/section/p[2]"
    assert deep.location["line_start"] == 12


def test_title_falls_back_to_first_h1():
    assert run("<h2>Not this</h2><h1>Heading <em>one</em></h1>").title == "Heading one"
    assert run("<p>no headings</p>").title is None


def test_script_style_comments_dropped():
    html = (
        "<html><head><script>var hidden = 1;</script></head><body>"
        "<p>visible <!-- secret comment --> text<script>alert('x')</script> end</p>"
        "<style>.a{}</style><noscript>ns</noscript><template><p>tpl</p></template>"
        "<?php echo 1; ?><p>after</p></body></html>"
    )
    result = run(html)
    texts = [e.text for e in flatten("doc", result.root)[0]]
    assert texts == ["", "visible text end", "after"]
    joined = " ".join(texts)
    for hidden in ("hidden", "alert", "secret", ".a{}", "ns", "tpl", "php"):
        assert hidden not in joined


def test_table_with_thead():
    html = """<table>
      <thead><tr><th>Name</th><th>Value</th></tr></thead>
      <tbody><tr><td>a</td><td>1</td></tr><tr><td>b</td><td><a href="/two">two</a></td></tr></tbody>
    </table>"""
    result = run(html)
    (table,) = result.root.children
    assert table.element_type == ElementType.TABLE
    assert types(table) == ["table_header", "table_row", "table_row"]
    header = table.children[0]
    assert [c.text for c in header.children] == ["Name", "Value"]
    assert types(header) == ["table_cell", "table_cell"]
    assert table.children[1].text == "a | 1"
    assert table.text == "Name | Value\na | 1\nb | two"
    (link,) = result.links
    assert (link.href, link.text, link.node) == ("/two", "two", table.children[2].children[1])


def test_table_first_row_of_th_is_header():
    result = run("<table><tr><th>H1</th><th>H2</th></tr><tr><td>x</td><td colspan='2'>y</td></tr>"
                 "<tr><th>not header</th><td>z</td></tr></table>")
    table = result.root.children[0]
    assert types(table) == ["table_header", "table_row", "table_row"]
    assert table.children[1].children[1].metadata == {"colspan": 2}
    plain = run("<table><tr><td>a</td></tr></table>").root.children[0]
    assert types(plain) == ["table_row"]


def test_nested_lists():
    html = "<ul><li>one</li><li>two <b>bold</b><ol start='5'><li>inner</li></ol></li></ul>"
    result = run(html)
    (lst,) = result.root.children
    assert lst.metadata == {"ordered": False}
    one, two = lst.children
    assert one.text == "one"
    assert two.text == "two bold\ninner"
    (inner,) = two.children
    assert inner.metadata == {"ordered": True, "start": 5}
    assert inner.children[0].text == "inner"
    assert lst.text == "one\ntwo bold\ninner"
    assert "root/list[0]/list_item[1]/list[0]/list_item[0]" in by_path(result)


def test_code_language_from_class():
    html = (
        '<pre class="language-python"><code>def f():\n    return 1\n</code></pre>'
        '<pre><code class="lang-js">let x;</code></pre>'
        "<pre>\nplain  spaced</pre>"
    )
    py, js, plain = run(html).root.children
    assert py.element_type == ElementType.CODE_BLOCK
    assert (py.text, py.metadata) == ("def f():\n    return 1", {"language": "python"})
    assert (js.text, js.metadata) == ("let x;", {"language": "js"})
    assert (plain.text, plain.metadata) == ("plain  spaced", {"language": None})


def test_blockquote_with_loose_text():
    result = run("<blockquote>Loose <em>words</em><p>inner para</p></blockquote>")
    (quote,) = result.root.children
    assert quote.element_type == ElementType.BLOCKQUOTE
    assert types(quote) == ["paragraph", "paragraph"]
    assert [c.text for c in quote.children] == ["Loose words", "inner para"]
    assert quote.text == "Loose words\ninner para"


def test_loose_text_in_divs_becomes_paragraphs():
    result = run("<body>top text<div>a</div><div>b<br>c <span>d</span></div><div>   </div></body>")
    assert types(result.root) == ["paragraph", "paragraph", "paragraph"]
    assert [c.text for c in result.root.children] == ["top text", "a", "b\nc d"]


def test_links_with_their_blocks():
    html = """<body>
    <h1>Head <a href="#self">self</a></h1>
    <p>See <a href="http://example.com/x">the <b>example</b></a> and <a href="">empty</a> <a>none</a>.</p>
    <ul><li><a href=" docs/a.html#s ">A</a></li></ul>
    <div>loose <a href="/loose">loose link</a></div>
    <a href="/card"><div><p>Card body</p></div></a>
    <a href="/img"><img src="i.png" alt="icon"></a>
    </body>"""
    result = run(html)
    header = result.root.children[0]
    para, lst, loose, card, img = header.children
    got = [(link.href, link.text, link.node) for link in result.links]
    assert got == [
        ("#self", "self", header),
        ("http://example.com/x", "the example", para),
        ("docs/a.html#s", "A", lst.children[0]),
        ("/loose", "loose link", loose),
        ("/card", "Card body", header),  # a link wrapping blocks belongs to the enclosing section
        ("/img", "icon", img),
    ]
    assert img.element_type == ElementType.PARAGRAPH and types(img) == ["image"]
    assert loose.text == "loose loose link"
    assert card.text == "Card body"
    _, ids = flatten("doc", result.root)
    assert all(id(link.node) in ids for link in result.links)


def test_images():
    result = run('<p>Look <img src="d.png" alt="a diagram"> here</p><div><img src="solo.png"></div>')
    para, solo = result.root.children
    assert para.text == "Look a diagram here"
    (image,) = para.children
    assert image.element_type == ElementType.IMAGE
    assert image.metadata == {"src": "d.png", "alt": "a diagram"}
    assert image.location["xpath"] == "/html/body/p/img"
    assert solo.element_type == ElementType.IMAGE and solo.metadata == {"src": "solo.png", "alt": ""}
    assert result.links == []


def test_id_anchors():
    html = """<body>
    <h1 id="top">Main Title</h1>
    <h2>Plain Heading</h2>
    <p id="p1">para <span id="inner">x</span></p>
    <section id="sec"><h2>Sectioned</h2></section>
    <p><a name="named"></a>named para</p>
    <h2>Plain Heading</h2>
    </body>"""
    result = run(html)
    elements, _ = flatten("doc", result.root)
    anchors = {e.text: e.anchor for e in elements if e.anchor}
    assert anchors == {
        "Main Title": "top",
        "Plain Heading": "plain-heading-1",
        "para x": "p1",
        "Sectioned": "sec",
        "named para": "named",
    }
    headers = [e for e in elements if e.element_type == "header"]
    assert [h.anchor for h in headers] == ["top", "plain-heading", "sec", "plain-heading-1"]


def test_empty_documents():
    empty = (
        b"",
        b"   ",
        b"<!-- only a comment -->",
        b"<html></html>",
        b"<html><head><title></title></head><body></body></html>",
    )
    for data in empty:
        result = run(data)
        assert result.root.children == [], data
        assert result.links == []
        assert len(flatten("doc", result.root)[0]) == 1


def test_encodings():
    # Not UTF-8 and no declaration: detection reads it as windows-1252 (it was U+FFFD before).
    undeclared = run(b"<p>caf\xe9 \xff</p>")
    assert undeclared.root.children[0].text == "café ÿ"
    assert undeclared.metadata["encoding"] == "cp1252"
    latin = b'<html><head><meta charset="iso-8859-1"></head><body><p>caf\xe9</p></body></html>'
    assert run(latin).root.children[0].text == "café"
    assert run(b'<?xml version="1.0" encoding="utf-8"?><p>decl</p>').root.children[0].text == "decl"
    utf16 = "<p>wide ✓</p>".encode("utf-16")
    assert run(utf16).root.children[0].text == "wide ✓"


def test_binary_garbage_parses_or_fails_cleanly():
    data = bytes(range(256)) * 100 + os.urandom(2000)
    try:
        result = run(data)
    except ParseError:
        return
    flatten("doc", result.root)


@pytest.mark.slow
@pytest.mark.parametrize("tag", ["div", "blockquote", "span"])
def test_deep_nesting_is_safe(tag):
    data = f"<{tag}>" * 100_000 + "deep text" + f"</{tag}>" * 100_000 + "<p>after</p>"
    start = time.monotonic()
    result = run(data)
    elements, _ = flatten("doc", result.root)
    assert time.monotonic() - start < 20
    texts = [e.text for e in elements]
    assert "deep text" in texts and "after" in texts
    assert result.metadata["recovered"] is True


def test_deep_lists_are_flattened_at_max_depth():
    result = run("<ul><li>" * 50 + "x" + "</li></ul>" * 50 + "<p>after</p>", max_depth=20)
    elements, _ = flatten("doc", result.root)
    depths = {e.element_id: 0 for e in elements[:1]}
    for e in elements[1:]:
        depths[e.element_id] = depths[e.parent_id] + 1
    assert max(depths.values()) == 20
    # The deepest list item kept (depth 20) holds the text of everything below it.
    (deepest,) = [e for e in elements if depths[e.element_id] == 20]
    assert (deepest.element_type, deepest.text) == ("list_item", "x")
    assert elements[-1].text == "after"
    assert result.metadata["flattened_at_depth"] == 20


def test_element_budget():
    with pytest.raises(ParseError, match="max_elements"):
        run("".join(f"<p>{i}</p>" for i in range(100)), max_elements=20)


def test_unexpected_errors_become_parse_errors(monkeypatch):
    import go_doc_go.parsers.html as html

    def boom(*_args, **_kwargs):
        raise RuntimeError("lxml exploded")

    monkeypatch.setattr(html, "_load", boom)
    with pytest.raises(ParseError, match="lxml exploded"):
        run("<p>x</p>")


def test_editing_one_section_keeps_other_ids():
    def doc(section2: str) -> str:
        return (
            "<h1>One</h1><p>first</p><ul><li>a</li><li>b</li></ul>"
            f"<h1>Two</h1>{section2}"
            "<h1>Three</h1><p>third</p><table><tr><td>c</td></tr></table>"
        )

    before = by_path(run(doc("<p>original</p>")))
    after = by_path(run(doc("<p>edited and longer</p><p>plus one more</p>")))

    def ids(paths, prefix):
        return {p: e.element_id for p, e in paths.items() if p.startswith(prefix)}

    for prefix in ("root/header[0]", "root/header[2]"):
        assert ids(before, prefix) and ids(before, prefix) == ids(after, prefix)
    assert before["root/header[1]/paragraph[0]"].element_id == after["root/header[1]/paragraph[0]"].element_id


def test_text_repeated_by_nesting_is_bounded():
    data = "<blockquote>" * 200 + "word " * 40_000 + "</blockquote>" * 200
    with pytest.raises(ParseError, match="nested containers"):
        run(data)


def test_content_that_libxml2_leaves_in_head_is_kept():
    """<title> then <nav> without <body>: libxml2 keeps the nav in <head> (a real Jinja base template)."""
    result = run("<!doctype html><title>T</title><link rel=stylesheet href=s.css><nav><h1>Site</h1>"
                 "<p>HELLO <a href='x.html'>there</a></p></nav><section><p>after</p></section>")
    texts = [e.text for e in by_path(result).values()]
    assert "HELLO there" in texts and "after" in texts
    assert result.title == "T"
    assert [link.href for link in result.links] == ["x.html"]
