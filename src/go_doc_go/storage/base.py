"""Records the store hands back; the same on every engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
