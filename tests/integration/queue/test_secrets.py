"""Nothing the queue stores carries a credential: run snapshots, error texts, error history, document paths."""

from __future__ import annotations

import json

import psycopg
import pytest

from go_doc_go.config import Config
from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.records import NewDocument

from .helpers import expire_lease, row

pytestmark = pytest.mark.postgres


def test_key_value_storage_uri_is_stored_without_its_password(pg_pool, pg_url) -> None:
    config = Config.model_validate(
        {"storage": {"backend": "postgresql", "uri": "host=db.example user=app password=hunter2 dbname=kb"}}
    )
    coordinator = RunCoordinator(pg_pool, config)
    coordinator.ensure_run()
    with psycopg.connect(pg_url) as conn:
        snapshot = conn.execute(
            "SELECT config_snapshot::text FROM processing_runs WHERE run_id = %s", (coordinator.run_id,)
        ).fetchone()[0]
    assert "hunter2" not in snapshot and "host=db.example" in snapshot


def test_failure_texts_and_history_are_scrubbed(pg_url, new_run) -> None:
    _, queue = new_run()
    queue.add(source_name="web", doc_id="x")
    (lease,) = queue.claim(1)
    queue.fail(lease, "GET https://bot:ghp_SECRET@host/x.pdf?token=tk1 failed (password=pw2)", stage="fetch")
    stored = row(pg_url, lease.queue_id)
    text = stored["last_error"] + json.dumps(stored["error_history"])
    for secret in ("ghp_SECRET", "tk1", "pw2"):
        assert secret not in text
    assert "https://bot:***@host/x.pdf" in stored["last_error"]


def test_document_paths_are_stored_without_credentials(pg_url, new_run) -> None:
    _, queue = new_run()
    queue.add_many([NewDocument("web", "x", doc_path="https://bot:ghp_SECRET@host/x.pdf?sig=S1&v=2")])
    (lease,) = queue.claim(1)
    assert lease.doc_path == "https://bot:***@host/x.pdf?sig=***&v=2"
    assert row(pg_url, lease.queue_id)["doc_path"] == lease.doc_path


def test_reclaim_messages_carry_no_credentials(pg_url, new_run) -> None:
    _, queue = new_run(worker_id="worker https://ops:pw3@monitor/x")
    queue.add(source_name="s", doc_id="d")
    (lease,) = queue.claim(1)
    expire_lease(pg_url, lease.queue_id)
    queue.reclaim_expired()
    stored = row(pg_url, lease.queue_id)
    assert "pw3" not in stored["last_error"] + json.dumps(stored["error_history"]) + (stored["worker_id"] or "")
