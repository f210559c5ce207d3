"""The embedded default store: one SQLite file, WAL, batched writes.

SQL lives in ``sql/sqlite/``: ``schema.sql`` (the truth), ``migrations/`` and
``queries.sql``. Opening an up-to-date store runs no DDL. Writes go into a
transaction the caller owns (``Store`` protocol in ``base.py``); each document
is replaced inside its own savepoint, so one document the database refuses
never costs the rest of its batch.

Vectors are BLOBs of float32; nearest neighbours are an exact numpy scan over
``vector_blocks`` (sqlite-vec measured no faster, docs/embeddings.md), so
``nearest`` answers None and callers scan.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from go_doc_go.exceptions import StorageError, StoreOpenError
from go_doc_go.model import DocumentResult
from go_doc_go.storage.base import (
    FoundElement,
    LinkCounts,
    RowFailure,
    SemanticEdge,
    StoredDocument,
    StoredLink,
    StoredState,
    Touch,
)
from go_doc_go.storage.migrations import MigrationSet, sqlite_upgrade
from go_doc_go.storage.queries import parse_queries
from go_doc_go.storage.rows import DocumentRows, encode_document

if TYPE_CHECKING:
    from go_doc_go.storage.vectors import VectorRows

MIGRATIONS = MigrationSet(
    package="go_doc_go.storage", folder=("sql", "sqlite"), version_table="store_migrations",
    marker_table="documents",
)  # fmt: skip
Q = parse_queries(MIGRATIONS.read("queries.sql"))

#: What the database may refuse about one document's rows (the others are unaffected).
_DOCUMENT_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError,
                    UnicodeEncodeError, OverflowError, ValueError)  # fmt: skip


#: How long a statement waits for another connection's lock before "database is locked".
BUSY_TIMEOUT_MS = 30_000


def _enable_wal(db: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode = WAL``, waiting out other processes that open the same new file at once.

    Switching a file to WAL takes an exclusive lock, and SQLite answers SQLITE_BUSY
    at once there instead of calling the busy handler: with several workers opening
    a new store together, one of them failed with "database is locked".
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            busy = (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


class SQLiteStore:
    """``structural`` records whether the ``relationships`` view includes the derived
    structural edges; None keeps the store's setting. ``embedding_model`` is the
    configured vector model (``embeddings.base.vector_model``): a stored document
    embedded by another one, or not at all, is reported ``stale``."""

    engine = "sqlite"
    vector_search = "numpy"

    def __init__(self, path: str | Path, *, structural: bool | None = None, read_only: bool = False,
                 embedding_model: str | None = None) -> None:  # fmt: skip
        self.path = Path(path)
        self.read_only = read_only
        self.embedding_model = embedding_model
        try:
            self.db = self._connect()
            if not read_only:
                sqlite_upgrade(self.db, MIGRATIONS)
                if structural is not None:
                    self._set_setting("structural", "1" if structural else "0")
        except (sqlite3.Error, OSError) as error:
            raise StoreOpenError(f"cannot open SQLite store {self.path}: {_open_problem(self.path, error)}") from None

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            # No DDL and no write lock: a reader needs only read access to the file.
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA query_only = ON")
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(db)
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA cache_size = -131072")
        # Checkpoint in large steps: frequent small checkpoints rewrite the same
        # index pages again and again during a big ingest. close() checkpoints.
        db.execute("PRAGMA wal_autocheckpoint = 50000")
        return db

    def _set_setting(self, key: str, value: str) -> None:
        row = self.db.execute(Q["setting_get"], (key,)).fetchone()
        if row is None or row[0] != value:
            with self.transaction() as tx:
                tx.execute(Q["setting_set"], (key, value))

    # ------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; database errors become ``StorageError``."""
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise StorageError(f"cannot write to the SQLite store: {error}") from None
        try:
            yield db
        except BaseException as error:
            db.execute("ROLLBACK")
            if isinstance(error, sqlite3.OperationalError):  # disk full, locked, read-only...
                raise StorageError(f"cannot write to the SQLite store: {error}") from None
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.Error as error:
            db.execute("ROLLBACK")
            raise StorageError(f"cannot write to the SQLite store: {error}") from None

    # ------------------------------------------------------------ writes (caller's transaction)

    def write_documents(
        self, tx: sqlite3.Connection, documents: Iterable[DocumentRows], *, pass_token: str
    ) -> list[RowFailure]:
        failures: list[RowFailure] = []
        for rows in documents:
            tx.execute("SAVEPOINT document")
            try:
                self._write(tx, rows, pass_token)
            except _DOCUMENT_ERRORS as error:
                tx.execute("ROLLBACK TO document")
                failures.append(RowFailure(rows.doc_id, f"{type(error).__name__}: {error}"))
            tx.execute("RELEASE document")
        return failures

    def _write(self, tx: sqlite3.Connection, rows: DocumentRows, pass_token: str) -> None:
        self._remove(tx, rows.doc_id)
        tx.execute(Q["document_upsert"], (*rows.document, pass_token))
        tx.executemany(Q["element_insert"], rows.elements)
        tx.execute(Q["fts_insert_document"], (rows.doc_id,))
        if rows.relationships:
            tx.executemany(Q["relationship_insert"], rows.relationships)
        if rows.anchors:
            tx.executemany(Q["anchor_insert"], rows.anchors)
        if rows.embeddings:
            tx.executemany(Q["embedding_insert"], rows.embeddings)
        tx.execute(Q["links_pending_add"], (rows.doc_id,))
        tx.execute(Q["semantic_pending_add"], (rows.doc_id,))

    def touch_documents(self, tx: sqlite3.Connection, touches: Sequence[Touch]) -> None:
        tx.executemany(Q["document_touch"], [(t.mtime_ns, t.size, t.doc_id) for t in touches])

    def mark_seen(self, tx: sqlite3.Connection, doc_ids: Sequence[str], pass_token: str) -> None:
        tx.executemany(Q["document_mark_seen"], [(pass_token, doc_id) for doc_id in doc_ids])

    def delete_documents(self, tx: sqlite3.Connection, doc_ids: Iterable[str]) -> int:
        count = 0
        for doc_id in doc_ids:
            self._remove(tx, doc_id)
            count += tx.execute(Q["document_delete"], (doc_id,)).rowcount
            tx.execute(Q["links_unresolve_into"], (doc_id,))
            tx.execute(Q["semantic_pending_add"], (doc_id,))
        return count

    def delete_unseen(self, tx: sqlite3.Connection, source: str, pass_token: str) -> int:
        unseen = [row[0] for row in tx.execute(Q["documents_unseen"], (source, pass_token))]
        return self.delete_documents(tx, unseen)

    def resolve_pending_links(self, tx: sqlite3.Connection) -> int:
        resolved = tx.execute(Q["links_resolve_pending"]).rowcount
        tx.execute(Q["links_pending_clear"])
        return resolved

    def record_source(self, tx: sqlite3.Connection, name: str, location: str) -> None:
        tx.execute(Q["source_record"], (name, location))

    def _remove(self, tx: sqlite3.Connection, doc_id: str) -> None:
        tx.execute(Q["fts_delete_document"], (doc_id,))
        tx.execute(Q["elements_delete_document"], (doc_id,))
        tx.execute(Q["relationships_delete_document"], (doc_id,))
        tx.execute(Q["embeddings_delete_document"], (doc_id,))
        tx.execute(Q["anchors_delete_document"], (doc_id,))

    def store_documents(self, results: Iterable[DocumentResult], *, pass_token: str = "") -> list[RowFailure]:
        """Encode and write results in one transaction of their own (tests and small tools)."""
        with self.transaction() as tx:
            return self.write_documents(tx, [encode_document(r) for r in results], pass_token=pass_token)

    # ------------------------------------------------------------ reads

    def document_states(self, doc_ids: Sequence[str]) -> dict[str, StoredState]:
        if not doc_ids:
            return {}
        rows = self.db.execute(Q["document_states"], (json.dumps(list(doc_ids)),))
        expected = self.embedding_model
        return {
            doc_id: StoredState(content, size, mtime, expected is not None and model != expected)
            for doc_id, content, size, mtime, model in rows
        }

    def link_targets(self, doc_id: str) -> list[str]:
        return [row[0] for row in self.db.execute(Q["link_targets_of_document"], (doc_id,))]

    def source_locations(self) -> dict[str, str]:
        """Which folder each source name stood for when it was last ingested."""
        return dict(self.db.execute(Q["source_names"]).fetchall())

    def link_counts(self) -> LinkCounts:
        return LinkCounts(*self.db.execute(Q["links_count"]).fetchone())

    def find_document(self, doc_id_or_path: str) -> list[StoredDocument]:
        key = doc_id_or_path
        rows = self.db.execute(Q["document_by_id_or_path"], (key, key, key)).fetchall()
        return [
            StoredDocument(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8])
            for r in rows
        ]

    def elements_of(self, doc_id: str) -> Iterator[dict[str, Any]]:
        columns = ("element_id", "element_type", "parent_id", "sibling_order",
                   "document_position", "path_segment", "text", "content_hash", "anchor",
                   "location", "metadata")  # fmt: skip
        for row in self.db.execute(Q["elements_of_document"], (doc_id,)):
            item = dict(zip(columns, row, strict=True))
            item["location"] = json.loads(item["location"])
            item["metadata"] = json.loads(item["metadata"])
            yield item

    def children_counts(self, doc_id: str) -> dict[str, int]:
        """Number of children of each element of a document that has any."""
        return dict(self.db.execute(Q["element_children_counts"], (doc_id,)).fetchall())

    def counts(self) -> tuple[int, int, int]:
        return tuple(self.db.execute(Q["counts"]).fetchone())  # type: ignore[return-value]

    def setting(self, key: str) -> str | None:
        row = self.db.execute(Q["setting_get"], (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, tx: sqlite3.Connection, key: str, value: str) -> None:
        tx.execute(Q["setting_set"], (key, value))

    # ------------------------------------------------------------ vectors

    def unit_vectors(self, doc_id: str, model: str) -> dict[str, bytes]:
        return dict(self.db.execute(Q["unit_vectors_of_document"], (doc_id, model)).fetchall())

    def vector_blocks(
        self, model: str, *, source: str | None = None, element_type: str | None = None, block_rows: int = 65_536
    ) -> Iterator[VectorRows]:
        from go_doc_go.storage.vectors import vector_rows

        last = 0
        while True:
            rows = self.db.execute(
                Q["vectors_scan"], (model, last, source, source, element_type, element_type, block_rows)
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield vector_rows([row[1:] for row in rows])
            if len(rows) < block_rows:
                return

    def vectors_of(self, model: str, *, doc_ids: Sequence[str] = (), element_ids: Sequence[str] = ()) -> VectorRows:
        from go_doc_go.storage.vectors import concatenate, vector_rows

        parts = []
        if doc_ids:
            parts.append(vector_rows(self.db.execute(Q["vectors_of_documents"],
                                                     (model, json.dumps(list(doc_ids)))).fetchall()))  # fmt: skip
        if element_ids:
            parts.append(vector_rows(self.db.execute(Q["vectors_of_elements"],
                                                     (model, json.dumps(list(element_ids)))).fetchall()))  # fmt: skip
        return concatenate(parts)

    def unit_elements(self, element_ids: Sequence[str]) -> set[str]:
        if not element_ids:
            return set()
        return {row[0] for row in self.db.execute(Q["unit_elements"], (json.dumps(list(element_ids)),))}

    def vector_models(self) -> list[tuple[str, int, int]]:
        return [tuple(row) for row in self.db.execute(Q["vector_models"])]  # type: ignore[misc]

    def nearest(self, model: str, queries: Any, k: int, **_: Any) -> None:
        return None  # no index: callers scan vector_blocks (exact)

    def ensure_vector_index(self, tx: sqlite3.Connection) -> int:
        return 0

    # ------------------------------------------------------------ semantic edges

    def semantic_pending(self, tx: sqlite3.Connection) -> list[str]:
        return [row[0] for row in tx.execute(Q["semantic_pending_list"])]

    def mark_all_semantic_pending(self, tx: sqlite3.Connection) -> None:
        tx.execute(Q["semantic_pending_all"])

    def clear_semantic_pending(self, tx: sqlite3.Connection, doc_ids: Sequence[str]) -> None:
        tx.execute(Q["semantic_pending_remove"], (json.dumps(list(doc_ids)),))

    def semantic_sources_into(self, tx: sqlite3.Connection, doc_ids: Sequence[str]) -> list[str]:
        ids = json.dumps(list(doc_ids))
        return [row[0] for row in tx.execute(Q["semantic_sources_into"], (ids, ids))]

    def delete_semantic_edges(
        self, tx: sqlite3.Connection, *, doc_ids: Sequence[str] = (), source_ids: Sequence[str] = (),
        everything: bool = False,
    ) -> int:
        if everything:
            return tx.execute(Q["semantic_delete_all"]).rowcount
        count = 0
        if doc_ids:
            ids = json.dumps(list(doc_ids))
            count += tx.execute(Q["semantic_delete_documents"], (ids, ids)).rowcount
        if source_ids:
            count += tx.execute(Q["semantic_delete_sources"], (json.dumps(list(source_ids)),)).rowcount
        return count

    def semantic_edges_from(self, tx: sqlite3.Connection, source_ids: Sequence[str]) -> list[SemanticEdge]:
        rows = tx.execute(Q["semantic_edges_from"], (json.dumps(list(source_ids)),))
        return [SemanticEdge(s, t, d, float(score)) for s, t, d, score in rows]

    def write_relationships(self, tx: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        tx.executemany(Q["relationship_insert"], rows)

    # ------------------------------------------------------------ search and show

    def full_text(
        self, terms: Sequence[str], limit: int, *, source: str | None = None, element_type: str | None = None
    ) -> list[tuple[str, float]]:
        """FTS5 BM25 over element text, the words OR-ed (each quoted: no FTS5 syntax gets through)."""
        if not terms:
            return []
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        rows = self.db.execute(Q["fts_search"], (match, source, source, element_type, element_type, limit))
        return [(element_id, -float(rank)) for element_id, rank in rows]

    def elements_by_id(self, element_ids: Sequence[str]) -> dict[str, FoundElement]:
        if not element_ids:
            return {}
        rows = self.db.execute(Q["elements_by_id"], (json.dumps(list(element_ids)),))
        return {row[0]: _found(row) for row in rows}

    def element_children(self, element_id: str, limit: int) -> list[FoundElement]:
        return [_found(row) for row in self.db.execute(Q["element_children"], (element_id, limit))]

    def element_siblings(self, element_id: str) -> list[FoundElement]:
        return [_found(row) for row in self.db.execute(Q["element_siblings"], (element_id,))]

    def element_ids_by_prefix(self, prefix: str) -> list[str]:
        return [row[0] for row in self.db.execute(Q["element_ids_by_prefix"], (prefix, prefix + "\U0010ffff"))]

    def relationships_from(self, element_ids: Sequence[str]) -> list[StoredLink]:
        rows = self.db.execute(Q["relationships_from"], (json.dumps(list(element_ids)),))
        return [StoredLink(s, t, target, ref, doc, json.loads(meta)) for s, t, target, ref, doc, meta in rows]

    def relationships_into(self, element_ids: Sequence[str]) -> list[StoredLink]:
        rows = self.db.execute(Q["relationships_into"], (json.dumps(list(element_ids)),))
        return [StoredLink(s, t, target, ref, doc, json.loads(meta)) for s, t, target, ref, doc, meta in rows]

    def subtree_ids(self, element_id: str, limit: int) -> list[str]:
        return [row[0] for row in self.db.execute(Q["subtree_ids"], (element_id, limit))]

    def close(self) -> None:
        if not self.read_only:
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:
                pass  # another connection is reading; its own close will checkpoint
        self.db.close()


def _found(row: Sequence[Any]) -> FoundElement:
    """An ``elements_by_id``-shaped row (JSON as text) as a ``FoundElement``."""
    return FoundElement(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8]),
                        json.loads(row[9]), row[10], row[11], row[12])  # fmt: skip


def _open_problem(path: Path, error: BaseException) -> str:
    """Why the file cannot be opened, in words a user can act on (SQLite only says "unable to open")."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    for folder in (path.parent, *path.parent.parents):
        if folder.exists():
            if not folder.is_dir():
                return f"{folder} is not a folder"
            if not os.access(folder, os.W_OK | os.X_OK) and not path.exists():
                return f"permission denied: cannot create a file in {folder}"
            break
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"permission denied: cannot read and write {path}"
    if path.exists() and not os.access(path.parent, os.W_OK | os.X_OK):
        return f"permission denied: SQLite needs to write its journal next to the file, in {path.parent}"
    return str(error)
