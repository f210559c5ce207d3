"""WorkQueue: add, claim, heartbeat, complete and fail documents of one run.

Every call that changes a document presents its lease, identified by
``(queue_id, lease_token)`` (``Lease.key``), never by the queue id alone: after
a reclaim one worker may hold a stale and a fresh lease on the same document.
A caller whose lease passed to another worker is refused (``CompleteResult.refused``
or ``LeaseLostError``) and never overwrites the new owner's state.

Connection errors are retried (see ``connection``), and a retry recognises
what its first try committed before the reply was lost: claims, failures and
releases carry a client-generated request id stored on the rows they change;
a completion is recognised by its token on a completed row.

Work written on the caller's connection (``conn=``) is only forgotten once the
caller has committed: ``transaction(conn)`` does that by itself; otherwise call
``confirm(result)`` after the commit. Until then the leases stay held and heartbeated.
"""

from __future__ import annotations

import dataclasses
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import TypeVar

from psycopg import Connection, pq
from psycopg_pool import ConnectionPool

from go_doc_go.config import WorkQueueConfig, scrub
from go_doc_go.exceptions import LeaseLostError, QueueError
from go_doc_go.queue import backoff, repository
from go_doc_go.queue.connection import with_connection
from go_doc_go.queue.records import (
    AddResult,
    Batch,
    BatchStatus,
    CompleteResult,
    FailResult,
    Lease,
    LeaseKey,
    NewDocument,
    Outstanding,
)
from go_doc_go.queue.waker import Waker

T = TypeVar("T")

#: Bulk adds are sent in chunks of this many rows (one unnest statement each).
ADD_CHUNK = 5000
#: At most this many due waiting rows are promoted to pending per claim.
PROMOTE_LIMIT = 1000


def _in_transaction(conn: Connection) -> bool:
    """Is ``conn`` inside a transaction (so what was just written is not committed yet)?"""
    return conn.info.transaction_status != pq.TransactionStatus.IDLE


def _request_id() -> int:
    return secrets.randbits(63)


class WorkQueue:
    """The queue of one run, as seen by one worker session.

    ``session_id`` (from ``RunCoordinator.register``) only feeds the per-worker
    counters; leases are identified by their token, never by the worker id.
    """

    def __init__(
        self,
        pool: ConnectionPool,
        run_id: str,
        settings: WorkQueueConfig | None = None,
        *,
        worker_id: str = "anonymous",
        session_id: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.pool = pool
        self.run_id = run_id
        self.settings = settings or WorkQueueConfig()
        self.worker_id = scrub(worker_id)
        self.session_id = session_id
        self.rng = rng or random.Random()
        self._claiming = threading.Event()
        self._claiming.set()
        self._held: dict[LeaseKey, Lease] = {}
        self._next_reclaim = 0.0
        self._lock = threading.Lock()

    # ------------------------------------------------------------ helpers

    def _run(
        self,
        what: str,
        operation: Callable[[Connection], T],
        *,
        deadline: float | None = None,
        retried: Callable[[Connection], T] | None = None,
    ) -> T:
        return with_connection(self.pool, what, operation, deadline=deadline, retried=retried)

    @property
    def held(self) -> dict[LeaseKey, Lease]:
        """Leases this worker holds right now, by ``(queue_id, lease_token)``."""
        with self._lock:
            return dict(self._held)

    def _hold(self, leases: Iterable[Lease]) -> None:
        with self._lock:
            for lease in leases:
                self._held[lease.key] = lease

    def _forget(self, keys: Iterable[LeaseKey]) -> None:
        with self._lock:
            for key in keys:
                self._held.pop(key, None)

    # ------------------------------------------------------------ claiming switch

    @property
    def claiming(self) -> bool:
        """False while this worker must not claim (its heartbeats fail, or its session was replaced)."""
        return self._claiming.is_set()

    @claiming.setter
    def claiming(self, value: bool) -> None:
        if value:
            self._claiming.set()
        else:
            self._claiming.clear()

    def pause_claiming(self) -> None:
        self._claiming.clear()

    def resume_claiming(self) -> None:
        self._claiming.set()

    # ------------------------------------------------------------ adding

    def add_many(self, documents: Iterable[NewDocument], *, conn: Connection | None = None) -> AddResult:
        """Queue documents (idempotent); wakes idle workers once per chunk. ``doc_path`` is stored scrubbed."""
        inserted = updated = 0
        chunk: list[NewDocument] = []

        def flush(batch: list[NewDocument]) -> AddResult:
            def write(c: Connection) -> AddResult:
                with c.transaction():
                    result = repository.document_add_many(c, run_id=self.run_id, documents=batch)
                    if result.inserted or result.updated:
                        repository.queue_notify(c, run_id=self.run_id)
                    return result

            return write(conn) if conn is not None else self._run("add documents", write)

        for doc in documents:
            if doc.doc_path and (clean := scrub(doc.doc_path)) != doc.doc_path:
                doc = dataclasses.replace(doc, doc_path=clean)
            chunk.append(doc)
            if len(chunk) >= ADD_CHUNK:
                result = flush(chunk)
                inserted, updated, chunk = inserted + result.inserted, updated + result.updated, []
        if chunk:
            result = flush(chunk)
            inserted, updated = inserted + result.inserted, updated + result.updated
        return AddResult(inserted, updated)

    def add(self, source_name: str, doc_id: str, **fields: object) -> AddResult:
        return self.add_many([NewDocument(source_name, doc_id, **fields)])  # type: ignore[arg-type]

    # ------------------------------------------------------------ claiming

    def reclaim_expired(self) -> list[tuple[int, str]]:
        """Turn expired leases into retries (or dead letters); no leader needed."""
        return self._run(
            "reclaim expired leases",
            lambda c: repository.documents_reclaim_expired(
                c, run_id=self.run_id, max_retries=self.settings.max_retries
            ),
        )

    def claim(self, limit: int | None = None, *, deadline: float | None = None) -> list[Lease]:
        """Claim up to ``limit`` (default ``batch_size``) documents; none unless the run is active.

        Expired leases are reclaimed first (any worker's claim does it, no
        leader needed); that step runs at most every ``min(1 s, claim_timeout / 4)``
        per worker, which bounds how late an expired lease is noticed. Then due
        waiting rows are promoted to ``pending`` and the claim takes the best
        ``limit`` of them. A retry after a lost reply returns what the first
        try committed (found by its request id) instead of claiming again.
        """
        if not self.claiming:
            return []
        size = limit or self.settings.batch_size
        request_id = _request_id()

        def first(conn: Connection) -> list[Lease]:
            # One round trip (a pipeline is one implicit transaction: each statement sees the one before).
            with conn.pipeline():
                now = time.monotonic()
                if now >= self._next_reclaim:
                    # Throttled (it walks the lease index): at most every claim_timeout/4, capped at 1 s.
                    self._next_reclaim = now + min(1.0, self.settings.claim_timeout / 4)
                    repository.documents_reclaim_expired(
                        conn, run_id=self.run_id, max_retries=self.settings.max_retries, fetch=False
                    )
                repository.documents_promote_due(conn, run_id=self.run_id, limit=PROMOTE_LIMIT)
                return repository.document_claim(
                    conn,
                    run_id=self.run_id,
                    worker_id=self.worker_id,
                    session_id=self.session_id,
                    limit=size,
                    claim_timeout=self.settings.claim_timeout,
                    attempt_timeout=self.settings.attempt_timeout,
                    request_id=request_id,
                )

        def again(conn: Connection) -> list[Lease]:
            committed = repository.document_claimed_by(conn, run_id=self.run_id, request_id=request_id)
            return committed or first(conn)

        leases = self._run("claim documents", first, retried=again, deadline=deadline)
        self._hold(leases)
        return leases

    def next_batch(
        self, waker: Waker | None = None, limit: int | None = None, *, max_wait: float | None = None
    ) -> Batch:
        """Claim a batch, waiting idly (LISTEN/NOTIFY, ``poll_interval`` fallback) while none is ready.

        The answer (``Batch.status``) tells a worker loop what to do: ``CLAIMED``
        (work), ``DRAINED`` / ``ENDED`` (stop: the pass is over / the run is not
        active), ``DISCOVER`` (discovery is not done and nobody holds the
        discovery lease: take it and discover), ``STOPPED`` (this worker stopped
        claiming: returned after waiting up to ``poll_interval`` for claiming
        to resume), ``IDLE`` (``max_wait`` passed with nothing claimable; more
        is coming). Without ``max_wait`` it waits as long as work may still come.
        """
        if waker is not None:
            waker.start()
        give_up = None if max_wait is None else time.monotonic() + max_wait
        while True:
            if not self.claiming:
                self._claiming.wait(self._bounded(self.settings.poll_interval, give_up))
                if not self.claiming:
                    return Batch(BatchStatus.STOPPED)
            leases = self.claim(limit)
            if leases:
                return Batch(BatchStatus.CLAIMED, leases, "active")
            left = self.outstanding()
            answer = self._answer(left)
            if answer is not None:
                return answer
            timeout = self._bounded(self._idle_wait(left), give_up)
            if timeout <= 0:
                return Batch(BatchStatus.IDLE, run_status=left.status)
            if waker is not None:
                waker.wait(timeout)
            else:
                time.sleep(timeout)

    @staticmethod
    def _answer(left: Outstanding) -> Batch | None:
        """The final answer for this state of the run, or None to keep waiting."""
        if left.status != "active":
            return Batch(BatchStatus.ENDED, run_status=left.status)
        if left.discovery_done and left.drained:
            return Batch(BatchStatus.DRAINED, run_status=left.status)
        if left.needs_discovery:
            return Batch(BatchStatus.DISCOVER, run_status=left.status)
        return None

    def _idle_wait(self, left: Outstanding) -> float:
        if left.ready > 0:
            return 0.01  # claimable rows were locked by others a moment ago
        timeout = self.settings.poll_interval
        if left.next_due_in is not None:
            timeout = min(timeout, max(left.next_due_in, 0.01))
        return timeout

    @staticmethod
    def _bounded(timeout: float, give_up: float | None) -> float:
        return timeout if give_up is None else min(timeout, give_up - time.monotonic())

    def heartbeat(self, *, deadline: float | None = None) -> list[Lease]:
        """Extend every lease this worker holds (never past its attempt deadline); returns the ones lost.

        A lease whose row a transaction holds locked (e.g. the caller's own
        completion, not committed yet) is skipped, not waited for, and still
        counts as held. A lease completed by our own committed completion is
        forgotten quietly; one reclaimed or taken over is lost.
        """
        held = list(self.held.values())
        if not held:
            return []
        rows = self._run(
            "extend leases",
            lambda c: repository.document_heartbeat_many(c, leases=held, claim_timeout=self.settings.claim_timeout),
            deadline=deadline,
        )
        lost: list[Lease] = []
        finished: list[Lease] = []
        for lease in held:
            token, state, extended = rows.get(lease.queue_id, (None, None, False))
            if token != lease.lease_token:
                lost.append(lease)
            elif extended or state == "processing":
                continue  # kept (not extended: a transaction holds the row right now)
            elif state == "completed":
                finished.append(lease)
            else:
                lost.append(lease)
        self._forget(x.key for x in lost + finished)
        return lost

    # ------------------------------------------------------------ finishing

    def complete_many(
        self,
        leases: Sequence[Lease],
        *,
        content_hashes: Sequence[str | None] | None = None,
        outcomes: Sequence[str | None] | None = None,
        units: Sequence[tuple[int, int] | None] | None = None,
        conn: Connection | None = None,
        deadline: float | None = None,
    ) -> CompleteResult:
        """Complete documents in one statement. Pass ``conn`` to commit with your own writes.

        ``outcomes`` records what each completion did (``processed``, ``unchanged``, ``vanished``),
        ``units`` the retrieval units it embedded anew and reused (``run_pass_units`` sums them).

        With ``conn`` inside a transaction the result is ``pending``: the
        completed leases stay held until ``confirm(result)`` after your commit
        (``transaction(conn)`` does it for you). Refused leases are forgotten at once.
        """
        if not leases:
            return CompleteResult()
        unique: dict[LeaseKey, tuple[Lease, str | None, str | None, tuple[int, int] | None]] = {}
        for i, lease in enumerate(leases):
            unique.setdefault(lease.key, (
                lease,
                content_hashes[i] if content_hashes is not None else None,
                outcomes[i] if outcomes is not None else None,
                units[i] if units is not None else None,
            ))
        batch = [lease for lease, _, _, _ in unique.values()]

        def write(c: Connection) -> set[LeaseKey]:
            done = repository.document_complete_many(
                c, leases=batch, session_id=self.session_id,
                content_hashes=[x[1] for x in unique.values()], outcomes=[x[2] for x in unique.values()],
                units=[x[3] for x in unique.values()],
            )
            rest = [lease for lease in batch if lease.key not in done]
            if rest:  # ours already? (a retry after a lost reply, or a concurrent repeat)
                done |= repository.document_completed_by(c, leases=rest)
            return done

        done = write(conn) if conn is not None else self._run("complete documents", write, deadline=deadline)
        completed = [lease for lease in batch if lease.key in done]
        refused = [lease for lease in batch if lease.key not in done]
        pending = conn is not None and _in_transaction(conn)
        self._forget(lease.key for lease in (refused if pending else batch))
        return CompleteResult(completed, refused, pending=pending)

    def complete(self, lease: Lease, *, content_hash: str | None = None, conn: Connection | None = None) -> CompleteResult:
        """Complete one document; raises ``LeaseLostError`` if the lease passed to another worker."""
        result = self.complete_many([lease], content_hashes=[content_hash], conn=conn)
        if result.refused:
            raise LeaseLostError(
                scrub(f"lease on {lease.source_name}:{lease.doc_id} (attempt {lease.attempt}) was lost; result discarded")
            )
        return result

    def confirm(self, result: CompleteResult | FailResult) -> None:
        """After the caller committed the transaction that wrote ``result``: stop holding its leases."""
        if isinstance(result, CompleteResult):
            self._forget(lease.key for lease in result.completed)
        elif result.lease is not None:
            self._forget([result.lease.key])

    def transaction(self, conn: Connection) -> QueueTransaction:
        """``with queue.transaction(conn) as tx:`` - your writes plus ``tx.complete``/``tx.fail`` commit together;
        the leases are forgotten only after the commit (a rollback keeps them held and heartbeated)."""
        return QueueTransaction(self, conn)

    def retry_delay(self, lease: Lease) -> float:
        """Backoff before the next try after this lease's failure (seconds, jittered, capped)."""
        return backoff.delay(
            lease.failure_count + 1,
            base=self.settings.retry_backoff_base,
            cap=self.settings.retry_backoff_max,
            rng=self.rng,
        )

    def fail(
        self,
        lease: Lease,
        error: str,
        *,
        stage: str = "process",
        permanent: bool = False,
        error_type: str | None = None,
        traceback: str | None = None,
        conn: Connection | None = None,
        deadline: float | None = None,
    ) -> FailResult:
        """Record a failure: retry with backoff, or dead letter after ``max_retries`` (or if permanent).

        ``error_type`` is the exception class, ``traceback`` the traceback of an
        unexpected error; all texts are scrubbed of credentials before they are stored. Pass
        ``conn`` to commit the failure with your own writes (``pending`` as in
        ``complete_many``). Raises ``LeaseLostError`` if the lease is no longer this caller's.
        """
        pause = self.retry_delay(lease)
        request_id = _request_id()
        text, where = scrub(error), scrub(stage)

        def first(c: Connection) -> tuple[str, datetime] | None:
            return repository.document_fail(
                c,
                queue_id=lease.queue_id,
                lease_token=lease.lease_token,
                error=text,
                stage=where,
                delay=pause,
                max_retries=self.settings.max_retries,
                permanent=permanent,
                request_id=request_id,
                session_id=self.session_id,
                error_type=error_type,
                traceback=scrub(traceback) if traceback else None,
            )

        def again(c: Connection) -> tuple[str, datetime] | None:
            previous = repository.document_failed_by(
                c, queue_id=lease.queue_id, lease_token=lease.lease_token, request_id=request_id
            )
            return previous or first(c)

        outcome = first(conn) if conn is not None else self._run("fail document", first, retried=again, deadline=deadline)
        pending = outcome is not None and conn is not None and _in_transaction(conn)
        if not pending:
            self._forget([lease.key])
        if outcome is None:
            raise LeaseLostError(scrub(f"lease on {lease.source_name}:{lease.doc_id} was lost; failure not recorded"))
        return FailResult(state=outcome[0], scheduled_for=outcome[1], delay=pause, lease=lease, pending=pending)

    def release(self, leases: Sequence[Lease] | None = None) -> set[LeaseKey]:
        """Give leases back untouched (e.g. on shutdown); they are claimable at once. Default: all held."""
        batch = list(self.held.values()) if leases is None else list({x.key: x for x in leases}.values())
        if not batch:
            return set()
        request_id = _request_id()

        def first(c: Connection) -> set[LeaseKey]:
            return repository.document_release(c, leases=batch, request_id=request_id)

        def again(c: Connection) -> set[LeaseKey]:
            done = repository.document_released_by(c, leases=batch, request_id=request_id)
            rest = [x for x in batch if x.key not in done]
            return done | (repository.document_release(c, leases=rest, request_id=request_id) if rest else set())

        released = self._run("release leases", first, retried=again)
        self._forget(x.key for x in batch)
        return released

    # ------------------------------------------------------------ inspection

    def outstanding(self) -> Outstanding:
        return self._run("read outstanding work", lambda c: repository.run_outstanding(c, run_id=self.run_id))

    def counts(self) -> dict[str, int]:
        return self._run("count documents", lambda c: repository.run_counts(c, run_id=self.run_id))

    def dead_letters(self) -> list[dict]:
        return self._run("list dead letters", lambda c: repository.documents_dead_letter(c, run_id=self.run_id))

    def retry_dead_letter(self, queue_id: int) -> bool:
        """Make a dead-lettered document claimable again and reopen its run (``deadletter.retry``)."""
        from go_doc_go.queue import deadletter

        return self._run("retry dead letter", lambda c: deadletter.retry(c, queue_id).retried > 0)


class QueueTransaction:
    """The caller's transaction on ``conn`` with queue effects that count only once it commits.

    ``__enter__`` begins the transaction (``conn`` must not be inside one);
    a clean exit commits and then forgets the completed and failed leases; an
    exception rolls back and keeps them held, so they are still heartbeated.
    """

    def __init__(self, queue: WorkQueue, conn: Connection) -> None:
        self.queue = queue
        self.conn = conn
        self.results: list[CompleteResult | FailResult] = []
        self._tx: object | None = None

    def __enter__(self) -> QueueTransaction:
        if _in_transaction(self.conn):
            raise QueueError("queue.transaction(conn) must begin the transaction: conn is already inside one")
        self._tx = self.conn.transaction()
        self._tx.__enter__()  # type: ignore[attr-defined]
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        assert self._tx is not None
        self._tx.__exit__(exc_type, exc, tb)  # type: ignore[attr-defined]  # commit or roll back; may raise
        if exc_type is None:
            for result in self.results:
                self.queue.confirm(result)
        return False

    def add_many(self, documents: Iterable[NewDocument]) -> AddResult:
        return self.queue.add_many(documents, conn=self.conn)

    def complete_many(
        self,
        leases: Sequence[Lease],
        *,
        content_hashes: Sequence[str | None] | None = None,
        outcomes: Sequence[str | None] | None = None,
        units: Sequence[tuple[int, int] | None] | None = None,
    ) -> CompleteResult:
        result = self.queue.complete_many(leases, content_hashes=content_hashes, outcomes=outcomes, units=units,
                                          conn=self.conn)
        self.results.append(result)
        return result

    def complete(self, lease: Lease, *, content_hash: str | None = None) -> CompleteResult:
        result = self.queue.complete(lease, content_hash=content_hash, conn=self.conn)
        self.results.append(result)
        return result

    def fail(
        self,
        lease: Lease,
        error: str,
        *,
        stage: str = "process",
        permanent: bool = False,
        error_type: str | None = None,
        traceback: str | None = None,
    ) -> FailResult:
        result = self.queue.fail(lease, error, stage=stage, permanent=permanent, error_type=error_type,
                                 traceback=traceback, conn=self.conn)
        self.results.append(result)
        return result
