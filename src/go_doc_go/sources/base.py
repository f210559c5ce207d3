"""The protocol every content source implements, and the references it hands out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """Where a document lives and what changed about it, without its content."""

    source: str
    path: str
    doc_id: str
    doc_type: str | None
    size: int
    mtime_ns: int
    #: True when ``doc_type`` was guessed from the content (no known name or
    #: extension): a guess whose parser fails is stored as text instead.
    sniffed: bool = False


@dataclass(frozen=True, slots=True)
class FetchedDocument:
    ref: DocumentRef
    data: bytes
    content_hash: str


@dataclass(frozen=True, slots=True)
class SkippedPath:
    """A path the listing left out, with the reason (reported, never silent)."""

    source: str
    path: str
    reason: str
    incomplete_listing: bool = False


OnSkip = Callable[[SkippedPath], None]


class ContentSource(Protocol):
    name: str

    def iter_documents(self, on_skip: OnSkip | None = None) -> Iterator[DocumentRef]:
        """Stream every document in the source; never builds the full list."""
        ...

    def ref_for(self, path: str) -> DocumentRef | None:
        """The document at a source-relative path, or None if it is not there or not allowed."""
        ...

    def fetch(self, ref: DocumentRef) -> FetchedDocument: ...

    def resolve_link(self, from_path: str, href: str) -> tuple[str, str | None] | None:
        """Map a link to (source-relative path, anchor), or None for external links."""
        ...
