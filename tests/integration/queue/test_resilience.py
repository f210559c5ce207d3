"""Dropped connections, acknowledgements, waking."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from go_doc_go.queue.acks import Acknowledger
from go_doc_go.queue.records import BatchStatus, NewDocument
from go_doc_go.queue.waker import Waker

from .conftest import other_worker
from .workers import CTX, drain

pytestmark = pytest.mark.postgres


def terminate_others(pg_url: str) -> int:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def test_run_completes_despite_pg_terminate_backend(pg_url, new_run) -> None:
    coordinator, queue = new_run(batch_size=10, claim_timeout=1.5, heartbeat_interval=0.5, poll_interval=0.3,
                                 max_retries=10)
    queue.add_many([NewDocument("s", f"d{i}") for i in range(3000)])
    coordinator.discovery_done()
    start, results = CTX.Barrier(4), CTX.Queue()
    settings = coordinator.settings.model_dump_json()
    procs = [CTX.Process(target=drain, args=(pg_url, coordinator.run_id, settings, results, start)) for _ in range(4)]
    for p in procs:
        p.start()
    killed = 0
    for _ in range(3):
        time.sleep(0.3)
        killed += terminate_others(pg_url)
    reports = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert killed > 0, "connections were really terminated mid-run"
    assert queue.counts()["completed"] == 3000, "the run still completes"
    completed = [q for _, _, done in reports for q in done]
    assert len(set(completed)) == 3000


def test_queue_survives_a_terminated_pool_connection(pg_url, new_run) -> None:
    _, queue = new_run()
    queue.add_many([NewDocument("s", f"d{i}") for i in range(5)])
    terminate_others(pg_url)
    leases = queue.claim(5)
    terminate_others(pg_url)
    assert queue.complete_many(leases).refused == []


def test_acks_flush_by_batch_by_delay_and_on_close(new_run) -> None:
    _, queue = new_run(batch_size=4, ack_flush_interval=0.2)
    queue.add_many([NewDocument("s", f"d{i}") for i in range(9)])
    leases = queue.claim(9)
    acks = Acknowledger(queue)
    for lease in leases[:4]:
        acks.ack(lease)
    deadline = time.monotonic() + 2
    while queue.counts()["completed"] < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert queue.counts()["completed"] == 4, "a full batch flushes at once"
    acks.ack(leases[4])
    time.sleep(0.4)
    assert queue.counts()["completed"] == 5, "a partial batch flushes after the delay"
    acks.flush_interval = 60
    for lease in leases[5:]:
        acks.ack(lease)
    acks.close()
    assert queue.counts()["completed"] == 9 and acks.completed == 9, "close flushes the rest"


def test_acks_report_refused_completions(new_run) -> None:
    coordinator, queue = new_run(claim_timeout=0.3, heartbeat_interval=0.1)
    queue.add(source_name="s", doc_id="d")
    (stale,) = queue.claim(1)
    time.sleep(0.35)
    (fresh,) = other_worker(coordinator).claim(1)
    refused: list = []
    with Acknowledger(queue, on_refused=refused.extend) as acks:
        acks.ack(stale)
    assert refused == [stale] and acks.completed == 0
    assert queue.counts()["processing"] == 1, "the new owner's lease stands"
    del fresh


def test_acks_survive_a_dropped_connection(pg_url, new_run) -> None:
    _, queue = new_run(ack_flush_interval=0.05)
    queue.add_many([NewDocument("s", f"d{i}") for i in range(3)])
    leases = queue.claim(3)
    terminate_others(pg_url)
    with Acknowledger(queue) as acks:
        for lease in leases:
            acks.ack(lease)
    assert queue.counts()["completed"] == 3


def test_idle_worker_is_woken_by_notify(pg_url, new_run) -> None:
    coordinator, queue = new_run(poll_interval=10)
    with Waker(pg_url, coordinator.run_id) as waker:
        waker.start()
        adder = threading.Timer(0.3, lambda: queue.add(source_name="s", doc_id="new"))
        began = time.monotonic()
        adder.start()
        assert waker.wait(5.0)
        assert time.monotonic() - began < 2.0
    adder.join()


def test_waker_ignores_other_runs_and_times_out(pg_url, new_run) -> None:
    coordinator, _ = new_run()
    _, other_queue = new_run()
    with Waker(pg_url, coordinator.run_id) as waker:
        waker.start()
        other_queue.add(source_name="s", doc_id="elsewhere")
        began = time.monotonic()
        assert not waker.wait(0.4)
        assert time.monotonic() - began >= 0.35


def test_empty_queue_does_not_end_work_while_others_hold_documents(pg_url, new_run) -> None:
    coordinator, queue = new_run(claim_timeout=0.5, heartbeat_interval=0.1, poll_interval=0.1)
    queue.add(source_name="s", doc_id="held-elsewhere")
    coordinator.discovery_done()
    other = other_worker(coordinator)
    (held,) = other.claim(1)
    got: list = []

    def idle_worker() -> None:
        with Waker(pg_url, coordinator.run_id) as waker:
            got.extend(queue.next_batch(waker).leases)

    thread = threading.Thread(target=idle_worker)
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive(), "the idle worker waits instead of exiting"
    other.fail(held, "transient", stage="fetch")  # becomes a retry, due soon
    thread.join(10)
    assert [x.queue_id for x in got] == [held.queue_id]
    queue.complete_many(got)
    with Waker(pg_url, coordinator.run_id) as waker:
        assert queue.next_batch(waker).status is BatchStatus.DRAINED, "a drained run ends the loop"
