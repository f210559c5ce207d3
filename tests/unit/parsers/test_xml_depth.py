"""XML nesting: libxml2's limit (2,048 with huge_tree) fails loudly, max_depth flattens."""

from __future__ import annotations

import time

import lxml.etree
import pytest

from go_doc_go.exceptions import ParseError
from go_doc_go.model import flatten
from go_doc_go.parsers.xml import parse
from tests.unit.parsers.trees import parse_data


def _libxml2_limits_depth() -> bool:
    """libxml2 2.14 stops at 2,048 levels with huge_tree; 2.12 has no limit (nothing to detect)."""
    try:
        lxml.etree.fromstring("<a>" * 2049 + "</a>" * 2049, lxml.etree.XMLParser(huge_tree=True))
    except lxml.etree.XMLSyntaxError:
        return True
    return False


depth_limited = pytest.mark.skipif(not _libxml2_limits_depth(), reason="this libxml2 has no depth limit with huge_tree")


def run(data: bytes | str, **limits: int):
    return parse_data(parse, data, "doc.xml", **limits)


def test_nesting_past_the_old_256_limit_parses():
    data = "<r>" + "<a>" * 300 + "deep" + "</a>" * 300 + "<after>tail</after></r>"
    result = run(data)
    r = result.root.children[0]
    assert r.text == "deeptail"
    assert r.children[1].metadata["tag"] == "after"
    assert result.metadata["flattened_at_depth"] == 100


@depth_limited
def test_2048_levels_is_the_most_libxml2_parses():
    assert run("<a>" * 2048 + "x" + "</a>" * 2048).root.children[0].text == "x"
    with pytest.raises(ParseError, match=r"deeper than 2,048 levels, the most libxml2 parses \(line 1\)"):
        run("<a>" * 2049 + "x" + "</a>" * 2049)


@depth_limited
def test_too_deep_is_never_recovered_into_a_truncated_document():
    # Ill-formed too (a bare &), so recovery runs; it must not keep the first 2,048 levels only.
    with pytest.raises(ParseError, match="2,048 levels"):
        run("<r>AT&T" + "<a>" * 3000 + "lost" + "</a>" * 3000 + "</r>")
    # Unclosed tags that recover mode would nest past the limit.
    with pytest.raises(ParseError, match="2,048 levels"):
        run("<r>" + "<br>line " * 3000 + "</r>")


def test_huge_text_nodes_parse():
    # Without huge_tree libxml2 refuses a text node over 10 MB.
    text = "word " * 2_200_000
    result = run(f"<r>{text}</r>")
    assert len(result.root.children[0].text) == len(text.strip())


def test_flattened_subtree_keeps_text_links_and_entities_in_order():
    data = (
        '<!DOCTYPE r SYSTEM "r.dtd"><r><a><b>lead <c href="c.xml">c-text<d xlink:href="d.xml" '
        'xmlns:xlink="http://www.w3.org/1999/xlink">d&nbsp;text</d> c-tail</c> b-tail</b> a-tail</a></r>'
    )
    result = run(data, max_depth=2)
    elements, _ = flatten("doc", result.root)
    assert [(e.element_type, e.text) for e in elements] == [
        ("root", ""),
        ("xml_element", "lead c-textd\xa0text c-tail b-tail a-tail"),
        ("xml_element", "lead c-textd\xa0text c-tail b-tail a-tail"),
        ("xml_text", "lead c-textd\xa0text c-tail b-tail a-tail"),
    ]
    a = result.root.children[0].children[0]
    assert [(link.href, link.node) for link in result.links] == [("c.xml", a), ("d.xml", a)]


def test_elements_and_text_nodes_count_against_max_elements_not_flattened_ones():
    data = "<r>" + "<a>" * 50 + "x" + "</a>" * 50 + "</r>"
    result = run(data, max_depth=3, max_elements=10)  # root + 3 elements + 1 text
    assert len(flatten("doc", result.root)[0]) == 5


@depth_limited
def test_deep_nesting_is_parse_error():
    depth = 100_000
    start = time.perf_counter()
    with pytest.raises(ParseError, match="deeper than 2,048 levels, the most libxml2 parses"):
        run("<a>" * depth + "</a>" * depth)
    assert time.perf_counter() - start < 5
