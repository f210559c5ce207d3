"""Storage: one schema, two engines. SQLite is the embedded default."""

from __future__ import annotations

from go_doc_go.config import Config
from go_doc_go.exceptions import ConfigError
from go_doc_go.storage.base import LinkCounts, RowFailure, StoredDocument, StoredState
from go_doc_go.storage.sqlite import SQLiteStore


def open_store(config: Config) -> SQLiteStore:
    if config.storage.backend == "sqlite":
        return SQLiteStore(config.storage.path, structural=config.relationship_detection.structural)
    raise ConfigError(
        "storage.backend: the PostgreSQL document store arrives with distributed mode; "
        "use backend: sqlite for now"
    )


__all__ = ["LinkCounts", "RowFailure", "SQLiteStore", "StoredDocument", "StoredState", "open_store"]
