"""The embed step: a processed document's retrieval units, their vectors, as rows of the document.

It runs in the parser child processes (``pool``), after a document's rows are
encoded, so both drivers get the vectors inside ``DocumentRows.embeddings`` and
store them through ``Store.write_documents`` like every other row.

Incremental: a document whose bytes did not change is never parsed, so never
embedded. A changed document that is already stored (the task carries its
stored content hash) reuses the stored vector of every unit whose
``unit_hash`` (the hash of the exact text embedded) is unchanged: the child
reads those vectors from the store (one indexed query per changed document,
``Store.unit_vectors``) and embeds only the others. Vectors are reused only
from the same model (``embeddings.base.vector_model``).

The units of all documents of one dispatch are embedded in one call
(``embed_group``), so the provider sees batches; ``pool`` retries a dispatch
document by document if that call hangs or crashes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from go_doc_go.config import Config
from go_doc_go.embeddings.base import EmbeddingProvider, get_provider, vector_model
from go_doc_go.embeddings.units import Unit, build_units
from go_doc_go.model import DocumentResult
from go_doc_go.storage.rows import EMBEDDING_MODEL, DocumentRows

if TYPE_CHECKING:
    from go_doc_go.storage import Store


@dataclass(slots=True)
class PendingEmbedding:
    """A document's units waiting for vectors, and the stored vectors it may reuse (by unit hash)."""

    rows: DocumentRows
    units: list[Unit]
    reusable: dict[str, bytes] = field(default_factory=dict)


class Embedder:
    """One per child process: the provider (built on first use) and a read-only store for reuse."""

    def __init__(self, config: Config, *, threads: int = 1,
                 open_reader: Callable[[], Store] | None = None) -> None:  # fmt: skip
        self.config = config
        self.model = vector_model(config.embedding)
        self.threads = threads
        self._provider: EmbeddingProvider | None = None
        self._open_reader = open_reader
        self._reader: Store | None = None

    @property
    def provider(self) -> EmbeddingProvider:
        if self._provider is None:
            self._provider = get_provider(self.config.embedding, threads=self.threads)
        return self._provider

    def prepare(self, result: DocumentResult, rows: DocumentRows, *, stored: bool) -> PendingEmbedding:
        """The units of one document (and, if it is ``stored``, the vectors it may reuse)."""
        provider = self.provider
        units = build_units(result.elements, window_chars=provider.window_chars, title=result.document.title)
        reusable = self._stored_vectors(rows.doc_id) if stored and units else {}
        return PendingEmbedding(rows, units, reusable)

    def _stored_vectors(self, doc_id: str) -> dict[str, bytes]:
        if self._open_reader is None:
            return {}
        if self._reader is None:
            self._reader = self._open_reader()
        return self._reader.unit_vectors(doc_id, self.model)

    def embed_group(self, group: Sequence[PendingEmbedding]) -> None:
        """Fill each document's ``embeddings`` rows: reused vectors as stored, the others embedded in one call."""
        from go_doc_go.embeddings.search import to_blob

        provider = self.provider
        todo: list[tuple[PendingEmbedding, Unit]] = []
        for item in group:
            todo.extend((item, unit) for unit in item.units if unit.content_hash not in item.reusable)
        vectors = provider.embed([unit.embed_text for _, unit in todo]) if todo else None
        fresh = {id(unit): to_blob(vectors[n]) for n, (_, unit) in enumerate(todo)} if vectors is not None else {}
        for item in group:
            rows = item.rows
            embedded = 0
            out: list[tuple[Any, ...]] = []
            for unit in item.units:
                blob = fresh.get(id(unit))
                if blob is None:
                    blob = item.reusable[unit.content_hash]
                else:
                    embedded += 1
                out.append((unit.element_id, unit.chunk, unit.doc_id, unit.kind, unit.content_hash, self.model,
                            provider.dimensions, blob))  # fmt: skip
            rows.embeddings = out
            rows.embedded = embedded
            rows.reused = len(out) - embedded
            document = rows.document
            rows.document = (*document[:EMBEDDING_MODEL], self.model, *document[EMBEDDING_MODEL + 1 :])

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def prepare_embeddings(config: Config) -> None:
    """Check the provider's packages and build its one-time files (the static model) before children start.

    Raises ``MissingDependencyError`` (one line naming the extra) when the
    extra is missing; a first use of the static model logs the distillation.
    """
    if config.embedding.enabled:
        from go_doc_go.embeddings.base import prepare_provider

        prepare_provider(config.embedding)
