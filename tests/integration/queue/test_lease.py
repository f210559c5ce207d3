"""Leases: loss is detected and refused, heartbeats extend, expiry is a crash, crashes poison."""

from __future__ import annotations

import os
import signal
import time

import psycopg
import pytest

from go_doc_go.exceptions import LeaseLostError
from go_doc_go.queue.records import NewDocument

from .conftest import other_worker
from .workers import CTX, claim_and_hang, claim_then_complete

pytestmark = pytest.mark.postgres


def row(pg_url: str, queue_id: int) -> dict:
    from go_doc_go.queue import repository

    with psycopg.connect(pg_url) as conn:
        return repository.document_get(conn, queue_id=queue_id)


def test_frozen_worker_loses_its_lease_and_is_refused(pg_url, new_run) -> None:
    coordinator, queue = new_run(claim_timeout=1, heartbeat_interval=0.5)
    queue.add(source_name="s", doc_id="only")
    claimed, go, outcome = CTX.Queue(), CTX.Event(), CTX.Queue()
    proc = CTX.Process(
        target=claim_then_complete,
        args=(pg_url, coordinator.run_id, coordinator.settings.model_dump_json(), claimed, go, outcome),
    )
    proc.start()
    queue_id, old_token = claimed.get(timeout=30)
    os.kill(proc.pid, signal.SIGSTOP)  # frozen past its lease
    try:
        time.sleep(1.2)
        (lease,) = queue.claim(1)  # any claim reclaims the expired lease
        assert (lease.queue_id, lease.attempt, lease.crash_count) == (queue_id, 2, 1)
        assert lease.lease_token != old_token
        queue.complete(lease)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    go.set()
    completed, refused = outcome.get(timeout=30)
    proc.join(30)
    assert (completed, refused) == ([], [queue_id]), "the stale owner learns its lease was lost"
    state = row(pg_url, queue_id)
    assert state["state"] == "completed" and state["lease_token"] == lease.lease_token


def test_stale_owner_cannot_fail_or_heartbeat(new_run) -> None:
    coordinator, queue = new_run(claim_timeout=0.5, heartbeat_interval=0.2)
    queue.add(source_name="s", doc_id="x")
    (stale,) = queue.claim(1)
    time.sleep(0.6)
    other = other_worker(coordinator)
    (fresh,) = other.claim(1)
    assert queue.heartbeat() == [stale]
    with pytest.raises(LeaseLostError):
        queue.fail(stale, "late failure")
    with pytest.raises(LeaseLostError):
        queue.complete(stale)
    other.complete(fresh)
    assert queue.counts()["completed"] == 1


def test_heartbeat_keeps_a_lease_alive(new_run) -> None:
    coordinator, queue = new_run(claim_timeout=0.6, heartbeat_interval=0.2)
    queue.add(source_name="s", doc_id="slow")
    (lease,) = queue.claim(1)
    other = other_worker(coordinator)
    for _ in range(6):
        time.sleep(0.2)
        assert queue.heartbeat() == []
        assert other.claim(1) == []
    queue.complete(lease)
    assert queue.counts()["completed"] == 1


def test_heartbeat_service_run_once(new_run) -> None:
    from go_doc_go.queue.heartbeat import Heartbeat

    coordinator, queue = new_run(claim_timeout=0.6, heartbeat_interval=0.2)
    queue.add(source_name="s", doc_id="d")
    queue.claim(1)
    beat = Heartbeat(coordinator, queue)
    result = beat.run_once()
    assert result.alive and result.lost == []
    beat.start()
    time.sleep(1.0)
    beat.stop()
    assert not beat.last_error and len(queue.held) == 1


def test_lease_expiry_is_a_crash_and_poisons(pg_url, new_run) -> None:
    _, queue = new_run(claim_timeout=0.3, heartbeat_interval=0.1, max_retries=3)
    queue.add(source_name="s", doc_id="poison")
    for attempt in (1, 2, 3):
        (lease,) = queue.claim(1)
        assert lease.attempt == attempt and lease.crash_count == attempt - 1
        time.sleep(0.35)  # the worker "crashes": no heartbeat, no completion
    assert queue.claim(1) == [], "the third expiry dead-letters the document"
    (dead,) = queue.dead_letters()
    assert (dead["crash_count"], dead["error_stage"]) == (3, "lease")
    assert [entry["kind"] for entry in dead["error_history"]] == ["crash"] * 3
    assert queue.counts()["dead_letter"] == 1


def test_reclaim_after_sigkill(pg_url, new_run) -> None:
    coordinator, queue = new_run(claim_timeout=1, heartbeat_interval=0.3)
    queue.add_many([NewDocument("s", f"d{i}") for i in range(10)])
    claimed = CTX.Queue()
    proc = CTX.Process(
        target=claim_and_hang, args=(pg_url, coordinator.run_id, coordinator.settings.model_dump_json(), 10, claimed)
    )
    proc.start()
    held = claimed.get(timeout=30)
    assert len(held) == 10
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    assert proc.exitcode == -signal.SIGKILL
    assert queue.claim(10) == [], "leases still valid right after the kill"
    time.sleep(1.1)
    leases = queue.claim(10)
    assert sorted(x.queue_id for x in leases) == sorted(q for q, _ in held)
    assert {(x.attempt, x.crash_count) for x in leases} == {(2, 1)}
    assert queue.complete_many(leases).refused == []
    assert queue.counts()["completed"] == 10


def test_restart_with_same_worker_id_does_not_inherit_leases(pg_url, new_run) -> None:
    coordinator, queue = new_run(worker_id="fixed-worker", claim_timeout=0.6, heartbeat_interval=0.2)
    queue.add(source_name="s", doc_id="d")
    (old_lease,) = queue.claim(1)
    # A new process starts with the same --worker-id: a new session, nothing held.
    restarted = other_worker(coordinator, worker_id="fixed-worker")
    assert restarted.held == {} and restarted.session_id != queue.session_id
    assert not coordinator.heartbeat(), "the old session was replaced"
    statuses = {w["session_id"]: w["status"] for w in coordinator.workers()}
    assert statuses == {queue.session_id: "replaced", restarted.session_id: "running"}
    for _ in range(4):
        time.sleep(0.2)
        restarted.heartbeat()
    (lease,) = restarted.claim(1)
    assert lease.queue_id == old_lease.queue_id and lease.crash_count == 1, "the old lease expired as a crash"


def test_release_makes_documents_claimable_without_a_crash(new_run) -> None:
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", f"d{i}") for i in range(3)])
    queue.claim(3)
    assert len(queue.release()) == 3
    leases = other_worker(coordinator).claim(3)
    assert {(x.attempt, x.crash_count) for x in leases} == {(1, 0)}


def test_a_replaced_session_stops_claiming_for_good(new_run) -> None:
    from go_doc_go.queue.heartbeat import Heartbeat
    from go_doc_go.queue.records import BatchStatus

    coordinator, queue = new_run(worker_id="same-id", poll_interval=0.05)
    queue.add(source_name="s", doc_id="d")
    coordinator.discovery_done()
    other_worker(coordinator, worker_id="same-id")  # a new process took over this worker id
    result = Heartbeat(coordinator, queue).run_once()
    assert not result.alive and not queue.claiming
    assert queue.next_batch().status is BatchStatus.STOPPED
