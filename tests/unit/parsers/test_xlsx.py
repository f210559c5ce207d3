"""The XLSX parser: sheets, header detection, typed values, cell references, streaming and limits."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

pytest.importorskip("openpyxl")

from go_doc_go.exceptions import EncryptedDocumentError, LimitExceededError, UnsafeArchiveError  # noqa: E402
from go_doc_go.model import flatten  # noqa: E402
from go_doc_go.parsers import get_parser  # noqa: E402
from go_doc_go.parsers.xlsx import parse  # noqa: E402
from tests.data.office import make  # noqa: E402
from tests.unit.parsers.trees import by_path, parse_data  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data" / "office"


def run(data: bytes, path: str = "book.xlsx", **limits: int):
    return parse_data(parse, data, path, **limits)


def book():
    return by_path(run((DATA / "book.xlsx").read_bytes()))


def test_registered():
    assert get_parser("xlsx") is parse


def test_workbook_sheets_rows_and_cells():
    elements = book()
    assert [elements[f"root/sheet[{i}]"].text for i in range(3)] == ["Sales", "Numbers", "Empty"]
    assert elements["root/sheet[0]"].location == {"sheet": "Sales"}
    table = elements["root/sheet[0]/table[0]"]
    assert table.text == "Region | Units | Date | Ok"
    assert table.metadata == {"rows": 4, "columns": 6, "has_header": True, "headers": ["Region", "Units", "Date", "Ok"],
                              "range": "A1:F7"}  # fmt: skip
    assert elements["root/sheet[0]/table[0]/table_header[0]"].location == {"sheet": "Sales", "row": 1}
    row = elements["root/sheet[0]/table[0]/table_row[0]"]
    assert row.text == "North | 1200 | 2024-01-31 | TRUE"
    units = elements["root/sheet[0]/table[0]/table_row[1]/table_cell[1]"]
    assert (units.text, units.metadata, units.location) == ("950.5", {"type": "number", "column": "Units"},
                                                            {"sheet": "Sales", "cell": "B3"})  # fmt: skip
    assert elements["root/sheet[0]/table[0]/table_row[0]/table_cell[2]"].metadata["type"] == "date"


def test_formula_without_cached_value_keeps_its_text_and_far_cells_cost_one_element():
    elements = book()
    formula = elements["root/sheet[0]/table[0]/table_row[2]/table_cell[0]"]
    assert (formula.text, formula.metadata["type"], formula.location["cell"]) == ("=SUM(B2:B3)", "formula", "B5")
    far = elements["root/sheet[0]/table[0]/table_row[3]"]
    assert far.location == {"sheet": "Sales", "row": 7} and far.text == "far away"
    assert [p for p in elements if p.startswith("root/sheet[0]/table[0]/table_row[3]/")] == [
        "root/sheet[0]/table[0]/table_row[3]/table_cell[0]"]


def test_no_header_for_numbers_and_no_table_for_an_empty_sheet():
    elements = book()
    numbers = elements["root/sheet[1]/table[0]"]
    assert numbers.metadata["has_header"] is False
    assert elements["root/sheet[1]/table[0]/table_row[0]/table_cell[0]"].metadata == {"type": "number"}
    assert not any(path.startswith("root/sheet[2]/") for path in elements)


def test_metadata_and_title():
    result = run((DATA / "book.xlsx").read_bytes())
    assert result.title == "Sales Book"
    assert result.metadata["author"] == "Dorothy Vaughan" and result.metadata["sheets"] == 3


def test_a_cell_at_the_last_address_costs_one_cell():
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "start"
    workbook.active["XFD1048576"] = "corner"
    out = io.BytesIO()
    workbook.save(out)
    started = time.monotonic()
    elements = by_path(run(out.getvalue()))
    assert time.monotonic() - started < 2
    corner = elements["root/sheet[0]/table[0]/table_row[0]/table_cell[0]"]
    assert corner.location == {"sheet": "Sheet", "cell": "XFD1048576"}
    assert sum(1 for path in elements if path.split("/")[-1].startswith("table_cell")) == 2


def test_cell_hyperlinks_are_reported_with_their_cell():
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Site"
    workbook.active["A1"].hyperlink = "https://example.com/site"
    workbook.active["A2"] = "Elsewhere"
    out = io.BytesIO()
    workbook.save(out)
    [link] = run(out.getvalue()).links
    assert (link.href, link.text, link.node.location["cell"]) == ("https://example.com/site", "Site", "A1")


def test_ids_are_deterministic():
    data = (DATA / "book.xlsx").read_bytes()
    assert [e.element_id for e in flatten("d", run(data).root)[0]] == [e.element_id for e in flatten("d", run(data).root)[0]]


def test_cells_past_max_cells_fail_at_once_naming_the_limit():
    data = make.big_xlsx(40, 500)  # 20,000 cells (the 1,000,000-cell run is in tests/acceptance/test_formats.py)
    started = time.monotonic()
    with pytest.raises(LimitExceededError, match=r"parsers.max_cells = 10,000"):
        run(data, max_cells=10_000)
    assert time.monotonic() - started < 10, "streaming stops at the limit"
    assert len(flatten("d", run(data, max_cells=20_000).root)[0]) == 1 + 1 + 1 + 40 + 20_000  # root, sheet, table, rows


def test_password_protected_and_bomb_workbooks():
    protected = make.encrypted_office((DATA / "book.xlsx").read_bytes())
    if protected is not None:
        with pytest.raises(EncryptedDocumentError, match="password-protected"):
            run(protected)
    bomb = make.zip_bomb((DATA / "book.xlsx").read_bytes(), "xl/worksheets/sheet1.xml", 32 << 20)
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        run(bomb)
