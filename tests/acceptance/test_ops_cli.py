"""The operator commands as users run them: real processes, a real terminal (pty), a real HTTP scrape.

The runs are made through the queue library (what workers call); the
commands under test run as ``python -m go_doc_go.cli.monitor|deadletter``.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from go_doc_go.config import WorkQueueConfig
from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.records import NewDocument
from go_doc_go.queue.work_queue import WorkQueue

from ..integration.conftest import pg_pool, pg_server, pg_template, pg_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.postgres

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def run_cli(module: str, *args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "GO_DOC_GO_CONFIG"}
    return subprocess.run([sys.executable, "-m", f"go_doc_go.cli.{module}", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**clean, "COLUMNS": "200", **(env or {})})


def make_run(pool, n: int, *, worker_id: str = "w-accept"):  # type: ignore[no-untyped-def]
    settings = WorkQueueConfig(retry_backoff_base=0.01, retry_backoff_max=0.02)
    coordinator = RunCoordinator(pool, run_id_override=f"acc-{secrets.token_hex(5)}", settings=settings,
                                 worker_id=worker_id)
    coordinator.start()
    session = coordinator.register()
    queue = WorkQueue(pool, coordinator.run_id, settings, worker_id=worker_id, session_id=session)
    queue.add_many(NewDocument("docs", f"d{i}", doc_path=f"folder/doc{i}.json") for i in range(n))
    coordinator.discovery_done()
    return coordinator, queue


def complete(queue: WorkQueue, n: int, *, fail_every: int = 0) -> None:
    done = 0
    while done < n and (leases := queue.claim(min(10, n - done))):
        bad = [x for i, x in enumerate(leases) if fail_every and (done + i) % fail_every == 0]
        for lease in bad:
            queue.fail(lease, f"invalid JSON in {lease.doc_path}: Expecting value: line 1 column 1 (char 0)",
                       stage="parse", permanent=True, error_type="ParseError")
        queue.complete_many([x for x in leases if x not in bad])
        done += len(leases)


# ---------------------------------------------------------------- finding the database


@pytest.mark.parametrize("module", ["monitor", "deadletter"])
def test_without_any_database_the_commands_say_so_in_one_line(module, tmp_path) -> None:
    args = ["--list-runs"] if module == "monitor" else ["--list"]
    result = run_cli(module, *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("error: no queue database: no --config, $GO_DOC_GO_CONFIG is not set and there is "
                             "no ./config.yaml; pass --database-url URL\n")
    (tmp_path / "config.yaml").write_text("storage:\n  backend: sqlite\n")
    sqlite_only = run_cli(module, *args, cwd=tmp_path)
    assert sqlite_only.returncode == 2
    assert sqlite_only.stderr == ("error: no queue database: config.yaml sets neither work_queue.uri nor "
                                  "storage.uri; pass --database-url URL\n")


def test_config_comes_from_flag_then_environment_then_the_current_folder(pg_url, pg_pool, tmp_path) -> None:
    coordinator, _ = make_run(pg_pool, 3)
    good = f"storage:\n  backend: postgresql\n  uri: {pg_url}\n"
    broken = "storage:\n  backend: postgresql\n  uri: postgresql://nobody:pw@127.0.0.1:1/none\n"
    (tmp_path / "config.yaml").write_text(good)
    local = run_cli("monitor", "--run-id", coordinator.run_id, cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    assert f"run {coordinator.run_id} active" in local.stdout

    (tmp_path / "env.yaml").write_text(broken)
    from_env = run_cli("monitor", "--run-id", coordinator.run_id, cwd=tmp_path,
                       env={"GO_DOC_GO_CONFIG": str(tmp_path / "env.yaml")})
    assert from_env.returncode == 1  # $GO_DOC_GO_CONFIG wins over ./config.yaml: its database is unreachable
    assert from_env.stderr.startswith("error: cannot connect to postgresql://nobody:***@127.0.0.1:1/none")
    assert "pw" not in from_env.stderr

    flag = run_cli("deadletter", "--list", "--config", str(tmp_path / "config.yaml"), cwd=tmp_path,
                   env={"GO_DOC_GO_CONFIG": str(tmp_path / "env.yaml")})
    assert flag.returncode == 0 and "no dead letters" in flag.stdout  # --config wins over the environment

    override = run_cli("deadletter", "--list", "--database-url", pg_url, cwd=tmp_path,
                       env={"GO_DOC_GO_CONFIG": str(tmp_path / "env.yaml")})
    assert override.returncode == 0  # --database-url wins over the config's database

    missing = run_cli("monitor", "--list-runs", cwd=tmp_path, env={"GO_DOC_GO_CONFIG": str(tmp_path / "no.yaml")})
    assert missing.returncode == 2 and "$GO_DOC_GO_CONFIG names" in missing.stderr


@pytest.mark.skipif("uri" not in WorkQueueConfig.model_fields, reason="work_queue.uri is not a config key yet")
def test_work_queue_uri_is_preferred_to_storage_uri(pg_url, tmp_path) -> None:
    (tmp_path / "config.yaml").write_text(
        f"storage:\n  backend: postgresql\n  uri: postgresql://nobody@127.0.0.1:1/x\nwork_queue:\n  uri: {pg_url}\n")
    assert run_cli("monitor", "--list-runs", cwd=tmp_path).returncode == 0


def test_a_database_without_a_queue_is_refused(pg_server, tmp_path) -> None:
    result = run_cli("monitor", "--list-runs", "--database-url", pg_server.rsplit("/", 1)[0] + "/template1",
                     cwd=tmp_path)
    assert result.returncode == 2 and "holds no go-doc-go work queue" in result.stderr


# ---------------------------------------------------------------- the commands as processes


def test_deadletter_and_monitor_as_modules(pg_url, pg_pool, tmp_path) -> None:
    coordinator, queue = make_run(pg_pool, 20)
    complete(queue, 20, fail_every=5)
    listed = run_cli("deadletter", "--list", "--run-id", coordinator.run_id, "--database-url", pg_url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "4 dead letters" in listed.stdout and "docs:folder/doc0.json" in listed.stdout
    analyzed = run_cli("deadletter", "--analyze", "--run-id", coordinator.run_id, "--database-url", pg_url,
                       cwd=tmp_path)
    assert analyzed.returncode == 0 and "fix the file (it does not parse), then --retry" in analyzed.stdout
    exported = run_cli("deadletter", "--export", "-", "--run-id", coordinator.run_id, "--database-url", pg_url,
                       cwd=tmp_path)
    assert json.loads(exported.stdout)["count"] == 4
    summary = run_cli("monitor", "--run-id", coordinator.run_id, "--database-url", pg_url, cwd=tmp_path)
    assert summary.returncode == 0
    assert "100.0% (20/20)" in summary.stdout and "WARNING  dead_letter_growth" in summary.stdout
    alerts = run_cli("monitor", "--alerts", "--run-id", coordinator.run_id, "--database-url", pg_url, cwd=tmp_path)
    assert alerts.returncode == 0 and "dead_letter_growth" in alerts.stdout  # a warning is not critical
    coordinator.deregister()
    queue.add_many([NewDocument("docs", "more", doc_path="more.md")])
    critical = run_cli("monitor", "--alerts", "--run-id", coordinator.run_id, "--database-url", pg_url, cwd=tmp_path)
    assert critical.returncode == 3 and "CRITICAL workers_missing" in critical.stdout
    via_main = subprocess.run([sys.executable, "-m", "go_doc_go.cli.main", "deadletter", "--list", "--run-id",
                               coordinator.run_id, "--database-url", pg_url], capture_output=True, text=True,
                              cwd=tmp_path, timeout=60)
    assert via_main.returncode == 0 and "4 dead letters" in via_main.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_prometheus_endpoint_serves_parseable_metrics(pg_url, pg_pool, tmp_path) -> None:
    coordinator, queue = make_run(pg_pool, 12)
    complete(queue, 6)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "go_doc_go.cli.monitor", "--prometheus-port", str(port),
                             "--prometheus-addr", "127.0.0.1", "--run-id", coordinator.run_id, "--database-url",
                             pg_url], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                    text = response.read().decode()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the metrics server never answered"
                time.sleep(0.1)
        samples = {(s.name, s.labels.get("state")): s.value for f in text_string_to_metric_families(text)
                   for s in f.samples if s.labels.get("run_id") in (None, coordinator.run_id)}
        assert samples[("go_doc_go_up", None)] == 1
        assert samples[("go_doc_go_run_documents", "completed")] == 6
        assert samples[("go_doc_go_run_documents", "pending")] == 6
        complete(queue, 6)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            again = response.read().decode()
        assert 'go_doc_go_run_documents{run_id="%s",state="completed"} 12.0' % coordinator.run_id in again
    finally:
        proc.send_signal(signal.SIGTERM)  # as a service manager stops it
        assert proc.wait(15) == 0


# ---------------------------------------------------------------- the live dashboard in a terminal


class Terminal:
    """A child process on a pseudo-terminal of a fixed size; everything it draws is kept."""

    def __init__(self, args: list[str], cwd: Path, columns: int = 160, rows: int = 60) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "GO_DOC_GO_CONFIG")}
        self.proc = subprocess.Popen(args, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                     env={**env, "TERM": "xterm-256color"}, start_new_session=True,
                                     preexec_fn=self._as_a_terminal_session)
        os.close(slave)
        self.master = master
        self.output = b""

    @staticmethod
    def _as_a_terminal_session() -> None:
        """In the child: the pty is its controlling terminal, and Ctrl-C interrupts it as in a user's shell.

        A test run started in the background (``.ci/run &``) ignores SIGINT, and
        an ignored signal stays ignored across exec: the dashboard would never see Ctrl-C.
        """
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    def read_until(self, done, timeout: float = 30.0) -> str:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not done(self.text):
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; the terminal shows:\n{self.text[-3000:]}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    assert done(self.text), self.text[-3000:]
        return self.text

    @property
    def text(self) -> str:
        return ANSI.sub("", self.output.decode("utf-8", "replace"))

    def press(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout: float = 30.0) -> int | None:
        """The exit code, or None if the child is still running after ``timeout`` (what it drew is kept)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    break
        try:
            return self.proc.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        os.close(self.master)


def live(pg_url: str, run_id: str, tmp_path: Path) -> Terminal:
    return Terminal([sys.executable, "-m", "go_doc_go.cli.monitor", "--live", "--run-id", run_id, "--refresh",
                     "0.3", "--database-url", pg_url], tmp_path)


def test_live_dashboard_draws_progress_and_workers_in_place_and_q_quits(pg_url, pg_pool, tmp_path) -> None:
    coordinator, queue = make_run(pg_pool, 400, worker_id="w-live-1")
    complete(queue, 100)
    terminal = live(pg_url, coordinator.run_id, tmp_path)
    try:
        frame = terminal.read_until(lambda t: "w-live-1" in t and "25.0% 100/400" in t)
        assert f"run {coordinator.run_id}" in frame and "active" in frame
        assert "docs/s" in frame and "ETA" in frame and "throughput" in frame and "Alerts" in frame
        assert "pending 300" in frame and "completed 100" in frame
        worker_row = next(line for line in frame.splitlines() if "w-live-1" in line)
        assert "running" in worker_row and "100" in worker_row
        worker = threading.Thread(target=lambda: complete(queue, 200))
        worker.start()
        worker.join(60)
        terminal.read_until(lambda t: "75.0% 300/400" in t)  # a later frame, redrawn in place
        terminal.press(b"q")
        assert terminal.wait() == 0, terminal.text[-3000:]
        raw = terminal.output.decode("utf-8", "replace")
        assert "\x1b[2J" not in raw and "\x1b[?1049h" not in raw  # never clears the screen, no alternate screen
        assert "\x1b[2K" in raw  # lines of the previous frame are rewritten
        assert "Traceback" not in terminal.text
    finally:
        terminal.close()


def test_live_dashboard_ctrl_c_quits_cleanly_and_shows_alerts(pg_url, pg_pool, tmp_path) -> None:
    coordinator, queue = make_run(pg_pool, 5, worker_id="w-live-2")
    coordinator.deregister()
    terminal = live(pg_url, coordinator.run_id, tmp_path)
    try:
        frame = terminal.read_until(lambda t: "workers_missing" in t)
        assert "CRITICAL" in frame and "no live worker" in frame
        terminal.press(b"\x03")  # Ctrl-C through the terminal: SIGINT
        assert terminal.wait() == 0, terminal.text[-3000:]
        assert "Traceback" not in terminal.text
    finally:
        terminal.close()
