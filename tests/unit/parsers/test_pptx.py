"""The PPTX parser: slides, titles, bullet levels, text boxes, tables, notes, links."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pptx")

from go_doc_go.exceptions import UnsafeArchiveError  # noqa: E402
from go_doc_go.model import flatten  # noqa: E402
from go_doc_go.parsers import get_parser  # noqa: E402
from go_doc_go.parsers.pptx import parse  # noqa: E402
from tests.data.office import make  # noqa: E402
from tests.unit.parsers.trees import by_path, parse_data  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data" / "office"


def run(data: bytes, path: str = "deck.pptx", **limits: int):
    return parse_data(parse, data, path, **limits)


def deck():
    return run((DATA / "deck.pptx").read_bytes())


def test_registered():
    assert get_parser("pptx") is parse


def test_slides_with_numbers_titles_and_subtitles():
    elements = by_path(deck())
    first = elements["root/slide[0]"]
    assert first.location == {"slide": 1}
    assert first.metadata == {"number": 1, "layout": "Title Slide", "title": "Launch Plan"}
    title = elements["root/slide[0]/header[0]"]
    assert (title.text, title.metadata, title.location["slide"]) == ("Launch Plan", {"level": 1}, 1)
    assert elements["root/slide[0]/paragraph[0]"].text == "Second quarter"  # a subtitle has no bullet
    assert elements["root/slide[3]"].location == {"slide": 4}


def test_body_placeholder_bullets_nest_by_level():
    elements = by_path(deck())
    bullets = elements["root/slide[1]/list[0]"]
    assert bullets.metadata == {"ordered": False}
    assert bullets.text == "Reach orbit\nReturn safely"
    nested = elements["root/slide[1]/list[0]/list_item[0]/list[0]"]
    assert nested.text == "Stage one\nStage two"
    item = elements["root/slide[1]/list[0]/list_item[0]/list[0]/list_item[1]"]
    assert item.metadata == {"level": 1} and item.location == {"slide": 2, "shape": 3, "paragraph": 2}


def test_speaker_notes():
    elements = by_path(deck())
    notes = elements["root/slide[1]/slide_notes[0]"]
    assert notes.text == "Mention the budget.\nKeep it short."
    assert elements["root/slide[1]/slide_notes[0]/paragraph[1]"].text == "Keep it short."


def test_text_box_and_run_hyperlink():
    result = deck()
    box = by_path(result)["root/slide[2]/paragraph[0]"]
    assert box.text == "Read the mission handbook. Handbook link"
    [link] = result.links
    assert (link.href, link.text) == ("https://example.com/handbook", "Handbook link")
    assert link.node is not None and link.node.location["slide"] == 3


def test_table_with_header_row_in_location():
    elements = by_path(deck())
    table = elements["root/slide[3]/table[0]"]
    assert table.text == "Item | Cost" and table.metadata == {"rows": 3, "has_header": True}
    cell = elements["root/slide[3]/table[0]/table_row[1]/table_cell[1]"]
    assert (cell.text, cell.metadata) == ("250", {"column": "Cost"})
    assert cell.location == {"slide": 4, "shape": 3, "row": 2, "column": 1}


def test_metadata_and_title():
    result = deck()
    assert result.title == "Launch Plan"
    assert result.metadata["author"] == "Katherine Johnson" and result.metadata["slides"] == 4


def test_real_files_from_python_pptx():
    notes = by_path(run((DATA / "real" / "sld-notes.pptx").read_bytes()))
    assert notes["root/slide[0]/slide_notes[0]"].text == "Notes"
    assert "root/slide[1]" in notes and not any(p.startswith("root/slide[1]/") for p in notes)
    text = run((DATA / "real" / "txt-text.pptx").read_bytes())
    elements = by_path(text)
    assert elements["root/slide[0]/paragraph[0]"].text == "Foo Bar\nBaz Zoo\n1"
    assert [link.href for link in text.links] == ["http://yahoo.com"]
    assert elements["root/slide[1]/table[0]/table_header[0]/table_cell[0]"].text == "Text run in table cell"


def test_ids_are_deterministic():
    data = (DATA / "deck.pptx").read_bytes()
    assert [e.element_id for e in flatten("d", run(data).root)[0]] == [e.element_id for e in flatten("d", run(data).root)[0]]


def test_zip_bomb_deck_is_refused():
    bomb = make.zip_bomb((DATA / "deck.pptx").read_bytes(), "ppt/slides/slide1.xml", 32 << 20)
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        run(bomb)
