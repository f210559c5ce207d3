"""Acknowledger with real threads and a real database."""

from __future__ import annotations

import secrets
import threading
import time

import psycopg
import pytest

from go_doc_go.config import WorkQueueConfig
from go_doc_go.queue.acks import Acknowledger
from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.records import NewDocument
from go_doc_go.queue.work_queue import WorkQueue

pytestmark = pytest.mark.postgres


@pytest.fixture
def queue(pg_pool):  # type: ignore[no-untyped-def]
    def make(n: int, **settings: object) -> tuple[WorkQueue, list]:
        config = WorkQueueConfig(**settings)  # type: ignore[arg-type]
        coordinator = RunCoordinator(pg_pool, run_id_override=f"acks-{secrets.token_hex(6)}", settings=config)
        coordinator.start()
        work = WorkQueue(pg_pool, coordinator.run_id, config, session_id=coordinator.register())
        work.add_many([NewDocument("s", f"d{i}") for i in range(n)])
        return work, work.claim(n)

    return make


def completed_ids(pg_url: str, run_id: str) -> list[int]:
    with psycopg.connect(pg_url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT queue_id FROM document_queue WHERE run_id = %s AND state = 'completed' ORDER BY 1", (run_id,)
        )]


def test_acks_from_many_threads_are_each_written_once(pg_url, queue) -> None:
    work, leases = queue(400, batch_size=400, ack_flush_interval=0.01)
    acks = Acknowledger(work, batch_size=25)
    chunks = [leases[i::8] for i in range(8)]
    barrier = threading.Barrier(8)

    def ack_all(chunk: list) -> None:
        barrier.wait()
        for lease in chunk:
            acks.ack(lease)

    threads = [threading.Thread(target=ack_all, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    acks.close()
    assert acks.completed == 400 and acks.refused == [] and acks.pending() == 0
    assert completed_ids(pg_url, work.run_id) == sorted(x.queue_id for x in leases)
    assert work.held == {}


def test_zero_flush_interval_writes_each_ack_at_once(pg_url, queue) -> None:
    work, leases = queue(3, ack_flush_interval=0)
    acks = Acknowledger(work)
    acks.ack(leases[0])
    deadline = time.monotonic() + 10
    while not completed_ids(pg_url, work.run_id):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert acks.pending() == 0
    acks.close()


def test_nothing_is_written_before_the_flush_interval_unless_the_batch_is_full(pg_url, queue) -> None:
    work, leases = queue(3, ack_flush_interval=60)
    acks = Acknowledger(work, batch_size=10)
    for lease in leases:
        acks.ack(lease)
    assert acks.pending() == 3 and completed_ids(pg_url, work.run_id) == []
    assert sorted(x.key for x in acks.unacknowledged()) == sorted(x.key for x in leases)
    assert acks.flush() == 3 and acks.pending() == 0
    acks.close()


def test_refused_acks_go_to_the_callback_with_their_leases(pg_url, queue) -> None:
    work, leases = queue(2)
    with psycopg.connect(pg_url, autocommit=True) as conn:  # the first lease passed to another worker
        conn.execute("UPDATE document_queue SET lease_token = lease_token + 1000000 WHERE queue_id = %s",
                     (leases[0].queue_id,))
    refused: list = []
    with Acknowledger(work, on_refused=refused.extend) as acks:
        for lease in leases:
            acks.ack(lease)
    assert refused == [leases[0]] and acks.refused == [leases[0]] and acks.completed == 1


def test_ack_after_close_is_an_error_and_close_twice_is_fine(queue) -> None:
    work, leases = queue(1)
    acks = Acknowledger(work)
    acks.close()
    acks.close()
    with pytest.raises(RuntimeError, match="closed"):
        acks.ack(leases[0])


def test_close_returns_at_once_when_nothing_is_pending(queue) -> None:
    work, _ = queue(0)
    acks = Acknowledger(work, flush_interval=3600)
    began = time.monotonic()
    acks.close()
    assert time.monotonic() - began < 1.0
