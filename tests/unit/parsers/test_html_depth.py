"""HTML nesting: libxml2's depth limit, the html.parser fallback, and max_depth flattening."""

from __future__ import annotations

import lxml.etree
import pytest

from go_doc_go.model import flatten
from go_doc_go.parsers.html import parse
from tests.unit.parsers.trees import full_paths, parse_data


def _libxml2_limits_depth() -> bool:
    """libxml2 2.14 stops at 2,048 levels with huge_tree; 2.12 has no limit (nothing to detect)."""
    try:
        lxml.etree.fromstring("<a>" * 2049 + "</a>" * 2049, lxml.etree.XMLParser(huge_tree=True))
    except lxml.etree.XMLSyntaxError:
        return True
    return False


depth_limited = pytest.mark.skipif(not _libxml2_limits_depth(), reason="this libxml2 has no depth limit with huge_tree")


def run(data: bytes | str, **limits: int):
    return parse_data(parse, data, "doc.html", **limits)


def texts(result) -> list[str]:
    return [e.text for e in flatten("doc", result.root)[0]]


def depths(result) -> dict[str, int]:
    elements, _ = flatten("doc", result.root)
    return {path: path.count("/") for path in full_paths(elements)}


def test_255_nested_divs_keep_what_follows():
    # Without huge_tree, libxml2 stopped at 256 open elements and dropped the rest silently.
    data = "<div>" * 255 + "<p>inside</p>" + "</div>" * 255 + "<h2>After</h2><p>tail</p>"
    result = run(data)
    (paragraph, header) = result.root.children
    assert paragraph.text == "inside"
    assert (header.text, [c.text for c in header.children]) == ("After", ["tail"])
    assert "recovered" not in result.metadata


def test_2000_nested_divs_are_within_libxml2s_limit():
    data = "<div>" * 2000 + "deep" + "</div>" * 2000 + "<p>after</p>"
    result = run(data)
    assert texts(result) == ["", "deep", "after"]
    assert "recovered" not in result.metadata


@depth_limited
@pytest.mark.parametrize("tag", ["div", "font", "span"])
def test_deeper_than_libxml2_is_read_by_the_fallback(tag):
    # 5,000 unclosed tags: libxml2 stops at 2,048 and keeps nothing after them.
    data = "<title>T</title>" + f"<{tag}>" * 5000 + "deep text" + f"</{tag}>" * 5000 + "<h2>After</h2><p>tail</p>"
    result = run(data)
    assert texts(result) == ["", "deep text", "After", "tail"]
    assert result.title == "T"
    assert result.metadata["recovered"] is True
    assert result.metadata["recovery"] == "html.parser"
    assert "deeper than 2,048 levels, the most libxml2 parses" in result.metadata["first_error"]["message"]
    assert result.metadata["first_error"]["line"] == 1


@depth_limited
def test_fallback_keeps_structure_and_flattens_blocks_past_max_depth():
    data = (
        "<div>" * 3000
        + "<ul><li>one<li>two <a href='x.html' id='x'>link</a></ul>"
        + "<table><tr><td>a<td>b<tr><td>c</table>"
        + "<blockquote>" * 200 + "quoted<br>line" + "</blockquote>" * 200
        + "<p>para<p>next"
        + "</div>" * 3000
    )
    result = run(data, max_depth=10)
    assert result.metadata["recovery"] == "html.parser"
    assert result.metadata["flattened_at_depth"] == 10
    elements, _ = flatten("doc", result.root)
    paths = dict(zip(full_paths(elements), elements, strict=True))
    assert paths["root/list[0]"].text == "one\ntwo link"
    assert paths["root/list[0]/list_item[1]"].anchors == ("x",)
    assert [(link.href, link.node.text) for link in result.links] == [("x.html", "two link")]
    assert paths["root/table[0]"].text == "a | b\nc"
    assert paths["root/paragraph[0]"].text == "para"
    assert paths["root/paragraph[1]"].text == "next"
    quotes = [p for p in paths if "blockquote" in p]
    assert max(p.count("/") for p in quotes) == 10 + 1  # blockquotes to depth 10, a paragraph below
    assert {paths[p].text for p in quotes} == {"quoted\nline"}


def test_fallback_tree_nests_as_the_tags_say():
    from go_doc_go.parsers._lxml_fallback import html_tree

    html = html_tree("<div>" * 5000 + "<p>x</p>" + "text" + "</div>" * 5000 + "<a href=a>1<a href=b>2</a>")
    el, depth = html.find("body"), 1
    while len(el):
        el, depth = el[0], depth + 1
    assert (el.tag, depth) == ("p", 5002)  # html > body > 5,000 divs > p
    assert "".join(html.itertext()) == "xtext12"
    assert [a.getparent().tag for a in html.iter("a")] == ["body", "body"]  # an a closes an open a


def test_fallback_skips_scripts_comments_and_bad_names():
    from go_doc_go.parsers._lxml_fallback import html_tree

    html = html_tree(
        "<p a\"b=1 id=ok>x\x01\x0cy<!-- c --><script>if (a<b) {}</script></p><noscript><p>n</p></noscript>"
    )
    (p,) = html.find("body")
    assert (p.get("id"), p.text) == ("ok", "x\ufffd y")
    assert lxml.etree.tostring(html, encoding="unicode").count("script") == 0


def test_blockquotes_past_max_depth_keep_all_text():
    data = "<blockquote>" * 30 + "<p>deep</p><ul><li>a</li><li>b</li></ul>" + "</blockquote>" * 30
    result = run(data, max_depth=5)
    by_depth = depths(result)
    assert max(by_depth.values()) == 6
    assert texts(result)[1] == "deep\na\nb"
    assert texts(result)[-3:] == ["deep", "a", "b"]  # paragraphs one level below the fifth blockquote
    assert result.metadata["flattened_at_depth"] == 5


def test_tables_past_max_depth_go_into_the_deepest_cell():
    inner = "<table><tr><td>inner <img src='i.png' alt='pic'></td><td>cell</td></tr></table>"
    result = run(f"<table><tr><td>outer{inner}</td></tr></table>", max_depth=3)
    elements, _ = flatten("doc", result.root)
    paths = dict(zip(full_paths(elements), elements, strict=True))
    cell = paths["root/table[0]/table_row[0]/table_cell[0]"]
    assert cell.text == "outer\ninner pic\ncell"
    assert paths["root/table[0]/table_row[0]/table_cell[0]/image[0]"].metadata["src"] == "i.png"
    assert max(p.count("/") for p in paths) == 4


def test_images_below_a_leaf_past_max_depth_keep_their_alt_text():
    result = run("<ul><li><p>see <img src='a.png' alt='diagram'></p></li></ul>", max_depth=1)
    elements, _ = flatten("doc", result.root)
    assert [(p, e.text) for p, e in zip(full_paths(elements), elements, strict=True)] == [
        ("root", ""),
        ("root/list[0]", "see diagram"),
        ("root/list[0]/paragraph[0]", "see diagram"),
    ]


def test_headers_deeper_than_max_depth_do_not_open_sections():
    result = run("<h1>A</h1><h2>B</h2><h3>C</h3><p>text</p>", max_depth=2)
    elements, _ = flatten("doc", result.root)
    assert full_paths(elements) == [
        "root",
        "root/header[0]",
        "root/header[0]/header[0]",
        "root/header[0]/header[0]/header[0]",
        "root/header[0]/header[0]/paragraph[0]",
    ]
    assert result.metadata["flattened_at_depth"] == 2


def test_wide_elements_keep_getpath_xpaths():
    data = "<ul>" + "<li>x <b>y</b></li>" * 200 + "</ul>" + "<p>p</p>" * 100 + "<div><p>last</p></div>"
    result = run(data)
    elements, _ = flatten("doc", result.root)
    html = lxml.etree.fromstring(data, lxml.etree.HTMLParser())
    expected = {html.getroottree().getpath(el) for el in html.iter()}
    xpaths = [e.location["xpath"] for e in elements[1:]]
    assert set(xpaths) <= expected
    assert xpaths[1] == "/html/body/ul/li[1]" and xpaths[200] == "/html/body/ul/li[200]"
    assert xpaths[-1] == "/html/body/div/p"
