"""Completions and failures written in the caller's transaction count only once it commits."""

from __future__ import annotations

import psycopg
import pytest

from go_doc_go.exceptions import QueueError
from go_doc_go.queue.records import NewDocument

from .helpers import row

pytestmark = pytest.mark.postgres


@pytest.fixture
def side_effects(pg_url):  # type: ignore[no-untyped-def]
    """A table standing for the store's rows, written in the same transaction as the queue's mark."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS side_effects (queue_id bigint, note text)")
    return lambda queue_id: _notes(pg_url, queue_id)


def _notes(pg_url: str, queue_id: int) -> list[tuple[int, str]]:
    with psycopg.connect(pg_url) as conn:
        return conn.execute(
            "SELECT queue_id, note FROM side_effects WHERE queue_id = %s ORDER BY 2", (queue_id,)
        ).fetchall()


def test_rolled_back_completion_keeps_the_lease_held_and_heartbeated(pg_url, new_run) -> None:
    _, queue = new_run()
    queue.add(source_name="s", doc_id="d")
    (lease,) = queue.claim(1)
    with psycopg.connect(pg_url) as conn:
        result = queue.complete_many([lease], conn=conn)
        assert len(queue.held) == 1, "not forgotten before the caller commits"
        assert result.pending and result.completed == [lease]
        conn.rollback()
    assert len(queue.held) == 1
    assert not queue.heartbeat(), "still this worker's lease, still extended"
    assert row(pg_url, lease.queue_id)["state"] == "processing"


def test_confirm_after_commit_forgets_the_lease(pg_url, new_run) -> None:
    _, queue = new_run()
    queue.add(source_name="s", doc_id="d")
    (lease,) = queue.claim(1)
    with psycopg.connect(pg_url) as conn:
        result = queue.complete_many([lease], conn=conn)
        conn.commit()
    queue.confirm(result)
    assert queue.held == {} and row(pg_url, lease.queue_id)["state"] == "completed"


def test_transaction_helper_commits_rows_and_completion_together(pg_url, new_run, side_effects) -> None:
    _, queue = new_run()
    queue.add_many([NewDocument("s", f"d{i}") for i in range(2)])
    first, second = queue.claim(2)
    with psycopg.connect(pg_url) as conn:
        with pytest.raises(RuntimeError), queue.transaction(conn) as tx:
            conn.execute("INSERT INTO side_effects VALUES (%s, 'rolled back')", (first.queue_id,))
            tx.complete(first)
            raise RuntimeError("the store write failed")
        assert first.key in queue.held and row(pg_url, first.queue_id)["state"] == "processing"
        with queue.transaction(conn) as tx:
            conn.execute("INSERT INTO side_effects VALUES (%s, 'stored')", (first.queue_id,))
            tx.complete(first, content_hash="h1")
            assert first.key in queue.held, "held until the commit"
        assert first.key not in queue.held and second.key in queue.held
    state = row(pg_url, first.queue_id)
    assert (state["state"], state["content_hash"]) == ("completed", "h1")
    assert side_effects(first.queue_id) == [(first.queue_id, "stored")]


def test_transaction_helper_must_begin_the_transaction(pg_url, new_run) -> None:
    _, queue = new_run()
    with psycopg.connect(pg_url) as conn:
        conn.execute("SELECT 1")  # now inside an implicit transaction
        with pytest.raises(QueueError, match="must begin the transaction"):
            queue.transaction(conn).__enter__()


def test_fail_with_conn_commits_the_failure_and_its_side_effects_together(pg_url, new_run, side_effects) -> None:
    _, queue = new_run(max_retries=3)
    queue.add(source_name="s", doc_id="bad")
    (lease,) = queue.claim(1)
    with psycopg.connect(pg_url) as conn:
        with pytest.raises(RuntimeError), queue.transaction(conn) as tx:
            conn.execute("INSERT INTO side_effects VALUES (%s, 'failure report, rolled back')", (lease.queue_id,))
            tx.fail(lease, "unsupported format", stage="parse")
            raise RuntimeError("crash before commit")
        assert lease.key in queue.held, "a rolled back failure leaves the lease held"
        assert row(pg_url, lease.queue_id)["state"] == "processing"
        with queue.transaction(conn) as tx:
            conn.execute("INSERT INTO side_effects VALUES (%s, 'failure report')", (lease.queue_id,))
            result = tx.fail(lease, "unsupported format", stage="parse")
            assert result.pending and result.state == "retry"
        assert queue.held == {}
    state = row(pg_url, lease.queue_id)
    assert (state["state"], state["failure_count"], state["last_error"]) == ("retry", 1, "unsupported format")
    assert side_effects(lease.queue_id) == [(lease.queue_id, "failure report")]


def test_fail_with_conn_and_explicit_confirm(pg_url, new_run) -> None:
    _, queue = new_run()
    queue.add(source_name="s", doc_id="bad")
    (lease,) = queue.claim(1)
    with psycopg.connect(pg_url) as conn:
        result = queue.fail(lease, "boom", conn=conn)
        assert result.pending and lease.key in queue.held
        conn.commit()
    queue.confirm(result)
    assert queue.held == {}
