"""Reading a run's metrics: a handful of index lookups per run, never a count over the queue.

Rows per state come from ``run_state_counts`` + ``run_state_deltas``, which
statement triggers on ``document_queue`` keep exact (migration 0004); the few
rows read from ``document_queue`` itself are leased, expired or at the head of
an index. ``collect`` reads everything in one REPEATABLE READ, READ ONLY
transaction, so one snapshot's numbers agree with each other (the states add
up to the total, the workers' current documents to ``processing``).

``compact`` folds the trigger deltas into per-minute buckets: reads stay cheap
and the buckets are the throughput history. It is the only write, and a
monitor without write access simply skips it (reads stay exact, only slower).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from psycopg import Connection

from go_doc_go.config import Config
from go_doc_go.queue import repository
from go_doc_go.queue.monitoring.alerts import evaluate
from go_doc_go.queue.monitoring.records import (
    REMAINING,
    STATES,
    MonitorSnapshot,
    QueueHealth,
    RunMetrics,
    RunSummary,
    TableHealth,
    Throughput,
    WorkerMetrics,
)

#: The tables whose size and dead rows the health view shows.
QUEUE_TABLES = (
    "document_queue",
    "processing_runs",
    "run_workers",
    "run_worker_counts",
    "run_state_deltas",
    "run_state_counts",
    "document_dependencies",
)


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    """The thresholds and windows one monitor uses (from ``monitoring.*`` and ``work_queue.*``)."""

    window: float = 300.0
    history_minutes: int = 60
    worker_silent: float = 90.0
    expired_lease_grace: float = 60.0
    failure_rate: float | None = 0.10
    failure_rate_critical: float | None = 0.50
    failure_rate_min_attempts: int = 20
    dead_letter_growth: int | None = 1
    dead_letter_growth_critical: int | None = None
    oldest_pending: float | None = 3600.0
    oldest_pending_critical: float | None = None
    expired_leases: int | None = 1

    @classmethod
    def from_config(cls, config: Config) -> MonitorSettings:
        alerts = config.monitoring.alerts
        return cls(
            window=alerts.window,
            history_minutes=config.monitoring.history_minutes,
            worker_silent=alerts.worker_silent or 3 * config.work_queue.heartbeat_interval,
            expired_lease_grace=alerts.expired_lease_grace,
            failure_rate=alerts.failure_rate,
            failure_rate_critical=alerts.failure_rate_critical,
            failure_rate_min_attempts=alerts.failure_rate_min_attempts,
            dead_letter_growth=alerts.dead_letter_growth,
            dead_letter_growth_critical=alerts.dead_letter_growth_critical,
            oldest_pending=alerts.oldest_pending,
            oldest_pending_critical=alerts.oldest_pending_critical,
            expired_leases=alerts.expired_leases,
        )


# ---------------------------------------------------------------- selection


def select_runs(
    conn: Connection, settings: MonitorSettings, *, run_id: str | None = None, config_run_id: str | None = None,
    limit: int = 10,
) -> list[str]:
    """The runs a view shows: ``run_id`` if given (empty if it does not exist); else the active runs,
    the config's run and the runs changed within the alert window; else the latest run."""
    found = repository.monitor_runs_select(
        conn, run_id=run_id, config_run_id=config_run_id, window=settings.window, limit=limit
    )
    if found or run_id is not None:
        return found
    latest = repository.monitor_run_latest(conn)
    return [latest] if latest else []


def list_runs(conn: Connection, *, limit: int = 20) -> list[RunSummary]:
    """Recent runs, newest activity first, with their current pass's size and progress."""
    return [RunSummary(**row) for row in repository.monitor_runs_recent(conn, limit=limit)]


# ---------------------------------------------------------------- one snapshot


def collect(conn: Connection, run_ids: list[str], settings: MonitorSettings) -> MonitorSnapshot:
    """Metrics and alerts of these runs, plus queue table health, in one consistent snapshot.

    ``conn`` must not be inside a transaction; the read is REPEATABLE READ, READ ONLY.
    """
    began = time.perf_counter()
    with conn.transaction():
        repository.monitor_snapshot_begin(conn)
        now = repository.db_now(conn)
        runs = [run for run_id in run_ids if (run := collect_run(conn, run_id, settings)) is not None]
        tables = [TableHealth(**row) for row in repository.monitor_tables(conn, tables=QUEUE_TABLES)]
    runs = [replace(run, alerts=evaluate(run, settings)) for run in runs]
    return MonitorSnapshot(generated_at=now, runs=runs, tables=tables, collect_seconds=time.perf_counter() - began)


def collect_run(conn: Connection, run_id: str, settings: MonitorSettings) -> RunMetrics | None:
    """One run's metrics (no alerts yet: see ``alerts.evaluate``), or None if there is no such run."""
    run = repository.monitor_run(conn, run_id=run_id, window=settings.window)
    if run is None:
        return None
    pass_number = run["pass_number"]
    counts, earlier, entered, dead_all = _states(
        repository.monitor_run_states(conn, run_id=run_id, window_start=run["window_start"]), pass_number
    )
    history = repository.monitor_run_history(
        conn, run_id=run_id, pass_number=pass_number, minutes=settings.history_minutes
    )
    throughput = _throughput(run, counts, entered, history)
    leases = repository.monitor_leases_by_worker(conn, run_id=run_id)
    workers = [_worker(row, leases, settings) for row in repository.monitor_workers(
        conn, run_id=run_id, window=settings.window)]
    health_row = repository.monitor_queue_health(conn, run_id=run_id, grace=settings.expired_lease_grace)
    health = QueueHealth(
        depth=counts["pending"],
        waiting=counts["scheduled"] + counts["retry"],
        retry_backlog=counts["retry"],
        processing=counts["processing"],
        oldest_pending_seconds=None if health_row["oldest_pending"] is None else max(health_row["oldest_pending"], 0.0),
        expired_leases=int(health_row["expired_leases"]),
        next_retry_in_seconds=health_row["next_due_in"],
        dead_letters=dead_all,
        dead_letter_growth=throughput.dead_letters_in_window,
        failure_rate=throughput.failure_rate,
        attempts_in_window=throughput.attempts_in_window,
    )
    remaining = sum(counts[state] for state in REMAINING)
    return RunMetrics(
        run_id=run["run_id"],
        status=run["status"],
        pass_number=pass_number,
        created_at=run["created_at"],
        pass_started_at=run["pass_started_at"],
        updated_at=run["updated_at"],
        completed_at=run["completed_at"],
        now=run["now"],
        counts=counts,
        earlier_passes=earlier,
        elapsed_seconds=max(float(run["elapsed"] or 0.0), 0.0),
        throughput=throughput,
        eta_seconds=_eta(remaining, throughput),
        eta_lower_bound=run["discovery_done_at"] is None and run["status"] == "active",
        discovery=_discovery(run),
        post_processing=_post_processing(run, remaining),
        workers=workers,
        health=health,
    )


def _states(
    rows: list[tuple[int, str, int, int]], pass_number: int
) -> tuple[dict[str, int], dict[str, int], dict[str, int], int]:
    """Split the count rows into the current pass's counts and entries, earlier passes, and all dead letters."""
    counts = dict.fromkeys(STATES, 0)
    entered = dict.fromkeys(STATES, 0)
    earlier: dict[str, int] = {}
    dead_all = 0
    for row_pass, state, n, came in rows:
        if state == "dead_letter":
            dead_all += n
        if row_pass == pass_number:
            counts[state] = counts.get(state, 0) + n
            entered[state] = entered.get(state, 0) + came
        elif n:
            earlier[state] = earlier.get(state, 0) + n
    return counts, earlier, entered, dead_all


def _throughput(
    run: dict[str, Any], counts: dict[str, int], entered: dict[str, int], history: list[tuple[datetime, int]]
) -> Throughput:
    window = max(float(run["window_seconds"] or 0.0), 1.0)
    elapsed = max(float(run["elapsed"] or 0.0), 1.0)
    return Throughput(
        window_seconds=window,
        completed_in_window=entered["completed"],
        failed_in_window=entered["retry"] + entered["dead_letter"],
        dead_letters_in_window=entered["dead_letter"],
        docs_per_second=entered["completed"] / window,
        average_docs_per_second=counts["completed"] / elapsed,
        history=history,
    )


def _eta(remaining: int, throughput: Throughput) -> float | None:
    """Seconds until the remaining documents are done at the window's rate (the pass average if the window
    saw none); None when nothing completes."""
    if remaining == 0:
        return 0.0
    rate = throughput.docs_per_second or throughput.average_docs_per_second
    return remaining / rate if rate > 0 else None


def _worker(row: dict[str, Any], leases: dict[str | None, dict[str, Any]], settings: MonitorSettings) -> WorkerMetrics:
    held = leases.get(row["worker_id"]) if row["status"] == "running" else None
    silent = max(float(row["silent_for"] or 0.0), 0.0)
    lifetime = max(float(row["lifetime"] or 0.0), 1.0)
    return WorkerMetrics(
        session_id=row["session_id"],
        worker_id=row["worker_id"],
        host=row["host"],
        pid=row["pid"],
        status=row["status"],
        registered_at=row["registered_at"],
        heartbeat_at=row["heartbeat_at"],
        stopped_at=row["stopped_at"],
        silent_seconds=silent,
        claimed=int(row["claimed"]),
        completed=int(row["completed"]),
        failed=int(row["failed"]),
        docs_per_second=int(row["completed"]) / lifetime,
        current_documents=int(held["leased"]) if held else 0,
        expired_leases=int(held["expired"]) if held else 0,
        current_sample=list(held["sample"] or []) if held else [],
        live=row["status"] == "running" and silent <= settings.worker_silent,
    )


def _discovery(run: dict[str, Any]) -> dict[str, Any]:
    if run["discovery_done_at"] is not None:
        state = "done"
    elif run["status"] != "active":
        state = "not done"
    elif run["discovery_held"]:
        state = "running"
    else:
        state = "needed"  # nobody holds the lease: the next worker's next_batch answers DISCOVER
    return {
        "state": state,
        "done_at": run["discovery_done_at"],
        "holder": run["discovery_holder"] if run["discovery_held"] else None,
        "expires_at": run["discovery_expires_at"] if run["discovery_held"] else None,
        "stats": run["discovery_stats"] or {},
        "incomplete_sources": run["incomplete_sources"] or [],
    }


def _post_processing(run: dict[str, Any], remaining: int) -> dict[str, Any]:
    status = run["status"]
    if status == "completed":
        state = "done"
    elif status == "post_processing":
        state = "running" if run["leader_valid"] else "stalled"
    elif status == "active":
        state = "due" if run["discovery_done_at"] is not None and remaining == 0 else "waiting"
    else:
        state = status  # failed, abandoned
    return {
        "state": state,
        "leader_id": run["leader_id"] if run["leader_valid"] else None,
        "leader_term": run["leader_term"],
        "leader_expires_at": run["leader_expires_at"] if run["leader_valid"] else None,
        "result": run["post_processing"] or {},
    }


# ---------------------------------------------------------------- maintenance


def compact(conn: Connection, settings: MonitorSettings) -> bool:
    """Fold the count deltas into minute buckets; False if another process is doing it."""
    return repository.counts_compact(conn, history_minutes=settings.history_minutes)


def history_start(now: datetime, minutes: int) -> datetime:
    """The first minute a ``minutes``-long history covers (for views that draw empty minutes too)."""
    return (now - timedelta(minutes=minutes)).replace(second=0, microsecond=0)
