"""The DOCX parser on a generated document and on real files from python-docx's test corpus,
plus the zip package checks (zip bombs, lying sizes, DTDs, password-protected and legacy files)."""

from __future__ import annotations

import io
import os
import resource
import time
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("docx")

from go_doc_go.exceptions import EncryptedDocumentError, LimitExceededError, ParseError, UnsafeArchiveError  # noqa: E402
from go_doc_go.model import flatten  # noqa: E402
from go_doc_go.parsers import get_parser  # noqa: E402
from go_doc_go.parsers.docx import parse  # noqa: E402
from tests.data.office import make  # noqa: E402
from tests.unit.parsers.trees import by_path, parse_data  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data" / "office"


def run(data: bytes, path: str = "doc.docx", **limits: int):
    return parse_data(parse, data, path, **limits)


def report():
    return run((DATA / "report.docx").read_bytes())


def replace_member(template: bytes, member: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, content if info.filename == member else source.read(info))
    return out.getvalue()


def test_registered():
    assert get_parser("docx") is parse


def test_heading_styles_give_nested_headers_with_levels():
    elements = by_path(report())
    assert elements["root/header[0]"].text == "Field Guide"
    assert elements["root/header[0]"].metadata == {"level": 1, "style": "Title"}
    assert elements["root/header[0]/paragraph[0]"].text == "Introductory text before the first heading."
    birds = elements["root/header[1]"]
    assert (birds.text, birds.metadata["level"]) == ("Birds", 1)
    songbirds = elements["root/header[1]/header[0]"]
    assert (songbirds.text, songbirds.metadata["level"]) == ("Songbirds", 2)
    identification = elements["root/header[1]/header[0]/header[0]"]
    assert (identification.text, identification.metadata["level"]) == ("Identification", 3)
    assert elements["root/header[2]"].text == "Mammals"
    assert birds.anchor == "birds"


def test_list_items_nest_and_know_ordered():
    elements = by_path(report())
    bullets = elements["root/header[1]/header[0]/list[0]"]
    assert bullets.metadata == {"ordered": False}
    assert bullets.text == "Robin\nWren"
    nested = elements["root/header[1]/header[0]/list[0]/list_item[0]/list[0]"]
    assert nested.text == "European robin\nAmerican robin"
    assert elements["root/header[1]/header[0]/list[0]/list_item[0]/list[0]/list_item[1]"].metadata == {"level": 1}
    numbered = elements["root/header[1]/header[0]/header[0]/list[0]"]
    assert numbered.metadata == {"ordered": True}
    assert numbered.text == "Look\nListen\nNote the date"


def test_table_with_header_row():
    elements = by_path(report())
    table = elements["root/header[2]/table[0]"]
    assert table.metadata == {"rows": 3, "has_header": True}
    assert table.text == "Animal | Legs | Habitat"
    assert elements["root/header[2]/table[0]/table_header[0]"].text == "Animal | Legs | Habitat"
    cell = elements["root/header[2]/table[0]/table_row[1]/table_cell[2]"]
    assert (cell.text, cell.metadata, cell.location) == ("Coast", {"column": "Habitat"},
                                                         {"table": 0, "row": 2, "column": 2})  # fmt: skip


def test_headers_footers_and_comments():
    elements = by_path(report())
    header = elements["root/page_header[0]"]
    assert header.text == "Field Guide - draft" and header.metadata == {"kind": "default", "section": 0}
    assert header.location == {"part": "word/header1.xml"}
    assert elements["root/page_footer[0]/paragraph[0]"].text == "Page footer text"
    comment = elements["root/comment[0]"]
    assert comment.text == "Check this claim."
    assert comment.metadata["author"] == "Reviewer"
    assert comment.metadata["refers_to"] == "They lay eggs."


def test_hyperlinks_external_and_to_bookmarks():
    result = report()
    assert [(link.href, link.text) for link in result.links] == [
        ("https://example.org/mammals", "the mammal atlas"), ("#birds_section", "the bird section")]
    assert result.links[0].node.text == "See the mammal atlas and the bird section"
    # The bookmark is an anchor of the header it sits in, so the internal link resolves there.
    assert by_path(result)["root/header[1]"].anchors == ("birds", "birds_section")


def test_metadata_title_and_locations():
    result = report()
    assert result.title == "Field Guide"
    assert result.metadata["author"] == "Grace Hopper"
    assert result.metadata["created"] == "2024-01-02T03:04:05+00:00"
    assert by_path(result)["root/header[1]/paragraph[0]"].location == {"paragraph": 3}


def test_ids_are_deterministic():
    data = (DATA / "report.docx").read_bytes()
    assert [e.element_id for e in flatten("d", run(data).root)[0]] == [e.element_id for e in flatten("d", run(data).root)[0]]


def test_real_files_from_python_docx():
    links = run((DATA / "real" / "par-hyperlinks.docx").read_bytes()).links
    assert len(links) == 4 and links[0].href == "http://yahoo.com/" and links[0].text == "awesome hyperlink"
    comments = by_path(run((DATA / "real" / "comments-rich-para.docx").read_bytes()))
    assert comments["root/comment[0]"].metadata["author"] == "Steve Canny"
    assert comments["root/comment[0]"].metadata["refers_to"] == "Some text worthy of note."
    assert "https://google.com" in comments["root/comment[0]"].text
    sections = by_path(run((DATA / "real" / "hdr-header-footer.docx").read_bytes()))
    assert sections["root/page_header[0]"].text == "Header for section-1"
    assert sections["root/page_footer[0]"].text == "Footer for section 1"


def test_links_in_table_cells_and_comments_are_reported():
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    cell = document.add_table(rows=1, cols=2).cell(0, 1)
    make._hyperlink(cell.paragraphs[0], "https://example.com/cell", "in a cell", OxmlElement, qn, RELATIONSHIP_TYPE)
    out = io.BytesIO()
    document.save(out)
    [link] = run(out.getvalue()).links
    assert (link.href, link.text, link.node.location) == ("https://example.com/cell", "in a cell",
                                                          {"table": 0, "row": 0, "column": 1})  # fmt: skip
    comments = run((DATA / "real" / "comments-rich-para.docx").read_bytes())
    assert [(link.href, str(link.node.element_type)) for link in comments.links] == [("https://google.com", "comment")]


def test_content_controls_and_tracked_insertions_keep_their_text():
    body = (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        "<w:sdt><w:sdtContent><w:p><w:r><w:t>Inside a content control</w:t></w:r></w:p></w:sdtContent></w:sdt>"
        "<w:p><w:ins><w:r><w:t>Inserted</w:t></w:r></w:ins><w:del><w:r><w:delText>Deleted</w:delText></w:r></w:del>"
        "<w:r><w:instrText>PAGE</w:instrText></w:r></w:p></w:body></w:document>"
    )
    data = replace_member((DATA / "report.docx").read_bytes(), "word/document.xml", body.encode())
    elements = by_path(run(data))
    assert elements["root/paragraph[0]"].text == "Inside a content control"
    assert elements["root/paragraph[1]"].text == "Inserted"


def test_list_nesting_past_max_depth_is_flattened_with_text_kept():
    import docx

    document = docx.Document()
    for level in range(9):
        document.add_paragraph(f"item {level}", style="List Bullet")._p.get_or_add_pPr().get_or_add_numPr().get_or_add_ilvl().val = level
    out = io.BytesIO()
    document.save(out)
    result = run(out.getvalue(), max_depth=4)
    assert result.metadata["flattened_at_depth"] == 4
    texts = [e.text for e in flatten("d", result.root)[0] if e.element_type == "list_item"]
    assert texts == [f"item {level}" for level in range(9)]


def test_cell_limit_names_its_key():
    with pytest.raises(LimitExceededError, match="parsers.max_cells = 5"):
        run((DATA / "report.docx").read_bytes(), max_cells=5)


# ---------------------------------------------------------------- hostile packages


def test_zip_bomb_is_refused_before_inflating():
    bomb = make.zip_bomb((DATA / "report.docx").read_bytes(), "word/document.xml", 64 << 20)
    assert len(bomb) < 200_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(UnsafeArchiveError, match=r"zip bomb: part word/document.xml inflates 1,0\d\d:1"):
        run(bomb)
    assert time.monotonic() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20_000  # KiB: nothing was inflated


def test_declared_sizes_over_the_memory_limit_are_refused():
    template = (DATA / "report.docx").read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("word/media/noise.bin", os.urandom(3 << 20))  # incompressible: no ratio alarm
    data = out.getvalue()
    with pytest.raises(UnsafeArchiveError, match=r"more than parsers.max_memory_mb \(2\) allows"):
        run(data, max_memory_mb=2)
    assert run(data, max_memory_mb=64).title == "Field Guide"


def test_a_part_inflating_past_its_declared_size_fails_its_crc():
    lying = make.lying_zip((DATA / "report.docx").read_bytes(), "word/document.xml", 50 << 20)
    started = time.monotonic()
    with pytest.raises(ParseError, match="Bad CRC-32"):
        run(lying)
    assert time.monotonic() - started < 5


def test_a_dtd_is_refused():
    body = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            b"<w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>")  # fmt: skip
    data = replace_member((DATA / "report.docx").read_bytes(), "word/document.xml", body)
    with pytest.raises(UnsafeArchiveError, match=r"word/document.xml declares a DTD"):
        run(data)


def test_password_protected_office_file_is_a_clear_permanent_error():
    with pytest.raises(EncryptedDocumentError, match="password-protected") as caught:
        run((DATA / "encrypted.docx").read_bytes())
    assert caught.value.retryable is False


def test_legacy_binary_and_broken_packages_fail_clearly():
    with pytest.raises(ParseError, match="legacy binary Office file"):
        run(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096), "old.docx")
    with pytest.raises(ParseError, match="no zip end record"):
        run(b"this is not a zip package at all", "text.docx")
    data = (DATA / "report.docx").read_bytes()
    with pytest.raises(ParseError, match="truncated"):
        run(data[: len(data) // 2])
