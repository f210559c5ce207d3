"""Failures: jittered retries that become due, dead letters and their retry."""

from __future__ import annotations

import time

import psycopg
import pytest

from go_doc_go.queue.records import NewDocument

pytestmark = pytest.mark.postgres


def seconds_until(pg_url: str, queue_id: int) -> float:
    with psycopg.connect(pg_url) as conn:
        return conn.execute(
            "SELECT extract(epoch FROM scheduled_for - now()) FROM document_queue WHERE queue_id = %s", (queue_id,)
        ).fetchone()[0]


def test_failure_schedules_a_jittered_retry_that_becomes_claimable(pg_url, new_run) -> None:
    _, queue = new_run(retry_backoff_base=0.8, retry_backoff_max=5, max_retries=3)
    queue.add(source_name="s", doc_id="flaky")
    (lease,) = queue.claim(1)
    result = queue.fail(lease, "timeout talking to source", stage="fetch")
    assert result.state == "retry" and 0.4 <= result.delay <= 0.8
    assert 0.0 < float(seconds_until(pg_url, lease.queue_id)) <= 0.8
    assert queue.claim(1) == [], "not claimable before it is due"
    time.sleep(result.delay + 0.05)
    (again,) = queue.claim(1)
    assert (again.queue_id, again.attempt, again.failure_count) == (lease.queue_id, 2, 1)
    # Second failure: the ceiling doubles (1.6 s), capped by retry_backoff_max.
    second = queue.fail(again, "again", stage="fetch")
    assert 0.8 <= second.delay <= 1.6


def test_max_retries_failures_dead_letter(pg_url, new_run) -> None:
    _, queue = new_run(retry_backoff_base=0.01, retry_backoff_max=0.01, max_retries=2)
    queue.add(source_name="s", doc_id="broken")
    states = []
    for _ in range(3):
        time.sleep(0.02)
        (lease,) = queue.claim(1)
        states.append(queue.fail(lease, "parse error", stage="parse").state)
    assert states == ["retry", "retry", "dead_letter"], "max_retries retries, then the dead letter"
    (dead,) = queue.dead_letters()
    assert dead["last_error"] == "parse error" and dead["error_stage"] == "parse"
    assert [e["attempt"] for e in dead["error_history"]] == [1, 2, 3]


def test_permanent_failure_dead_letters_at_once(new_run) -> None:
    _, queue = new_run()
    queue.add(source_name="s", doc_id="bad")
    (lease,) = queue.claim(1)
    assert queue.fail(lease, "not a PDF", stage="parse", permanent=True).state == "dead_letter"


def test_retry_from_dead_letter_reopens_the_run(new_run) -> None:
    from go_doc_go.queue.leader import LeaderLease

    coordinator, queue = new_run(max_retries=0)
    queue.add_many([NewDocument("s", "ok"), NewDocument("s", "bad")])
    for lease in queue.claim(2):
        if lease.doc_id == "ok":
            queue.complete(lease)
        else:
            assert queue.fail(lease, "boom").state == "dead_letter"
    coordinator.discovery_done()
    leader = LeaderLease(coordinator.pool, coordinator.run_id, coordinator.holder_id, ttl=10)
    term = leader.attempt()
    assert coordinator.begin_post_processing(term) and coordinator.complete(term)
    (dead,) = queue.dead_letters()
    assert queue.retry_dead_letter(dead["queue_id"])
    assert not queue.retry_dead_letter(dead["queue_id"]), "only a dead letter can be retried"
    assert coordinator.get().status == "active"
    (lease,) = queue.claim(1)
    assert lease.doc_id == "bad" and lease.failure_count == 0
    queue.complete(lease)
    assert queue.counts() == {"pending": 0, "scheduled": 0, "processing": 0, "retry": 0, "completed": 2,
                              "dead_letter": 0}
