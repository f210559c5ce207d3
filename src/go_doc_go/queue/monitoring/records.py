"""What the monitor reads: plain, frozen records. No behaviour, no I/O.

Every time in here is the database's (``now()``), never the monitor's clock.
Counts are of the run's current pass unless a field says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

#: Document states, in the order views show them.
STATES = ("pending", "scheduled", "retry", "processing", "completed", "dead_letter")
#: States that still have to be processed (what an ETA waits for).
REMAINING = ("pending", "scheduled", "retry", "processing")

Severity = Literal["warning", "critical"]


def percent(part: int, whole: int) -> float:
    """``part`` of ``whole`` in percent, rounded down to 0.1: 100.0 only when all of it is done."""
    return int(1000 * part / whole) / 10 if whole else 0.0


@dataclass(frozen=True, slots=True)
class Alert:
    """One active alert of one run. ``value`` is what was measured, ``threshold`` what it crossed."""

    name: str
    severity: Severity
    run_id: str
    message: str
    value: float | None = None
    threshold: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.run_id, self.name)


@dataclass(frozen=True, slots=True)
class WorkerMetrics:
    """One worker session. ``live``: running and heard from within the stale threshold."""

    session_id: int
    worker_id: str
    host: str
    pid: int
    status: str
    registered_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    silent_seconds: float
    claimed: int
    completed: int
    failed: int
    #: Completed documents per second over the session's lifetime.
    docs_per_second: float
    current_documents: int
    expired_leases: int
    current_sample: list[str]
    live: bool


@dataclass(frozen=True, slots=True)
class Throughput:
    """Completions over the alert window (minute-aligned, never before the pass began) and since the pass began.

    ``failed_in_window`` counts attempts that ended in a failure or a crash
    (the document went to retry or to the dead letter).
    """

    window_seconds: float
    completed_in_window: int
    failed_in_window: int
    dead_letters_in_window: int
    docs_per_second: float
    average_docs_per_second: float
    #: ``(minute, documents completed in it)``, oldest first, minutes without completions left out.
    history: list[tuple[datetime, int]] = field(default_factory=list)

    @property
    def attempts_in_window(self) -> int:
        return self.completed_in_window + self.failed_in_window

    @property
    def failure_rate(self) -> float | None:
        attempts = self.attempts_in_window
        return self.failed_in_window / attempts if attempts else None


@dataclass(frozen=True, slots=True)
class QueueHealth:
    """The queue of one run: what waits, what is stuck, what died."""

    depth: int
    waiting: int
    retry_backlog: int
    processing: int
    oldest_pending_seconds: float | None
    expired_leases: int
    next_retry_in_seconds: float | None
    #: Dead letters of every pass of the run (the dead-letter queue's size).
    dead_letters: int
    dead_letter_growth: int
    failure_rate: float | None
    attempts_in_window: int


@dataclass(frozen=True, slots=True)
class RunMetrics:
    """Everything the monitor knows about one run, read in one snapshot."""

    run_id: str
    status: str
    pass_number: int
    created_at: datetime
    pass_started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    now: datetime
    counts: dict[str, int]
    #: Rows still in earlier passes (documents the current pass has not re-queued), by state.
    earlier_passes: dict[str, int]
    elapsed_seconds: float
    throughput: Throughput
    eta_seconds: float | None
    #: Discovery is not done: more documents may come, the ETA is a lower bound.
    eta_lower_bound: bool
    discovery: dict[str, Any]
    post_processing: dict[str, Any]
    workers: list[WorkerMetrics]
    health: QueueHealth
    alerts: list[Alert] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> int:
        return self.counts.get("completed", 0) + self.counts.get("dead_letter", 0)

    @property
    def remaining(self) -> int:
        return sum(self.counts.get(state, 0) for state in REMAINING)

    @property
    def completion_percent(self) -> float:
        return percent(self.finished, self.total)

    @property
    def live_workers(self) -> list[WorkerMetrics]:
        return [w for w in self.workers if w.live]


@dataclass(frozen=True, slots=True)
class TableHealth:
    """One queue table as ``pg_stat_user_tables`` sees it (estimates maintained by PostgreSQL)."""

    name: str
    live_rows: int
    dead_rows: int
    size_bytes: int
    last_vacuum: datetime | None
    last_analyze: datetime | None
    vacuums: int

    @property
    def dead_ratio(self) -> float:
        rows = self.live_rows + self.dead_rows
        return self.dead_rows / rows if rows else 0.0


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    """One refresh: the runs shown and the queue tables, at database time ``generated_at``."""

    generated_at: datetime
    runs: list[RunMetrics]
    tables: list[TableHealth]
    #: How long reading it took (seconds, monitor side).
    collect_seconds: float = 0.0

    @property
    def alerts(self) -> list[Alert]:
        return [alert for run in self.runs for alert in run.alerts]

    @property
    def critical(self) -> bool:
        return any(alert.severity == "critical" for alert in self.alerts)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of ``--list-runs``."""

    run_id: str
    status: str
    pass_number: int
    created_at: datetime
    pass_started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    discovery_done: bool
    total: int
    finished: int
    dead_letter: int
    workers_running: int

    @property
    def completion_percent(self) -> float:
        return percent(self.finished, self.total)
