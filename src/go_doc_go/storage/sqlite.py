"""The embedded default store: one SQLite file, WAL, batched writes.

All SQL comes from ``sql/sqlite_schema.sql`` and ``sql/sqlite_queries.sql``.
Writes happen in one transaction per batch of documents; each document's old
rows are removed and its new rows inserted inside that transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from go_doc_go.exceptions import StorageError, StoreOpenError
from go_doc_go.model import DocumentResult
from go_doc_go.storage.base import LinkCounts, RowFailure, StoredDocument, StoredState
from go_doc_go.storage.queries import load_queries, read_sql
from go_doc_go.storage.rows import DocumentRows, encode_document

_SQL_PACKAGE = "go_doc_go.storage.sql"
Q = load_queries(_SQL_PACKAGE, "sqlite_queries.sql")


class SQLiteStore:
    """``structural`` chooses whether the ``relationships`` view includes the
    derived structural edges; None keeps whatever the file already has."""

    def __init__(self, path: str | Path, *, structural: bool | None = None, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        try:
            if read_only:
                # No DDL and no write lock: a reader needs only read access to the file.
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
                self.db.execute("PRAGMA query_only = ON")
                self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA busy_timeout = 30000")
            self.db.execute("PRAGMA cache_size = -131072")
            # Checkpoint in large steps: frequent small checkpoints rewrite the same
            # index pages again and again during a big ingest. close() checkpoints.
            self.db.execute("PRAGMA wal_autocheckpoint = 50000")
            self.db.executescript(read_sql(_SQL_PACKAGE, "sqlite_schema.sql"))
            has_view = self.db.execute(Q["relationships_view_exists"]).fetchone() is not None
            if structural is not None or not has_view:
                view = "relationships_view_links_only" if structural is False else "relationships_view_with_structure"
                self.db.executescript(Q[view])
        except (sqlite3.Error, OSError) as error:
            raise StoreOpenError(f"cannot open SQLite store {self.path}: {_open_problem(self.path, error)}") from None

    # ------------------------------------------------------------ change tracking

    def document_state(self, doc_id: str) -> StoredState | None:
        row = self.db.execute(Q["document_state"], (doc_id,)).fetchone()
        return StoredState(*row) if row else None

    def document_touch(self, doc_id: str, size: int, mtime_ns: int) -> None:
        with self._transaction() as db:
            db.execute(Q["document_touch"], (mtime_ns, size, doc_id))

    def seen_reset(self) -> None:
        self.db.execute(Q["seen_create"])
        self.db.execute(Q["seen_clear"])

    def seen_mark(self, doc_id: str) -> bool:
        """Record that this run saw the document; False if it was already seen."""
        return self.db.execute(Q["seen_mark"], (doc_id,)).rowcount == 1

    def unseen_documents(self, source: str) -> list[str]:
        return [row[0] for row in self.db.execute(Q["unseen_documents"], (source,))]

    # ------------------------------------------------------------ writes

    def store_documents(self, results: Iterable[DocumentResult]) -> list[RowFailure]:
        return self.store_rows(encode_document(result) for result in results)

    def store_rows(self, documents: Iterable[DocumentRows]) -> list[RowFailure]:
        """Replace each document, all in one transaction; returns the documents that could not be written.

        Each document is written inside its own savepoint, so a document whose rows
        the database refuses (an id collision, text it cannot hold) is rolled back
        alone and reported; the rest of the batch commits. Errors of the database
        itself (disk full, read-only) still fail the whole batch.
        """
        failures: list[RowFailure] = []
        with self._transaction() as db:
            for rows in documents:
                db.execute("SAVEPOINT document")
                try:
                    self._write(db, rows)
                except _DOCUMENT_ERRORS as error:
                    db.execute("ROLLBACK TO document")
                    failures.append(RowFailure(rows.doc_id, f"{type(error).__name__}: {error}"))
                db.execute("RELEASE document")
        return failures

    def _write(self, db: sqlite3.Connection, rows: DocumentRows) -> None:
        self._remove(db, rows.doc_id)
        db.execute(Q["document_upsert"], rows.document)
        db.executemany(Q["element_insert"], rows.elements)
        db.execute(Q["fts_insert_document"], (rows.doc_id,))
        if rows.relationships:
            db.executemany(Q["relationship_insert"], rows.relationships)
        if rows.anchors:
            db.executemany(Q["anchor_insert"], rows.anchors)

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        count = 0
        with self._transaction() as db:
            for doc_id in doc_ids:
                self._remove(db, doc_id)
                count += db.execute(Q["document_delete"], (doc_id,)).rowcount
        return count

    def resolve_links(self) -> LinkCounts:
        """Point links at their target elements; returns the store's link counts afterwards."""
        with self._transaction() as db:
            db.execute(Q["links_resolve"])
        return self.link_counts()

    def link_counts(self) -> LinkCounts:
        return LinkCounts(*self.db.execute(Q["links_count"]).fetchone())

    # ------------------------------------------------------------ sources

    def source_locations(self) -> dict[str, str]:
        """Which folder each source name stood for when it was last ingested."""
        return dict(self.db.execute(Q["source_names"]).fetchall())

    def source_record(self, name: str, location: str) -> None:
        with self._transaction() as db:
            db.execute(Q["source_record"], (name, location))

    def _remove(self, db: sqlite3.Connection, doc_id: str) -> None:
        db.execute(Q["fts_delete_document"], (doc_id,))
        db.execute(Q["elements_delete_document"], (doc_id,))
        db.execute(Q["relationships_delete_document"], (doc_id,))
        db.execute(Q["embeddings_delete_document"], (doc_id,))
        db.execute(Q["anchors_delete_document"], (doc_id,))

    class _Tx:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def __enter__(self) -> sqlite3.Connection:
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise StorageError(f"cannot write to the SQLite store: {error}") from None
            return self.db

        def __exit__(self, kind: object, error: object, tb: object) -> None:
            if kind is None:
                try:
                    self.db.execute("COMMIT")
                except sqlite3.Error as commit_error:
                    self.db.execute("ROLLBACK")
                    raise StorageError(f"cannot write to the SQLite store: {commit_error}") from None
                return
            self.db.execute("ROLLBACK")
            if isinstance(error, sqlite3.OperationalError):  # disk full, locked, read-only...
                raise StorageError(f"cannot write to the SQLite store: {_reason(error)}") from None

    def _transaction(self) -> SQLiteStore._Tx:
        return SQLiteStore._Tx(self.db)

    # ------------------------------------------------------------ reads

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
                   "location", "metadata")
        for row in self.db.execute(Q["elements_of_document"], (doc_id,)):
            item = dict(zip(columns, row, strict=True))
            item["location"] = json.loads(item["location"])
            item["metadata"] = json.loads(item["metadata"])
            yield item

    def children_counts(self, doc_id: str) -> dict[str, int]:
        """Number of children of each element of a document that has any."""
        return dict(self.db.execute(Q["element_children_counts"], (doc_id,)).fetchall())

    def links_of(self, doc_id: str) -> list[tuple[str, str, str | None, str | None]]:
        return self.db.execute(Q["relationships_from_document"], (doc_id,)).fetchall()

    def counts(self) -> tuple[int, int, int]:
        return tuple(self.db.execute(Q["counts"]).fetchone())  # type: ignore[return-value]

    def close(self) -> None:
        if not self.read_only:
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:
                pass  # another connection is reading; its own close will checkpoint
        self.db.close()


#: What the database may refuse about one document's rows (the others are unaffected).
_DOCUMENT_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError,
                    UnicodeEncodeError, OverflowError, ValueError)


def _reason(error: BaseException) -> str:
    """The cause in words; OSError's errno text ("Permission denied") where there is one."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)


def _open_problem(path: Path, error: BaseException) -> str:
    """Why the file cannot be opened, in the words a user can act on (SQLite only says "unable to open")."""
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
