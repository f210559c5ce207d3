"""Row encoding: what the store inserts, the same tuples on every engine."""

import orjson

from go_doc_go.model import Document, DocumentResult, ElementType, Link, ParsedNode, flatten
from go_doc_go.relationships import link_relationships
from go_doc_go.storage.rows import encode_document, to_json


def make_result():
    root = ParsedNode(ElementType.ROOT)
    header = root.add(ParsedNode(ElementType.HEADER, "T", metadata={"level": 1}, anchor="t"))
    header.add_anchor("legacy-name")
    para = header.add(ParsedNode(ElementType.PARAGRAPH, "p", location={"line_start": 3, "line_end": 3}))
    para.add_anchor("t")  # the same anchor twice in a document: the first element keeps it
    elements, ids = flatten("d", root)
    links = [Link(elements[2].element_id, "b.md#x", "see", "tdoc", "b.md", "x"),
             Link(elements[2].element_id, "b.md#x", "again", "tdoc", "b.md", "x")]
    document = Document("d", "s", "a.md", "markdown", "h", 3, 7, "T", {"when": object()})
    return DocumentResult(document, elements, link_relationships("d", links), links)


def test_tuples_match_the_insert_columns():
    rows = encode_document(make_result())
    assert rows.document[:4] == ("d", "s", "a.md", "markdown") and rows.document[9] == 3 and rows.document[10] is None
    assert rows.elements[2][7] == "p" and rows.elements[2][10] == '{"line_start":3,"line_end":3}'
    assert len(rows.relationships) == 1, "the same link from the same element is one relationship"
    rel = rows.relationships[0]
    assert (rel[5], rel[6], rel[7], rel[9]) == ("b.md#x", "tdoc", "x", "b.md")
    header_id = rows.elements[1][0]
    assert rows.anchors == [("d", "t", header_id), ("d", "legacy-name", header_id)]


def test_json_never_fails_on_values_json_cannot_hold():
    assert to_json({}) == "{}"
    assert to_json({1: {2, 3} if False else "x"}) == '{"1":"x"}'
    assert '"when":"<object object' in encode_document(make_result()).document[8]


def test_nul_characters_become_replacement_characters_and_are_counted():
    result = make_result()
    result.elements[2].text = "a\x00b\x00"
    result.elements[1].metadata = {"k\x00": "v\x00", "escaped": "\\u0000 stays"}
    result.document.title = "T\x00"
    rows = encode_document(result)
    assert rows.elements[2][7] == "a\ufffdb\ufffd"
    assert orjson.loads(rows.elements[1][11]) == {"k\ufffd": "v\ufffd", "escaped": "\\u0000 stays"}
    assert rows.document[4] == "T\ufffd"
    assert orjson.loads(rows.document[8])["nul_characters_replaced"] == 5
    assert rows.elements[2][8] == result.elements[2].content_hash, "hashes stay those of the parsed text"


def test_rows_without_nul_are_left_alone():
    result = make_result()
    result.elements[2].text = "a literal \\u0000 is text"  # looks like an escape once in JSON: a false alarm
    rows = encode_document(result)
    assert rows.elements[2][7] == "a literal \\u0000 is text"
    assert "nul_characters_replaced" not in rows.document[8]
