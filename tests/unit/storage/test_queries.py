import pytest

from go_doc_go.storage.queries import parse_queries
from go_doc_go.storage.sqlite import Q


def test_named_blocks_drop_comments_and_trailing_semicolon():
    text = "-- name: a\n-- what a does\nSELECT 1;\n\n-- name: b\nSELECT 2\nFROM t;\n"
    assert parse_queries(text) == {"a": "SELECT 1", "b": "SELECT 2\nFROM t"}


def test_repeated_name_is_an_error():
    with pytest.raises(ValueError, match="duplicate query name: a"):
        parse_queries("-- name: a\nSELECT 1\n-- name: a\nSELECT 2\n")


def test_packaged_files_load():
    assert "element_insert" in Q and "links_resolve_pending" in Q
