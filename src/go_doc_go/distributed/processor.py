"""QueuedDocumentProcessor: claimed leases in, stored documents and completions out.

For each claimed document it does what single mode does, through the same
code: ``rules.admit`` (change detection), ``pool.DocumentPool`` (the child
processes that run ``process_document`` with the per-document limits) and
``rules.follow_targets`` (link following). Only the bookkeeping differs:

* **Exactly-once effect.** When the store and the queue share a database, a
  batch of documents' rows, their completions, their failures and the linked
  documents they queue commit in one transaction. The completions go first:
  ``complete_many`` tells which leases are still ours, and only those
  documents' rows are written, so a lost lease writes nothing, and a rollback
  (a lost connection, a document the database refuses) undoes the whole
  batch, whose leases stay held until the retry commits. Results are visible
  if and only if the queue says completed.
* **Separate queue database** (``work_queue.uri``): the store write commits
  first and is an idempotent replace; the completions follow. A lease lost in
  between leaves rows that its new owner replaces with the same rows.
* **Failures** keep their stage, kind, exception class and traceback; a
  permanent one goes straight to the dead letter (``WorkQueue.fail``).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg

from go_doc_go.config import Config
from go_doc_go.exceptions import GoDocGoError, LeaseLostError
from go_doc_go.pipeline import Failed, Unchanged
from go_doc_go.pool import DocumentPool, Processed, Result, Task
from go_doc_go.queue.records import CompleteResult, Lease, LeaseKey, NewDocument
from go_doc_go.queue.work_queue import WorkQueue
from go_doc_go.rules import admit, follow_targets, link_follow_depth
from go_doc_go.sources import ContentSource, DocumentRef
from go_doc_go.storage import Store, Touch
from go_doc_go.storage.rows import DocumentRows

log = logging.getLogger("go_doc_go.distributed")

#: Documents sent to the parser pool per task (as in single mode).
TASK_SIZE = 8
#: Finished documents written per transaction, at most ``COMMIT_DELAY`` seconds after the first is ready.
COMMIT_DOCS = 64
COMMIT_DELAY = 0.5

T = TypeVar("T")
#: What a database that is away (restarting, unreachable) raises through the store and the queue.
_AWAY = (GoDocGoError, psycopg.Error, OSError)


@dataclass(frozen=True, slots=True)
class Vanished:
    """The document was gone from its source when it was claimed (not seen: removed at the end)."""

    lease: Lease


Outcome = Result | Vanished


@dataclass(frozen=True, slots=True)
class _Completion:
    lease: Lease
    outcome: str  # processed, unchanged or vanished
    content_hash: str | None = None
    units: tuple[int, int] | None = None  # retrieval units embedded anew, reused


@dataclass(slots=True)
class _Plan:
    """What one commit does, worked out before the transaction opens."""

    completions: list[_Completion] = field(default_factory=list)
    rows: dict[LeaseKey, DocumentRows] = field(default_factory=dict)
    failures: list[tuple[Lease, Failed]] = field(default_factory=list)
    linked: dict[LeaseKey, list[NewDocument]] = field(default_factory=dict)
    touches: dict[LeaseKey, Touch] = field(default_factory=dict)


@dataclass
class Tally:
    processed: int = 0
    unchanged: int = 0
    vanished: int = 0
    failed: int = 0
    lost: int = 0

    @property
    def done(self) -> int:
        return self.processed + self.unchanged + self.vanished + self.failed


class _Redo(Exception):
    """The database refused some documents' rows: roll back and commit the batch without them."""


class QueuedDocumentProcessor:
    def __init__(
        self,
        config: Config,
        sources: dict[str, ContentSource],
        store: Store,
        queue: WorkQueue,
        pool: DocumentPool,
        *,
        shared: bool,
    ) -> None:
        self.config = config
        self.sources = sources
        self.source_configs = {s.name: s for s in config.content_sources}
        self.store = store
        self.queue = queue
        self.pool = pool
        self.shared = shared
        self.tally = Tally()
        self._in_flight: dict[Future[list[Result]], list[Lease]] = {}
        self._decided: list[tuple[Lease, Outcome]] = []  # finished, not written yet
        self._ready_since: float | None = None

    @property
    def in_flight(self) -> int:
        """Leases claimed and not written yet."""
        return sum(len(leases) for leases in self._in_flight.values()) + len(self._decided)

    # ------------------------------------------------------------ in

    def submit(self, leases: list[Lease]) -> None:
        """Decide what each claimed document needs; parse the ones that changed."""
        refs: dict[LeaseKey, DocumentRef] = {}
        for lease in leases:
            ref = self._ref(lease)
            if ref is None:
                self._decided.append((lease, Vanished(lease)))
            else:
                refs[lease.key] = ref
        doc_ids = [ref.doc_id for ref in refs.values()]
        states = self._patiently("reading stored document states", lambda: self.store.document_states(doc_ids))
        tasks: list[tuple[Lease, Task]] = []
        for lease in leases:
            ref = refs.get(lease.key)
            if ref is None:
                continue
            admission = admit(ref, lease.link_depth, states.get(ref.doc_id))
            if admission.unchanged:
                self._decided.append((lease, Unchanged(ref)))
            else:
                tasks.append((lease, Task(ref, admission.known_hash)))
        for start in range(0, len(tasks), TASK_SIZE):
            chunk = tasks[start : start + TASK_SIZE]
            future = self.pool.submit([task for _, task in chunk])
            self._in_flight[future] = [lease for lease, _ in chunk]

    def _ref(self, lease: Lease) -> DocumentRef | None:
        source = self.sources.get(lease.source_name)
        if source is None or not lease.doc_path:
            return None
        return source.ref_for(lease.doc_path)

    # ------------------------------------------------------------ out

    def collect(self, timeout: float = 0.0, *, force: bool = False) -> int:
        """Write what is finished, in batches (waiting up to ``timeout`` for parsing); returns the documents written.

        Finished documents wait until ``COMMIT_DOCS`` of them are ready, the oldest
        has waited ``COMMIT_DELAY``, nothing else is being parsed, or ``force``:
        one commit per batch, not per document, is what keeps a worker as fast as
        single mode's 512-document transactions.
        """
        if self._in_flight:
            finished, _ = wait(list(self._in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in finished:
                leases = self._in_flight.pop(future)
                self._decided.extend(zip(leases, future.result(), strict=True))
        if not self._decided:
            return 0
        now = time.monotonic()
        if self._ready_since is None:
            self._ready_since = now
        due = (force or not self._in_flight or len(self._decided) >= COMMIT_DOCS
               or now - self._ready_since >= COMMIT_DELAY)
        if not due:
            return 0
        pairs, self._decided, self._ready_since = self._decided, [], None
        by_pass: dict[int, list[tuple[Lease, Outcome]]] = defaultdict(list)
        for lease, outcome in pairs:
            by_pass[lease.pass_number].append((lease, outcome))
        for pass_number, group in by_pass.items():
            self._commit_with_retries(group, f"{self.queue.run_id}:{pass_number}")
        return len(pairs)

    def drain(self, timeout: float | None = None, *, interrupted: Callable[[], bool] = lambda: False) -> None:
        """Write everything in flight (a clean shutdown), unless ``interrupted()`` says to stop now."""
        give_up = None if timeout is None else time.monotonic() + timeout
        while self.in_flight and not interrupted():
            left = None if give_up is None else give_up - time.monotonic()
            if left is not None and left <= 0:
                return
            self.collect(timeout=1.0 if left is None else min(left, 1.0), force=True)

    def abandon(self) -> list[Lease]:
        """Forget what is in flight (an immediate shutdown); returns the leases to release."""
        leases = [lease for group in self._in_flight.values() for lease in group]
        leases += [lease for lease, _ in self._decided]
        self._in_flight.clear()
        self._decided.clear()
        return leases

    # ------------------------------------------------------------ commit

    def _plan(self, pairs: list[tuple[Lease, Outcome]]) -> _Plan:
        plan = _Plan()
        for lease, outcome in pairs:
            if isinstance(outcome, Processed):
                rows = outcome.rows
                units = (rows.embedded, rows.reused) if rows.embeddings else None
                plan.completions.append(_Completion(lease, "processed", rows.document[5], units))
                plan.rows[lease.key] = rows
                plan.linked[lease.key] = self._linked(lease, outcome.ref, outcome.targets)
            elif isinstance(outcome, Unchanged):
                ref = outcome.ref
                plan.completions.append(_Completion(lease, "unchanged"))
                plan.touches[lease.key] = Touch(ref.doc_id, ref.size, ref.mtime_ns)
                if lease.link_depth < self._follow_depth(ref.source):
                    plan.linked[lease.key] = self._linked(lease, ref, self.store.link_targets(ref.doc_id))
            elif isinstance(outcome, Vanished):
                plan.completions.append(_Completion(lease, "vanished"))
            else:
                plan.failures.append((lease, outcome))
        return plan

    def _follow_depth(self, source: str) -> int:
        config = self.source_configs.get(source)
        return link_follow_depth(config) if config is not None else 0

    def _linked(self, lease: Lease, ref: DocumentRef, targets: list[str]) -> list[NewDocument]:
        config = self.source_configs.get(ref.source)
        if config is None or not targets:
            return []
        found = follow_targets(self.sources[ref.source], config, ref.path, targets, lease.link_depth)
        return [NewDocument(t.source, t.doc_id, t.path, link_depth=lease.link_depth + 1, parent_doc_id=ref.doc_id)
                for t in found]

    def _commit_with_retries(self, pairs: list[tuple[Lease, Outcome]], pass_token: str) -> None:
        """Commit, retrying while the database is away; give up once the leases must have expired."""
        try:
            plan = self._patiently("reading stored links", lambda: self._plan(pairs))
            self._patiently(f"writing {len(pairs)} documents", lambda: self._commit(plan, pass_token))
        except _AWAY as error:
            log.error("gave up writing %d documents (%s); their leases will be reclaimed", len(pairs), error)

    def _patiently(self, what: str, operation: Callable[[], T]) -> T:
        """``operation()``, retried with backoff while the database is away (a restart, a lost connection).

        It gives up, re-raising, once the leases in hand must have expired
        (``claim_timeout``): past that their documents belong to another worker.
        """
        give_up = time.monotonic() + self.config.work_queue.claim_timeout
        pause = 0.2
        while True:
            try:
                return operation()
            except _AWAY as error:
                if isinstance(error, LeaseLostError) or time.monotonic() + pause > give_up:
                    raise
                log.warning("%s failed (%s); retrying in %.1f s", what, error, pause)
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    def _commit(self, plan: _Plan, pass_token: str) -> None:
        refused: dict[LeaseKey, str] = {}
        while True:
            try:
                if self.shared:
                    self._commit_together(plan, pass_token, refused)
                else:
                    self._commit_store_first(plan, pass_token, refused)
                return
            except _Redo:
                continue

    def _commit_together(self, plan: _Plan, pass_token: str, refused: dict[LeaseKey, str]) -> None:
        q = _InStoreTransaction(self.queue)
        with self.store.transaction() as tx:
            q.conn = tx
            _queue_planner_settings(tx)
            done = _complete(q, plan, refused)
            ours = {lease.key for lease in done.completed}
            rows = [rows for key, rows in plan.rows.items() if key in ours]
            failures = self.store.write_documents(tx, rows, pass_token=pass_token)
            if failures:
                keys = {rows.doc_id: key for key, rows in plan.rows.items()}
                refused.update({keys[f.doc_id]: f.cause for f in failures})
                raise _Redo()
            self._record_rest(tx, q, plan, ours, refused, pass_token)
        q.confirm()  # committed: only now are the leases forgotten (a rollback keeps them held)
        self._count(plan, ours, len(done.refused), refused)

    def _commit_store_first(self, plan: _Plan, pass_token: str, refused: dict[LeaseKey, str]) -> None:
        with self.store.transaction() as tx:
            rows = [rows for key, rows in plan.rows.items() if key not in refused]
            failures = self.store.write_documents(tx, rows, pass_token=pass_token)
            if failures:
                keys = {rows.doc_id: key for key, rows in plan.rows.items()}
                refused.update({keys[f.doc_id]: f.cause for f in failures})
                raise _Redo()
            touches = [t for key, t in plan.touches.items() if key not in refused]
            if touches:
                self.store.touch_documents(tx, touches)
            linked = [d for key, docs in plan.linked.items() if key not in refused for d in docs]
            if linked:
                self.store.mark_seen(tx, [d.doc_id for d in linked], pass_token)
        done = _complete(self.queue, plan, refused)
        ours = {lease.key for lease in done.completed}
        linked = [d for key, docs in plan.linked.items() if key in ours for d in docs]
        if linked:
            self.queue.add_many(linked)
        self._record_failures(self.queue, plan, refused)
        self._count(plan, ours, len(done.refused), refused)

    def _record_rest(
        self, tx: Any, q: Any, plan: _Plan, ours: set[LeaseKey], refused: dict[LeaseKey, str], pass_token: str
    ) -> None:
        """Inside the transaction: touches, linked documents (queued and seen), failures."""
        touches = [t for key, t in plan.touches.items() if key in ours]
        if touches:
            self.store.touch_documents(tx, touches)
        linked = [d for key, docs in plan.linked.items() if key in ours for d in docs]
        if linked:
            self.store.mark_seen(tx, [d.doc_id for d in linked], pass_token)
            q.add_many(linked)
        self._record_failures(q, plan, refused)

    def _record_failures(self, q: Any, plan: _Plan, refused: dict[LeaseKey, str]) -> None:
        by_key = {c.lease.key: c.lease for c in plan.completions}
        failures = [(lease, f.cause, f.stage, not f.retryable, f.error_type, f.traceback) for lease, f in plan.failures]
        failures += [(by_key[key], cause, "store", True, "StorageError", None) for key, cause in refused.items()]
        for lease, cause, stage, permanent, error_type, traceback in failures:
            try:
                q.fail(lease, cause, stage=stage, permanent=permanent, error_type=error_type, traceback=traceback)
            except LeaseLostError:
                self.tally.lost += 1  # its new owner will record what happens to it

    def _count(self, plan: _Plan, ours: set[LeaseKey], lost: int, refused: dict[LeaseKey, str]) -> None:
        tally = self.tally
        tally.lost += lost
        for c in plan.completions:
            if c.lease.key not in ours:
                continue
            setattr(tally, c.outcome, getattr(tally, c.outcome) + 1)
            log.debug("%s %s:%s", c.outcome, c.lease.source_name, c.lease.doc_path)
        tally.failed += len(plan.failures) + len(refused)
        for lease, failure in plan.failures:
            log.info("failed %s:%s at %s (%s): %s", lease.source_name, lease.doc_path, failure.stage, failure.kind,
                     failure.cause)


def _complete(q: Any, plan: _Plan, refused: dict[LeaseKey, str]) -> CompleteResult:
    """Complete the plan's documents the store did not refuse, with what each completion did."""
    todo = [c for c in plan.completions if c.lease.key not in refused]
    return q.complete_many([c.lease for c in todo], content_hashes=[c.content_hash for c in todo],
                           outcomes=[c.outcome for c in todo], units=[c.units for c in todo])


class _InStoreTransaction:
    """Queue operations on the store's transaction; their leases are forgotten only after it commits."""

    def __init__(self, queue: WorkQueue) -> None:
        self.queue = queue
        self.conn: Any = None
        self.results: list[Any] = []

    def complete_many(self, leases: list[Lease], **options: Any) -> Any:
        result = self.queue.complete_many(leases, conn=self.conn, **options)
        self.results.append(result)
        return result

    def fail(self, lease: Lease, error: str, **options: Any) -> Any:
        result = self.queue.fail(lease, error, conn=self.conn, **options)
        self.results.append(result)
        return result

    def add_many(self, documents: list[NewDocument]) -> Any:
        return self.queue.add_many(documents, conn=self.conn)

    def confirm(self) -> None:
        for result in self.results:
            self.queue.confirm(result)


def _queue_planner_settings(tx: Any) -> None:
    """The planner settings queue sessions run with (see queue.connection), for this transaction only."""
    tx.execute("SET LOCAL enable_seqscan = off")
    tx.execute("SET LOCAL enable_sort = off")
