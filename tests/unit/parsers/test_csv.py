from __future__ import annotations

import time

import pytest

from go_doc_go.exceptions import LimitExceededError, ParseError
from go_doc_go.model import ElementType, flatten
from go_doc_go.parsers import get_parser
from go_doc_go.parsers.csv import parse
from tests.unit.parsers.trees import full_paths, parse_data


def run(data: bytes | str, path: str = "data.csv", **limits: int):
    return parse_data(parse, data, path, **limits)


def texts(node) -> list[str]:
    return [child.text for child in node.children]


def test_registered():
    try:
        parser = get_parser("csv")
    except ImportError as exc:  # another format's module is not there yet
        pytest.skip(f"parser registry incomplete: {exc}")
    assert parser is parse


def test_with_header():
    result = run("name,age,city\nAlice,30,Paris\nBob,25,Rome\n")
    root = result.root
    assert root.element_type is ElementType.ROOT
    [table] = root.children
    assert table.element_type is ElementType.TABLE
    assert table.text == "name | age | city"
    assert table.metadata["has_header"] is True
    assert table.metadata["rows"] == 2
    assert table.metadata["columns"] == 3
    assert table.metadata["delimiter"] == ","
    header, row1, row2 = table.children
    assert header.element_type is ElementType.TABLE_HEADER
    assert [c.element_type for c in header.children] == [ElementType.TABLE_CELL] * 3
    assert texts(header) == ["name", "age", "city"]
    assert header.location == {"row": 0, "line_start": 1, "line_end": 1}
    assert row1.element_type is ElementType.TABLE_ROW
    assert row1.text == "Alice | 30 | Paris"
    assert row1.location == {"row": 1, "line_start": 2, "line_end": 2}
    assert texts(row2) == ["Bob", "25", "Rome"]
    assert [c.metadata["column"] for c in row2.children] == ["name", "age", "city"]
    assert row2.children[2].location == {"row": 2, "column": 2}

    elements, _ = flatten("doc", root)
    paths = full_paths(elements)
    assert paths[:4] == [
        "root",
        "root/table[0]",
        "root/table[0]/table_header[0]",
        "root/table[0]/table_header[0]/table_cell[0]",
    ]
    assert "root/table[0]/table_row[1]/table_cell[2]" in paths
    assert len(elements) == 1 + 1 + 3 * 4


def test_without_header():
    result = run("1,2,3\n4,5,6\n")
    [table] = result.root.children
    assert table.metadata["has_header"] is False
    assert table.text == ""
    assert [c.element_type for c in table.children] == [ElementType.TABLE_ROW] * 2
    assert texts(table.children[0]) == ["1", "2", "3"]
    assert [c.metadata["column"] for c in table.children[1].children] == [0, 1, 2]
    assert table.children[0].location["row"] == 0
    assert table.children[1].children[1].location == {"row": 1, "column": 1}


def test_all_text_columns_fall_back_to_header_heuristic():
    # Sniffer's vote is undecided for text columns of varying length.
    result = run("name,city\nAlice,Paris\nBob,Rome\nCharlotte,Amsterdam\n")
    [table] = result.root.children
    assert table.metadata["has_header"] is True
    assert texts(table.children[0]) == ["name", "city"]


def test_single_row_is_data():
    result = run("a,b,c\n")
    [table] = result.root.children
    assert [c.element_type for c in table.children] == [ElementType.TABLE_ROW]


def test_semicolon_dialect():
    result = run('id;label;price\n1;"Smith; J";3,50\n2;Doe;4,10\n')
    [table] = result.root.children
    assert table.metadata["delimiter"] == ";"
    header, row1, row2 = table.children
    assert texts(header) == ["id", "label", "price"]
    assert texts(row1) == ["1", "Smith; J", "3,50"]
    assert texts(row2) == ["2", "Doe", "4,10"]


def test_tsv_by_sniffing():
    result = run("word\tcount, approx\tnote\nfoo\t12\ta, b\nbar\t7\tc, d\n", path="words.tsv")
    [table] = result.root.children
    assert table.metadata["delimiter"] == "\t"
    assert texts(table.children[0]) == ["word", "count, approx", "note"]
    assert texts(table.children[1]) == ["foo", "12", "a, b"]


def test_quoted_fields_with_newlines():
    data = 'id,comment\n1,"first line\nsecond line"\n2,"say ""hi"""\n3,plain\n'
    result = run(data)
    [table] = result.root.children
    header, row1, row2, row3 = table.children
    assert header.element_type is ElementType.TABLE_HEADER
    assert row1.children[1].text == "first line\nsecond line"
    assert row1.location == {"row": 1, "line_start": 2, "line_end": 3}
    assert row2.children[1].text == 'say "hi"'
    assert row2.location == {"row": 2, "line_start": 4, "line_end": 4}
    assert row3.location["line_start"] == 5


def test_crlf_and_blank_lines():
    result = run("a,b\r\n1,2\r\n\r\n3,4\r\n")
    [table] = result.root.children
    rows = [c for c in table.children if c.element_type is ElementType.TABLE_ROW]
    assert [r.text for r in rows] == ["1 | 2", "3 | 4"]
    assert rows[1].location["row"] == 3  # the blank record still counts


def test_ragged_rows():
    result = run("h1,h2\nx\ny,z,extra\n")
    [table] = result.root.children
    assert table.metadata["columns"] == 3
    ragged = table.children[2]
    assert [c.metadata["column"] for c in ragged.children] == ["h1", "h2", 2]


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf"])
def test_empty_file_is_root_only(data):
    result = run(data)
    assert result.root.element_type is ElementType.ROOT
    assert result.root.children == []
    assert result.links == []


def test_latin1_is_decoded_as_cp1252():
    result = run(b"name,city\nJos\xe9,K\xf6ln\nAn\xefs,S\xe8te\n")
    [table] = result.root.children
    assert texts(table.children[1]) == ["Jos\u00e9", "K\u00f6ln"]
    assert texts(table.children[2]) == ["An\u00efs", "S\u00e8te"]


def test_utf16_with_bom():
    result = run("id,label\n1,caf\u00e9\n".encode("utf-16"))
    [table] = result.root.children
    assert texts(table.children[1]) == ["1", "caf\u00e9"]


def test_rows_count_as_elements_and_cells_as_cells():
    data = "\n".join(",".join(str(r * 10 + c) for c in range(10)) for r in range(200))
    result = run(data, max_elements=205)  # 200 rows + table + root; the 2,000 cells do not count
    assert len(result.root.children[0].children) == 200
    with pytest.raises(LimitExceededError, match=r"more than 199 elements \(limit parsers.max_elements = 199\)"):
        run(data, max_elements=199)
    with pytest.raises(LimitExceededError, match=r"more than 1,999 table cells \(limit parsers.max_cells = 1,999\)"):
        run(data, max_cells=1999)
    assert len(flatten("doc", run(data, max_cells=2000).root)[0]) == 1 + 1 + 200 + 2000


def test_cells_of_a_column_share_their_metadata():
    result = run("name,age\nAlice,30\nBob,25\n")
    header, first, second = result.root.children[0].children
    assert first.children[1].metadata is second.children[1].metadata == {"column": "age", "header": False}
    assert header.children[1].metadata == {"column": "age", "header": True}
    assert first.children[0].metadata is not first.children[1].metadata


@pytest.mark.slow
def test_ten_megabyte_csv_is_stored_whole():
    line = ",".join(f"value{c}xxx" for c in range(10)) + "\n"
    data = ",".join(f"column{c}" for c in range(10)) + "\n" + line * 100_000
    assert len(data) > 10_000_000
    result = run(data)
    [table] = result.root.children
    assert table.metadata["rows"] == 100_000 and table.metadata["columns"] == 10
    elements, _ = flatten("doc", result.root)
    assert len(elements) == 1 + 1 + 100_001 + 1_000_010


def test_oversized_field_is_parse_error():
    data = 'a,b\n1,"' + "x" * (11 * 1024 * 1024) + '"\n'
    with pytest.raises(ParseError):
        run(data)


def test_unterminated_quote_does_not_crash():
    result = run('a,b\n1,"never closed\n2,3\n')
    assert result.root.children


@pytest.mark.parametrize("unit", [',"\n', ',"', '"\n', ', "\n', "\n\"a\n'"])
def test_hostile_sniffer_input_is_fast(unit):
    data = unit * (70_000 // len(unit))
    start = time.perf_counter()
    run(data)
    assert time.perf_counter() - start < 5
