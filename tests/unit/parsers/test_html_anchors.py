"""HTML anchors (every id and <a name> kept), and the link and cell budgets."""

from __future__ import annotations

import pytest

from go_doc_go.exceptions import LimitExceededError
from go_doc_go.model import flatten
from go_doc_go.parsers.html import parse
from tests.unit.parsers.trees import by_path, parse_data


def run(data: bytes | str, **limits: int):
    return parse_data(parse, data, "doc.html", **limits)


def anchors(result) -> dict[str, tuple[str, ...]]:
    return {path: e.anchors for path, e in by_path(result).items() if e.anchors}


def test_every_id_and_name_inside_a_header_is_its_anchor():
    result = run('<h2 id="a"><a id="b"></a><a name="c"></a>Title</h2><p><a href="#b">to b</a></p>')
    header = result.root.children[0]
    assert header.anchors == ["a", "b", "c"]
    elements, _ = flatten("doc", result.root)
    assert elements[1].anchor == "a" and elements[1].anchors == ("a", "b", "c")


def test_inner_anchors_replace_the_slug_and_are_reserved():
    result = run('<h2><a id="intro"></a>Intro</h2><h2>Intro</h2><h2 id="x">Other</h2><h2>x</h2>')
    assert [h.anchors for h in result.root.children] == [["intro"], ["intro-1"], ["x"], ["x-1"]]


def test_id_and_name_on_one_link_are_both_kept():
    result = run('<p>see <a id="one" name="two" href="#">here</a> <span id="three">x</span></p>')
    assert result.root.children[0].anchors == ["one", "two", "three"]


def test_anchors_of_nodeless_elements_wait_for_the_next_block():
    html = (
        '<div id="x"></div><div id="y"></div><p id="p">para</p>'
        '<section id="s"><h2 id="h">Head</h2></section>'
        "<ul><li>item</li></ul>"
    )
    result = run(html)
    assert anchors(result) == {
        # The element's own id first, then the ids waiting for it.
        "root/paragraph[0]": ("p", "x", "y"),
        "root/header[0]": ("h", "s"),
    }


def test_anchors_with_no_block_after_them_stay_in_their_container():
    html = '<h2>Head</h2><p>text</p><ul><li>a</li><span id="in-list"></span></ul><div id="end"></div>'
    result = run(html)
    assert anchors(result) == {
        "root/header[0]": ("head", "end"),
        "root/header[0]/list[0]": ("in-list",),
    }
    assert run('<div id="only"></div>').root.anchors == ["only"]


def test_anchor_of_a_container_refused_by_max_depth_goes_to_the_deepest_kept():
    result = run('<ul><li>a<ul id="deep"><li id="deeper">b</li></ul></li></ul>', max_depth=2)
    assert anchors(result) == {"root/list[0]/list_item[0]": ("deep", "deeper")}


def test_links_spend_max_links():
    data = "<p>" + "".join(f'<a href="/{i}">{i}</a>' for i in range(30)) + "</p>"
    with pytest.raises(LimitExceededError, match="max_links"):
        run(data, max_links=20)
    assert len(run(data, max_links=30, max_elements=5).links) == 30


def test_cells_spend_max_cells_not_max_elements():
    rows = "".join(f"<tr><td>{i}</td><td>x</td><td>y</td></tr>" for i in range(20))
    data = f"<table>{rows}</table>"
    result = run(data, max_elements=25)  # 1 table + 20 rows; 60 cells would have been too many
    assert len(result.root.children[0].children) == 20
    with pytest.raises(LimitExceededError, match="max_cells"):
        run(data, max_cells=59)
