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


@dataclass(frozen=True, slots=True)
class RowFailure:
    """A document whose rows the store refused; the other documents of its batch were written."""

    doc_id: str
    cause: str


@dataclass(frozen=True, slots=True)
class LinkCounts:
    """Links between documents of one source, as the store sees them after resolution.

    ``resolved``: the link points at an element (the anchored one, or the target's
    root). ``unresolved``: the target document is not stored. ``anchor_missing``:
    resolved to the root because the ``#fragment`` matched no anchor.
    """

    resolved: int
    unresolved: int
    anchor_missing: int
