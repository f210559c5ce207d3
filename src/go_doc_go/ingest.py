"""Single mode: discover, skip what is unchanged, process the rest on all cores, store.

The listing streams into a bounded number of in-flight batches, so memory does
not grow with the size of the source. Parsing runs in worker processes; this
process writes: a background thread commits one transaction per batch
(documents, seen marks and touches together) while the main thread keeps
dispatching. Which documents the pass saw is marked in the store itself
(``Store.mark_seen``), and what happens at the end (removal of vanished
documents, link resolution) is ``rules.postprocess``, the same steps a
distributed run takes. With ``embedding.enabled`` the parser processes also
embed each document's retrieval units (``pool``, ``embed``); the vectors go
into the store with the document's rows, and post-processing updates the
semantic edges.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any

from go_doc_go.config import Config, as_config, effective_jobs
from go_doc_go.embed import prepare_embeddings
from go_doc_go.exceptions import ConfigError
from go_doc_go.pipeline import Failed, Unchanged
from go_doc_go.pool import DocumentPool, Processed, Result, Task
from go_doc_go.rules import (
    Admission,
    PassContext,
    admit,
    follow_targets,
    link_follow_depth,
    new_pass_token,
    run_post_processing,
)
from go_doc_go.sources import ContentSource, DocumentRef, SkippedPath, open_source
from go_doc_go.storage import RowFailure, Store, Touch, open_store
from go_doc_go.storage.rows import DocumentRows
from go_doc_go.storage.writer import BackgroundWriter
from go_doc_go.summary import FailureRecord, IngestSummary, Progress, ProgressCallback

__all__ = ["FailureRecord", "IngestSummary", "Progress", "ProgressCallback", "ingest_documents"]

TASK_SIZE = 8  # documents per task sent to a worker process
# Tasks queued per worker: enough that workers keep parsing while this process writes.
IN_FLIGHT_PER_JOB = 16
WRITE_BATCH_DOCS = 512  # documents per store transaction
WRITE_BATCH_MARKS = 20_000  # seen marks and touches per store transaction
WRITE_BATCH_SECONDS = 1.0
LISTING_CHUNK = 256  # listed documents whose stored state is read in one query
MAX_REPORTED_SKIPS = 1000  # all skips are counted; this many are listed




@dataclass(slots=True)
class _WriteBatch:
    """What one store transaction writes."""

    rows: list[DocumentRows] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    touches: list[Touch] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.rows or self.seen or self.touches)


# ---------------------------------------------------------------- driver


def ingest_documents(
    config: Config | dict[str, Any] | str | os.PathLike[str],
    *,
    on_progress: ProgressCallback | None = None,
) -> IngestSummary:
    """Ingest every configured source into the configured store and return the summary.

    ``processing.mode: single`` (the default) runs here, on ``processing.jobs``
    processes; ``distributed`` discovers the pass into the work queue and runs
    ``processing.jobs`` local worker processes until the run is completed
    (``go_doc_go.distributed.local``). ``config`` may be a ``Config``, a dict
    shaped like the YAML, or a YAML path.
    """
    config = as_config(config)
    if not config.content_sources:
        raise ConfigError("content_sources: no sources configured (give a PATH or add content_sources)")
    prepare_embeddings(config)  # one line naming the extra if it is missing; the static model built once
    if config.processing.mode == "distributed":
        from go_doc_go.distributed.local import run_distributed

        return run_distributed(config)  # the same summary, read back from the queue
    sources = {s.name: open_source(s) for s in config.content_sources}
    store = open_store(config)
    try:
        return _Run(config, sources, store, on_progress, partial(open_store, config)).run()
    finally:
        store.close()


class _Run:
    def __init__(
        self,
        config: Config,
        sources: dict[str, ContentSource],
        store: Store,
        on_progress: ProgressCallback | None,
        open_writer_store: Callable[[], Store],
    ) -> None:
        self.open_writer_store = open_writer_store
        self.config = config
        self.sources = sources
        self.source_configs = {s.name: s for s in config.content_sources}
        self.store = store
        self.on_progress = on_progress
        self.summary = IngestSummary(jobs=effective_jobs(config))
        self.pass_token = new_pass_token()
        self.incomplete_sources: set[str] = set()
        self.linked_tasks: deque[Task] = deque()
        # Documents reached only by links: their smallest depth so far, and where they link
        # (once processed), so a shorter path found later can follow them further.
        self.linked_depth: dict[str, int] = {}
        self.linked_targets: dict[str, list[str]] = {}
        self.discovered = 0
        self.discovery_finished = False
        self.counted: int | None = None  # set by the counting thread when progress is shown
        self.done = 0
        self.batch = _WriteBatch()
        self.last_write = time.monotonic()
        self.refused: list[tuple[DocumentRows, RowFailure]] = []  # appended by the writer thread

    def run(self) -> IngestSummary:
        started = time.perf_counter()
        if self.on_progress is not None:
            threading.Thread(target=self._count_listing, name="count-listing", daemon=True).start()
        jobs = self.summary.jobs
        pool = DocumentPool(self.config, jobs)
        self.writer = BackgroundWriter(self.open_writer_store)
        try:
            self._drain(pool, self._listed_tasks(), max_in_flight=jobs * IN_FLIGHT_PER_JOB)
            self._flush_writes()
        finally:
            pool.close()
            self.writer.close()
        for rows, failure in self.refused:
            self._store_failed(rows, failure)
        self._note_moved_sources()
        self._post_process()
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def _post_process(self) -> None:
        complete = [name for name in self.sources if name not in self.incomplete_sources]
        result = run_post_processing(self.store, PassContext(self.config, self.pass_token, complete))
        self.summary.removed = result.removed
        self.summary.semantic_edges_changed = result.changed.get("semantic_edges", 0)
        if self.config.relationship_detection.links:
            links = self.store.link_counts()
            self.summary.links_resolved = links.resolved
            self.summary.links_unresolved = links.unresolved
            self.summary.anchors_missing = links.anchor_missing

    def _note_moved_sources(self) -> None:
        """Say when a source name now stands for another folder (post-processing records the new one)."""
        known = self.store.source_locations()
        for source in self.config.content_sources:
            if known.get(source.name) not in (None, str(source.base_path)):
                self.summary.notes.append(
                    f"source {source.name!r} was {known[source.name]}, now {source.base_path}; documents "
                    f"not found in the new location were removed"
                )

    def _store_failed(self, rows: DocumentRows, failure: RowFailure) -> None:
        """A document the store refused: counted as failed (stage store), not as processed."""
        _, source, path = rows.document[:3]
        self.summary.processed -= 1
        self.summary.failed += 1
        self.summary.failures.append(FailureRecord(source, path, rows.doc_id, "store", failure.cause, "permanent"))

    # ------------------------------------------------------------ scheduling

    def _listed_tasks(self) -> Iterator[Task]:
        for source in self.sources.values():
            refs = source.iter_documents(self._on_skip)
            while chunk := list(islice(refs, LISTING_CHUNK)):
                # Everything the listing reaches is seen by this pass, whatever happens to it next.
                self.batch.seen.extend(ref.doc_id for ref in chunk)
                states = self.store.document_states([ref.doc_id for ref in chunk])
                for ref in chunk:
                    task = self._admit(admit(ref, 0, states.get(ref.doc_id)))
                    if task is not None:
                        yield task
        self.discovery_finished = True

    def _next_batch(self, listed: Iterator[Task]) -> list[Task]:
        batch: list[Task] = []
        while len(batch) < TASK_SIZE:
            if self.linked_tasks:
                batch.append(self.linked_tasks.popleft())
                continue
            task = next(listed, None)
            if task is None:
                if self.linked_tasks:  # listing unchanged documents can queue their links
                    continue
                break
            batch.append(task)
        return batch

    def _drain(self, pool: DocumentPool, listed: Iterator[Task], max_in_flight: int) -> None:
        in_flight: set[Future[list[Result]]] = set()
        while True:
            while len(in_flight) < max_in_flight:
                batch = self._next_batch(listed)
                if not batch:
                    break
                in_flight.add(pool.submit(batch))
            if not in_flight:
                return
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                for outcome in future.result():
                    self._handle(outcome)
            self._maybe_flush()

    def _admit(self, admission: Admission) -> Task | None:
        """A discovered document: a task to parse it, or None when it is unchanged."""
        self.discovered += 1
        if admission.unchanged:
            self._unchanged(admission.ref, admission.depth)
            return None
        return Task(admission.ref, admission.known_hash)

    # ------------------------------------------------------------ outcomes

    def _handle(self, outcome: Result) -> None:
        if isinstance(outcome, Processed):
            ref = outcome.ref
            self.summary.processed += 1
            self.summary.bytes_processed += outcome.size
            self.summary.units_embedded += outcome.rows.embedded
            self.summary.units_reused += outcome.rows.reused
            self.batch.rows.append(outcome.rows)
            self._follow(ref, outcome.targets)
            self._progress()
        elif isinstance(outcome, Unchanged):
            ref = outcome.ref
            self.batch.touches.append(Touch(ref.doc_id, ref.size, ref.mtime_ns))
            self._unchanged(ref, self.linked_depth.get(ref.doc_id, 0))
        else:
            self._failed(outcome)

    def _unchanged(self, ref: DocumentRef, depth: int) -> None:
        self.summary.unchanged += 1
        if depth < self._follow_depth(ref.source):
            self._follow(ref, self.store.link_targets(ref.doc_id))
        self._progress()

    def _failed(self, failure: Failed) -> None:
        ref = failure.ref
        self.summary.failed += 1
        self.summary.failures.append(
            FailureRecord(ref.source, ref.path, ref.doc_id, failure.stage, failure.cause, failure.kind)
        )
        self._progress()

    def _follow_depth(self, source: str) -> int:
        return link_follow_depth(self.source_configs[source])

    def _follow(self, ref: DocumentRef, targets: list[str]) -> None:
        """Queue documents of the same source that this one links to (``rules.links``)."""
        depth = self.linked_depth.get(ref.doc_id, 0)
        if ref.doc_id in self.linked_depth:
            self.linked_targets[ref.doc_id] = targets
        source = self.sources[ref.source]
        for target in follow_targets(source, self.source_configs[ref.source], ref.path, targets, depth):
            known = self.linked_depth.get(target.doc_id)
            if known is not None:
                if depth + 1 < known:  # a shorter path: its own links may now reach further
                    self.linked_depth[target.doc_id] = depth + 1
                    if target.doc_id in self.linked_targets:
                        self._follow(target, self.linked_targets[target.doc_id])
                continue
            self.linked_depth[target.doc_id] = depth + 1
            self.batch.seen.append(target.doc_id)
            state = self.store.document_states([target.doc_id]).get(target.doc_id)
            task = self._admit(admit(target, depth + 1, state))
            if task is not None:
                self.linked_tasks.append(task)

    # ------------------------------------------------------------ writes

    def _maybe_flush(self) -> None:
        batch = self.batch
        if (
            len(batch.rows) >= WRITE_BATCH_DOCS
            or len(batch.seen) + len(batch.touches) >= WRITE_BATCH_MARKS
            or time.monotonic() - self.last_write > WRITE_BATCH_SECONDS
        ):
            self._flush_writes()

    def _flush_writes(self) -> None:
        if self.batch:
            self.writer.submit(partial(self._write_batch, self.batch))
            self.batch = _WriteBatch()
        self.last_write = time.monotonic()

    def _write_batch(self, batch: _WriteBatch, store: Store) -> None:
        """Runs on the writer thread: one transaction; refused documents are reported at the end."""
        with store.transaction() as tx:
            refused = store.write_documents(tx, batch.rows, pass_token=self.pass_token)
            if batch.touches:
                store.touch_documents(tx, batch.touches)
            if batch.seen:
                store.mark_seen(tx, batch.seen, self.pass_token)
        if refused:
            by_id = {rows.doc_id: rows for rows in batch.rows}
            self.refused.extend((by_id[failure.doc_id], failure) for failure in refused)

    def _on_skip(self, skipped: SkippedPath) -> None:
        self.summary.skipped += 1
        if len(self.summary.skipped_paths) < MAX_REPORTED_SKIPS:
            self.summary.skipped_paths.append(skipped)
        if skipped.incomplete_listing:
            self.incomplete_sources.add(skipped.source)

    def _count_listing(self) -> None:
        """Walk the listing once more, only counting, so the progress bar can show an ETA."""
        try:
            self.counted = sum(1 for source in self.sources.values() for _ in source.iter_documents())
        except Exception:  # the count is cosmetic; the real listing reports errors
            self.counted = None

    def _progress(self) -> None:
        self.done += 1
        if self.on_progress is not None:
            counted = self.counted
            known = self.discovery_finished or counted is not None
            total = max(self.discovered, counted or 0) if not self.discovery_finished else self.discovered
            self.on_progress(Progress(self.done, total, known, self.summary.processed, self.summary.failed))
