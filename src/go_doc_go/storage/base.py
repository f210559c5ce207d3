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
from typing import TYPE_CHECKING, Any, Protocol

from go_doc_go.storage.rows import DocumentRows

if TYPE_CHECKING:
    from go_doc_go.storage.vectors import VectorRows

#: The relationship type of semantic edges (``rules.semantic``).
SEMANTIC = "semantic_similarity"


@dataclass(frozen=True, slots=True)
class StoredState:
    content_hash: str
    size: int
    mtime_ns: int | None
    #: The stored rows are out of date for this store's configuration even if the bytes are not
    #: (embeddings enabled, or another model, since the document was stored): parse it again.
    stale: bool = False


@dataclass(frozen=True, slots=True)
class SemanticEdge:
    """A stored ``semantic_similarity`` relationship, as the semantic step reads it back."""

    source_id: str
    target_id: str
    target_doc_id: str
    score: float


@dataclass(frozen=True, slots=True)
class FoundElement:
    """An element with its document, for search results and ``show --neighbourhood``."""

    element_id: str
    doc_id: str
    element_type: str
    parent_id: str | None
    sibling_order: int
    document_position: int
    text: str
    anchor: str | None
    location: dict[str, Any]
    metadata: dict[str, Any]
    source: str
    path: str
    title: str | None


@dataclass(frozen=True, slots=True)
class StoredLink:
    """A stored relationship seen from one of its ends (``other_doc_id`` is the far end's document)."""

    source_id: str
    relationship_type: str
    target_id: str | None
    target_reference: str | None
    other_doc_id: str | None
    metadata: dict[str, Any]


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

    def setting(self, key: str) -> str | None: ...

    def set_setting(self, tx: Any, key: str, value: str) -> None: ...

    # -------------------------------------------------------- vectors

    #: ``pgvector`` (an HNSW index answers nearest-neighbour queries) or ``numpy`` (a scan).
    vector_search: str

    def unit_vectors(self, doc_id: str, model: str) -> dict[str, bytes]:
        """A stored document's vectors of ``model`` by unit hash (what a changed document may reuse)."""
        ...

    def vector_blocks(
        self, model: str, *, source: str | None = None, element_type: str | None = None, block_rows: int = 65_536
    ) -> Iterator[VectorRows]:
        """Every stored vector of ``model``, a block at a time (bounded memory)."""
        ...

    def vectors_of(self, model: str, *, doc_ids: Sequence[str] = (), element_ids: Sequence[str] = ()) -> VectorRows:
        """The vectors of ``model`` of some documents, or of some elements."""
        ...

    def vector_models(self) -> list[tuple[str, int, int]]:
        """``(model, dimensions, count)`` of the stored vectors."""
        ...

    def unit_elements(self, element_ids: Sequence[str]) -> set[str]:
        """Which of ``element_ids`` have a vector (are retrieval units)."""
        ...

    def nearest(
        self, model: str, queries: Any, k: int, *, exclude_docs: Sequence[str | None] | None = None,
        source: str | None = None, element_type: str | None = None,
    ) -> list[list[tuple[str, int, str]]] | None:
        """With a vector index: for each query row, up to ``k`` ``(element_id, chunk, doc_id)``, nearest first
        (approximate, as any ANN index), skipping the query's ``exclude_docs`` document. None without an
        index: the caller scans ``vector_blocks`` exactly instead."""
        ...

    def ensure_vector_index(self, tx: Any) -> int:
        """Build the missing vector indexes (pgvector HNSW, one per vector size); how many were built."""
        ...

    # -------------------------------------------------------- semantic edges (post-processing)

    def semantic_pending(self, tx: Any) -> list[str]:
        """Documents written or removed since the semantic step last ran."""
        ...

    def mark_all_semantic_pending(self, tx: Any) -> None: ...

    def clear_semantic_pending(self, tx: Any, doc_ids: Sequence[str]) -> None: ...

    def semantic_sources_into(self, tx: Any, doc_ids: Sequence[str]) -> list[str]:
        """Elements of other documents with a semantic edge into one of ``doc_ids``."""
        ...

    def delete_semantic_edges(
        self, tx: Any, *, doc_ids: Sequence[str] = (), source_ids: Sequence[str] = (), everything: bool = False
    ) -> int:
        """Semantic edges from or into ``doc_ids``, from ``source_ids`` (elements), or all of them."""
        ...

    def semantic_edges_from(self, tx: Any, source_ids: Sequence[str]) -> list[SemanticEdge]: ...

    def write_relationships(self, tx: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``stored_relationships`` rows (the tuple layout of ``rows.encode_document``)."""
        ...

    # -------------------------------------------------------- search and show

    def full_text(
        self, terms: Sequence[str], limit: int, *, source: str | None = None, element_type: str | None = None
    ) -> list[tuple[str, float]]:
        """Elements matching any of ``terms`` (words), best first, with the engine's score (higher is better)."""
        ...

    def elements_by_id(self, element_ids: Sequence[str]) -> dict[str, FoundElement]: ...

    def element_children(self, element_id: str, limit: int) -> list[FoundElement]: ...

    def element_siblings(self, element_id: str) -> list[FoundElement]:
        """The previous and the next sibling (when they exist), in order."""
        ...

    def element_ids_by_prefix(self, prefix: str) -> list[str]:
        """At most two element ids starting with ``prefix`` (``show`` prints 12-character prefixes)."""
        ...

    def relationships_from(self, element_ids: Sequence[str]) -> list[StoredLink]: ...

    def relationships_into(self, element_ids: Sequence[str]) -> list[StoredLink]: ...

    def subtree_ids(self, element_id: str, limit: int) -> list[str]:
        """The element and its descendants (at most ``limit``)."""
        ...

    def close(self) -> None: ...
