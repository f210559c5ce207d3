"""WorkQueue: add, claim, heartbeat, complete and fail documents of one run.

Every call that changes a document presents the lease token handed out by its
claim; a caller whose lease passed to another worker is refused (it learns so
through ``CompleteResult.refused`` or ``LeaseLostError``) and never overwrites
the new owner's state. Connection errors are retried (see ``connection``).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime

from psycopg import Connection
from psycopg_pool import ConnectionPool

from go_doc_go.config import WorkQueueConfig
from go_doc_go.exceptions import LeaseLostError
from go_doc_go.queue import backoff, repository
from go_doc_go.queue.connection import with_connection
from go_doc_go.queue.records import AddResult, CompleteResult, FailResult, Lease, NewDocument, Outstanding
from go_doc_go.queue.waker import Waker

#: Bulk adds are sent in chunks of this many rows (one unnest statement each).
ADD_CHUNK = 5000


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
        self.worker_id = worker_id
        self.session_id = session_id
        self.rng = rng or random.Random()
        self.claiming = True  # cleared when this worker's own heartbeats fail
        self._held: dict[int, Lease] = {}
        self._next_reclaim = 0.0
        self._lock = threading.Lock()

    # ------------------------------------------------------------ helpers

    def _run(self, what: str, operation):  # type: ignore[no-untyped-def]
        return with_connection(self.pool, what, operation)

    @property
    def held(self) -> dict[int, Lease]:
        """Leases this worker holds right now, by queue id."""
        with self._lock:
            return dict(self._held)

    def _forget(self, queue_ids: Iterable[int]) -> None:
        with self._lock:
            for queue_id in queue_ids:
                self._held.pop(queue_id, None)

    # ------------------------------------------------------------ adding

    def add_many(self, documents: Iterable[NewDocument], *, conn: Connection | None = None) -> AddResult:
        """Queue documents (idempotent); wakes idle workers once per chunk."""
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

    def claim(self, limit: int | None = None) -> list[Lease]:
        """Claim up to ``limit`` (default ``batch_size``) documents.

        Expired leases are reclaimed first (any worker's claim does it, no
        leader needed); that step runs at most every ``min(1 s, claim_timeout / 4)``
        per worker, which bounds how late an expired lease is noticed.
        """
        if not self.claiming:
            return []
        limit = limit or self.settings.batch_size

        def operation(conn: Connection) -> list[Lease]:
            now = time.monotonic()
            if now >= self._next_reclaim:
                # Throttled (it walks the lease index): at most every claim_timeout/4, capped at 1 s.
                self._next_reclaim = now + min(1.0, self.settings.claim_timeout / 4)
                repository.documents_reclaim_expired(
                    conn, run_id=self.run_id, max_retries=self.settings.max_retries
                )
            return repository.document_claim(
                conn,
                run_id=self.run_id,
                worker_id=self.worker_id,
                session_id=self.session_id,
                limit=limit,
                claim_timeout=self.settings.claim_timeout,
            )

        leases = self._run("claim documents", operation)
        with self._lock:
            for lease in leases:
                self._held[lease.queue_id] = lease
        return leases

    def next_batch(self, waker: Waker | None = None, limit: int | None = None) -> list[Lease]:
        """Claim a batch, waiting idly (LISTEN/NOTIFY, ``poll_interval`` fallback) while none is ready.

        Returns an empty list only when the run has nothing left to do: nothing
        claimable, leased to others or waiting to retry (or when this worker
        stopped claiming). A momentarily empty queue is not the end.
        """
        if waker is not None:
            waker.start()
        while self.claiming:
            leases = self.claim(limit)
            if leases:
                return leases
            left = self.outstanding()
            if left.drained:
                return []
            timeout = self.settings.poll_interval
            if left.ready == 0 and left.next_due_in is not None:
                timeout = min(timeout, max(left.next_due_in, 0.01))
            if left.ready > 0:
                timeout = 0.01  # claimable rows were locked by others a moment ago
            if waker is not None:
                waker.wait(timeout)
            else:
                time.sleep(timeout)
        return []

    def heartbeat(self) -> set[int]:
        """Extend every lease this worker holds; returns the queue ids it has lost."""
        held = self.held
        if not held:
            return set()
        ids = list(held)
        kept = self._run(
            "extend leases",
            lambda c: repository.document_heartbeat_many(
                c,
                queue_ids=ids,
                lease_tokens=[held[i].lease_token for i in ids],
                claim_timeout=self.settings.claim_timeout,
            ),
        )
        lost = set(ids) - kept
        with self._lock:
            for queue_id in lost:
                if (lease := self._held.get(queue_id)) is not None and lease is held[queue_id]:
                    del self._held[queue_id]
        return lost

    # ------------------------------------------------------------ finishing

    def complete_many(
        self,
        leases: Sequence[Lease],
        *,
        content_hashes: Sequence[str | None] | None = None,
        conn: Connection | None = None,
    ) -> CompleteResult:
        """Complete documents in one statement. Pass ``conn`` to commit with your own writes."""
        if not leases:
            return CompleteResult([], [])

        def write(c: Connection) -> set[int]:
            return repository.document_complete_many(
                c,
                queue_ids=[lease.queue_id for lease in leases],
                lease_tokens=[lease.lease_token for lease in leases],
                session_id=self.session_id,
                content_hashes=content_hashes,
            )

        done = write(conn) if conn is not None else self._run("complete documents", write)
        self._forget(lease.queue_id for lease in leases)
        completed = [lease.queue_id for lease in leases if lease.queue_id in done]
        refused = [lease.queue_id for lease in leases if lease.queue_id not in done]
        return CompleteResult(completed, refused)

    def complete(self, lease: Lease, *, content_hash: str | None = None, conn: Connection | None = None) -> None:
        """Complete one document; raises ``LeaseLostError`` if the lease passed to another worker."""
        result = self.complete_many([lease], content_hashes=[content_hash], conn=conn)
        if result.refused:
            raise LeaseLostError(
                f"lease on {lease.source_name}:{lease.doc_id} (attempt {lease.attempt}) was lost; result discarded"
            )

    def retry_delay(self, lease: Lease) -> float:
        """Backoff before the next try after this lease's failure (seconds, jittered, capped)."""
        return backoff.delay(
            lease.failure_count + 1,
            base=self.settings.retry_backoff_base,
            cap=self.settings.retry_backoff_max,
            rng=self.rng,
        )

    def fail(self, lease: Lease, error: str, *, stage: str = "process", permanent: bool = False) -> FailResult:
        """Record a failure: retry with backoff, or dead letter after ``max_retries`` (or if permanent).

        Raises ``LeaseLostError`` if the lease is no longer this caller's.
        """
        pause = self.retry_delay(lease)

        def write(c: Connection) -> tuple[str, datetime] | None:
            with c.transaction():
                outcome = repository.document_fail(
                    c,
                    queue_id=lease.queue_id,
                    lease_token=lease.lease_token,
                    error=error,
                    stage=stage,
                    delay=pause,
                    max_retries=self.settings.max_retries,
                    permanent=permanent,
                )
                if outcome is not None and self.session_id is not None:
                    repository.worker_count_failures(c, session_id=self.session_id, n=1)
                return outcome

        outcome = self._run("fail document", write)
        self._forget([lease.queue_id])
        if outcome is None:
            raise LeaseLostError(f"lease on {lease.source_name}:{lease.doc_id} was lost; failure not recorded")
        return FailResult(state=outcome[0], scheduled_for=outcome[1], delay=pause)

    def release(self, leases: Sequence[Lease] | None = None) -> set[int]:
        """Give leases back untouched (e.g. on shutdown); they are claimable at once. Default: all held."""
        leases = list(self.held.values()) if leases is None else list(leases)
        if not leases:
            return set()
        released = self._run(
            "release leases",
            lambda c: repository.document_release(
                c, queue_ids=[x.queue_id for x in leases], lease_tokens=[x.lease_token for x in leases]
            ),
        )
        self._forget(x.queue_id for x in leases)
        return released

    # ------------------------------------------------------------ inspection

    def outstanding(self) -> Outstanding:
        return self._run("read outstanding work", lambda c: repository.run_outstanding(c, run_id=self.run_id))

    def counts(self) -> dict[str, int]:
        return self._run("count documents", lambda c: repository.run_counts(c, run_id=self.run_id))

    def dead_letters(self) -> list[dict]:
        return self._run("list dead letters", lambda c: repository.documents_dead_letter(c, run_id=self.run_id))

    def retry_dead_letter(self, queue_id: int) -> bool:
        """Make a dead-lettered document claimable again and reopen its run."""
        return self._run(
            "retry dead letter", lambda c: repository.document_retry_dead_letter(c, queue_id=queue_id) is not None
        )
