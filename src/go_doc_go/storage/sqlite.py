"""The embedded default store: one SQLite file, WAL, batched writes.

SQL lives in ``sql/sqlite/``: ``schema.sql`` (the truth), ``migrations/`` and
``queries.sql``. Opening an up-to-date store runs no DDL. Writes go into a
transaction the caller owns (``Store`` protocol in ``base.py``); each document
is replaced inside its own savepoint, so one document the database refuses
never costs the rest of its batch.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from go_doc_go.exceptions import StorageError, StoreOpenError
from go_doc_go.model import DocumentResult
from go_doc_go.storage.base import LinkCounts, RowFailure, StoredDocument, StoredState, Touch
from go_doc_go.storage.migrations import MigrationSet, sqlite_upgrade
from go_doc_go.storage.queries import parse_queries
from go_doc_go.storage.rows import DocumentRows, encode_document

MIGRATIONS = MigrationSet(
    package="go_doc_go.storage", folder=("sql", "sqlite"), version_table="store_migrations",
    marker_table="documents",
)  # fmt: skip
Q = parse_queries(MIGRATIONS.read("queries.sql"))

#: What the database may refuse about one document's rows (the others are unaffected).
_DOCUMENT_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError,
                    UnicodeEncodeError, OverflowError, ValueError)  # fmt: skip


class SQLiteStore:
    """``structural`` records whether the ``relationships`` view includes the derived
    structural edges; None keeps the store's setting."""

    engine = "sqlite"

    def __init__(self, path: str | Path, *, structural: bool | None = None, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
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
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA busy_timeout = 30000")
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
        tx.execute(Q["links_pending_add"], (rows.doc_id,))

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
        return {doc_id: StoredState(content, size, mtime) for doc_id, content, size, mtime in rows}

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

    def close(self) -> None:
        if not self.read_only:
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:
                pass  # another connection is reading; its own close will checkpoint
        self.db.close()


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
