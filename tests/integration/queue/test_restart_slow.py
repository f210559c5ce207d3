"""PostgreSQL restarted under running workers: they reconnect and the run completes.

Slow and disruptive (it restarts the local server), so it is marked ``slow``
and runs on CI's separate line, never beside other tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import psycopg
import pytest

from go_doc_go.queue.records import NewDocument

from .workers import CTX, drain

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TOTAL = 30_000


def restart_command() -> list[str] | None:
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0 or not os.path.isdir("/etc/postgresql"):
        return None
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"]


def server_started(url: str):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]


def test_run_completes_across_a_server_restart(pg_url, new_run) -> None:
    command = restart_command()
    if command is None:
        pytest.skip("needs root and a local pg_ctlcluster-managed PostgreSQL to restart")
    coordinator, queue = new_run(batch_size=10, claim_timeout=2, heartbeat_interval=0.5, poll_interval=0.3,
                                 max_retries=20)
    queue.add_many([NewDocument("s", f"d{i}") for i in range(TOTAL)])
    coordinator.discovery_done()
    start, results = CTX.Barrier(3), CTX.Queue()
    settings = coordinator.settings.model_dump_json()
    procs = [CTX.Process(target=drain, args=(pg_url, coordinator.run_id, settings, results, start)) for _ in range(3)]
    for p in procs:
        p.start()
    deadline = time.monotonic() + 60
    while queue.counts()["completed"] < 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    started_before = server_started(pg_url)
    completed_before = queue.counts()["completed"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    reports = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    counts = queue.counts()
    assert counts["completed"] == TOTAL, counts
    completed = [q for _, _, done in reports for q in done]
    assert len(completed) == len(set(completed)) == TOTAL, "each document completed exactly once"
    assert completed_before < TOTAL, "the restart happened mid-run"
    assert server_started(pg_url) > started_before, "the server really restarted"
