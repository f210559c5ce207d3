"""The monitor's JSON export, schema ``go-doc-go.monitor/1`` (documented in docs/operations.md).

Times are ISO 8601 in UTC (``Z``), durations are seconds, rates documents
per second. A new field may appear within version 1; a removed or renamed
field means version 2.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from go_doc_go.queue.monitoring.records import (
    STATES,
    Alert,
    MonitorSnapshot,
    RunMetrics,
    TableHealth,
    WorkerMetrics,
)

SCHEMA = "go-doc-go.monitor/1"


def iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a ``Z``; None stays None."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """JSON-ready copy of jsonb content read back (datetimes become ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    return value


def snapshot_to_dict(snapshot: MonitorSnapshot, *, database: str) -> dict[str, Any]:
    """The whole export: ``database`` is shown as given (pass it redacted)."""
    return {
        "schema": SCHEMA,
        "generated_at": iso(snapshot.generated_at),
        "database": database,
        "runs": [run_to_dict(run) for run in snapshot.runs],
        "tables": [table_to_dict(table) for table in snapshot.tables],
    }


def run_to_dict(run: RunMetrics) -> dict[str, Any]:
    t, h = run.throughput, run.health
    return {
        "run_id": run.run_id,
        "status": run.status,
        "pass_number": run.pass_number,
        "created_at": iso(run.created_at),
        "pass_started_at": iso(run.pass_started_at),
        "completed_at": iso(run.completed_at),
        "elapsed_seconds": round(run.elapsed_seconds, 3),
        "counts": {**{state: run.counts.get(state, 0) for state in STATES}, "total": run.total},
        "earlier_passes": dict(run.earlier_passes),
        "finished": run.finished,
        "completion_percent": round(run.completion_percent, 3),
        "throughput": {
            "window_seconds": round(t.window_seconds, 3),
            "completed_in_window": t.completed_in_window,
            "failed_in_window": t.failed_in_window,
            "docs_per_second": round(t.docs_per_second, 3),
            "average_docs_per_second": round(t.average_docs_per_second, 3),
            "per_minute": [{"minute": iso(minute), "completed": n} for minute, n in t.history],
        },
        "eta_seconds": None if run.eta_seconds is None else round(run.eta_seconds, 1),
        "eta_lower_bound": run.eta_lower_bound,
        "discovery": _plain(run.discovery),
        "post_processing": _plain(run.post_processing),
        "health": {
            "depth": h.depth,
            "waiting": h.waiting,
            "retry_backlog": h.retry_backlog,
            "processing": h.processing,
            "oldest_pending_seconds": None if h.oldest_pending_seconds is None else round(h.oldest_pending_seconds, 1),
            "expired_leases": h.expired_leases,
            "next_retry_in_seconds": None if h.next_retry_in_seconds is None else round(h.next_retry_in_seconds, 1),
            "dead_letters": h.dead_letters,
            "dead_letter_growth": h.dead_letter_growth,
            "failure_rate": None if h.failure_rate is None else round(h.failure_rate, 4),
            "attempts_in_window": h.attempts_in_window,
        },
        "workers": [worker_to_dict(w) for w in run.workers],
        "alerts": [alert_to_dict(a) for a in run.alerts],
    }


def worker_to_dict(worker: WorkerMetrics) -> dict[str, Any]:
    return {
        "session_id": worker.session_id,
        "worker_id": worker.worker_id,
        "host": worker.host,
        "pid": worker.pid,
        "status": worker.status,
        "live": worker.live,
        "registered_at": iso(worker.registered_at),
        "heartbeat_at": iso(worker.heartbeat_at),
        "stopped_at": iso(worker.stopped_at),
        "silent_seconds": round(worker.silent_seconds, 1),
        "claimed": worker.claimed,
        "completed": worker.completed,
        "failed": worker.failed,
        "docs_per_second": round(worker.docs_per_second, 3),
        "current_documents": worker.current_documents,
        "expired_leases": worker.expired_leases,
        "current_sample": list(worker.current_sample),
    }


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    return {
        "name": alert.name,
        "severity": alert.severity,
        "run_id": alert.run_id,
        "message": alert.message,
        "value": alert.value,
        "threshold": alert.threshold,
    }


def table_to_dict(table: TableHealth) -> dict[str, Any]:
    return {
        "name": table.name,
        "live_rows": table.live_rows,
        "dead_rows": table.dead_rows,
        "dead_ratio": round(table.dead_ratio, 4),
        "size_bytes": table.size_bytes,
        "last_vacuum": iso(table.last_vacuum),
        "last_analyze": iso(table.last_analyze),
        "vacuums": table.vacuums,
    }
