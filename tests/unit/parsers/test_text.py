from __future__ import annotations

import time

import pytest

from go_doc_go.exceptions import LimitExceededError
from go_doc_go.model import ElementType, flatten
from go_doc_go.parsers import get_parser
from go_doc_go.parsers.base import ParseInput
from go_doc_go.parsers.text import as_fallback, parse
from tests.unit.parsers.trees import full_paths, parse_data


def run(data: bytes | str, **limits: int):
    return parse_data(parse, data, "doc.txt", **limits)


def spans(result) -> list[tuple[str, int, int]]:
    return [(c.text, c.location["line_start"], c.location["line_end"]) for c in result.root.children]


def test_registered():
    assert get_parser("text") is parse


def test_paragraphs_split_on_blank_lines():
    text = "First line\nsecond line\n\n\n  Indented para\n \t \nLast\n"
    result = run(text)
    assert spans(result) == [
        ("First line\nsecond line", 1, 2),
        ("  Indented para", 5, 5),
        ("Last", 7, 7),
    ]
    assert all(c.element_type == ElementType.PARAGRAPH for c in result.root.children)
    assert result.links == [] and result.title is None
    elements, _ = flatten("doc", result.root)
    assert full_paths(elements) == ["root", "root/paragraph[0]", "root/paragraph[1]", "root/paragraph[2]"]


def test_line_endings_and_no_trailing_newline():
    assert spans(run("a\r\nb\r\n\r\nc\rd")) == [("a\nb", 1, 2), ("c\nd", 4, 5)]
    assert spans(run("\n\n\nonly")) == [("only", 4, 4)]


def test_empty_and_blank_files():
    for data in (b"", b"\n\n   \n\t\n", b"\xef\xbb\xbf"):
        result = run(data)
        assert result.root.children == []
        assert len(flatten("doc", result.root)[0]) == 1


def test_latin1_is_decoded_as_cp1252():
    assert spans(run(b"caf\xe9 na\xefve \x80\n\n\xff\xfe")) == [("caf\u00e9 na\u00efve \u20ac", 1, 1), ("\u00ff\u00fe", 3, 3)]


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_unicode_encodings_with_bom(codec):
    text = "\ufeffcaf\u00e9 \u2013 \U0001f600\nline two\n\n\u65e5\u672c\n" if codec.endswith("be") else "caf\u00e9 \u2013 \U0001f600\nline two\n\n\u65e5\u672c\n"
    result = run(text.encode(codec))
    assert spans(result) == [("caf\u00e9 \u2013 \U0001f600\nline two", 1, 2), ("\u65e5\u672c", 4, 4)]


def test_utf16_without_bom():
    assert spans(run("caf\u00e9\n\nsecond\n".encode("utf-16-le"))) == [("caf\u00e9", 1, 1), ("second", 3, 3)]


def test_ascii_utf16_without_bom():
    assert spans(run("plain words\n\nsecond\n".encode("utf-16-le"))) == [("plain words", 1, 1), ("second", 3, 3)]


def test_as_fallback_records_the_reason():
    result = as_fallback(ParseInput(b"[a\nb]\n", "x.toml"), "invalid TOML: boom", sniffed_as="toml")
    assert spans(result) == [("[a\nb]", 1, 2)]
    assert result.metadata == {"parse_fallback": "invalid TOML: boom", "sniffed_as": "toml"}


def test_binary_garbage():
    data = bytes(range(256)) * 50
    result = run(data)
    flatten("doc", result.root)
    assert result.root.children


def test_editing_a_paragraph_keeps_other_ids():
    before, _ = flatten("doc", run("one\n\ntwo\n\nthree").root)
    after, _ = flatten("doc", run("one\n\ntwo, edited\nover two lines\n\nthree").root)
    assert [e.element_id for e in before] == [e.element_id for e in after]
    assert before[2].content_hash != after[2].content_hash
    assert (after[3].location["line_start"], after[3].location["line_end"]) == (6, 6)


def test_large_file_is_linear():
    para = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8 + "\n") * 3 + "\n"
    data = (para * (20_000_000 // len(para))).encode()
    start = time.monotonic()
    result = run(data)
    assert time.monotonic() - start < 10
    assert len(result.root.children) == 20_000_000 // len(para)
    third = result.root.children[2]
    assert (third.location["line_start"], third.location["line_end"]) == (9, 11)


def test_pathological_paragraph_count_hits_budget():
    start = time.monotonic()
    with pytest.raises(LimitExceededError, match=r"more than 500,000 elements \(limit parsers.max_elements = 500,000\)"):
        run("x\n\n" * 3_000_000)
    assert time.monotonic() - start < 10


def test_huge_single_line_and_whitespace():
    assert len(run(b"a" * 5_000_000).root.children[0].text) == 5_000_000
    assert run(b" " * 5_000_000).root.children == []
