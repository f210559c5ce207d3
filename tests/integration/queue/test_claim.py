"""Adding and claiming: exactly-once across processes, order, idempotent adds, passes."""

from __future__ import annotations

import time

import psycopg
import pytest

from go_doc_go.queue.records import NewDocument

from .conftest import other_worker
from .workers import CTX, drain

pytestmark = pytest.mark.postgres


def docs(n: int, **fields: object) -> list[NewDocument]:
    return [NewDocument("src", f"doc-{i:05d}", **fields) for i in range(n)]  # type: ignore[arg-type]


def test_exactly_once_with_eight_processes(pg_url, new_run) -> None:
    coordinator, queue = new_run(batch_size=25, poll_interval=0.5)
    assert queue.add_many(docs(5000)).inserted == 5000
    assert coordinator.discovery_done()
    start, results = CTX.Barrier(8), CTX.Queue()
    settings = coordinator.settings.model_dump_json()
    procs = [CTX.Process(target=drain, args=(pg_url, coordinator.run_id, settings, results, start)) for _ in range(8)]
    for p in procs:
        p.start()
    reports = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    claims = [c for _, cs, _ in reports for c in cs]
    completed = [q for _, _, done in reports for q in done]
    assert len(claims) == 5000 and len({q for q, _, _ in claims}) == 5000, "each document claimed exactly once"
    assert {attempt for _, _, attempt in claims} == {1}
    assert len({token for _, token, _ in claims}) == 5000, "every claim has its own lease token"
    assert sorted(completed) == sorted(q for q, _, _ in claims), "each document completed exactly once"
    assert sum(1 for _, cs, _ in reports if cs) >= 2, "work was shared between processes"
    assert queue.counts()["completed"] == 5000
    with psycopg.connect(pg_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM document_queue WHERE run_id = %s AND (attempts <> 1 OR state <> 'completed')",
            (coordinator.run_id,),
        ).fetchone()[0] == 0
    workers = coordinator.workers()
    assert (sum(w["claimed_count"] for w in workers), sum(w["completed_count"] for w in workers)) == (5000, 5000)


def test_claim_order_priority_then_depth(new_run) -> None:
    _, queue = new_run()
    queue.add_many(
        [
            NewDocument("s", "deep", link_depth=2),
            NewDocument("s", "shallow", link_depth=0),
            NewDocument("s", "urgent-deep", link_depth=3, priority=5),
            NewDocument("s", "mid", link_depth=1),
        ]
    )
    assert [lease.doc_id for lease in queue.claim(10)] == ["urgent-deep", "shallow", "mid", "deep"]


def test_claim_sets_lease_and_respects_limit(new_run) -> None:
    _, queue = new_run(batch_size=3)
    queue.add_many(docs(10))
    first = queue.claim()
    assert len(first) == 3 and all(x.attempt == 1 for x in first)
    assert set(queue.held) == {(x.queue_id, x.lease_token) for x in first}
    assert {x.queue_id for x in queue.claim(100)}.isdisjoint(x.queue_id for x in first)
    assert queue.claim() == []


def test_scheduled_for_delays_work(new_run) -> None:
    _, queue = new_run()
    queue.add_many([NewDocument("s", "later", delay=0.6), NewDocument("s", "now")])
    assert [x.doc_id for x in queue.claim(10)] == ["now"]
    left = queue.outstanding()
    assert left.waiting == 1 and 0 < left.next_due_in <= 0.6
    time.sleep(0.7)
    assert [x.doc_id for x in queue.claim(10)] == ["later"]


def test_add_is_idempotent_and_keeps_smaller_depth(new_run) -> None:
    _, queue = new_run()
    first = queue.add_many([NewDocument("s", "a", link_depth=2), NewDocument("s", "b", link_depth=1)])
    assert (first.inserted, first.updated) == (2, 0)
    again = queue.add_many(
        [
            NewDocument("s", "a", link_depth=3),
            NewDocument("s", "a", link_depth=1, parent_doc_id="root"),  # duplicate inside one batch
            NewDocument("s", "b", link_depth=4),
        ]
    )
    assert (again.inserted, again.updated) == (0, 1)
    assert queue.counts()["pending"] == 2, "counters not inflated by duplicates"
    depths = {x.doc_id: (x.link_depth, x.parent_doc_id) for x in queue.claim(10)}
    assert depths == {"a": (1, "root"), "b": (1, None)}


def test_add_records_dependencies(pg_url, new_run) -> None:
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", "child", link_depth=1, parent_doc_id="root")])
    queue.add_many([NewDocument("s", "child", link_depth=1, parent_doc_id="root")])
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT from_doc_id, to_doc_id FROM document_dependencies WHERE run_id = %s", (coordinator.run_id,)
        ).fetchall()
    assert rows == [("root", "child")]


def test_re_adding_completed_document_in_same_pass_is_a_no_op(new_run) -> None:
    _, queue = new_run()
    queue.add_many(docs(3))
    queue.complete_many(queue.claim(10))
    assert queue.add_many(docs(3)).inserted == 0
    assert queue.counts()["completed"] == 3 and queue.claim(10) == []


def test_new_pass_after_completion_resets_documents(new_run) -> None:
    from go_doc_go.queue.leader import LeaderLease

    coordinator, queue = new_run()
    queue.add_many(docs(5))
    queue.complete_many(queue.claim(10))
    coordinator.discovery_done()
    leader = LeaderLease(coordinator.pool, coordinator.run_id, coordinator.holder_id, ttl=10)
    term = leader.attempt()
    assert coordinator.begin_post_processing(term) and coordinator.complete(term)
    assert coordinator.get().status == "completed"

    # A discoverer starting the same config again begins pass 2, whichever such starter wins the bump.
    run = coordinator.start(new_pass_if_finished=True)
    assert (run.status, run.pass_number) == ("active", 2)
    assert coordinator.start().pass_number == 2, "an active run is joined, not bumped again"
    result = queue.add_many(docs(6))
    assert (result.inserted, result.updated) == (1, 5)
    leases = queue.claim(10)
    assert len(leases) == 6 and {x.pass_number for x in leases} == {2} and {x.attempt for x in leases} == {1}


def test_two_workers_never_share_a_claim(new_run) -> None:
    coordinator, queue = new_run()
    queue.add_many(docs(50))
    other = other_worker(coordinator)
    a, b = queue.claim(30), other.claim(30)
    assert len(a) + len(b) == 50
    assert {x.queue_id for x in a}.isdisjoint(x.queue_id for x in b)


def test_document_path_travels_with_the_claim(new_run) -> None:
    """Workers fetch by the source's own name for a document, so the claim must carry it."""
    _, queue = new_run()
    queue.add_many([NewDocument("s", "id-a", doc_path="guides/a.md"), NewDocument("s", "id-b")])
    queue.add_many([NewDocument("s", "id-b", doc_path="b.html", link_depth=0)])
    leases = {lease.doc_id: lease for lease in queue.claim(10)}
    assert leases["id-a"].doc_path == "guides/a.md"
    assert leases["id-b"].doc_path is None  # a re-add only updates a row it improves (smaller depth)
