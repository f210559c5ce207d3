"""A document result flattened into the row tuples the store inserts.

Workers encode (JSON included) so the single writer process only runs
``executemany``: tuples of strings pickle several times faster than dataclasses.
The tuple layouts match the column lists of the insert statements, which are
the same on every engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import json

import orjson

from go_doc_go.model import DocumentResult


def to_json(value: dict[str, Any]) -> str:
    """Compact JSON; values JSON cannot hold (dates, sets...) become strings.

    orjson is fast but refuses integers beyond 64 bits (JSON allows them, and
    real files have them); those documents take the stdlib path.
    """
    if not value:
        return "{}"
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(_plain(value), default=str, ensure_ascii=False, separators=(",", ":"))


def _plain(value: Any) -> Any:
    """A copy the stdlib encoder takes: every mapping key a string (iterative: no recursion limit)."""
    root: list[Any] = [None]
    stack: list[tuple[Any, list[Any] | dict[str, Any], Any]] = [(value, root, 0)]
    while stack:
        item, parent, slot = stack.pop()
        if isinstance(item, dict):
            copy: Any = {}
            for key, inner in reversed(item.items()):
                stack.append((inner, copy, key if isinstance(key, str) else str(key)))
        elif isinstance(item, (list, tuple)):
            copy = [None] * len(item)
            for index, inner in enumerate(item):
                stack.append((inner, copy, index))
        else:
            copy = item
        parent[slot] = copy
    return root[0]


@dataclass(slots=True)
class DocumentRows:
    doc_id: str
    document: tuple[Any, ...]
    elements: list[tuple[Any, ...]]
    relationships: list[tuple[Any, ...]]
    #: ``(doc_id, anchor, element_id)``: one row per anchor, the first element in document order wins.
    anchors: list[tuple[str, str, str]] = field(default_factory=list)


def anchor_rows(result: DocumentResult) -> list[tuple[str, str, str]]:
    rows: dict[str, tuple[str, str, str]] = {}
    for element in result.elements:
        for anchor in element.anchors:
            if anchor not in rows:
                rows[anchor] = (element.doc_id, anchor, element.element_id)
    return list(rows.values())


def encode_document(result: DocumentResult) -> DocumentRows:
    doc = result.document
    return DocumentRows(
        doc_id=doc.doc_id,
        document=(
            doc.doc_id, doc.source, doc.path, doc.doc_type, doc.title, doc.content_hash,
            doc.size, doc.mtime_ns, to_json(doc.metadata), len(result.elements),
        ),
        elements=[
            (e.element_id, e.doc_id, e.element_type, e.parent_id, e.sibling_order,
             e.document_position, e.path_segment, e.text, e.content_hash, e.anchor,
             to_json(e.location), to_json(e.metadata))
            for e in result.elements
        ],
        relationships=[
            (r.relationship_id, r.doc_id, r.source_id, r.relationship_type, r.target_id,
             r.target_reference, r.target_doc_id, r.target_anchor, to_json(r.metadata), r.target_path)
            for r in result.relationships
        ],
        anchors=anchor_rows(result),
    )
