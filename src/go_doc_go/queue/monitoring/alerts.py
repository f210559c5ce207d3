"""Alerts: pure functions of one run's metrics and the thresholds (``monitoring.alerts``).

An alert is active while its condition holds and clears as soon as it does
not: nothing is stored. ``AlertTracker`` remembers, for one long-running
monitor (the live dashboard), since when each alert has been active and which
ones cleared recently.

| name | severity | fires when |
|---|---|---|
| ``workers_missing`` | critical | the run has documents to process and no live worker |
| ``workers_stale`` | warning | documents to process and a running worker silent longer than ``worker_silent`` (or lost within the window) |
| ``failure_rate`` | warning / critical | failed attempts / attempts in the window at or above the threshold (at least ``failure_rate_min_attempts``) |
| ``dead_letter_growth`` | warning / critical | new dead letters in the window at or above the threshold |
| ``oldest_pending`` | warning / critical | the longest-waiting claimable document has waited at least this long |
| ``expired_leases`` | warning | leases expired longer than ``expired_lease_grace`` ago and not reclaimed (nobody claims) |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from go_doc_go.queue.monitoring.records import Alert, RunMetrics, Severity

if TYPE_CHECKING:
    from go_doc_go.queue.monitoring.collect import MonitorSettings

#: Every alert name, in the order views list them.
ALERT_NAMES = (
    "workers_missing", "workers_stale", "failure_rate", "dead_letter_growth", "oldest_pending", "expired_leases",
)
#: Run statuses in which work is expected to move.
ACTIVE = ("active", "post_processing")


def _level(value: float | None, warning: float | None, critical: float | None) -> tuple[Severity, float] | None:
    """The severity reached by ``value`` and the threshold it crossed, or None."""
    if value is None:
        return None
    if critical is not None and value >= critical:
        return "critical", critical
    if warning is not None and value >= warning:
        return "warning", warning
    return None


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _documents(n: int) -> str:
    return f"{n:,} document{'' if n == 1 else 's'}"


def evaluate(run: RunMetrics, settings: MonitorSettings) -> list[Alert]:
    """The alerts active for this run now, in ``ALERT_NAMES`` order."""
    alerts = _worker_alerts(run, settings)
    alerts += _rate_alerts(run, settings)
    alerts += _queue_alerts(run, settings)
    return sorted(alerts, key=lambda a: ALERT_NAMES.index(a.name))


def _worker_alerts(run: RunMetrics, settings: MonitorSettings) -> list[Alert]:
    if run.status not in ACTIVE or run.remaining == 0:
        return []
    live = run.live_workers
    stale = [w for w in run.workers if w.status == "running" and not w.live]
    lost = [w for w in run.workers if w.status == "lost" and w.stopped_at is not None
            and (run.now - w.stopped_at).total_seconds() <= settings.window]
    if not live:
        heard = [w.silent_seconds for w in run.workers]
        last = f"last heartbeat {_duration(min(heard))} ago" if heard else "no worker ever registered"
        return [Alert("workers_missing", "critical", run.run_id,
                      f"{_documents(run.remaining)} to process and no live worker ({last})",
                      value=0, threshold=1)]
    if stale or lost:
        named = [f"{w.worker_id} silent for {_duration(w.silent_seconds)}" for w in stale]
        named += [f"{w.worker_id} lost" for w in lost]
        more = f" and {len(named) - 5} more" if len(named) > 5 else ""
        return [Alert("workers_stale", "warning", run.run_id,
                      f"{', '.join(named[:5])}{more} (stale after {_duration(settings.worker_silent)}) while "
                      f"{_documents(run.remaining)} wait", value=len(named), threshold=settings.worker_silent)]
    return []


def _rate_alerts(run: RunMetrics, settings: MonitorSettings) -> list[Alert]:
    alerts: list[Alert] = []
    window = _duration(run.throughput.window_seconds)
    rate = run.health.failure_rate
    if run.health.attempts_in_window >= settings.failure_rate_min_attempts:
        hit = _level(rate, settings.failure_rate, settings.failure_rate_critical)
        if hit is not None and rate is not None:
            severity, threshold = hit
            alerts.append(Alert("failure_rate", severity, run.run_id,
                                f"{rate:.0%} of {run.health.attempts_in_window:,} attempts failed in the last "
                                f"{window} (threshold {threshold:.0%})", value=rate, threshold=threshold))
    growth = run.health.dead_letter_growth
    hit = _level(growth, settings.dead_letter_growth, settings.dead_letter_growth_critical)
    if hit is not None:
        severity, threshold = hit
        alerts.append(Alert("dead_letter_growth", severity, run.run_id,
                            f"{growth:,} new dead letters in the last {window} "
                            f"({run.health.dead_letters:,} in all): see go-doc-go deadletter --analyze",
                            value=growth, threshold=threshold))
    return alerts


def _queue_alerts(run: RunMetrics, settings: MonitorSettings) -> list[Alert]:
    if run.status not in ACTIVE:
        return []
    alerts: list[Alert] = []
    oldest = run.health.oldest_pending_seconds
    hit = _level(oldest, settings.oldest_pending, settings.oldest_pending_critical)
    if hit is not None and oldest is not None:
        severity, threshold = hit
        alerts.append(Alert("oldest_pending", severity, run.run_id,
                            f"a claimable document has waited {_duration(oldest)} "
                            f"(threshold {_duration(threshold)})", value=oldest, threshold=threshold))
    expired = run.health.expired_leases
    if settings.expired_leases is not None and expired >= settings.expired_leases:
        alerts.append(Alert("expired_leases", "warning", run.run_id,
                            f"{expired:,} leases expired more than {_duration(settings.expired_lease_grace)} ago "
                            "and not reclaimed: no worker is claiming", value=expired,
                            threshold=settings.expired_leases))
    return alerts


@dataclass
class AlertTracker:
    """Since when each alert is active, and which cleared recently (kept ``keep_cleared`` seconds)."""

    keep_cleared: float = 300.0
    since: dict[tuple[str, str], datetime] = field(default_factory=dict)
    cleared: dict[tuple[str, str], tuple[Alert, datetime]] = field(default_factory=dict)
    _last: dict[tuple[str, str], Alert] = field(default_factory=dict)

    def update(self, alerts: list[Alert], now: datetime) -> tuple[list[Alert], list[Alert]]:
        """Record this refresh's alerts; returns ``(fired, cleared)`` since the previous refresh."""
        current = {alert.key: alert for alert in alerts}
        fired = [alert for key, alert in current.items() if key not in self.since]
        gone = [alert for key, alert in self._last.items() if key not in current]
        for alert in fired:
            self.since[alert.key] = now
            self.cleared.pop(alert.key, None)
        for alert in gone:
            self.since.pop(alert.key, None)
            self.cleared[alert.key] = (alert, now)
        self.cleared = {k: v for k, v in self.cleared.items() if (now - v[1]).total_seconds() <= self.keep_cleared}
        self._last = current
        return fired, gone
