"""Claims stay cheap: plan robustness with stale statistics, and the queue vacuum."""

from __future__ import annotations

import re

import psycopg
import pytest

from go_doc_go.queue import repository
from go_doc_go.queue.connection import _OPTIONS
from go_doc_go.queue.records import NewDocument
from go_doc_go.queue.sql_loader import queries
from go_doc_go.queue.vacuum import QueueVacuum, VacuumConfig

pytestmark = pytest.mark.postgres


def test_claim_uses_the_claim_index_even_with_stale_statistics(pg_url, new_run) -> None:
    coordinator, queue = new_run()
    with psycopg.connect(pg_url, autocommit=True, options=_OPTIONS) as conn:
        conn.execute("VACUUM ANALYZE document_queue")  # statistics taken before the run was filled
        queue.add_many([NewDocument("s", f"d{i}") for i in range(5000)])
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "EXPLAIN " + queries()["document_claim"],
                {"run_id": coordinator.run_id, "worker_id": "w", "session_id": None, "limit": 10,
                 "claim_timeout": 60.0, "attempt_timeout": None, "request_id": 1},
            )
        )
    assert "document_queue_claim_idx" in plan and "Sort" not in plan, plan


def test_vacuum_run_once_only_above_threshold(pg_pool, new_run) -> None:
    _, queue = new_run()
    queue.add_many([NewDocument("s", f"d{i}") for i in range(50)])
    queue.complete_many(queue.claim(50))
    idle = QueueVacuum(pg_pool, VacuumConfig(dead_tuples=10**9)).run_once()
    assert not idle.vacuumed
    eager = QueueVacuum(pg_pool, VacuumConfig(dead_tuples=0)).run_once()
    assert eager.vacuumed


def test_vacuum_is_skipped_while_another_process_vacuums(pg_pool) -> None:
    from go_doc_go.queue.vacuum import VACUUM_LOCK_KEY

    with pg_pool.connection() as holder, pg_pool.connection() as other:
        assert holder.execute("SELECT pg_try_advisory_lock(%s)", (VACUUM_LOCK_KEY,)).fetchone()[0]
        try:
            assert not repository.queue_vacuum(other, lock_key=VACUUM_LOCK_KEY)
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", (VACUUM_LOCK_KEY,))


def claim_plan(conn: psycopg.Connection, run_id: str, *, analyze: bool) -> str:
    params = {"run_id": run_id, "worker_id": "w", "session_id": None, "limit": 32, "claim_timeout": 60.0,
              "attempt_timeout": None, "request_id": 1}
    how = "(ANALYZE, BUFFERS, TIMING OFF, SUMMARY OFF)" if analyze else ""
    with conn.transaction():
        plan = "\n".join(row[0] for row in conn.execute(f"EXPLAIN {how} " + queries()["document_claim"], params))
        raise psycopg.Rollback()
    return plan


def test_waiting_retries_at_the_head_are_not_walked_by_claims(pg_url, new_run) -> None:
    """20,000 waiting retries used to be scanned (and their heap rows fetched) by every claim."""
    coordinator, queue = new_run()
    queue.add_many([NewDocument("s", f"waiting-{i}", priority=10) for i in range(20_000)])
    with psycopg.connect(pg_url, autocommit=True, options=_OPTIONS) as conn:
        # As failures with a long backoff leave them: waiting retries at the head of the claim order.
        conn.execute(
            "UPDATE document_queue SET state = 'retry', failure_count = 1, scheduled_for = now() + interval '1 hour' "
            "WHERE run_id = %s",
            (coordinator.run_id,),
        )
        queue.add_many([NewDocument("s", f"ready-{i}") for i in range(100)])
        conn.execute("VACUUM ANALYZE document_queue")
        plan = claim_plan(conn, coordinator.run_id, analyze=True)
    removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
    assert not removed or max(removed) < 100, plan
    assert [lease.doc_id.split("-")[0] for lease in queue.claim(32)] == ["ready"] * 32


def test_a_due_retry_is_claimed_in_priority_order(pg_url, new_run) -> None:
    _, queue = new_run(retry_backoff_base=0.01, retry_backoff_max=0.01)
    queue.add_many([NewDocument("s", "urgent", priority=5), *[NewDocument("s", f"d{i}") for i in range(5)]])
    urgent = queue.claim(1)[0]
    assert urgent.doc_id == "urgent"
    queue.fail(urgent, "transient", stage="fetch")
    with psycopg.connect(pg_url) as conn:
        conn.execute("SELECT pg_sleep(0.02)")  # its 10 ms backoff passes
    assert queue.claim(1)[0].doc_id == "urgent", "promoted when due, then first by priority"


@pytest.mark.parametrize(
    "name",
    ["document_claim", "document_heartbeat_many", "document_complete_many", "document_completed_by",
     "document_release", "document_released_by", "document_fail", "document_failed_by"],
)
def test_lease_statements_stay_primary_key_lookups_with_stale_statistics(pg_url, new_run, name) -> None:
    from psycopg.types.json import Jsonb

    coordinator, queue = new_run()
    with psycopg.connect(pg_url, autocommit=True, options=_OPTIONS) as conn:
        conn.execute("VACUUM ANALYZE document_queue")  # statistics taken before the run was filled
        queue.add_many([NewDocument("s", f"d{i}") for i in range(5000)])
        leases = queue.claim(200)
        ids, tokens = [x.queue_id for x in leases], [x.lease_token for x in leases]
        params = {"run_id": coordinator.run_id, "worker_id": "w", "session_id": queue.session_id, "limit": 200,
                  "claim_timeout": 60.0, "attempt_timeout": None, "request_id": 7, "queue_ids": ids,
                  "lease_tokens": tokens, "content_hashes": Jsonb({}), "queue_id": ids[0], "lease_token": tokens[0],
                  "error": "e", "stage": "s", "delay": 1.0, "max_retries": 3, "permanent": False,
                  "outcomes": Jsonb({}), "depths": Jsonb({}), "units": Jsonb({}), "error_type": None, "traceback": None}
        with conn.transaction():
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, TIMING OFF) " + queries()[name], params))
            raise psycopg.Rollback()
    assert "Seq Scan on document_queue" not in plan and "Sort" not in plan, plan
    assert "Join Filter" not in plan, f"no nested loop over the caller's pairs:\n{plan}"
    if name != "document_claim":
        assert "document_queue_pkey" in plan, plan


def test_housekeeping_folds_counts_and_marks_silent_workers_lost(pg_pool, new_run, pg_conn) -> None:
    from go_doc_go.config import Config
    from go_doc_go.queue.housekeeping import Housekeeping
    from go_doc_go.queue.monitoring.collect import MonitorSettings

    coordinator, queue = new_run(stale_threshold=1)
    queue.add_many([NewDocument("s", f"d{i}") for i in range(5)])
    pg_conn.execute("UPDATE run_workers SET heartbeat_at = now() - interval '1 hour' WHERE run_id = %s",
                    (coordinator.run_id,))
    before = pg_conn.execute("SELECT count(*) FROM run_state_deltas").fetchone()[0]
    assert before > 0
    result = Housekeeping(pg_pool, coordinator, MonitorSettings.from_config(Config())).run_once()
    assert result.compacted and result.lost_workers == [coordinator.worker_id]
    assert pg_conn.execute("SELECT count(*) FROM run_state_deltas").fetchone()[0] == 0
