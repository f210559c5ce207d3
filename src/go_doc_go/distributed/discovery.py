"""Discovery: stream every source's listing into the queue, in batches.

Nothing is fetched: a listed document becomes one queue row (``doc_path`` is
what a worker fetches). In the same transaction the store marks the listed
documents seen by this pass, so the post-processing step that removes
vanished documents knows what the listing still has. The listing streams; a
million files never sit in memory. The caller holds the run's discovery lease
(``DiscoveryLease``) and calls ``done()`` when this returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice

from go_doc_go.queue import repository
from go_doc_go.queue.connection import with_connection
from go_doc_go.queue.records import NewDocument
from go_doc_go.queue.work_queue import WorkQueue
from go_doc_go.sources import ContentSource, DocumentRef, SkippedPath
from go_doc_go.storage import Store

#: Listed documents queued (and marked seen) per transaction.
CHUNK = 2000
#: Skipped paths kept in the run's discovery_stats (all are counted).
SKIPPED_SAMPLE = 200


@dataclass
class DiscoveryResult:
    listed: int = 0
    queued: int = 0
    skipped: int = 0
    skipped_paths: list[SkippedPath] = field(default_factory=list)
    incomplete_sources: list[str] = field(default_factory=list)

    def stats(self) -> dict[str, object]:
        return {
            "listed": self.listed,
            "queued": self.queued,
            "skipped": self.skipped,
            "skipped_paths": [
                {"source": s.source, "path": s.path, "reason": s.reason} for s in self.skipped_paths
            ],
        }


def discover(
    sources: dict[str, ContentSource],
    store: Store,
    queue: WorkQueue,
    pass_token: str,
    *,
    shared: bool,
    on_progress: Callable[[DiscoveryResult], None] | None = None,
) -> DiscoveryResult:
    """Queue every listed document of every source; record what was seen and skipped."""
    result = DiscoveryResult()

    def on_skip(skipped: SkippedPath) -> None:
        result.skipped += 1
        if len(result.skipped_paths) < SKIPPED_SAMPLE:
            result.skipped_paths.append(skipped)
        if skipped.incomplete_listing and skipped.source not in result.incomplete_sources:
            result.incomplete_sources.append(skipped.source)

    for source in sources.values():
        refs = source.iter_documents(on_skip)
        while chunk := list(islice(refs, CHUNK)):
            result.queued += _queue_chunk(chunk, store, queue, pass_token, shared=shared)
            result.listed += len(chunk)
            if on_progress is not None:
                on_progress(result)
    with_connection(
        queue.pool,
        "record discovery",
        lambda c: repository.run_record_discovery(
            c, run_id=queue.run_id, incomplete_sources=result.incomplete_sources, stats=result.stats()
        ),
    )
    return result


def _queue_chunk(chunk: list[DocumentRef], store: Store, queue: WorkQueue, pass_token: str, *, shared: bool) -> int:
    documents = _new_documents(chunk)
    ids = [ref.doc_id for ref in chunk]
    if shared:
        with store.transaction() as tx:
            store.mark_seen(tx, ids, pass_token)
            added = queue.add_many(documents, conn=tx)
    else:
        with store.transaction() as tx:  # idempotent: a repeat after a crash marks the same documents
            store.mark_seen(tx, ids, pass_token)
        added = queue.add_many(documents)
    return added.inserted + added.updated


def _new_documents(refs: Iterable[DocumentRef]) -> list[NewDocument]:
    return [NewDocument(ref.source, ref.doc_id, ref.path, link_depth=0) for ref in refs]
