"""Claims stay cheap: plan robustness with stale statistics, and the queue vacuum."""

from __future__ import annotations

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
                 "claim_timeout": 60.0},
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
