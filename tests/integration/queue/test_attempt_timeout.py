"""work_queue.attempt_timeout: a time budget per attempt, separate from liveness, on the database clock."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from go_doc_go.exceptions import LeaseLostError

from .helpers import row, wait_until

pytestmark = pytest.mark.postgres


def db_now(pg_url: str):  # type: ignore[no-untyped-def]
    with psycopg.connect(pg_url) as conn:
        return conn.execute("SELECT clock_timestamp()").fetchone()[0]


def test_heartbeat_never_extends_past_the_attempt_deadline_and_expiry_is_a_timeout(pg_url, new_run) -> None:
    _, queue = new_run(claim_timeout=30, heartbeat_interval=5, attempt_timeout=0.5, max_retries=3)
    queue.add(source_name="s", doc_id="hangs")
    (lease,) = queue.claim(1)
    state = row(pg_url, lease.queue_id)
    assert state["attempt_deadline"] - state["claimed_at"] == timedelta(seconds=0.5)
    assert lease.attempt_deadline == state["attempt_deadline"]
    assert state["lease_expires_at"] == state["attempt_deadline"], "the first lease is already capped"
    assert queue.heartbeat() == []
    assert row(pg_url, lease.queue_id)["lease_expires_at"] == state["attempt_deadline"], "a live worker is not extended"

    wait_until(lambda: db_now(pg_url) > state["attempt_deadline"], what="the attempt deadline (database clock)")
    assert queue.reclaim_expired() == [(lease.queue_id, "retry")]
    reclaimed = row(pg_url, lease.queue_id)
    assert (reclaimed["crash_count"], reclaimed["error_stage"]) == (1, "timeout")
    assert "work_queue.attempt_timeout" in reclaimed["last_error"] and "0.5 s" in reclaimed["last_error"]
    assert [(e["kind"], e["stage"]) for e in reclaimed["error_history"]] == [("timeout", "timeout")]
    assert queue.heartbeat() == [lease], "the hung attempt learns it lost the lease"
    with pytest.raises(LeaseLostError):
        queue.complete(lease)


def test_without_attempt_timeout_the_heartbeat_extends_freely(pg_url, new_run) -> None:
    _, queue = new_run(claim_timeout=30, heartbeat_interval=5)
    queue.add(source_name="s", doc_id="slow")
    (lease,) = queue.claim(1)
    first = row(pg_url, lease.queue_id)
    assert first["attempt_deadline"] is None and lease.attempt_deadline is None
    queue.heartbeat()
    assert row(pg_url, lease.queue_id)["lease_expires_at"] > first["lease_expires_at"]


def test_attempt_timeout_is_a_validated_config_key() -> None:
    from go_doc_go.config import config_from_dict
    from go_doc_go.exceptions import ConfigError

    assert config_from_dict(None).work_queue.attempt_timeout is None
    assert config_from_dict({"work_queue": {"attempt_timeout": 600}}).work_queue.attempt_timeout == 600
    with pytest.raises(ConfigError, match="work_queue.attempt_timeout"):
        config_from_dict({"work_queue": {"attempt_timeout": 0}})
