"""RunCoordinator: race-free runs and passes, worker sessions, status, no secrets stored."""

from __future__ import annotations

import threading

import psycopg
import pytest

from go_doc_go.config import Config, config_hash, run_id
from go_doc_go.queue.coordinator import RunCoordinator, new_worker_id

pytestmark = pytest.mark.postgres


def test_run_id_comes_from_the_config_and_ensure_is_race_free(pg_pool) -> None:
    config = Config.model_validate({"content_sources": [{"name": "docs", "base_path": "/srv/docs"}]})
    coordinators = [RunCoordinator(pg_pool, config) for _ in range(8)]
    assert {c.run_id for c in coordinators} == {run_id(config)}
    barrier, runs = threading.Barrier(8), []

    def ensure(c: RunCoordinator) -> None:
        barrier.wait()
        runs.append(c.ensure_run())

    threads = [threading.Thread(target=ensure, args=(c,)) for c in coordinators]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.created for r in runs) == [False] * 7 + [True]
    assert {r.config_hash for r in runs} == {config_hash(config)}


def test_snapshot_stores_no_secrets(pg_pool, pg_url) -> None:
    config = Config.model_validate(
        {"storage": {"backend": "postgresql", "uri": "postgresql://app:hunter2@db.example:5432/kb"}}
    )
    coordinator = RunCoordinator(pg_pool, config)
    coordinator.ensure_run()
    with psycopg.connect(pg_url) as conn:
        snapshot = conn.execute(
            "SELECT config_snapshot::text FROM processing_runs WHERE run_id = %s", (coordinator.run_id,)
        ).fetchone()[0]
    assert "hunter2" not in snapshot and "db.example" in snapshot


def test_worker_ids_are_unique_per_process_and_call() -> None:
    ids = {new_worker_id() for _ in range(100)}
    assert len(ids) == 100


def test_only_one_starter_begins_the_new_pass(new_run) -> None:
    coordinator, _ = new_run()
    assert coordinator.abandon() and coordinator.get().status == "abandoned"
    starters = [RunCoordinator(coordinator.pool, run_id_override=coordinator.run_id) for _ in range(6)]
    barrier, passes = threading.Barrier(6), []

    def start(c: RunCoordinator) -> None:
        barrier.wait()
        passes.append(c.start(new_pass_if_finished=True).pass_number)

    threads = [threading.Thread(target=start, args=(c,)) for c in starters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(passes) == {2}


def test_status_transitions(new_run) -> None:
    coordinator, _ = new_run()
    assert coordinator.fail() and coordinator.get().status == "failed"
    assert not coordinator.abandon(), "a failed run is not abandoned"


def test_worker_lifecycle_and_stale_detection(new_run, pg_url) -> None:
    coordinator, _ = new_run(stale_threshold=1)
    assert coordinator.heartbeat()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE run_workers SET heartbeat_at = now() - interval '5 seconds' WHERE session_id = %s",
            (coordinator.session_id,),
        )
    assert coordinator.mark_lost_workers() == [coordinator.worker_id]
    assert coordinator.workers()[0]["status"] == "lost"
    assert coordinator.heartbeat(), "a lost session whose heartbeats succeed again comes back"
    assert coordinator.workers()[0]["status"] == "running"
    coordinator.register()  # a new process with the same worker id replaces it
    assert coordinator.heartbeat()
    coordinator.deregister()
    assert [w["status"] for w in coordinator.workers()] == ["stopped", "replaced"]
