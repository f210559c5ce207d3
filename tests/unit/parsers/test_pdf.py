"""The PDF parser on generated PDFs (known fonts and positions) and real ones from pypdf's test corpus."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("pypdfium2")

from go_doc_go.exceptions import EncryptedDocumentError, LimitExceededError, ParseError  # noqa: E402
from go_doc_go.model import ElementType, flatten  # noqa: E402
from go_doc_go.parsers import get_parser  # noqa: E402
from go_doc_go.parsers.pdf import parse, pdf_date  # noqa: E402
from tests.data.office import make  # noqa: E402
from tests.data.office.make import Page, Text  # noqa: E402
from tests.unit.parsers.trees import by_path, parse_data  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data" / "office"


def run(data: bytes, path: str = "doc.pdf", **limits: int):
    return parse_data(parse, data, path, **limits)


def test_registered():
    assert get_parser("pdf") is parse


def test_headers_nest_by_inferred_level_within_pages():
    result = run((DATA / "report.pdf").read_bytes())
    elements = by_path(result)
    title = elements["root/page[0]/header[0]"]
    assert (title.text, title.metadata["level"]) == ("Quarterly Report", 1)
    intro = elements["root/page[0]/header[0]/header[0]"]
    assert (intro.text, intro.metadata["level"]) == ("1 Introduction", 2)
    scope = elements["root/page[0]/header[0]/header[0]/header[0]"]
    assert (scope.text, scope.metadata["level"]) == ("1.1 Scope", 3)
    results = elements["root/page[0]/header[0]/header[1]"]
    assert (results.text, results.metadata["level"]) == ("2 Results", 2)
    # Page 2 has its own sections; the same styles keep their levels there.
    outlook = elements["root/page[1]/header[0]"]
    assert (outlook.text, outlook.metadata["level"]) == ("2.1 Outlook", 3)
    assert elements["root/page[1]/header[1]"].metadata["level"] == 2
    assert title.anchor == "quarterly-report"


def test_paragraphs_join_lines_and_split_at_gaps():
    elements = by_path(run((DATA / "report.pdf").read_bytes()))
    first = elements["root/page[0]/header[0]/header[0]/paragraph[0]"]
    assert first.text == ("This report describes the results of the third quarter. It was written "
                          "to show how paragraphs that run over several lines are joined again.")  # fmt: skip
    assert elements["root/page[0]/header[0]/header[0]/paragraph[1]"].text.startswith("A second paragraph")


def test_lists_nest_by_indent_and_know_ordered():
    elements = by_path(run((DATA / "report.pdf").read_bytes()))
    bullets = elements["root/page[0]/header[0]/header[0]/header[0]/list[0]"]
    assert bullets.metadata == {"ordered": False}
    assert bullets.text == "North region\nSouth region\nEast region"
    nested = elements["root/page[0]/header[0]/header[0]/header[0]/list[0]/list_item[0]/list[0]"]
    assert nested.text == "Coastal towns\nMountain villages"
    numbered = elements["root/page[1]/header[0]/list[0]"]
    assert numbered.metadata == {"ordered": True}
    assert numbered.text == "Keep prices\nOpen two shops\nHire staff"


def test_table_rows_and_cells_from_aligned_segments():
    elements = by_path(run((DATA / "report.pdf").read_bytes()))
    table = elements["root/page[0]/header[0]/header[1]/table[0]"]
    assert table.metadata == {"rows": 3, "columns": 3, "has_header": True}
    assert table.text == "Region | Units | Revenue"
    assert elements["root/page[0]/header[0]/header[1]/table[0]/table_header[0]"].text == "Region | Units | Revenue"
    row = elements["root/page[0]/header[0]/header[1]/table[0]/table_row[2]"]
    assert row.text == "East | 700 | 8,400"
    cell = elements["root/page[0]/header[0]/header[1]/table[0]/table_row[0]/table_cell[2]"]
    assert cell.text == "14,400" and cell.metadata == {"column": "Revenue"}
    assert cell.location["page"] == 1 and (cell.location["row"], cell.location["column"]) == (1, 2)


def test_location_is_page_and_bbox_in_pdf_points():
    elements = by_path(run((DATA / "report.pdf").read_bytes()))
    title = elements["root/page[0]/header[0]"]
    x0, y0, x1, y1 = title.location["bbox"]
    assert title.location["page"] == 1
    assert 70 < x0 < 75 and 710 < y0 < 722 and x1 > x0 and 730 < y1 < 745  # drawn at (72, 720), 24 pt
    page = elements["root/page[1]"]
    assert page.location == {"page": 2} and page.metadata == {"number": 2, "width": 612.0, "height": 792.0}


def test_uri_link_annotations_attach_to_the_block_under_them():
    result = run((DATA / "report.pdf").read_bytes())
    [link] = result.links
    assert link.href == "https://example.com/scope"
    assert link.node.text.startswith("The scope covers three regions")


def test_document_metadata_and_title():
    result = run((DATA / "report.pdf").read_bytes())
    assert result.title == "Quarterly Report Q3"
    metadata = result.metadata
    assert metadata["author"] == "Ada Lovelace" and metadata["subject"] == "Results"
    assert metadata["created"] == "2024-01-02T03:04:05+01:00"
    assert metadata["modified"] == "2024-02-03T04:05:06Z"
    assert metadata["pages"] == 2


def test_pdf_dates():
    assert pdf_date("D:2024") == "2024-01-01"
    assert pdf_date("D:20240102030405-05'30'") == "2024-01-02T03:04:05-05:30"
    assert pdf_date("yesterday") is None


def test_ids_are_deterministic_and_pages_isolate_edits():
    first = run(make.report_pdf())
    again = run(make.report_pdf())
    ids = [e.element_id for e in flatten("doc", first.root)[0]]
    assert ids == [e.element_id for e in flatten("doc", again.root)[0]]
    # Another second page changes none of the first page's ids.
    pages = [Page([Text(72, 720, "Quarterly Report", 24, True)]), Page([Text(72, 700, "Something else entirely")])]
    edited = by_path(run(make.pdf_bytes(pages)))
    original = by_path(run(make.pdf_bytes([pages[0], Page([Text(72, 700, "The old text")])])))
    assert edited["root/page[0]/header[0]"].element_id == original["root/page[0]/header[0]"].element_id


def test_real_latex_file_headings_and_paragraphs():
    result = run((DATA / "real" / "pdflatex-outline.pdf").read_bytes())
    elements = by_path(result)
    assert result.metadata["pages"] == 4
    section = elements["root/page[1]/header[0]"]
    assert (section.text, section.metadata["level"]) == ("1 Foo", 1)
    paragraph = elements["root/page[1]/header[0]/paragraph[0]"]
    assert paragraph.text.startswith("Hello, here is some text without a meaning.")
    assert paragraph.text.endswith("the length of words should match the language.")
    assert [elements[f"root/page[1]/header[{i}]"].text for i in range(4)] == ["1 Foo", "2 Bar", "3 Baz", "4 Foo"]


def test_running_headers_and_footers_are_marked_not_sections():
    pages = [Page([Text(72, 760, "ACME annual report", 9), Text(72, 700, f"Chapter {n}", 16, True),
                   Text(72, 670, f"Text of page {n}."), Text(300, 30, f"Page {n}", 9)]) for n in range(1, 5)]  # fmt: skip
    elements = by_path(run(make.pdf_bytes(pages)))
    header = elements["root/page[2]/paragraph[0]"]
    assert (header.text, header.metadata) == ("ACME annual report", {"running": "header"})
    assert elements["root/page[2]/paragraph[1]"].metadata == {"running": "footer"}
    chapter = elements["root/page[2]/header[0]"]
    assert chapter.text == "Chapter 3" and chapter.metadata["level"] == 1


def test_pages_without_text_are_listed():
    result = run(make.pdf_bytes([Page([Text(72, 700, "Only page one has text.")]), Page()]))
    assert result.metadata["pages_without_text"] == [2]
    assert len(result.root.children) == 2


def test_password_protected_pdf_is_a_clear_permanent_error():
    for name in ("encrypted.pdf", "real/r6-user-password.pdf"):
        with pytest.raises(EncryptedDocumentError, match="encrypted with a password") as caught:
            run((DATA / name).read_bytes(), name)
        assert caught.value.retryable is False


def test_owner_password_only_opens_and_is_marked():
    result = run((DATA / "real" / "r6-owner-password.pdf").read_bytes())
    assert result.metadata["encrypted"] is True
    assert "pdf encryption test" in by_path(result)["root/page[0]/paragraph[0]"].text


def test_truncated_and_corrupt_pdfs_fail_clearly_and_fast():
    started = time.monotonic()
    with pytest.raises(ParseError, match="looks truncated"):
        run((DATA / "truncated.pdf").read_bytes())
    with pytest.raises(ParseError, match="invalid PDF"):
        run(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    assert time.monotonic() - started < 5


def test_two_thousand_pages_are_stored():
    started = time.monotonic()
    result = run(make.many_pages_pdf(2000))
    assert time.monotonic() - started < 30, "a guard against a hang, not a benchmark"
    assert result.metadata["pages"] == 2000
    last = by_path(result)["root/page[1999]/header[0]"]
    assert last.text == "Chapter 2000" and last.location["page"] == 2000


def test_element_and_cell_limits_name_their_key():
    with pytest.raises(LimitExceededError, match="parsers.max_elements = 50"):
        run(make.many_pages_pdf(30), max_elements=50)
    with pytest.raises(LimitExceededError, match="parsers.max_cells = 5"):
        run((DATA / "report.pdf").read_bytes(), max_cells=5)


def test_lists_deeper_than_max_depth_are_flattened_with_text_kept():
    page = Page([Text(72 + 20 * level, 700 - 14 * level, f"\u2022 level {level}") for level in range(8)])
    result = run(make.pdf_bytes([page]), max_depth=4)
    assert result.metadata["flattened_at_depth"] == 4
    texts = [e.text for e in flatten("doc", result.root)[0] if e.element_type == "list_item"]
    assert texts == [f"level {level}" for level in range(8)]
    depth = max(len(path.split("/")) for path in by_path(result))
    assert depth <= 4 + 2


def test_links_over_the_limit_fail():
    page = Page([Text(72, 700, "two links")], links=[((72, 690, 200, 710), "https://a.example"),
                                                      ((72, 690, 200, 710), "https://b.example")])  # fmt: skip
    with pytest.raises(LimitExceededError, match="parsers.max_links = 1"):
        run(make.pdf_bytes([page]), max_links=1)
    assert [link.node.element_type for link in run(make.pdf_bytes([page])).links] == [ElementType.PARAGRAPH] * 2
