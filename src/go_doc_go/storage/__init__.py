"""Storage: one ``Store`` protocol (``base.py``), two engines.

SQLite (``sqlite.py``) is the embedded default; PostgreSQL (``postgresql.py``)
is imported only when ``storage.backend: postgresql`` asks for it, so nothing
else pays for psycopg.
"""

from __future__ import annotations

from go_doc_go.config import Config
from go_doc_go.exceptions import ConfigError
from go_doc_go.storage.base import LinkCounts, RowFailure, Store, StoredDocument, StoredState, Touch
from go_doc_go.storage.sqlite import SQLiteStore


def open_store(config: Config, *, read_only: bool = False) -> Store:
    """The configured store, schema up to date (unless ``read_only``)."""
    structural = None if read_only else config.relationship_detection.structural
    if config.storage.backend == "sqlite":
        return SQLiteStore(config.storage.path, structural=structural, read_only=read_only)
    if not config.storage.uri:
        raise ConfigError("storage.uri: backend postgresql needs a database URI (postgresql://user@host/db)")
    from go_doc_go.storage.postgresql import PostgreSQLStore

    return PostgreSQLStore(config.storage.uri, structural=structural, read_only=read_only)


__all__ = [
    "LinkCounts", "RowFailure", "SQLiteStore", "Store", "StoredDocument", "StoredState", "Touch",
    "open_store",
]  # fmt: skip
