"""A document result flattened into the row tuples the store inserts.

Workers encode (JSON included) so the single writer process only runs
``executemany`` or ``COPY``: tuples of strings pickle several times faster than
dataclasses. The tuple layouts match the column lists of the insert statements,
which are the same on every engine.

Embeddings travel with the rows too (``DocumentRows.embeddings``, filled by
the parser child after encoding, ``go_doc_go.embed``), so both drivers store
them through ``Store.write_documents`` with no code of their own.

NUL characters (``\x00``, from a stray byte in a text file or a ``\u0000``
escape in JSON) are replaced by U+FFFD here, for both engines: PostgreSQL
refuses NUL in ``text`` and ``jsonb``, SQLite would store it (and some of its
functions stop at it), and the two stores must hold the same rows. The
document's metadata says how many were replaced (``nul_characters_replaced``);
element ``content_hash`` values stay those of the parsed text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import itemgetter
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


#: Position of ``embedding_model`` in ``DocumentRows.document`` (the model that embedded it, or None).
EMBEDDING_MODEL = 10


@dataclass(slots=True)
class DocumentRows:
    doc_id: str
    #: ``(doc_id, source, path, doc_type, title, content_hash, size, mtime_ns, metadata, element_count,
    #: embedding_model)``.
    document: tuple[Any, ...]
    elements: list[tuple[Any, ...]]
    relationships: list[tuple[Any, ...]]
    #: ``(doc_id, anchor, element_id)``: one row per anchor, the first element in document order wins.
    anchors: list[tuple[str, str, str]] = field(default_factory=list)
    #: ``(element_id, chunk, doc_id, kind, unit_hash, model, dimensions, vector)``, vector as
    #: little-endian float32 bytes (``embeddings.search.to_blob``); empty when embeddings are off.
    embeddings: list[tuple[Any, ...]] = field(default_factory=list)
    #: Units embedded for this version, and units whose stored vector was reused (same unit hash).
    embedded: int = 0
    reused: int = 0


def anchor_rows(result: DocumentResult) -> list[tuple[str, str, str]]:
    rows: dict[str, tuple[str, str, str]] = {}
    for element in result.elements:
        for anchor in element.anchors:
            if anchor not in rows:
                rows[anchor] = (element.doc_id, anchor, element.element_id)
    return list(rows.values())


def encode_document(result: DocumentResult) -> DocumentRows:
    rows = _encode(result)
    return _without_nul(rows) if _may_hold_nul(rows) else rows


def _encode(result: DocumentResult) -> DocumentRows:
    doc = result.document
    return DocumentRows(
        doc_id=doc.doc_id,
        document=(
            doc.doc_id, doc.source, doc.path, doc.doc_type, doc.title, doc.content_hash,
            doc.size, doc.mtime_ns, to_json(doc.metadata), len(result.elements), None,
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


# ---------------------------------------------------------------- NUL characters

NUL = "\x00"
REPLACEMENT = "\ufffd"
#: Which tuple fields hold JSON text (a NUL there is the escape ``\u0000``).
_JSON_FIELDS = {"document": (8,), "elements": (10, 11), "relationships": (8,), "anchors": ()}
#: Embedding rows are made after the NUL pass, from the cleaned element text: they never hold one.
_TEXT, _SEGMENT, _ANCHOR, _LOCATION, _METADATA = (itemgetter(i) for i in (7, 6, 9, 10, 11))
#: ``\u0000`` preceded by an even number of backslashes: a real escape, not an escaped backslash.
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _may_hold_nul(rows: DocumentRows) -> bool:
    """Cheap test on the common path: element fields joined in C, the small rest through orjson.

    orjson writes a NUL as ``\u0000`` and a JSON string's ``\u0000`` as ``\\u0000``, so one
    substring test covers both; a literal backslash-u0000 in text is a harmless false positive.
    """
    elements = rows.elements
    raw = "".join(map(_TEXT, elements)) + "".join(map(_SEGMENT, elements))
    if NUL in raw or NUL in "".join(filter(None, map(_ANCHOR, elements))):
        return True
    if "\\u0000" in "".join(map(_LOCATION, elements)) or "\\u0000" in "".join(map(_METADATA, elements)):
        return True
    rest = (rows.document, *rows.relationships, *rows.anchors)
    try:
        return b"\\u0000" in orjson.dumps(rest)
    except orjson.JSONEncodeError:  # a lone surrogate or a huge int: the store will refuse it anyway
        return any(isinstance(v, str) and (NUL in v or "\\u0000" in v) for row in rest for v in row)


def _without_nul(rows: DocumentRows) -> DocumentRows:
    """The same rows with every NUL replaced, counted in the document's metadata."""
    counter = [0]

    def clean(table: str, row: tuple[Any, ...]) -> tuple[Any, ...]:
        json_fields = _JSON_FIELDS[table]
        return tuple(
            _clean_value(value, index in json_fields, counter) if isinstance(value, str) else value
            for index, value in enumerate(row)
        )

    elements = [clean("elements", row) for row in rows.elements]
    relationships = [clean("relationships", row) for row in rows.relationships]
    anchors = [clean("anchors", row) for row in rows.anchors]  # type: ignore[misc]
    document = clean("document", rows.document)
    if counter[0]:
        metadata = orjson.loads(document[8])
        metadata["nul_characters_replaced"] = counter[0]
        document = (*document[:8], to_json(metadata), *document[9:])
    return DocumentRows(rows.doc_id, document, elements, relationships, anchors,  # type: ignore[arg-type]
                        rows.embeddings, rows.embedded, rows.reused)


def _clean_value(value: str, is_json: bool, counter: list[int]) -> str:
    if is_json:
        if "\\u0000" not in value:
            return value
        cleaned, count = _JSON_NUL.subn(lambda m: m.group(1) + REPLACEMENT, value)
    else:
        count = value.count(NUL)
        cleaned = value.replace(NUL, REPLACEMENT) if count else value
    counter[0] += count
    return cleaned
