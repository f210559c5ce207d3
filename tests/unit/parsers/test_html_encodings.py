"""HTML encodings: BOM, <meta charset>, http-equiv, XML declaration, detection."""

from __future__ import annotations

import codecs

import pytest

from go_doc_go.parsers.html import parse
from tests.unit.parsers.trees import parse_data


def run(data: bytes | str, **limits: int):
    return parse_data(parse, data, "doc.html", **limits)


PAGE = "<html><head><title>Café ✓</title></head><body><p>naïve ünïcode ✓</p></body></html>"


@pytest.mark.parametrize(
    ("bom", "codec", "name"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    ],
)
def test_utf16_and_utf32_with_bom(bom, codec, name):
    result = run(bom + PAGE.encode(codec))
    assert result.root.children[0].text == "naïve ünïcode ✓"
    assert result.title == "Café ✓"
    assert result.metadata["encoding"] == name


def test_utf8_records_no_encoding():
    result = run(codecs.BOM_UTF8 + PAGE.encode())
    assert result.root.children[0].text == "naïve ünïcode ✓"
    assert "encoding" not in result.metadata
    assert "encoding" not in run(PAGE).metadata


def test_utf16_without_bom_by_its_zero_bytes():
    result = run(PAGE.encode("utf-16-le"))
    assert result.root.children[0].text == "naïve ünïcode ✓"


@pytest.mark.parametrize(
    ("head", "codec", "text"),
    [
        ('<meta charset="windows-1251">', "cp1251", "Привет"),
        ("<meta charset=koi8-r>", "koi8-r", "Привет"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">', "shift_jis", "日本語"),
        ('<meta http-equiv="content-type" content="text/html;charset=ISO-8859-2">', "iso8859-2", "Łódź"),
    ],
)
def test_meta_charset(head, codec, text):
    data = f"<html><head>{head}</head><body><p>{text}</p></body></html>".encode(codec)
    result = run(data)
    assert result.root.children[0].text == text
    assert result.metadata["encoding"] == codec


def test_latin1_label_means_windows_1252_as_in_browsers():
    data = '<meta charset="iso-8859-1"><p>\x93quoted\x94 caf\xe9 \x80</p>'.encode("latin-1")
    result = run(data)
    assert result.root.children[0].text == "“quoted” café €"
    assert result.metadata["encoding"] == "cp1252"


def test_xml_declaration_encoding():
    data = '<?xml version="1.0" encoding="windows-1250"?>\n<html><body><p>Žluťoučký</p></body></html>'
    result = run(data.encode("cp1250"))
    assert result.root.children[0].text == "Žluťoučký"
    assert result.root.children[0].location["line_start"] == 2


def test_bom_wins_over_a_wrong_meta():
    data = codecs.BOM_UTF8 + '<meta charset="iso-8859-1"><p>café</p>'.encode()
    assert run(data).root.children[0].text == "café"
