"""Detection of the binary formats: typed by extension (or a PDF's header), never text, skipped with a hint
when their library is missing (the missing case runs for real in tests/acceptance/test_formats.py)."""

from __future__ import annotations

import pytest

from go_doc_go.sources import detect


def test_binary_types_are_never_text_types():
    assert set(detect.DOCUMENT_FORMATS.values()).isdisjoint(detect.TEXT_TYPES)


@pytest.mark.parametrize(("path", "doc_type"), [("a/Report.PDF", "pdf"), ("b.docx", "docx"), ("c.pptx", "pptx"),
                                                 ("d.xlsx", "xlsx")])  # fmt: skip
def test_typed_by_extension_when_installed(path, doc_type):
    pytest.importorskip(detect.FORMAT_MODULES[doc_type])
    assert detect.type_from_extension(path) == doc_type
    assert detect.missing_extra(path) is None


def test_a_pdf_without_extension_is_sniffed():
    pytest.importorskip("pypdfium2")
    assert detect.sniff_type(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj") == "pdf"
    assert detect.sniff_type(b"PK\x03\x04\x14\x00\x00\x00") is None  # a zip is not guessed: it needs its extension


def test_the_hint_names_the_extra_when_the_library_is_missing(monkeypatch):
    monkeypatch.setitem(detect._installed, "pdf", False)
    assert detect.type_from_extension("x.pdf") is None
    assert detect.sniff_type(b"%PDF-1.4") is None
    assert detect.missing_extra("x.pdf") == "install go-doc-go[formats] to ingest .pdf files (pypdfium2 is not installed)"
    assert detect.missing_extra("x.md") is None
