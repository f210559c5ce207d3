"""The PostgreSQL engine of the ``Store`` protocol: same tables, same semantics as SQLite.

SQL lives in ``sql/postgresql/``: ``schema.sql`` (the truth), ``migrations/`` and
``queries.sql``. The store may share a database with the work queue: its own
version table (``store_migrations``) and advisory lock key keep them apart, and
opening an up-to-date store runs no DDL. This is the only module of
``storage`` that imports psycopg.

Writes go into a transaction the caller owns. A batch of documents is loaded
optimistically in one savepoint (a few ``= ANY`` deletes, one ``unnest`` upsert
of the documents, ``COPY`` of elements, links and anchors; see
docs/benchmarks.md for the alternatives measured). When the database refuses
something, the batch is rolled back to that savepoint and written again
document by document, each in a savepoint of its own, so one refused document
never costs the others; it comes back as a ``RowFailure``.

Commits are durable (``synchronous_commit=on`` for the session). Reads run on
the autocommit connection, one statement each; ``elements_of`` fetches from a
``WITH HOLD`` cursor (one snapshot, so a reader never sees half of a document
being replaced, and the connection stays free between chunks).
Driver errors are translated where they enter: ``StoreOpenError`` on open,
``StorageError`` on writes and reads, with the URI's password removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import set_json_loads

from go_doc_go.config import redact_uri
from go_doc_go.exceptions import StorageError, StoreOpenError
from go_doc_go.model import DocumentResult
from go_doc_go.storage.base import LinkCounts, RowFailure, StoredDocument, StoredState, Touch
from go_doc_go.storage.migrations import MigrationSet, postgresql_upgrade, postgresql_version
from go_doc_go.storage.queries import parse_queries
from go_doc_go.storage.rows import DocumentRows, encode_document

#: Advisory lock key of store migrations ("gdg-stor"); the work queue's is "gdg-mig".
MIGRATION_LOCK_KEY = 0x6764_672D_7374_6F72
MIGRATIONS = MigrationSet(
    package="go_doc_go.storage", folder=("sql", "postgresql"), version_table="store_migrations",
    marker_table="documents", lock_key=MIGRATION_LOCK_KEY,
)  # fmt: skip
Q = parse_queries(MIGRATIONS.read("queries.sql"))

#: Session settings: durable commits whatever the server's default is.
_SESSION_OPTIONS = "-c synchronous_commit=on"
_READ_ONLY_OPTIONS = "-c default_transaction_read_only=on"
#: SQLSTATE classes that mean "this document's rows", not "this connection":
#: data exception, integrity constraint violation, program limit exceeded.
_DOCUMENT_SQLSTATE_CLASSES = ("22", "23", "54")
#: Rows per chunk when ``elements_of`` streams.
STREAM_CHUNK = 500
#: Longest part of a database message repeated in a failure (COPY context quotes whole rows).
_MESSAGE_LIMIT = 300


class PostgreSQLStore:
    """``structural`` records whether the ``relationships`` view includes the derived
    structural edges; None keeps the store's setting."""

    engine = "postgresql"

    def __init__(self, uri: str, *, structural: bool | None = None, read_only: bool = False) -> None:
        self.uri = uri
        self.where = redact_uri(uri)
        self.read_only = read_only
        self._cursors = 0  # names of elements_of's server-side cursors
        try:
            self.conn = self._connect()
        except psycopg.Error as error:
            raise StoreOpenError(f"cannot open PostgreSQL store {self.where}: {self._reason(error)}") from None
        try:
            if read_only:
                if postgresql_version(self.conn, MIGRATIONS) is None:
                    raise StoreOpenError(f"no go-doc-go store in {self.where} (run go-doc-go ingest first)")
            else:
                postgresql_upgrade(self.conn, MIGRATIONS)
                if structural is not None:
                    self._set_setting("structural", "1" if structural else "0")
        except StoreOpenError:
            self.conn.close()
            raise
        except (psycopg.Error, StorageError) as error:  # a migration, or the setting's write, failed
            self.conn.close()
            reason = self._reason(error) if isinstance(error, psycopg.Error) else str(error)
            raise StoreOpenError(f"cannot open PostgreSQL store {self.where}: {reason}") from None
        except BaseException:
            self.conn.close()
            raise

    def _connect(self) -> psycopg.Connection[Any]:
        params = conninfo_to_dict(self.uri)
        options = " ".join(
            part for part in (params.get("options"), _SESSION_OPTIONS, _READ_ONLY_OPTIONS if self.read_only else None)
            if part
        )  # fmt: skip
        extra: dict[str, Any] = {"options": options}
        if "connect_timeout" not in params:
            extra["connect_timeout"] = 10
        if "application_name" not in params:
            extra["application_name"] = "go-doc-go store"
        # No prepared statements: a generic plan made while the tables are small (the first
        # batches of a new store) would keep scanning them whole once they are large. Every
        # statement here runs once per batch, so planning each time costs nothing measurable.
        conn = psycopg.connect(self.uri, autocommit=True, prepare_threshold=None, **extra)
        set_json_loads(orjson.loads, conn)
        return conn

    def _set_setting(self, key: str, value: str) -> None:
        row = self.conn.execute(Q["setting_get"], (key,)).fetchone()
        if row is None or row[0] != value:
            with self.transaction() as tx:
                tx.execute(Q["setting_set"], (key, value))

    def _reason(self, error: BaseException) -> str:
        """The driver's message, one line per part, never the password of the URI."""
        if isinstance(error, psycopg.Error) and error.diag.message_primary:
            text = error.diag.message_primary
            if error.diag.message_detail:
                text += f" ({error.diag.message_detail})"
        else:
            text = " ".join(str(error).split()) or type(error).__name__
        text = text.replace(self.uri, self.where)
        for password in _passwords(self.uri):
            text = text.replace(password, "***")
        return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"

    # ------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """``BEGIN`` … ``COMMIT`` (durable); driver errors become ``StorageError``."""
        try:
            self._live()
            with self.conn.transaction():
                yield self.conn
        except psycopg.Error as error:
            raise StorageError(f"cannot write to the PostgreSQL store {self.where}: {self._reason(error)}") from None

    def _live(self) -> None:
        """A connection lost to a server restart or a terminated session is replaced before the next use.

        The statement that found it broken has failed (its caller retries); what
        runs after gets a fresh connection instead of failing for good.
        """
        if self.conn.closed or self.conn.broken:
            self.conn = self._connect()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            self._live()
            yield
        except psycopg.Error as error:
            raise StorageError(f"cannot read the PostgreSQL store {self.where}: {self._reason(error)}") from None

    # ------------------------------------------------------------ writes (caller's transaction)

    def write_documents(
        self, tx: psycopg.Connection[Any], documents: Iterable[DocumentRows], *, pass_token: str
    ) -> list[RowFailure]:
        """The whole batch in one savepoint; if the database refuses any of it, document by document."""
        batch = list(documents)
        if not batch:
            return []
        # A document twice in one batch cannot go in one statement per table: the later one
        # replaces the earlier, document by document, as on SQLite.
        if len(batch) > 1 and len({rows.doc_id for rows in batch}) == len(batch):
            try:
                with tx.transaction():
                    self._load(tx, batch, pass_token)
                return []
            except Exception as error:  # noqa: BLE001 - sorted out by _refused
                if not _refused(error):
                    raise
        failures: list[RowFailure] = []
        for rows in batch:
            try:
                with tx.transaction():
                    self._load(tx, [rows], pass_token)
            except Exception as error:  # noqa: BLE001
                if not _refused(error):
                    raise
                failures.append(RowFailure(rows.doc_id, f"{_kind(error)}: {self._reason(error)}"))
        return failures

    def _load(self, tx: psycopg.Connection[Any], batch: list[DocumentRows], pass_token: str) -> None:
        """Replace the documents of ``batch``: old rows out, new rows in with one statement per table."""
        doc_ids = [rows.doc_id for rows in batch]
        cur = tx.cursor()
        self._remove(cur, doc_ids)
        cur.execute(Q["documents_upsert"], (pass_token, *_columns([rows.document for rows in batch], 10)))
        with cur.copy(Q["elements_copy"]) as copy:
            for rows in batch:
                for element in rows.elements:
                    copy.write_row(element)
        if any(rows.relationships for rows in batch):
            with cur.copy(Q["relationships_copy"]) as copy:
                for rows in batch:
                    for relationship in rows.relationships:
                        copy.write_row(relationship)
        if any(rows.anchors for rows in batch):
            with cur.copy(Q["anchors_copy"]) as copy:
                for rows in batch:
                    for anchor in rows.anchors:
                        copy.write_row(anchor)
        cur.execute(Q["links_pending_add"], (doc_ids,))

    def _remove(self, cur: psycopg.Cursor[Any], doc_ids: list[str]) -> None:
        for name in ("elements_delete_documents", "relationships_delete_documents",
                     "embeddings_delete_documents", "anchors_delete_documents"):  # fmt: skip
            cur.execute(Q[name], (doc_ids,))

    def touch_documents(self, tx: psycopg.Connection[Any], touches: Sequence[Touch]) -> None:
        if touches:
            columns = ([t.doc_id for t in touches], [t.size for t in touches], [t.mtime_ns for t in touches])
            tx.execute(Q["documents_touch"], columns)

    def mark_seen(self, tx: psycopg.Connection[Any], doc_ids: Sequence[str], pass_token: str) -> None:
        if doc_ids:
            tx.execute(Q["documents_mark_seen"], {"pass": pass_token, "ids": list(doc_ids)})

    def delete_documents(self, tx: psycopg.Connection[Any], doc_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return 0
        cur = tx.cursor()
        self._remove(cur, ids)
        count = cur.execute(Q["documents_delete"], (ids,)).rowcount
        cur.execute(Q["links_unresolve_into"], (ids,))
        return count

    def delete_unseen(self, tx: psycopg.Connection[Any], source: str, pass_token: str) -> int:
        unseen = [row[0] for row in tx.execute(Q["documents_unseen"], (source, pass_token))]
        return self.delete_documents(tx, unseen)

    def resolve_pending_links(self, tx: psycopg.Connection[Any]) -> int:
        pending = [row[0] for row in tx.execute(Q["links_pending"])]
        if not pending:
            return 0
        resolved = tx.execute(Q["links_resolve"], (pending, pending)).rowcount
        tx.execute(Q["links_pending_remove"], (pending,))
        return resolved

    def record_source(self, tx: psycopg.Connection[Any], name: str, location: str) -> None:
        tx.execute(Q["source_record"], (name, location))

    def store_documents(self, results: Iterable[DocumentResult], *, pass_token: str = "") -> list[RowFailure]:
        """Encode and write results in one transaction of their own (tests and small tools)."""
        with self.transaction() as tx:
            return self.write_documents(tx, [encode_document(r) for r in results], pass_token=pass_token)

    # ------------------------------------------------------------ reads

    def document_states(self, doc_ids: Sequence[str]) -> dict[str, StoredState]:
        if not doc_ids:
            return {}
        with self._reading():
            rows = self.conn.execute(Q["document_states"], (list(doc_ids),)).fetchall()
        return {doc_id: StoredState(content, size, mtime) for doc_id, content, size, mtime in rows}

    def link_targets(self, doc_id: str) -> list[str]:
        with self._reading():
            return [row[0] for row in self.conn.execute(Q["link_targets_of_document"], (doc_id,))]

    def source_locations(self) -> dict[str, str]:
        """Which folder each source name stood for when it was last ingested."""
        with self._reading():
            return dict(self.conn.execute(Q["source_names"]).fetchall())

    def link_counts(self) -> LinkCounts:
        with self._reading():
            return LinkCounts(*self.conn.execute(Q["links_count"]).fetchone())  # type: ignore[misc]

    def find_document(self, doc_id_or_path: str) -> list[StoredDocument]:
        key = doc_id_or_path
        with self._reading():
            rows = self.conn.execute(Q["document_by_id_or_path"], (key, key, key)).fetchall()
        return [StoredDocument(*row) for row in rows]

    def elements_of(self, doc_id: str) -> Iterator[dict[str, Any]]:
        """Streamed in chunks from a ``WITH HOLD`` cursor: one snapshot, and the connection stays free.

        The result is materialized on the server when the cursor is declared (a reader never sees
        half of a document being replaced) and fetched ``STREAM_CHUNK`` rows at a time, so other
        calls on this store may run while the caller iterates (a streaming statement would hold
        the connection, and such a call would wait for itself forever).
        """
        columns = ("element_id", "element_type", "parent_id", "sibling_order",
                   "document_position", "path_segment", "text", "content_hash", "anchor",
                   "location", "metadata")  # fmt: skip
        self._cursors += 1
        with self._reading():
            cursor = self.conn.cursor(f"elements_of_{self._cursors}", withhold=True)
            try:
                cursor.itersize = STREAM_CHUNK
                cursor.execute(Q["elements_of_document"], (doc_id,))
                for row in cursor:
                    yield dict(zip(columns, row, strict=True))
            finally:
                if not self.conn.closed:
                    cursor.close()

    def children_counts(self, doc_id: str) -> dict[str, int]:
        """Number of children of each element of a document that has any."""
        with self._reading():
            return dict(self.conn.execute(Q["element_children_counts"], (doc_id,)).fetchall())

    def counts(self) -> tuple[int, int, int]:
        with self._reading():
            return tuple(self.conn.execute(Q["counts"]).fetchone())  # type: ignore[arg-type,return-value]

    def close(self) -> None:
        self.conn.close()


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Row tuples as one list per column (the arrays ``unnest`` takes)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _refused(error: BaseException) -> bool:
    """Did the database (or the driver, before sending) refuse this document's rows?

    Connection trouble, a read-only session or a bug is not the document's fault and propagates.
    """
    if isinstance(error, psycopg.Error):
        if isinstance(error, psycopg.DataError | psycopg.IntegrityError):
            return True  # includes the driver's own "text cannot contain NUL"
        return (error.sqlstate or "")[:2] in _DOCUMENT_SQLSTATE_CLASSES
    return isinstance(error, UnicodeEncodeError | OverflowError)


_DBAPI_CLASSES = (psycopg.IntegrityError, psycopg.DataError, psycopg.OperationalError, psycopg.ProgrammingError,
                  psycopg.InternalError, psycopg.NotSupportedError, psycopg.InterfaceError, psycopg.DatabaseError)


def _kind(error: BaseException) -> str:
    """The DB-API class of an error (SQLite's causes start the same way), or its own name."""
    for cls in _DBAPI_CLASSES:
        if isinstance(error, cls):
            return cls.__name__
    return type(error).__name__


def _passwords(uri: str) -> list[str]:
    """The password of a URI or a key=value conninfo, however it parses (for scrubbing messages)."""
    found = []
    try:
        found.append(urlsplit(uri).password or "")
    except ValueError:
        pass
    try:
        found.append(str(conninfo_to_dict(uri).get("password") or ""))
    except psycopg.Error:
        pass
    return [p for p in found if p]
