"""What the drivers need from a store; SQLite now, PostgreSQL with the same tables later."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from go_doc_go.model import DocumentResult


@dataclass(frozen=True, slots=True)
class StoredState:
    content_hash: str
    size: int
    mtime_ns: int | None


@dataclass(frozen=True, slots=True)
class StoredDocument:
    doc_id: str
    source: str
    path: str
    doc_type: str
    title: str | None
    content_hash: str
    size: int
    metadata: dict[str, Any]
    element_count: int


class Store(Protocol):
    def document_state(self, doc_id: str) -> StoredState | None: ...

    def document_touch(self, doc_id: str, size: int, mtime_ns: int) -> None: ...

    def store_documents(self, results: Iterable[DocumentResult]) -> None:
        """Replace each document's previous version; a reader never sees half of one."""
        ...

    def delete_documents(self, doc_ids: Iterable[str]) -> int: ...

    def resolve_links(self) -> int: ...

    def close(self) -> None: ...
