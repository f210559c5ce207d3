"""Post-processing leader lease: one winner, handover on expiry, stale terms fenced off."""

from __future__ import annotations

import threading
import time

import pytest

from go_doc_go.queue.leader import LeaderLease
from go_doc_go.queue.records import NewDocument

pytestmark = pytest.mark.postgres


def contenders(coordinator, n: int, ttl: float) -> list[LeaderLease]:  # type: ignore[no-untyped-def]
    return [LeaderLease(coordinator.pool, coordinator.run_id, f"contender-{i}", ttl=ttl) for i in range(n)]


def test_two_contenders_exactly_one_wins(new_run) -> None:
    for _ in range(5):
        coordinator, _ = new_run()
        a, b = contenders(coordinator, 2, ttl=10)
        barrier = threading.Barrier(2)
        terms: dict[str, int | None] = {}

        def race(lease: LeaderLease) -> None:
            barrier.wait()
            terms[lease.holder] = lease.attempt()

        threads = [threading.Thread(target=race, args=(x,)) for x in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(terms.values(), key=str) == [1, None]
        assert [a.is_leader, b.is_leader].count(True) == 1


def test_expiry_hands_over_and_stale_term_is_refused(new_run) -> None:
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", "d")])
    queue.complete_many(queue.claim(1))
    coordinator.discovery_done()
    old, new = contenders(coordinator, 2, ttl=0.5)
    old_term = old.attempt()
    assert old_term == 1 and new.attempt() is None
    assert old.renew(), "renewal succeeds before expiry"
    time.sleep(0.6)  # the old leader stalls past its TTL
    new_term = new.attempt()
    assert new_term == 2, "the term grows on handover: it is the fencing token"
    assert not old.renew() and not old.is_leader
    assert not old.check(old_term) and new.check()
    assert not coordinator.begin_post_processing(old_term), "a stale leader's term is refused"
    assert coordinator.begin_post_processing(new_term)
    assert not coordinator.complete(old_term)
    assert coordinator.complete(new_term)
    assert coordinator.get().status == "completed"


def test_resign_frees_the_lease_at_once(new_run) -> None:
    coordinator, _ = new_run()
    a, b = contenders(coordinator, 2, ttl=30)
    assert a.attempt() == 1 and b.attempt() is None
    a.resign()
    assert b.attempt() == 2


def test_reelection_by_the_holder_keeps_its_term(new_run) -> None:
    coordinator, _ = new_run()
    (a,) = contenders(coordinator, 1, ttl=30)
    assert a.run_once().term == 1
    assert a.run_once().term == 1
    assert a.attempt() == 1


def test_post_processing_waits_for_outstanding_work(new_run) -> None:
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", "d")])
    (leader,) = contenders(coordinator, 1, ttl=30)
    term = leader.attempt()
    assert not coordinator.begin_post_processing(term), "discovery not done yet"
    coordinator.discovery_done()
    assert not coordinator.begin_post_processing(term), "a document is pending"
    (lease,) = queue.claim(1)
    assert not coordinator.begin_post_processing(term), "a document is leased"
    queue.complete(lease)
    assert coordinator.begin_post_processing(term)
