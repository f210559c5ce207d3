"""Chaos: workers SIGKILLed every 2 s and replaced, and PostgreSQL restarted mid-run.

Both end with exactly the store single mode builds: nothing lost, nothing
doubled, no orphan rows. Slow and disruptive, so marked ``slow`` (CI runs them
on their own line, never beside other tests).
"""

from __future__ import annotations

import random
import signal
import sys
import time
from pathlib import Path

import pytest

from go_doc_go import ingest_documents
from go_doc_go.config import config_from_dict, load_config
from tests.helpers.stores import differences

from ..queue.test_restart_slow import restart_command, server_started
from .conftest import cli, single_config, start, write_config
from .test_lifecycle import query, stored, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DOCUMENTS = 1500


def generated(root: Path, count: int) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
    import ingest_bench

    root.mkdir()
    ingest_bench.generate(root, count, "markdown")
    return root


def no_orphans(url: str) -> None:
    orphans = query(url, "SELECT count(*) FROM elements e WHERE NOT EXISTS "
                         "(SELECT 1 FROM documents d WHERE d.doc_id = e.doc_id)")[0][0]
    partial = query(url, "SELECT count(*) FROM documents d WHERE d.element_count <> "
                         "(SELECT count(*) FROM elements e WHERE e.doc_id = d.doc_id)")[0][0]
    assert (orphans, partial) == (0, 0)


def equals_single_mode(config_file: Path, tmp_path: Path) -> None:
    single = config_from_dict(single_config(config_file, tmp_path / "single.db"))
    summary = ingest_documents(single)
    assert summary.failed == 0
    assert differences(stored(single), stored(load_config(config_file))) == []


def test_workers_killed_every_two_seconds_lose_nothing(tmp_path, fresh_db):
    root = generated(tmp_path / "docs", DOCUMENTS)
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db,
                               work_queue={"claim_timeout": 6, "heartbeat_interval": 1, "max_retries": 20})
    assert cli("go_doc_go.cli.coordinator", "--config", str(config_file)).returncode == 0
    rng = random.Random(7)
    workers: dict[str, object] = {}
    serial = 0

    def launch() -> None:
        nonlocal serial
        serial += 1
        worker_id = f"w{serial}"
        workers[worker_id] = start("go_doc_go.cli.worker", "--config", str(config_file), "--worker-id", worker_id,
                                   stderr=open(tmp_path / f"{worker_id}.log", "w"))

    for _ in range(3):
        launch()
    kills = 0
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = query(fresh_db, "SELECT status FROM processing_runs")[0][0]
        if status == "completed":
            break
        time.sleep(2)
        alive = [w for w, p in workers.items() if p.poll() is None]
        if alive and query(fresh_db, "SELECT status FROM processing_runs")[0][0] == "active":
            victim = rng.choice(alive)
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait(30)
            del workers[victim]
            kills += 1
            launch()
    assert query(fresh_db, "SELECT status FROM processing_runs")[0][0] == "completed", "the run completes"
    for process in workers.values():
        assert process.wait(120) == 0
    print(f"chaos: {kills} workers killed over {DOCUMENTS} documents")
    assert kills >= 5
    states = dict(query(fresh_db, "SELECT state, count(*) FROM document_queue GROUP BY state"))
    assert states == {"completed": DOCUMENTS}, states
    crashes = query(fresh_db, "SELECT coalesce(sum(crash_count), 0) FROM document_queue")[0][0]
    assert crashes > 0, "leases of killed workers were reclaimed"
    no_orphans(fresh_db)
    equals_single_mode(config_file, tmp_path)


def test_a_database_restart_mid_run_loses_nothing(tmp_path, fresh_db):
    command = restart_command()
    if command is None:
        pytest.skip("needs root and pg_ctlcluster to restart the local server")
    import subprocess

    root = generated(tmp_path / "docs", 1000)
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db,
                               work_queue={"claim_timeout": 30, "heartbeat_interval": 2})
    assert cli("go_doc_go.cli.coordinator", "--config", str(config_file)).returncode == 0
    workers = [start("go_doc_go.cli.worker", "--config", str(config_file), "--worker-id", f"w{i}",
                     stderr=open(tmp_path / f"w{i}.log", "w")) for i in range(2)]
    wait_for(lambda: query(fresh_db, "SELECT count(*) FROM document_queue WHERE state = 'completed'")[0][0] >= 100,
             what="some documents done")
    before = server_started(fresh_db)
    subprocess.run(command, check=True, timeout=120)
    wait_for(lambda: _up(fresh_db), what="the server back")
    assert server_started(fresh_db) != before, "the server really restarted"
    for process in workers:
        assert process.wait(600) == 0, (tmp_path / "w0.log").read_text()[-3000:]
    assert dict(query(fresh_db, "SELECT state, count(*) FROM document_queue GROUP BY state")) == {"completed": 1000}
    no_orphans(fresh_db)
    equals_single_mode(config_file, tmp_path)


def _up(url: str) -> bool:
    try:
        query(url, "SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - still starting
        return False
