"""XML encodings Python decodes and libxml2 lacks: DOS and Mac code pages, EBCDIC, UTF-32."""

from __future__ import annotations

import codecs

import pytest

from go_doc_go.parsers.xml import parse
from tests.unit.parsers.trees import parse_data


def run(data: bytes | str, **limits: int):
    return parse_data(parse, data, "doc.xml", **limits)


def document(label: str, text: str) -> str:
    return f'<?xml version="1.0" encoding="{label}"?>\n<doc lang="x">\n<title>{text}</title>\n</doc>\n'


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        ("cp437", "cp437", "Déjà vu ½ ░▒▓"),
        ("IBM437", "cp437", "Déjà vu"),
        ("cp850", "cp850", "Ærøskøbing"),
        ("cp852", "cp852", "Łódź"),
        ("cp855", "cp855", "Привет"),
        ("cp857", "cp857", "İstanbul ş"),
        ("cp860", "cp860", "São João"),
        ("cp861", "cp861", "Þingvellir"),
        ("cp862", "cp862", "שלום"),
        ("cp863", "cp863", "Québec"),
        ("cp865", "cp865", "Ærø"),
        ("cp866", "cp866", "Привет"),
        ("mac-roman", "mac-roman", "Café ™"),
        ("macintosh", "mac-roman", "Café"),
        ("x-mac-cyrillic", "mac-cyrillic", "Привет"),
        ("mac-greek", "mac-greek", "Καλημέρα"),
        ("windows-1252", "cp1252", "“smart” €"),
    ],
)
def test_code_pages_libxml2_lacks(label, codec, text):
    result = run(document(label, text).encode(codec))
    assert result.title == text
    assert result.metadata["encoding"] == codec
    title = result.root.children[0].children[0]
    assert title.location["line_start"] == 3
    assert "recovered" not in result.metadata


@pytest.mark.parametrize(("label", "codec"), [("IBM037", "cp037"), ("cp500", "cp500"), ("ebcdic-cp-us", "cp037")])
@pytest.mark.parametrize("newline", ["\n", "\x85"])  # EBCDIC LF (0x25) and NL (0x15)
def test_ebcdic_with_its_declaration_in_ebcdic(label, codec, newline):
    text = document(label, "Café [ok] ¬ ¦").replace("\n", newline)
    result = run(text.encode(codec))
    assert result.title == "Café [ok] ¬ ¦"
    assert result.metadata["encoding"] == codec
    assert result.root.children[0].children[0].location["line_start"] == 3


def test_ebcdic_label_python_lacks_reads_as_cp037():
    data = document("IBM-1047", "plain text").encode("cp037")
    result = run(data)
    assert (result.title, result.metadata["encoding"]) == ("plain text", "cp037")


@pytest.mark.parametrize(
    ("bom", "codec", "name"),
    [
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (b"", "utf-32-le", "utf-32-le"),
        (b"", "utf-16-be", "utf-16-be"),
    ],
)
def test_utf16_and_utf32(bom, codec, name):
    label = "UTF-32" if "32" in codec else "UTF-16"
    result = run(bom + document(label, "wide ✓ 𝄞").encode(codec))
    assert result.title == "wide ✓ 𝄞"
    assert result.metadata["encoding"] == name


def test_declaration_after_whitespace_is_read():
    data = "\n\n" + document("cp866", "Привет")
    result = run(data.encode("cp866"))
    assert result.title == "Привет"
    assert result.root.children[0].location["line_start"] == 4


def test_declared_utf16_in_a_utf8_file_is_read_as_utf8():
    result = run(document("UTF-16", "café"))
    assert result.title == "café"
    assert "encoding" not in result.metadata


def test_version_and_standalone_survive_the_declaration_rewrite():
    data = '<?xml version="1.1" encoding="cp850" standalone="yes"?><r>caf\x82 \x85 x</r>'.encode("latin-1")
    result = run(data)
    assert result.root.children[0].text == "café à x"
    assert "recovered" not in result.metadata  # the rewritten declaration is still well-formed
