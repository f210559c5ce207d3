"""Run status and discovery: claims only for an active run, who begins a pass, and what next_batch answers."""

from __future__ import annotations

import threading

import psycopg
import pytest

from go_doc_go.queue import records
from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.leader import LeaderLease
from go_doc_go.queue.records import NewDocument
from go_doc_go.queue.waker import Waker

from .conftest import other_worker
from .helpers import Background, wait_until

pytestmark = pytest.mark.postgres


def statuses():  # type: ignore[no-untyped-def]
    return records.BatchStatus


def lease(*args, **kwargs):  # type: ignore[no-untyped-def]
    from go_doc_go.queue.discovery import DiscoveryLease

    return DiscoveryLease(*args, **kwargs)


def leases_of(batch):  # type: ignore[no-untyped-def]
    return batch if isinstance(batch, list) else batch.leases


def expire_discovery(pg_url: str, run_id: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE processing_runs SET discovery_expires_at = now() - interval '1 second' WHERE run_id = %s",
            (run_id,),
        )


def finish(coordinator: RunCoordinator) -> None:
    leader = LeaderLease(coordinator.pool, coordinator.run_id, coordinator.holder_id, ttl=10)
    term = leader.attempt()
    assert coordinator.begin_post_processing(term) and coordinator.complete(term)


def test_an_abandoned_run_hands_out_no_work(new_run) -> None:
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", f"d{i}") for i in range(3)])
    coordinator.discovery_done()
    assert coordinator.abandon()
    assert queue.claim(10) == [], "claims only hand out work of an active run"
    batch = queue.next_batch()
    assert (batch.status, batch.run_status, batch.finished) == (statuses().ENDED, "abandoned", True)


def test_a_late_worker_does_not_begin_a_new_pass(new_run) -> None:
    coordinator, queue = new_run()
    queue.add(source_name="s", doc_id="d")
    queue.complete_many(queue.claim(1))
    coordinator.discovery_done()
    finish(coordinator)
    late = RunCoordinator(coordinator.pool, run_id_override=coordinator.run_id, settings=coordinator.settings)
    run = late.start()
    assert (run.status, run.pass_number) == ("completed", 1), "joining never begins a pass nobody discovers"
    late.register()
    assert other_worker(late).next_batch().status is statuses().ENDED


def test_only_one_discoverer_begins_the_new_pass_and_holds_its_discovery_lease(new_run) -> None:
    coordinator, queue = new_run()
    coordinator.discovery_done()
    finish(coordinator)
    starters = [RunCoordinator(coordinator.pool, run_id_override=coordinator.run_id) for _ in range(4)]
    barrier, runs = threading.Barrier(4), []

    def start(c: RunCoordinator) -> None:
        barrier.wait()
        runs.append(c.start(new_pass_if_finished=True))

    threads = [threading.Thread(target=start, args=(c,)) for c in starters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {(r.status, r.pass_number) for r in runs} == {("active", 2)}
    holders = [c for c in starters if c.discovery is not None and c.discovery.is_holder]
    assert len(holders) == 1, "the new pass has exactly one discoverer from its first instant"
    (discoverer,) = holders
    assert coordinator.get().discovery_holder == discoverer.discovery.holder
    assert queue.next_batch(max_wait=0.05).status is statuses().IDLE, "discovery is running: more is coming"
    queue.add(source_name="s", doc_id="new")
    assert discoverer.discovery_done()
    batch = queue.next_batch()
    assert batch.status is statuses().CLAIMED and [x.doc_id for x in batch.leases] == ["new"]


def test_a_dead_discoverer_is_replaced_under_the_lease(pg_url, new_run) -> None:
    coordinator, queue = new_run()
    first = lease(coordinator.pool, coordinator.run_id, "first", ttl=30)
    second = lease(coordinator.pool, coordinator.run_id, "second", ttl=30)
    assert first.attempt() == 1 and second.attempt() is None
    assert first.renew()
    queue.add(source_name="s", doc_id="found-by-first")
    queue.complete_many(queue.claim(1))
    assert queue.next_batch(max_wait=0.05).status is statuses().IDLE, "a live discoverer: wait for it"
    expire_discovery(pg_url, coordinator.run_id)  # the first discoverer died
    assert queue.next_batch(max_wait=5).status is statuses().DISCOVER, "nobody discovers: the worker must"
    assert second.attempt() == 1
    assert not first.renew() and not first.done(), "a stale discoverer can neither renew nor finish"
    assert not coordinator.get().discovery_done
    assert second.done()
    assert queue.next_batch().status is statuses().DRAINED


def test_a_fresh_run_is_not_finished_while_its_discoverer_runs(pg_url, new_run) -> None:
    coordinator, queue = new_run(poll_interval=5)
    coordinator.start(new_pass_if_finished=True)  # the discoverer's start: it takes the discovery lease
    with Waker(pg_url, coordinator.run_id) as waker:
        job = Background(lambda: queue.next_batch(waker))
        wait_until(lambda: waker._conn is not None, what="the worker to listen")
        queue.add(source_name="s", doc_id="first")  # discovery finds the first document
        batch = job.get()
    assert [x.doc_id for x in leases_of(batch)] == ["first"], "an empty fresh run is not 'run finished'"


def test_next_batch_waits_while_discovery_runs_then_claims(pg_url, new_run) -> None:
    coordinator, queue = new_run(poll_interval=5)
    discovery = lease(coordinator.pool, coordinator.run_id, "discoverer", ttl=30)
    assert discovery.attempt() == 1
    with Waker(pg_url, coordinator.run_id) as waker:
        job = Background(lambda: queue.next_batch(waker))
        wait_until(lambda: waker._conn is not None, what="the worker to listen")
        assert not job.done, "a fresh run with discovery running is not finished"
        queue.add(source_name="s", doc_id="first")
        batch = job.get()
    assert batch.status is statuses().CLAIMED and [x.doc_id for x in batch.leases] == ["first"]
    queue.complete_many(batch.leases)
    assert queue.next_batch(max_wait=0.05).status is statuses().IDLE
    assert discovery.done()
    assert queue.next_batch().status is statuses().DRAINED


def test_a_fresh_run_without_a_discoverer_asks_for_one(new_run) -> None:
    _, queue = new_run()
    batch = queue.next_batch(max_wait=5)
    assert (batch.status, batch.finished) == (statuses().DISCOVER, False), "not 'drained': nothing was discovered yet"


def test_discovery_done_is_refused_while_another_holds_the_lease(new_run) -> None:
    coordinator, _ = new_run()
    holder = lease(coordinator.pool, coordinator.run_id, "holder", ttl=30)
    assert holder.attempt() == 1
    assert not coordinator.discovery_done(), "only the discoverer may say discovery is done"
    assert holder.done() and coordinator.get().discovery_done
