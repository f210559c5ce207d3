"""Engine-neutral views of a store, for tests that compare engines or modes row for row.

``snapshot(store)`` reads every table that carries content (documents, elements,
anchors, the ``relationships`` view with the structural edges, stored links and
semantic edges with their target paths, vectors as bytes, sources and settings) from a SQLite or a PostgreSQL
store, with JSON parsed, sorted, and without what legitimately differs between
two runs (timestamps, pass tokens) or between engines (the full-text index).
Two stores that hold the same documents give equal snapshots.

``rows(store, sql, *params)`` runs one query on either engine (``?`` placeholders).
"""

from __future__ import annotations

import json
from typing import Any

#: What a snapshot holds: the columns that are the same on every engine, in a fixed order.
SNAPSHOT_QUERIES = {
    "documents": "SELECT doc_id, source, path, doc_type, title, content_hash, size, mtime_ns, metadata, "
    "element_count, embedding_model FROM documents",
    "elements": "SELECT element_id, doc_id, element_type, parent_id, sibling_order, document_position, "
    "path_segment, text, content_hash, anchor, location, metadata FROM elements",
    "element_anchors": "SELECT doc_id, anchor, element_id FROM element_anchors",
    "relationships": "SELECT relationship_id, doc_id, source_id, relationship_type, target_id, target_reference, "
    "target_doc_id, target_anchor, metadata FROM relationships",
    "stored_relationships": "SELECT relationship_id, doc_id, source_id, relationship_type, target_id, "
    "target_reference, target_doc_id, target_anchor, metadata, target_path FROM stored_relationships",
    "embeddings": "SELECT element_id, chunk, doc_id, kind, unit_hash, model, dimensions, vector FROM embeddings",
    "sources": "SELECT name, location FROM sources",
    "store_settings": "SELECT key, value FROM store_settings",
}
#: Columns holding JSON, per table (SQLite returns text, PostgreSQL parsed jsonb).
JSON_COLUMNS = {"documents": (8,), "elements": (10, 11), "relationships": (8,), "stored_relationships": (8,)}


def connection(store: Any) -> Any:
    """The store's own connection (``db`` on SQLite, ``conn`` on PostgreSQL)."""
    return store.db if store.engine == "sqlite" else store.conn


def rows(store: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run ``sql`` (``?`` placeholders) on the store's connection; every row as a tuple."""
    if store.engine == "postgresql":
        sql = sql.replace("?", "%s")
    return [tuple(row) for row in connection(store).execute(sql, params).fetchall()]


def parsed(value: Any) -> Any:
    """A JSON column's value as Python data, whichever engine returned it."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _sort_key(row: tuple[Any, ...]) -> str:
    return json.dumps(row, sort_keys=True, default=repr)


def snapshot(store: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every content row of the store, JSON parsed, sorted: equal for stores holding the same documents."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    for table, sql in SNAPSHOT_QUERIES.items():
        json_columns = JSON_COLUMNS.get(table, ())
        table_rows = [
            tuple(parsed(v) if i in json_columns else bytes(v) if isinstance(v, memoryview) else v
                  for i, v in enumerate(row))
            for row in rows(store, sql)
        ]
        result[table] = sorted(table_rows, key=_sort_key)
    return result


def differences(left: dict[str, list[tuple[Any, ...]]], right: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """A readable list of what two snapshots disagree on (at most a few rows per table)."""
    problems: list[str] = []
    for table in sorted(set(left) | set(right)):
        a, b = left.get(table, []), right.get(table, [])
        if a == b:
            continue
        keys_a, keys_b = {_sort_key(r) for r in a}, {_sort_key(r) for r in b}
        only_a = [r for r in a if _sort_key(r) not in keys_b][:3]
        only_b = [r for r in b if _sort_key(r) not in keys_a][:3]
        problems.append(f"{table}: {len(a)} vs {len(b)} rows; only left {only_a}; only right {only_b}")
    return problems
