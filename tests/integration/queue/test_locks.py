"""No lock a document transaction holds is one the heartbeat, a claim or another completion needs."""

from __future__ import annotations

import time

import psycopg
import pytest

from go_doc_go.queue.heartbeat import Heartbeat
from go_doc_go.queue.records import NewDocument

from .conftest import other_worker
from .helpers import Background, finishes_without_waiting, lock_waiters, row, wait_until

pytestmark = pytest.mark.postgres


def test_a_document_transaction_blocks_no_heartbeat_claim_or_completion(pg_url, new_run) -> None:
    coordinator, queue = new_run(claim_timeout=30, heartbeat_interval=1)
    queue.add_many([NewDocument("s", f"d{i}") for i in range(4)])
    a, b, c = queue.claim(3)
    beat = Heartbeat(coordinator, queue)
    before = row(pg_url, b.queue_id)["lease_expires_at"]
    with psycopg.connect(pg_url) as document_tx:  # the worker's long document transaction, left open
        queue.complete(a, conn=document_tx)
        heartbeat = finishes_without_waiting(pg_url, beat.run_once)
        assert heartbeat.done, "the heartbeat waited for the document transaction"
        result = heartbeat.get()
        assert result.alive and result.lost == []
        assert row(pg_url, b.queue_id)["lease_expires_at"] > before, "the other leases were extended meanwhile"
        assert a.key in queue.held, "the lease in the open transaction still counts as held"
        claim = finishes_without_waiting(pg_url, lambda: queue.claim(1))
        assert claim.done and len(claim.get()) == 1, "this worker's claims do not wait"
        completion = finishes_without_waiting(pg_url, lambda: queue.complete_many([c]))
        assert completion.done and completion.get().completed == [c], "nor do its other completions"
        document_tx.commit()
    queue.heartbeat()
    assert a.key not in queue.held
    counts = {w["session_id"]: w["completed_count"] for w in coordinator.workers()}
    assert counts[queue.session_id] == 2, "per-worker counters still count every completion"


def test_a_live_worker_keeps_its_leases_through_a_long_transaction(pg_url, new_run) -> None:
    """The heartbeat of a worker inside a document transaction keeps the others off its leases."""
    coordinator, queue = new_run(claim_timeout=1, heartbeat_interval=0.3)
    queue.add_many([NewDocument("s", f"d{i}") for i in range(2)])
    a, b = queue.claim(2)
    other = other_worker(coordinator)
    with psycopg.connect(pg_url) as document_tx:
        queue.complete(a, conn=document_tx)
        # Several heartbeat rounds past claim_timeout while the transaction stays open.
        beat = Heartbeat(coordinator, queue)
        with psycopg.connect(pg_url, autocommit=True) as clock:
            start = clock.execute("SELECT clock_timestamp()").fetchone()[0]
            while (clock.execute("SELECT clock_timestamp() - %s", (start,)).fetchone()[0]).total_seconds() < 1.5:
                job = finishes_without_waiting(pg_url, beat.run_once)
                assert job.done, "the heartbeat waited for the document transaction"
                assert not job.get().lost
                other.reclaim_expired()
                time.sleep(0.2)  # the heartbeat interval
        assert other.claim(2) == [], "no lease of the live worker expired"
        document_tx.commit()
    assert row(pg_url, a.queue_id)["state"] == "completed"
    assert queue.complete_many([b]).completed == [b]


def test_concurrent_repeat_of_a_completion_is_recognised(pg_url, new_run) -> None:
    _, queue = new_run()
    queue.add(source_name="s", doc_id="d")
    (lease,) = queue.claim(1)
    with psycopg.connect(pg_url) as first:
        queue.complete_many([lease], conn=first)  # holds the row until it commits
        repeat = Background(lambda: queue.complete_many([lease]))
        wait_until(lambda: lock_waiters(pg_url) > 0, what="the repeat to wait for the first completion")
        first.commit()
    result = repeat.get()
    assert len(result.completed) == 1 and not result.refused, "our own completion, seen after it committed"
