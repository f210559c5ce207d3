"""The ``Store`` protocol both engines implement, and the records it hands back.

Writes take a transaction the **caller** owns (``with store.transaction() as
tx``), so a distributed worker can commit a batch of documents' rows together
with their queue completions, and single mode can put a whole batch of
documents, seen marks and touches into one commit. Reads run on their own.

Passes: every run has a pass token (single mode: a fresh one per run;
distributed: the run id and pass number). A document the pass reaches in its
source is marked seen with the token (``mark_seen``, or by ``write_documents``
itself); at the end, documents of a fully listed source that the pass did not
see are removed (``delete_unseen``). The marks live in the store, so every
process of a distributed run sees them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from go_doc_go.storage.rows import DocumentRows


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
class Touch:
    """An unchanged document seen with a new size/mtime: remember them so the next run skips the read."""

    doc_id: str
    size: int
    mtime_ns: int


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


class Store(Protocol):
    """What the drivers, the post-processing steps, ``show`` and tests use of a store."""

    #: ``sqlite`` or ``postgresql``.
    engine: str

    # -------------------------------------------------------- transactions and writes

    def transaction(self) -> AbstractContextManager[Any]:
        """Begin a write transaction; commits on a clean exit, rolls back on an exception."""
        ...

    def write_documents(self, tx: Any, documents: Sequence[DocumentRows], *, pass_token: str) -> list[RowFailure]:
        """Replace each document, all or nothing per document; marks them seen by ``pass_token``.

        Returns the documents the database refused; the others stay in the transaction.
        (SQLite: a savepoint per document. PostgreSQL: the batch in one savepoint with one
        statement per table, redone document by document when the database refuses any of it.)
        """
        ...

    def touch_documents(self, tx: Any, touches: Sequence[Touch]) -> None: ...

    def mark_seen(self, tx: Any, doc_ids: Sequence[str], pass_token: str) -> None: ...

    def delete_documents(self, tx: Any, doc_ids: Sequence[str]) -> int:
        """Remove documents and every row they own; links into them become unresolved."""
        ...

    def delete_unseen(self, tx: Any, source: str, pass_token: str) -> int:
        """Remove the documents of ``source`` that the pass did not see."""
        ...

    def resolve_pending_links(self, tx: Any) -> int:
        """Resolve the links of documents written or removed since the last call, and the links into them."""
        ...

    def record_source(self, tx: Any, name: str, location: str) -> None: ...

    # -------------------------------------------------------- reads

    def document_states(self, doc_ids: Sequence[str]) -> dict[str, StoredState]: ...

    def link_targets(self, doc_id: str) -> list[str]:
        """Paths inside its source that a stored document links to."""
        ...

    def source_locations(self) -> dict[str, str]: ...

    def find_document(self, doc_id_or_path: str) -> list[StoredDocument]: ...

    def elements_of(self, doc_id: str) -> Iterator[dict[str, Any]]: ...

    def children_counts(self, doc_id: str) -> dict[str, int]: ...

    def link_counts(self) -> LinkCounts: ...

    def counts(self) -> tuple[int, int, int]:
        """(documents, elements, stored relationships)."""
        ...

    def close(self) -> None: ...
