"""What workers record: completion outcomes, failure details, discovery and post-processing results."""

from __future__ import annotations

import pytest

from go_doc_go.queue import repository
from go_doc_go.queue.records import NewDocument

pytestmark = pytest.mark.postgres


def test_completions_record_their_outcome(new_run, pg_conn) -> None:
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", f"d{i}") for i in range(3)])
    coordinator.discovery_done()
    leases = queue.claim(3)
    queue.complete_many(leases, outcomes=["processed", "unchanged", None])
    rows = dict(pg_conn.execute(
        "SELECT doc_id, outcome FROM document_queue WHERE run_id = %s", (coordinator.run_id,)).fetchall())
    assert rows == {leases[0].doc_id: "processed", leases[1].doc_id: "unchanged", leases[2].doc_id: None}


def test_completions_record_the_units_they_embedded_and_the_pass_sums_them(new_run, pg_conn) -> None:
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", f"d{i}") for i in range(3)])
    coordinator.discovery_done()
    leases = queue.claim(3)
    queue.complete_many(leases, outcomes=["processed", "processed", "unchanged"], units=[(4, 1), None, None])
    rows = dict((d, (e, r)) for d, e, r in pg_conn.execute(
        "SELECT doc_id, units_embedded, units_reused FROM document_queue WHERE run_id = %s", (coordinator.run_id,)))
    assert rows == {leases[0].doc_id: (4, 1), leases[1].doc_id: (None, None), leases[2].doc_id: (None, None)}
    assert repository.run_pass_units(pg_conn, run_id=coordinator.run_id) == (4, 1)


def test_failures_keep_class_traceback_and_history_without_secrets(new_run, pg_conn) -> None:
    coordinator, queue = new_run(max_retries=3)
    queue.add("s", "d")
    [lease] = queue.claim(1)
    trace = 'Traceback ...\n  File "x.py"\nKeyError: https://bot:ghp_SECRET@host/x.pdf'
    result = queue.fail(lease, "KeyError: 'a'", stage="parse", permanent=True, error_type="KeyError", traceback=trace)
    assert result.state == "dead_letter"
    row = pg_conn.execute(
        "SELECT error_type, last_traceback, error_stage, error_history FROM document_queue WHERE queue_id = %s",
        (lease.queue_id,)).fetchone()
    error_type, traceback, stage, history = row
    assert (error_type, stage) == ("KeyError", "parse")
    assert "ghp_SECRET" not in traceback and "File \"x.py\"" in traceback
    assert history[-1]["error_type"] == "KeyError" and history[-1]["permanent"] is True


def test_post_processing_results_are_written_only_by_the_current_term(new_run, pg_conn, pg_pool) -> None:
    from go_doc_go.queue.leader import LeaderLease

    coordinator, _ = new_run()
    repository.run_record_discovery(pg_conn, run_id=coordinator.run_id, incomplete_sources=["b"],
                                    stats={"listed": 3})
    term = LeaderLease(pg_pool, coordinator.run_id, "a").attempt()
    assert repository.run_record_post_processing(pg_conn, run_id=coordinator.run_id, term=term,
                                                 result={"remove_vanished": 2})
    assert not repository.run_record_post_processing(pg_conn, run_id=coordinator.run_id, term=term - 1,
                                                     result={"remove_vanished": 99})
    row = pg_conn.execute("SELECT incomplete_sources, discovery_stats, post_processing FROM processing_runs "
                          "WHERE run_id = %s", (coordinator.run_id,)).fetchone()
    assert row == (["b"], {"listed": 3}, {"remove_vanished": 2})


def test_a_shorter_path_to_a_completed_document_queues_it_again(new_run) -> None:
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", "x", "x.md", link_depth=2, parent_doc_id="far")])
    [lease] = queue.claim(1)
    queue.complete_many([lease])
    queue.add_many([NewDocument("s", "x", "x.md", link_depth=1, parent_doc_id="near")])
    [again] = queue.claim(1)
    assert (again.doc_id, again.link_depth, again.parent_doc_id) == ("x", 1, "near")
    queue.add_many([NewDocument("s", "x", "x.md", link_depth=2, parent_doc_id="far")])
    queue.complete_many([again])
    assert queue.claim(1) == [], "a longer path changes nothing"


def test_a_shorter_path_found_while_leased_processes_it_once_more(new_run) -> None:
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", "x", "x.md", link_depth=2)])
    [lease] = queue.claim(1)
    queue.add_many([NewDocument("s", "x", "x.md", link_depth=1)])
    result = queue.complete_many([lease])
    assert result.completed == [lease]
    [again] = queue.claim(1)
    assert again.link_depth == 1


def test_a_new_leader_takes_over_post_processing_of_a_dead_one(new_run, pg_pool, pg_conn) -> None:
    from go_doc_go.queue.leader import LeaderLease

    coordinator, queue = new_run()
    coordinator.discovery_done()
    first = LeaderLease(pg_pool, coordinator.run_id, "first", ttl=0.5)
    assert coordinator.begin_post_processing(first.attempt())
    pg_conn.execute("UPDATE processing_runs SET leader_expires_at = now() - interval '1 s' WHERE run_id = %s",
                    (coordinator.run_id,))  # the first leader died: its lease lapsed
    second = LeaderLease(pg_pool, coordinator.run_id, "second", ttl=30)
    term = second.attempt()
    assert term is not None and coordinator.begin_post_processing(term)
    assert coordinator.complete(term) and coordinator.get().status == "completed"
