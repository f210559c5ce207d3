"""Post-processing leader lease: one winner, handover on expiry, stale terms fenced off."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from go_doc_go.queue import repository
from go_doc_go.queue.leader import LeaderLease
from go_doc_go.queue.records import NewDocument

from .helpers import Background, lock_waiters, wait_until

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


def expire_leader(pg_url: str, run_id: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE processing_runs SET leader_expires_at = now() - interval '1 second' WHERE run_id = %s", (run_id,)
        )


@pytest.fixture
def results_table(pg_url):  # type: ignore[no-untyped-def]
    """Post-processing output of a leader, written in its own transaction."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS post_results (run_id text, term bigint, note text)")

    def rows(run_id: str) -> list[tuple[int, str]]:
        with psycopg.connect(pg_url) as conn:
            return conn.execute(
                "SELECT term, note FROM post_results WHERE run_id = %s ORDER BY 1, 2", (run_id,)
            ).fetchall()

    return rows


def test_fenced_writes_of_a_stale_leader_commit_before_the_new_term_or_not_at_all(pg_url, new_run, results_table) -> None:
    from go_doc_go.queue.errors import LeaderLostError

    coordinator, _ = new_run()
    old, new = contenders(coordinator, 2, ttl=30)
    assert old.attempt() == 1
    with psycopg.connect(pg_url) as write:
        old.fence(write)  # the old leader's post-processing transaction, fenced with term 1
        write.execute("INSERT INTO post_results VALUES (%s, 1, 'written under term 1')", (coordinator.run_id,))
        expire_leader(pg_url, coordinator.run_id)  # the old leader stalls past its lease mid-transaction
        assert new.attempt() is None, "no new term while a fenced transaction of the old term is open"
        write.commit()
    assert new.attempt() == 2, "the election succeeds once that transaction has ended"
    with psycopg.connect(pg_url) as late:
        with pytest.raises(LeaderLostError):
            with late.transaction():
                old.fence(late)  # the stale leader tries again
                late.execute("INSERT INTO post_results VALUES (%s, 1, 'stale write')", (coordinator.run_id,))
    assert results_table(coordinator.run_id) == [(1, "written under term 1")], "the stale write rolled back"
    with psycopg.connect(pg_url) as current:
        with current.transaction():
            new.fence(current)
            current.execute("INSERT INTO post_results VALUES (%s, 2, 'new leader')", (coordinator.run_id,))
    assert results_table(coordinator.run_id)[-1] == (2, "new leader")


def test_fence_blocks_an_election_that_started_first(pg_url, new_run) -> None:
    """A fence that arrives while an election is being decided waits for it and then sees the new term."""
    from go_doc_go.queue.errors import LeaderLostError

    coordinator, _ = new_run()
    old, new = contenders(coordinator, 2, ttl=30)
    assert old.attempt() == 1
    expire_leader(pg_url, coordinator.run_id)
    with psycopg.connect(pg_url) as election:
        assert repository.leader_election_lock(election, run_id=coordinator.run_id)  # an election in progress
        assert repository.leader_attempt(election, run_id=coordinator.run_id, holder="new", ttl=30, may_take=True) == 2
        with psycopg.connect(pg_url) as write:
            fence = Background(lambda: old.fence(write))
            wait_until(lambda: lock_waiters(pg_url) > 0, what="the fence to wait for the election")
            election.commit()
            with pytest.raises(LeaderLostError):
                fence.get()


def test_fence_needs_an_open_transaction(pg_url, new_run) -> None:
    from go_doc_go.exceptions import QueueError

    coordinator, _ = new_run()
    (leader,) = contenders(coordinator, 1, ttl=30)
    leader.attempt()
    with psycopg.connect(pg_url, autocommit=True) as conn, pytest.raises(QueueError, match="open transaction"):
        leader.fence(conn)
