"""The test database really goes away (ALLOW_CONNECTIONS false + terminated sessions) and comes back.

Each test uses its own pool, so the module's shared pool is not left reconnecting.
"""

from __future__ import annotations

import time

import pytest

from go_doc_go.config import WorkQueueConfig
from go_doc_go.exceptions import QueueError
from go_doc_go.queue.acks import Acknowledger
from go_doc_go.queue.connection import make_pool
from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.heartbeat import Heartbeat
from go_doc_go.queue import records
from go_doc_go.queue.records import NewDocument
from go_doc_go.queue.work_queue import WorkQueue

from .helpers import database_down, wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture
def worker(pg_url):  # type: ignore[no-untyped-def]
    pools = []

    def make(**settings: object) -> tuple[RunCoordinator, WorkQueue]:
        pool = make_pool(pg_url, max_size=3)
        pools.append(pool)
        config = WorkQueueConfig(**settings)  # type: ignore[arg-type]
        coordinator = RunCoordinator(pool, run_id_override=f"outage-{time.monotonic_ns()}", settings=config)
        coordinator.start()
        session = coordinator.register()
        return coordinator, WorkQueue(pool, coordinator.run_id, config, worker_id=coordinator.worker_id,
                                      session_id=session)

    yield make
    for pool in pools:
        pool.close()


def test_claiming_stops_during_an_outage_and_starts_again_after_it(pg_url, worker) -> None:
    coordinator, queue = worker(claim_timeout=0.5, heartbeat_interval=0.1, poll_interval=0.1)
    queue.add_many([NewDocument("s", f"d{i}") for i in range(2)])
    coordinator.discovery_done()
    beat = Heartbeat(coordinator, queue)
    assert beat.run_once().alive
    with database_down(pg_url):
        began = time.monotonic()
        while queue.claiming:  # its own heartbeats fail; past claim_timeout it stops claiming
            with pytest.raises(QueueError):
                beat.run_once()
            assert time.monotonic() - began < 30, "each failing round ends within its interval"
        assert queue.next_batch().status is records.BatchStatus.STOPPED, "'stopped claiming' is its own answer"

    def heartbeat_ok() -> bool:
        try:
            return beat.run_once().alive
        except QueueError:
            return False

    wait_until(heartbeat_ok, timeout=60, what="a heartbeat after the outage")
    assert queue.claiming, "a heartbeat that succeeds again resumes claiming"
    batch = queue.next_batch()
    assert batch.status is records.BatchStatus.CLAIMED and len(batch.leases) == 2


def test_close_with_the_database_down_reports_exactly_the_unacknowledged_leases(pg_url, worker) -> None:
    from go_doc_go.queue.errors import AcksNotWrittenError

    _, queue = worker(ack_flush_interval=60)
    queue.add_many([NewDocument("s", f"d{i}") for i in range(3)])
    leases = queue.claim(3)
    acks = Acknowledger(queue)
    for lease in leases:
        acks.ack(lease)
    with database_down(pg_url):
        began = time.monotonic()
        with pytest.raises(AcksNotWrittenError) as error:
            acks.close(timeout=1.0)
        assert time.monotonic() - began < 5, "close() gives up after its timeout"
        assert sorted(x.key for x in error.value.leases) == sorted(x.key for x in leases)
        assert "3 completions not acknowledged" in str(error.value)
        assert set(queue.held) == {x.key for x in leases}, "still held: nothing was dropped"
    acks.close(timeout=60)  # the database is back: the same acks are written now
    assert acks.completed == 3 and queue.counts()["completed"] == 3
