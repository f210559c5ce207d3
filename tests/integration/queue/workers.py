"""Process entry points for multi-process tests (run in real OS processes)."""

from __future__ import annotations

import multiprocessing
import os
import time

from go_doc_go.config import WorkQueueConfig
from go_doc_go.queue.connection import make_pool
from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.work_queue import WorkQueue

CTX = multiprocessing.get_context("fork")


def open_queue(url: str, run_id: str, settings: WorkQueueConfig, worker_id: str | None = None):
    pool = make_pool(url, max_size=2)
    coordinator = RunCoordinator(pool, run_id_override=run_id, settings=settings, worker_id=worker_id)
    coordinator.ensure_run()
    session = coordinator.register()
    return pool, coordinator, WorkQueue(pool, run_id, settings, worker_id=coordinator.worker_id, session_id=session)


def drain(url: str, run_id: str, settings_json: str, results, start) -> None:  # type: ignore[no-untyped-def]
    """Claim and complete until the run is drained; report every claim and completion."""
    from go_doc_go.queue.records import BatchStatus

    settings = WorkQueueConfig.model_validate_json(settings_json)
    pool, coordinator, queue = open_queue(url, run_id, settings)
    from go_doc_go.queue.waker import Waker

    claims: list[tuple[int, int, int]] = []
    completed: list[int] = []
    start.wait()
    with Waker(url, run_id) as waker:
        while (batch := queue.next_batch(waker)).status is BatchStatus.CLAIMED:
            claims.extend((x.queue_id, x.lease_token, x.attempt) for x in batch.leases)
            completed.extend(queue.complete_many(batch.leases).completed_ids)
    assert batch.status is BatchStatus.DRAINED, batch
    coordinator.deregister()
    pool.close()
    results.put((os.getpid(), claims, completed))


def claim_and_hang(url: str, run_id: str, settings_json: str, n: int, claimed) -> None:  # type: ignore[no-untyped-def]
    """Claim n documents, report them, then hang until killed."""
    settings = WorkQueueConfig.model_validate_json(settings_json)
    pool, _, queue = open_queue(url, run_id, settings)
    leases = queue.claim(n)
    claimed.put([(x.queue_id, x.lease_token) for x in leases])
    time.sleep(3600)


def claim_then_complete(url: str, run_id: str, settings_json: str, claimed, go, outcome) -> None:  # type: ignore[no-untyped-def]
    """Claim one document, report it, wait for ``go`` (it may be frozen meanwhile), then complete it."""
    settings = WorkQueueConfig.model_validate_json(settings_json)
    pool, _, queue = open_queue(url, run_id, settings)
    (lease,) = queue.claim(1)
    claimed.put((lease.queue_id, lease.lease_token))
    go.wait()
    result = queue.complete_many([lease])
    outcome.put((result.completed_ids, result.refused_ids))
    pool.close()


def migrate(url: str, start, results) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    from go_doc_go.queue import migrations

    with psycopg.connect(url, autocommit=True) as conn:
        start.wait()
        try:
            results.put(("ok", migrations.apply(conn)))
        except Exception as error:  # noqa: BLE001
            results.put(("error", repr(error)))
