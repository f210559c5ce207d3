"""Storage: one ``Store`` protocol (``base.py``), two engines.

SQLite (``sqlite.py``) is the embedded default; PostgreSQL (``postgresql.py``)
is imported only when ``storage.backend: postgresql`` asks for it, so nothing
else pays for psycopg.
"""

from __future__ import annotations

from go_doc_go.config import Config, vector_model
from go_doc_go.exceptions import ConfigError
from go_doc_go.storage.base import (
    SEMANTIC,
    FoundElement,
    LinkCounts,
    RowFailure,
    SemanticEdge,
    Store,
    StoredDocument,
    StoredLink,
    StoredState,
    Touch,
)
from go_doc_go.storage.sqlite import SQLiteStore


def open_store(config: Config, *, read_only: bool = False, embedding_model: str | None = None) -> Store:
    """The configured store, schema up to date (unless ``read_only``).

    ``embedding_model`` is the vector model (default: ``config.vector_model`` when
    ``embedding.enabled``); with one, stored documents embedded otherwise are
    ``stale``, and a PostgreSQL store sets up pgvector when the server has it.
    """
    structural = None if read_only else config.relationship_detection.structural
    if embedding_model is None and config.embedding.enabled:
        embedding_model = vector_model(config.embedding)
    if config.storage.backend == "sqlite":
        return SQLiteStore(config.storage.path, structural=structural, read_only=read_only,
                           embedding_model=embedding_model)  # fmt: skip
    if not config.storage.uri:
        raise ConfigError("storage.uri: backend postgresql needs a database URI (postgresql://user@host/db)")
    from go_doc_go.storage.postgresql import PostgreSQLStore

    return PostgreSQLStore(config.storage.uri, structural=structural, read_only=read_only,
                           embedding_model=embedding_model)  # fmt: skip


__all__ = [
    "SEMANTIC", "FoundElement", "LinkCounts", "RowFailure", "SQLiteStore", "SemanticEdge", "Store",
    "StoredDocument", "StoredLink", "StoredState", "Touch", "open_store",
]  # fmt: skip
