"""Single mode: discover, skip what is unchanged, process the rest on all cores, store.

The listing streams into a bounded number of in-flight batches, so memory does
not grow with the size of the source. Parsing runs in worker processes; this
process is the only SQLite writer: a background thread commits one transaction
per batch of documents while the main thread keeps dispatching. Which documents this run saw is kept in the store (a temp table),
so documents that vanished from a fully listed source can be removed at the end.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from go_doc_go.config import Config, as_config, effective_jobs
from go_doc_go.exceptions import ConfigError
from go_doc_go.model import DocumentResult
from go_doc_go.pipeline import Failed, Unchanged, process_document
from go_doc_go.sources import ContentSource, DocumentRef, SkippedPath, open_source
from go_doc_go.storage import SQLiteStore, open_store
from go_doc_go.storage.base import RowFailure
from go_doc_go.storage.rows import DocumentRows, encode_document
from go_doc_go.storage.writer import BackgroundWriter

TASK_SIZE = 8  # documents per task sent to a worker process
# Tasks queued per worker: enough that workers keep parsing while this process writes.
IN_FLIGHT_PER_JOB = 16
WRITE_BATCH_DOCS = 512  # documents per SQLite transaction
WRITE_BATCH_SECONDS = 1.0
MAX_REPORTED_SKIPS = 1000  # all skips are counted; this many are listed


@dataclass(slots=True)
class FailureRecord:
    source: str
    path: str
    doc_id: str
    stage: str
    cause: str


@dataclass(slots=True)
class IngestSummary:
    processed: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    skipped: int = 0
    #: Links between documents of a source, over the whole store after this run (``LinkCounts``).
    links_resolved: int = 0
    links_unresolved: int = 0
    anchors_missing: int = 0
    bytes_processed: int = 0
    seconds: float = 0.0
    jobs: int = 1
    failures: list[FailureRecord] = field(default_factory=list)
    skipped_paths: list[SkippedPath] = field(default_factory=list)
    #: Things the user should know that are not failures (a source that moved, say).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["docs_per_second"] = round(self.processed / self.seconds, 1) if self.seconds else 0.0
        return data


@dataclass(frozen=True, slots=True)
class Progress:
    """Sent after every finished document.

    ``total`` is exact once ``total_known``: a background count of the listing
    finished (or discovery did). Until then it is what has been discovered so far.
    """

    done: int
    total: int
    total_known: bool
    processed: int
    failed: int


ProgressCallback = Callable[[Progress], None]


@dataclass(slots=True)
class _Processed:
    """A parsed document as it travels back from a worker: rows ready to insert."""

    ref: DocumentRef
    size: int
    hrefs: list[str]
    rows: DocumentRows


_Result = _Processed | Unchanged | Failed


@dataclass(frozen=True, slots=True)
class _Task:
    ref: DocumentRef
    depth: int
    known_hash: str | None


# ---------------------------------------------------------------- worker side

_worker_config: Config | None = None
_worker_sources: dict[str, ContentSource] = {}


def _init_worker(config_data: dict[str, Any], tune_gc: bool = True) -> None:
    global _worker_config, _worker_sources
    if tune_gc:
        # Parsed trees hold no reference cycles, so frequent young-generation
        # collections only cost time (about 15% of parsing). Worker processes only.
        gc.set_threshold(50_000, 50, 100)
    _worker_config = Config.model_validate(config_data)
    _worker_sources = {s.name: open_source(s) for s in _worker_config.content_sources}


def _process_batch(tasks: list[_Task]) -> list[_Result]:
    assert _worker_config is not None
    results: list[_Result] = []
    for task in tasks:
        outcome = process_document(
            _worker_sources[task.ref.source], task.ref, _worker_config, known_hash=task.known_hash
        )
        if isinstance(outcome, DocumentResult):
            hrefs = [link.href for link in outcome.links if link.target_path is not None]
            outcome = _Processed(task.ref, outcome.document.size, hrefs, encode_document(outcome))
        results.append(outcome)
    return results


class _InlineExecutor(Executor):
    """Runs tasks in this process: ``--jobs 1`` and tests need no pool."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # pragma: no cover - process_document does not raise
            future.set_exception(error)
        return future


# ---------------------------------------------------------------- driver


def ingest_documents(
    config: Config | dict[str, Any] | str | os.PathLike[str],
    *,
    on_progress: ProgressCallback | None = None,
) -> IngestSummary:
    """Run one single-mode ingest of every configured source into the configured store.

    ``config`` may be a ``Config``, a dict shaped like the YAML, or a YAML path.
    """
    config = as_config(config)
    if config.processing.mode != "single":
        raise ConfigError(
            "processing.mode: distributed mode is not available yet (the work queue is, the "
            "workers that use it are not); use processing.mode: single"
        )
    if config.embedding.enabled:
        raise ConfigError("embedding.enabled: embeddings are not available yet; set it to false")
    if not config.content_sources:
        raise ConfigError("content_sources: no sources configured (give a PATH or add content_sources)")
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
        store: SQLiteStore,
        on_progress: ProgressCallback | None,
        open_writer_store: Callable[[], SQLiteStore],
    ) -> None:
        self.open_writer_store = open_writer_store
        self.config = config
        self.sources = sources
        self.store = store
        self.on_progress = on_progress
        self.summary = IngestSummary(jobs=effective_jobs(config))
        # Link following can only find documents the listing misses when include is
        # narrower than everything; otherwise it would just repeat the listing.
        self.max_depth = {
            s.name: s.max_link_depth if "**/*" not in s.include else 0 for s in config.content_sources
        }
        self.incomplete_sources: set[str] = set()
        self.linked: deque[_Task] = deque()
        # Link depth of linked documents in flight; listed ones are depth 0 and absent.
        self.depths: dict[str, int] = {}
        self.discovered = 0
        self.discovery_finished = False
        self.counted: int | None = None  # set by the counting thread when progress is shown
        self.done = 0
        self.write_buffer: list[DocumentRows] = []
        self.last_write = time.monotonic()
        self.refused: list[tuple[DocumentRows, RowFailure]] = []  # appended by the writer thread

    def run(self) -> IngestSummary:
        started = time.perf_counter()
        self.store.seen_reset()
        if self.on_progress is not None:
            threading.Thread(target=self._count_listing, name="count-listing", daemon=True).start()
        jobs = self.summary.jobs
        executor: Executor = (
            _InlineExecutor()
            if jobs == 1
            else ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(self.config.model_dump(),))
        )
        if jobs == 1:
            _init_worker(self.config.model_dump(), tune_gc=False)
        self.writer = BackgroundWriter(self.open_writer_store)
        try:
            self._drain(executor, self._listed_tasks(), max_in_flight=jobs * IN_FLIGHT_PER_JOB)
            self._flush_writes()
        finally:
            executor.shutdown(cancel_futures=True)
            self.writer.close()
        for rows, failure in self.refused:
            self._store_failed(rows, failure)
        for name in self.sources:
            if name not in self.incomplete_sources:
                self.summary.removed += self.store.delete_documents(self.store.unseen_documents(name))
        self._record_sources()
        if self.config.relationship_detection.links:
            links = self.store.resolve_links()
            self.summary.links_resolved = links.resolved
            self.summary.links_unresolved = links.unresolved
            self.summary.anchors_missing = links.anchor_missing
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def _record_sources(self) -> None:
        """Remember which folder each source name stands for (and say when it moved)."""
        known = self.store.source_locations()
        for source in self.config.content_sources:
            location = str(source.base_path)
            if known.get(source.name) not in (None, location):
                self.summary.notes.append(
                    f"source {source.name!r} was {known[source.name]}, now {location}; documents "
                    f"not found in the new location were removed"
                )
            if known.get(source.name) != location:
                self.store.source_record(source.name, location)

    def _store_failed(self, rows: DocumentRows, failure: RowFailure) -> None:
        """A document the store refused: counted as failed (stage store), not as processed."""
        _, source, path = rows.document[:3]
        self.summary.processed -= 1
        self.summary.failed += 1
        self.summary.failures.append(FailureRecord(source, path, rows.doc_id, "store", failure.cause))

    # ------------------------------------------------------------ scheduling

    def _listed_tasks(self) -> Iterator[_Task]:
        for source in self.sources.values():
            for ref in source.iter_documents(self._on_skip):
                task = self._admit(ref, depth=0)
                if task is not None:
                    yield task
        self.discovery_finished = True

    def _next_batch(self, listed: Iterator[_Task]) -> list[_Task]:
        batch: list[_Task] = []
        while len(batch) < TASK_SIZE:
            if self.linked:
                batch.append(self.linked.popleft())
                continue
            task = next(listed, None)
            if task is None:
                if self.linked:  # listing unchanged documents can queue their links
                    continue
                break
            batch.append(task)
        return batch

    def _drain(self, executor: Executor, listed: Iterator[_Task], max_in_flight: int) -> None:
        in_flight: set[Future[list[_Result]]] = set()
        while True:
            while len(in_flight) < max_in_flight:
                batch = self._next_batch(listed)
                if not batch:
                    break
                in_flight.add(executor.submit(_process_batch, batch))
            if not in_flight:
                return
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                for outcome in future.result():
                    self._handle(outcome)
            if time.monotonic() - self.last_write > WRITE_BATCH_SECONDS:
                self._flush_writes()

    def _admit(self, ref: DocumentRef, depth: int) -> _Task | None:
        """Decide what to do with a discovered document; None if no parsing is needed."""
        if not self.store.seen_mark(ref.doc_id):
            return None  # already reached this run (listed and linked, say)
        self.discovered += 1
        state = self.store.document_state(ref.doc_id)
        if state is not None and state.size == ref.size and state.mtime_ns == ref.mtime_ns:
            self._unchanged(ref, depth)
            return None
        return _Task(ref, depth, state.content_hash if state else None)

    # ------------------------------------------------------------ outcomes

    def _handle(self, outcome: _Result) -> None:
        if isinstance(outcome, _Processed):
            ref = outcome.ref
            self.summary.processed += 1
            self.summary.bytes_processed += outcome.size
            self.write_buffer.append(outcome.rows)
            self._follow(ref.source, ref.path, outcome.hrefs, self.depths.pop(ref.doc_id, 0))
            if len(self.write_buffer) >= WRITE_BATCH_DOCS:
                self._flush_writes()
            self._progress()
        elif isinstance(outcome, Unchanged):
            ref = outcome.ref
            self.writer.submit(partial(SQLiteStore.document_touch, doc_id=ref.doc_id, size=ref.size,
                                       mtime_ns=ref.mtime_ns))
            self._unchanged(ref, self.depths.pop(ref.doc_id, 0))
        else:
            self._failed(outcome)

    def _unchanged(self, ref: DocumentRef, depth: int) -> None:
        self.summary.unchanged += 1
        if depth < self.max_depth[ref.source]:
            hrefs = [row[3] for row in self.store.links_of(ref.doc_id) if row[3]]
            self._follow(ref.source, ref.path, hrefs, depth)
        self._progress()

    def _failed(self, failure: Failed) -> None:
        ref = failure.ref
        self.depths.pop(ref.doc_id, None)
        self.summary.failed += 1
        self.summary.failures.append(FailureRecord(ref.source, ref.path, ref.doc_id, failure.stage, failure.cause))
        self._progress()

    def _follow(self, source_name: str, path: str, hrefs: list[str], depth: int) -> None:
        """Queue documents of the same source that this one links to, up to max_link_depth."""
        if depth >= self.max_depth[source_name] or not hrefs:
            return
        source = self.sources[source_name]
        for href in hrefs:
            target = source.resolve_link(path, href)
            if target is None or target[0] == path:
                continue
            ref = source.ref_for(target[0])
            if ref is None:
                continue
            task = self._admit(ref, depth + 1)
            if task is not None:
                self.depths[ref.doc_id] = depth + 1
                self.linked.append(task)

    def _flush_writes(self) -> None:
        if self.write_buffer:
            self.writer.submit(partial(self._write_batch, self.write_buffer))
            self.write_buffer = []
        self.last_write = time.monotonic()

    def _write_batch(self, batch: list[DocumentRows], store: SQLiteStore) -> None:
        """Runs on the writer thread; refused documents are reported when the run ends."""
        refused = store.store_rows(batch)
        if refused:
            by_id = {rows.doc_id: rows for rows in batch}
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
