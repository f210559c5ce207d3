"""``go-doc-go monitor`` (also ``python -m go_doc_go.cli.monitor``): watch distributed runs.

Forms: ``--run-id ID [--details]`` (summary tables; without ``--run-id``:
the active runs, the config's run and runs changed within the alert window),
``--live`` (a dashboard redrawn in place; q or Ctrl-C quits), ``--alerts``
(exit code 3 while a critical alert is active), ``--export FILE`` (JSON,
``go-doc-go.monitor/1``), ``--list-runs`` and ``--prometheus-port PORT``
(alone, or beside ``--live``). Exit codes: 0 ok, 1 the database could not be
read, 2 usage or config error, 3 (``--alerts``) a critical alert is active.
The reading is ``queue.monitoring``; this module only presents it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import psycopg
from rich.live import Live

from go_doc_go.cli import monitor_view as view
from go_doc_go.cli.errors import EXIT_USAGE, clean_errors, database_errors
from go_doc_go.cli.opsconfig import OpsTarget, resolve
from go_doc_go.cli.output import console
from go_doc_go.config import scrub
from go_doc_go.queue.monitoring import Monitor, MonitorSettings, snapshot_to_dict

#: ``--alerts`` exits with this while a critical alert is active.
EXIT_CRITICAL = 3


def _usage(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _monitor(target: OpsTarget, run_id: str | None) -> Monitor:
    return Monitor(target.url, MonitorSettings.from_config(target.config), run_id=run_id,
                   config_run_id=target.config_run_id)


@click.command("monitor", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--run-id", help="The run to show [default: active runs, the config's run, recently changed runs].")
@click.option("--details", is_flag=True, help="Worker, queue-health and table details.")
@click.option("--live", is_flag=True, help="Live dashboard, redrawn in place; q or Ctrl-C quits.")
@click.option("--alerts", "show_alerts", is_flag=True, help="Active alerts; exit code 3 while one is critical.")
@click.option("--export", "export_file", metavar="FILE", help="Write the metrics as JSON (- for stdout).")
@click.option("--list-runs", is_flag=True, help="Recent runs.")
@click.option("--prometheus-port", type=click.IntRange(1, 65535), metavar="PORT",
              help="Serve the metrics in Prometheus text format on PORT (/metrics).")
@click.option("--prometheus-addr", default="0.0.0.0", show_default=True, help="Address the metrics server binds.")
@click.option("--refresh", type=click.FloatRange(min=0.1),
              help="Live refresh seconds [default: monitoring.refresh_interval].")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Runs shown by --list-runs.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="Config file [default: $GO_DOC_GO_CONFIG, else ./config.yaml].")
@click.option("--database-url", help="Queue database [default: the config's work_queue.uri, else storage.uri].")
@clean_errors
def monitor(
    run_id: str | None, details: bool, live: bool, show_alerts: bool, export_file: str | None, list_runs: bool,
    prometheus_port: int | None, prometheus_addr: str, refresh: float | None, limit: int,
    config_file: str | None, database_url: str | None,
) -> None:
    """Watch distributed runs: progress, throughput, ETA, workers, queue health and alerts."""
    actions = [name for name, on in (("--live", live), ("--alerts", show_alerts), ("--export", export_file),
                                     ("--list-runs", list_runs)) if on]
    if len(actions) > 1:
        _usage(f"{' and '.join(actions)} cannot be combined")
    if prometheus_port is not None and actions and actions != ["--live"]:
        _usage(f"--prometheus-port combines only with --live, not {actions[0]}")
    if details and actions:
        _usage(f"--details applies to the summary, not to {actions[0]}")
    if live and not sys.stdout.isatty():
        _usage("--live draws on a terminal and stdout is not one; use --run-id, --alerts or --export in scripts")
    target = resolve(config_file, database_url)
    with database_errors(target.url):
        if list_runs:
            _list_runs(target, limit)
        elif show_alerts:
            _alerts(target, run_id)
        elif export_file:
            _export(target, run_id, export_file)
        elif live:
            _live(target, run_id, refresh or target.config.monitoring.refresh_interval,
                  prometheus_port, prometheus_addr)
        elif prometheus_port is not None:
            _serve(target, run_id, prometheus_port, prometheus_addr)
        else:
            _summary(target, run_id, details)


def _checked_snapshot(target: OpsTarget, run_id: str | None) -> Any:
    with _monitor(target, run_id) as reader:
        snapshot = reader.snapshot()
    if run_id is not None and not snapshot.runs:
        _usage(f"no run {run_id} in {target.shown_url} (see --list-runs)")
    return snapshot


def _summary(target: OpsTarget, run_id: str | None, details: bool) -> None:
    snapshot = _checked_snapshot(target, run_id)
    out = console()
    if not snapshot.runs:
        out.print(f"no runs in {target.shown_url}")
        return
    for item in (view.details(snapshot) if details else view.summary(snapshot)):
        out.print(item)


def _list_runs(target: OpsTarget, limit: int) -> None:
    with _monitor(target, None) as reader:
        runs = reader.runs(limit)
    if not runs:
        console().print(f"no runs in {target.shown_url}")
        return
    console().print(view.runs_table(runs))


def _alerts(target: OpsTarget, run_id: str | None) -> None:
    snapshot = _checked_snapshot(target, run_id)
    out = console()
    for alert in snapshot.alerts:
        out.print(view.alert_line(alert))
    if not snapshot.alerts:
        out.print(f"no active alerts ({len(snapshot.runs)} run{'s' if len(snapshot.runs) != 1 else ''} checked)")
    if snapshot.critical:
        sys.exit(EXIT_CRITICAL)


def _export(target: OpsTarget, run_id: str | None, file: str) -> None:
    snapshot = _checked_snapshot(target, run_id)
    document = snapshot_to_dict(snapshot, database=target.shown_url)
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    if file == "-":
        sys.stdout.write(text)
        return
    write_atomically(Path(file), text)
    click.echo(f"wrote {len(snapshot.runs)} run(s) to {file}")


def write_atomically(path: Path, text: str) -> None:
    """Write beside the target and rename: a reader never sees half a file."""
    folder = path.resolve().parent
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- Prometheus


def _start_metrics(reader: Monitor, port: int, addr: str) -> Any:
    from go_doc_go.queue.monitoring.prometheus import serve

    try:
        return serve(reader.snapshot, port=port, addr=addr)
    except OSError as error:
        _usage(f"--prometheus-port {port}: cannot listen on {addr}:{port}: {error.strerror or error}")


def _stop_on_sigterm() -> None:
    """A service manager's SIGTERM stops the server like Ctrl-C does (exit 0)."""

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _serve(target: OpsTarget, run_id: str | None, port: int, addr: str) -> None:
    _stop_on_sigterm()
    with _monitor(target, run_id) as reader:
        server = _start_metrics(reader, port, addr)
        click.echo(f"serving Prometheus metrics of {target.shown_url} on http://{addr}:{port}/metrics "
                   "(Ctrl-C stops)", err=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()


# ---------------------------------------------------------------- live


@contextmanager
def quit_keys(stop: threading.Event) -> Iterator[None]:
    """While inside: a key q (or Q) on a terminal's stdin sets ``stop``. Ctrl-C stays a signal."""
    if not sys.stdin.isatty():
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)  # keys arrive one by one, unechoed; ISIG stays on, so Ctrl-C still interrupts

    def watch() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready and os.read(fd, 1) in (b"q", b"Q"):
                stop.set()

    thread = threading.Thread(target=watch, name="monitor-keys", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(1)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _live(target: OpsTarget, run_id: str | None, refresh: float, port: int | None, addr: str) -> None:
    dashboard = view.Dashboard(database=target.shown_url, refresh=refresh)
    stop = threading.Event()
    with _monitor(target, run_id) as reader:
        snapshot = reader.snapshot()
        if run_id is not None and not snapshot.runs:
            _usage(f"no run {run_id} in {target.shown_url} (see --list-runs)")
        dashboard.observe(snapshot)
        server = _start_metrics(reader, port, addr) if port is not None else None
        try:
            with quit_keys(stop), Live(console=console(), auto_refresh=False, screen=False, transient=False,
                                       redirect_stdout=False, redirect_stderr=False) as screen:
                _redraw(reader, dashboard, screen, stop, snapshot)
        except KeyboardInterrupt:
            pass  # Ctrl-C quits like q: the last frame stays on the terminal
        finally:
            if server is not None:
                server.shutdown()


def _redraw(reader: Monitor, dashboard: view.Dashboard, screen: Live, stop: threading.Event, snapshot: Any) -> None:
    """Draw, wait ``refresh`` seconds (or until q), read again; a lost database is shown, then retried."""
    error: str | None = None
    while True:
        screen.update(dashboard.render(snapshot, error), refresh=True)
        if stop.wait(dashboard.refresh):
            return
        try:
            snapshot, error = reader.snapshot(), None
            dashboard.observe(snapshot)
        except psycopg.OperationalError as failure:
            text = str(failure).strip()
            error = scrub(text.splitlines()[-1] if text else type(failure).__name__)


def main() -> None:
    monitor()


if __name__ == "__main__":
    main()
