"""Post-processing: the steps that run once a pass has seen every document.

Each step is idempotent and runs in a transaction of its own, so a crash
between steps (or a leader that dies, in a distributed run) leaves nothing
half done and the next attempt simply runs the steps again. ``fence`` is
called first inside every step's transaction: a distributed run passes a
leader-term check there, so a stale leader's writes roll back.

Steps, in order:

1. ``record_sources``: the store remembers which folder each source name
   stands for (so a second folder with the same name is noticed).
2. ``remove_vanished``: documents of fully listed sources that the pass did not
   see are deleted (a source whose listing was incomplete keeps its documents).
3. ``resolve_links``: links of documents written or removed since the last
   resolution, and links into them, point at their target elements. It costs
   time in proportion to what changed, not to the size of the store.
4. ``index_vectors`` (embeddings on): the store builds the vector indexes it
   lacks (pgvector HNSW, one per vector size; nothing on SQLite). Built here,
   after the documents are in, because an HNSW index is built faster in one
   go than row by row.
5. ``semantic_edges``: ``semantic_similarity`` edges of documents written or
   removed since the last pass, both ways (``rules.semantic``). It also runs
   when embeddings are off, to remove edges nothing keeps up to date anymore.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from go_doc_go.config import Config
from go_doc_go.rules.semantic import update_semantic_edges
from go_doc_go.storage import Store


@dataclass(frozen=True)
class PassContext:
    config: Config
    pass_token: str
    #: Sources whose listing finished without errors: only these may lose documents.
    complete_sources: Sequence[str]


@dataclass
class PostProcessResult:
    #: Rows each step changed, by step name.
    changed: dict[str, int] = field(default_factory=dict)

    @property
    def removed(self) -> int:
        return self.changed.get("remove_vanished", 0)


class Step(Protocol):
    name: str

    def enabled(self, config: Config) -> bool: ...

    def run(self, store: Store, tx: Any, context: PassContext) -> int: ...


class RecordSources:
    name = "record_sources"

    def enabled(self, config: Config) -> bool:
        return True

    def run(self, store: Store, tx: Any, context: PassContext) -> int:
        known = store.source_locations()
        moved = [s for s in context.config.content_sources if known.get(s.name) != str(s.base_path)]
        for source in moved:
            store.record_source(tx, source.name, str(source.base_path))
        return len(moved)


class RemoveVanished:
    name = "remove_vanished"

    def enabled(self, config: Config) -> bool:
        return True

    def run(self, store: Store, tx: Any, context: PassContext) -> int:
        return sum(store.delete_unseen(tx, source, context.pass_token) for source in context.complete_sources)


class ResolveLinks:
    name = "resolve_links"

    def enabled(self, config: Config) -> bool:
        return config.relationship_detection.links

    def run(self, store: Store, tx: Any, context: PassContext) -> int:
        return store.resolve_pending_links(tx)


class IndexVectors:
    name = "index_vectors"

    def enabled(self, config: Config) -> bool:
        return config.embedding.enabled

    def run(self, store: Store, tx: Any, context: PassContext) -> int:
        return store.ensure_vector_index(tx)


class SemanticEdges:
    name = "semantic_edges"

    def enabled(self, config: Config) -> bool:
        return True  # off, it removes the edges it made earlier (once)

    def run(self, store: Store, tx: Any, context: PassContext) -> int:
        return update_semantic_edges(store, tx, context.config)


STEPS: list[Step] = [RecordSources(), RemoveVanished(), ResolveLinks(), IndexVectors(), SemanticEdges()]

Fence = Callable[[Any], None]


def run_post_processing(store: Store, context: PassContext, *, fence: Fence | None = None) -> PostProcessResult:
    """Run every enabled step, each in its own transaction (fenced when ``fence`` is given)."""
    result = PostProcessResult()
    for step in STEPS:
        if not step.enabled(context.config):
            continue
        with store.transaction() as tx:
            if fence is not None:
                fence(tx)
            result.changed[step.name] = step.run(store, tx, context)
    return result
