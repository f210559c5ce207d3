"""Worker lifecycle with real processes and signals: last man standing, a leader that dies, SIGTERM."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import psycopg
import pytest

from go_doc_go import ingest_documents
from go_doc_go.config import config_from_dict, load_config
from go_doc_go.storage import open_store
from tests.helpers.corpus import write_corpus
from tests.helpers.stores import differences, snapshot

from .conftest import cli, single_config, start, write_config

pytestmark = pytest.mark.postgres

SLOW_STEP = '''
import os
import time

if os.environ.get("GDG_SLOW_STEP"):
    from go_doc_go.rules import postprocess

    class SlowOnce:
        """The first leader to get here stays in post-processing (until it is killed)."""

        name = "slow_once"

        def enabled(self, config):
            return True

        def run(self, store, tx, context):
            try:
                os.remove(os.environ["GDG_SLOW_STEP"])
            except FileNotFoundError:
                return 0
            time.sleep(120)
            return 0

    postprocess.STEPS.insert(0, SlowOnce())
'''


def stored(configuration) -> dict:  # noqa: ANN001
    store = open_store(configuration, read_only=True)
    try:
        return snapshot(store)
    finally:
        store.close()


def wait_for(condition, timeout: float = 120.0, what: str = "condition"):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def query(url: str, sql: str, *params):  # noqa: ANN001, ANN201
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def test_four_workers_finishing_together_post_process_exactly_once(tmp_path, fresh_db):
    root = write_corpus(tmp_path / "corpus")
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db)
    assert cli("go_doc_go.cli.coordinator", "--config", str(config_file)).returncode == 0
    workers = cli("go_doc_go.cli.worker", "--config", str(config_file), "--num-workers", "4")
    assert workers.returncode == 0, workers.stderr[-3000:]
    assert workers.stderr.count("completed (post-processing") == 1
    assert workers.stderr.count("stopped: run completed") == 4
    [(status, result)] = query(fresh_db, "SELECT status, post_processing FROM processing_runs")
    assert status == "completed" and result["resolve_links"] > 0


def test_a_leader_killed_during_post_processing_is_replaced(tmp_path, fresh_db):
    root = write_corpus(tmp_path / "corpus")
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SLOW_STEP)
    marker = tmp_path / "slow-once"
    marker.write_text("")
    env = {"PYTHONPATH": f"{hooks}:{':'.join(sys.path)}", "GDG_SLOW_STEP": str(marker)}
    assert cli("go_doc_go.cli.coordinator", "--config", str(config_file)).returncode == 0
    workers = {f"w{i}": start("go_doc_go.cli.worker", "--config", str(config_file), "--worker-id", f"w{i}",
                              env=env, stderr=open(tmp_path / f"w{i}.log", "w")) for i in range(3)}
    leader = wait_for(lambda: [row[0] for row in query(fresh_db, "SELECT leader_id FROM processing_runs "
                                                                 "WHERE status = 'post_processing'")],
                      what="a leader in post-processing")[0]
    assert not marker.exists(), "the leader is inside the slow step"
    victim = workers.pop(leader.split("#")[0])
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    for process in workers.values():
        assert process.wait(120) == 0
    [(status, term)] = query(fresh_db, "SELECT status, leader_term FROM processing_runs")
    assert status == "completed" and term >= 2, "another worker took over with a newer term"
    single = config_from_dict(single_config(config_file, tmp_path / "single.db"))
    ingest_documents(single)
    assert differences(stored(single), stored(load_config(config_file))) == []


def test_sigterm_during_processing_loses_nothing_and_leaves_no_lease(tmp_path, fresh_db):
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
    import ingest_bench

    root = tmp_path / "docs"
    root.mkdir()
    from go_doc_go.distributed.worker import IN_FLIGHT_PER_PARSER

    total = 40 + 3 * IN_FLIGHT_PER_PARSER  # more than the worker can hold in hand when the signal comes
    ingest_bench.generate(root, total, "markdown")
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db)
    assert cli("go_doc_go.cli.coordinator", "--config", str(config_file)).returncode == 0
    worker = start("go_doc_go.cli.worker", "--config", str(config_file), "--worker-id", "w1",
                   stderr=open(tmp_path / "w1.log", "w"))
    wait_for(lambda: query(fresh_db, "SELECT count(*) FROM document_queue WHERE state = 'completed'")[0][0] >= 40,
             what="some documents done")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(120) == 130
    log = (tmp_path / "w1.log").read_text()
    assert "stopped by a signal" in log
    states = dict(query(fresh_db, "SELECT state, count(*) FROM document_queue GROUP BY state"))
    assert "processing" not in states, f"no lease left held: {states}"
    assert states.get("completed", 0) < total, "stopped mid-run"
    completed = query(fresh_db, "SELECT count(*) FROM document_queue WHERE state = 'completed'")[0][0]
    documents = query(fresh_db, "SELECT count(*) FROM documents")[0][0]
    assert documents == completed, "rows are stored exactly for the completed documents"
    assert query(fresh_db, "SELECT count(*) FROM run_workers WHERE status = 'running'")[0][0] == 0

    again = cli("go_doc_go.cli.worker", "--config", str(config_file), "--worker-id", "w2")
    assert again.returncode == 0, again.stderr[-2000:]
    single = config_from_dict(single_config(config_file, tmp_path / "single.db"))
    ingest_documents(single)
    assert differences(stored(single), stored(load_config(config_file))) == []


def _slow_corpus(tmp_path: Path, count: int) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
    import ingest_bench

    root = tmp_path / "docs"
    root.mkdir()
    ingest_bench.generate(root, count, "markdown")
    return root


def test_a_second_signal_releases_the_leases_and_exits_at_once(tmp_path, fresh_db):
    root = _slow_corpus(tmp_path, 600)
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db)
    assert cli("go_doc_go.cli.coordinator", "--config", str(config_file)).returncode == 0
    worker = start("go_doc_go.cli.worker", "--config", str(config_file), "--worker-id", "w1",
                   stderr=open(tmp_path / "w1.log", "w"))
    wait_for(lambda: query(fresh_db, "SELECT count(*) FROM document_queue WHERE state = 'processing'")[0][0] > 0,
             what="documents in hand")
    worker.send_signal(signal.SIGTERM)
    wait_for(lambda: "finishing the documents in hand" in (tmp_path / "w1.log").read_text(), what="the first signal")
    worker.send_signal(signal.SIGTERM)
    began = time.monotonic()
    assert worker.wait(60) == 130
    assert time.monotonic() - began < 15
    assert "second signal" in (tmp_path / "w1.log").read_text()
    assert query(fresh_db, "SELECT count(*) FROM document_queue WHERE state = 'processing'")[0][0] == 0
    crashes = query(fresh_db, "SELECT coalesce(sum(crash_count), 0) FROM document_queue")[0][0]
    assert crashes == 0, "released, not left to expire as crashes"


def test_the_supervisor_restarts_a_worker_that_dies(tmp_path, fresh_db):
    root = _slow_corpus(tmp_path, 1200)
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db,
                               work_queue={"claim_timeout": 5, "heartbeat_interval": 1})
    assert cli("go_doc_go.cli.coordinator", "--config", str(config_file)).returncode == 0
    supervisor = start("go_doc_go.cli.worker", "--config", str(config_file), "--worker-id", "node",
                       "--num-workers", "2", stderr=open(tmp_path / "node.log", "w"))
    children = wait_for(lambda: _children(supervisor.pid, "node-1"), what="the workers started")
    wait_for(lambda: query(fresh_db, "SELECT count(*) FROM document_queue WHERE state = 'completed'")[0][0] > 50,
             what="some documents done")
    import os

    os.kill(children[0], signal.SIGKILL)
    assert supervisor.wait(300) == 0, (tmp_path / "node.log").read_text()[-3000:]
    log = (tmp_path / "node.log").read_text()
    assert "node-1 exited with SIGKILL; restarting" in log
    assert query(fresh_db, "SELECT status FROM processing_runs")[0][0] == "completed"
    assert dict(query(fresh_db, "SELECT state, count(*) FROM document_queue GROUP BY state")) == {"completed": 1200}


def _children(pid: int, worker_id: str) -> list[int]:
    """Pids of ``pid``'s child processes whose command line names ``worker_id``."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if worker_id in Path(f"/proc/{child}/cmdline").read_text().replace("\0", " "):
                found.append(int(child))
    return found


def test_max_documents_stops_a_worker_after_that_many(tmp_path, fresh_db):
    root = write_corpus(tmp_path / "corpus")
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db)
    assert cli("go_doc_go.cli.coordinator", "--config", str(config_file)).returncode == 0
    worker = cli("go_doc_go.cli.worker", "--config", str(config_file), "--max-documents", "5")
    assert worker.returncode == 0 and "--max-documents 5 reached" in worker.stderr
    assert query(fresh_db, "SELECT count(*) FROM document_queue WHERE state = 'completed'")[0][0] == 5
    assert query(fresh_db, "SELECT status FROM processing_runs")[0][0] == "active"


def test_a_waiting_worker_takes_the_next_pass_and_the_coordinator_can_follow_it(tmp_path, fresh_db):
    root = write_corpus(tmp_path / "corpus")
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db)
    worker = start("go_doc_go.cli.worker", "--config", str(config_file), "--worker-id", "w1", "--wait",
                   stderr=open(tmp_path / "w1.log", "w"))
    wait_for(lambda: query(fresh_db, "SELECT status FROM processing_runs") == [("completed",)], what="pass 1")
    (root / "generated" / "page00.md").write_text("# Page 0\n\nEdited for the second pass.\n")
    follow = cli("go_doc_go.cli.coordinator", "--config", str(config_file), "--wait", timeout=300)
    assert follow.returncode == 0, follow.stderr[-2000:]
    assert "pass 2" in follow.stdout and "completed" in follow.stdout
    assert worker.poll() is None, "--wait keeps the worker for the next pass"
    assert query(fresh_db, "SELECT count(*) FROM elements WHERE text = 'Edited for the second pass.'") == [(1,)]
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(60) == 130
    log = (tmp_path / "w1.log").read_text()
    assert "waiting for the next pass" in log and "a new pass began" in log
