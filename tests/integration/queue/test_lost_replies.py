"""A retried operation whose first try committed before its reply was lost recognises its own effect."""

from __future__ import annotations

import psycopg
import pytest

from go_doc_go.queue.records import NewDocument
from go_doc_go.queue.work_queue import WorkQueue

from .helpers import LossyPool, row

pytestmark = pytest.mark.postgres


def lossy_queue(queue: WorkQueue, name: str) -> tuple[WorkQueue, LossyPool]:
    lossy = LossyPool(queue.pool, name)
    twin = WorkQueue(lossy, queue.run_id, queue.settings, worker_id=queue.worker_id, session_id=queue.session_id)
    return twin, lossy


def processing(pg_url: str, run_id: str) -> list[tuple[int, int]]:
    with psycopg.connect(pg_url) as conn:
        return conn.execute(
            "SELECT queue_id, lease_token FROM document_queue WHERE run_id = %s AND state = 'processing' ORDER BY 1",
            (run_id,),
        ).fetchall()


def test_claim_retried_after_a_lost_reply_returns_the_committed_leases(pg_url, new_run) -> None:
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", f"d{i}") for i in range(10)])
    twin, lossy = lossy_queue(queue, "document_claim")
    leases = twin.claim(3)
    assert lossy.lost == 1, "the first claim committed and its reply was lost"
    committed = processing(pg_url, coordinator.run_id)
    assert len(committed) == 3, "the retry claimed nothing more: no lease is held by nobody"
    assert sorted(x.key for x in leases) == committed
    assert set(twin.held) == set(committed)


def test_fail_retried_after_a_lost_reply_reports_the_committed_outcome(pg_url, new_run) -> None:
    _, queue = new_run(max_retries=3)
    queue.add(source_name="s", doc_id="d")
    (lease,) = queue.claim(1)
    twin, lossy = lossy_queue(queue, "document_fail")
    result = twin.fail(lease, "boom", stage="parse")
    assert lossy.lost == 1
    state = row(pg_url, lease.queue_id)
    assert (result.state, state["state"], state["failure_count"]) == ("retry", "retry", 1), "recorded exactly once"
    assert len(state["error_history"]) == 1


def test_release_retried_after_a_lost_reply_reports_the_released_leases(pg_url, new_run) -> None:
    _, queue = new_run()
    queue.add_many([NewDocument("s", f"d{i}") for i in range(2)])
    leases = queue.claim(2)
    twin, lossy = lossy_queue(queue, "document_release")
    assert len(twin.release(leases)) == 2, "both were released (by the first try)"
    assert lossy.lost == 1
    assert {row(pg_url, x.queue_id)["state"] for x in leases} == {"pending"}


def test_complete_retried_after_a_lost_reply_counts_as_completed(pg_url, new_run) -> None:
    _, queue = new_run()
    queue.add(source_name="s", doc_id="d")
    (lease,) = queue.claim(1)
    twin, lossy = lossy_queue(queue, "document_complete_many")
    result = twin.complete_many([lease])
    assert lossy.lost == 1
    assert len(result.completed) == 1 and not result.refused
