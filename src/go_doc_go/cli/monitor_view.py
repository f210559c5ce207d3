"""How ``go-doc-go monitor`` draws a snapshot: summary lines, detail tables and the live dashboard.

Presentation only (rich renderables from ``queue.monitoring`` records); the
command in ``cli/monitor.py`` decides when to read and what to print.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from go_doc_go.queue.monitoring import AlertTracker, MonitorSnapshot, RunMetrics, RunSummary
from go_doc_go.queue.monitoring.records import Alert

SPARK = "▁▂▃▄▅▆▇█"
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow"}
STATUS_STYLE = {"active": "green", "post_processing": "cyan", "completed": "blue", "failed": "red",
                "abandoned": "red"}


# ---------------------------------------------------------------- small formats


def duration(seconds: float | None) -> str:
    """``42 s``, ``7 min 05 s``, ``3 h 12 min``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    seconds = max(int(round(seconds)), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    if seconds < 86400 * 2:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def clock(value: datetime | None) -> str:
    """UTC ``YYYY-MM-DD HH:MM:SS``."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def window(seconds: float) -> str:
    """The alert window as users set it: whole minutes (it is minute-aligned, so a little longer)."""
    return f"{int(seconds // 60)} min" if seconds >= 60 else f"{int(seconds)} s"


def rate(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def sparkline(values: list[float]) -> str:
    """One block character per value, scaled to the largest (all zero: the lowest block)."""
    top = max(values, default=0)
    if top <= 0:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.5))] for v in values)


def per_minute(run: RunMetrics, minutes: int) -> list[float]:
    """Completions per minute for the last ``minutes`` minutes (empty minutes are zeros), oldest first."""
    by_minute = {m.astimezone(timezone.utc).replace(second=0, microsecond=0): n for m, n in run.throughput.history}
    last = run.now.astimezone(timezone.utc).replace(second=0, microsecond=0)
    return [float(by_minute.get(last - timedelta(minutes=i), 0)) for i in range(minutes - 1, -1, -1)]


def eta_text(run: RunMetrics) -> str:
    if run.eta_seconds is None:
        return "ETA -"
    return f"ETA {'≥ ' if run.eta_lower_bound else ''}{duration(run.eta_seconds)}"


def counts_text(run: RunMetrics) -> Text:
    c = run.counts
    parts = [
        ("pending", c["pending"], ""), ("waiting", c["scheduled"] + c["retry"], ""),
        ("processing", c["processing"], "cyan"), ("completed", c["completed"], "green"),
        ("dead letter", c["dead_letter"], "red" if c["dead_letter"] else ""),
    ]
    text = Text()
    for i, (label, n, style) in enumerate(parts):
        text.append(" · " if i else "")
        text.append(f"{label} ")
        text.append(f"{n:,}", style=style or None)
        if label == "waiting" and c["retry"]:
            text.append(f" (retry {c['retry']:,})")
    if run.earlier_passes:
        text.append(f" · earlier passes {sum(run.earlier_passes.values()):,}", style="dim")
    return text


def run_headline(run: RunMetrics) -> Text:
    text = Text()
    text.append(f"run {run.run_id} ", style="bold")
    text.append(run.status, style=STATUS_STYLE.get(run.status, ""))
    text.append(f" · pass {run.pass_number} · {run.completion_percent:.1f}% "
                f"({run.finished:,}/{run.total:,}) · {rate(run.throughput.docs_per_second)} docs/s "
                f"({window(run.throughput.window_seconds)} window) · {eta_text(run)} · "
                f"elapsed {duration(run.elapsed_seconds)}")
    return text


def state_line(run: RunMetrics) -> Text:
    live = len(run.live_workers)
    text = Text(f"workers {live} live / {len(run.workers)} · discovery {run.discovery['state']} · "
                f"post-processing {run.post_processing['state']}")
    if run.eta_lower_bound:
        text.append(" · more documents may be discovered", style="dim")
    return text


def alert_line(alert: Alert, since: datetime | None = None, now: datetime | None = None) -> Text:
    text = Text()
    text.append(f"{alert.severity.upper():8}", style=SEVERITY_STYLE[alert.severity])
    text.append(f" {alert.name} ", style="bold")
    text.append(f"run {alert.run_id}: {alert.message}")
    if since is not None and now is not None:
        text.append(f" (for {duration((now - since).total_seconds())})", style="dim")
    return text


# ---------------------------------------------------------------- one-shot views


def summary(snapshot: MonitorSnapshot) -> list[RenderableType]:
    out: list[RenderableType] = []
    for run in snapshot.runs:
        out += [run_headline(run), Text("  ") + counts_text(run), Text("  ") + state_line(run)]
        out += [Text("  ") + alert_line(a) for a in run.alerts]
    return out


def workers_table(run: RunMetrics, *, limit: int | None = None) -> Table:
    table = Table(title=f"Workers of run {run.run_id}", title_justify="left", expand=False)
    for name, justify in (("worker", "left"), ("host", "left"), ("status", "left"), ("done", "right"),
                          ("failed", "right"), ("docs/s", "right"), ("current", "right"), ("heartbeat", "right")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    workers = run.workers if limit is None else run.workers[:limit]
    for w in workers:
        status = w.status if w.live or w.status != "running" else "silent"
        style = "" if w.live else ("red" if w.status in ("running", "lost") else "dim")
        table.add_row(f"{w.worker_id} #{w.session_id}", f"{w.host}:{w.pid}", status, f"{w.completed:,}",
                      f"{w.failed:,}", rate(w.docs_per_second), f"{w.current_documents:,}",
                      f"{duration(w.silent_seconds)} ago", style=style)
    if limit is not None and len(run.workers) > limit:
        table.add_row(f"… {len(run.workers) - limit} more", "", "", "", "", "", "", "")
    if not run.workers:
        table.add_row("(no worker session)", "", "", "", "", "", "", "")
    return table


def health_table(run: RunMetrics) -> Table:
    h, t = run.health, run.throughput
    table = Table(title=f"Queue health of run {run.run_id}", title_justify="left", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("depth (claimable)", f"{h.depth:,}"), ("waiting (retry or delayed)", f"{h.waiting:,}"),
        ("retry backlog", f"{h.retry_backlog:,}"), ("processing", f"{h.processing:,}"),
        ("oldest pending", duration(h.oldest_pending_seconds)), ("expired leases", f"{h.expired_leases:,}"),
        ("next retry due in", duration(h.next_retry_in_seconds) if (h.next_retry_in_seconds or 0) > 0 else "-"),
        ("dead letters (all passes)", f"{h.dead_letters:,}"),
        (f"new dead letters ({window(t.window_seconds)} window)", f"{h.dead_letter_growth:,}"),
        (f"failure rate ({window(t.window_seconds)} window)",
         "-" if h.failure_rate is None else f"{h.failure_rate:.1%} of {h.attempts_in_window:,}"),
        ("throughput (window / pass average)",
         f"{rate(t.docs_per_second)} / {rate(t.average_docs_per_second)} docs/s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def tables_table(snapshot: MonitorSnapshot) -> Table:
    table = Table(title="Queue tables (pg_stat_user_tables)", title_justify="left")
    for name, justify in (("table", "left"), ("live rows", "right"), ("dead rows", "right"), ("dead %", "right"),
                          ("size", "right"), ("last vacuum", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for t in snapshot.tables:
        table.add_row(t.name, f"{t.live_rows:,}", f"{t.dead_rows:,}", f"{t.dead_ratio:.0%}",
                      f"{t.size_bytes / 1048576:,.1f} MiB", clock(t.last_vacuum))
    return table


def details(snapshot: MonitorSnapshot) -> list[RenderableType]:
    out: list[RenderableType] = []
    for run in snapshot.runs:
        out += [run_headline(run), Text("  ") + counts_text(run), Text("  ") + state_line(run)]
        out += [workers_table(run), health_table(run)]
        stats = run.discovery.get("stats") or {}
        if stats or run.discovery.get("incomplete_sources"):
            out.append(Text(f"discovery: {stats}; incomplete sources: {run.discovery['incomplete_sources'] or '-'}"))
        if run.post_processing.get("result"):
            out.append(Text(f"post-processing result: {run.post_processing['result']}"))
        out += [alert_line(a) for a in run.alerts] or [Text("no active alerts", style="green")]
        out.append(Text(""))
    out.append(tables_table(snapshot))
    return out


def runs_table(runs: Iterable[RunSummary]) -> Table:
    table = Table(title="Recent runs", title_justify="left")
    for name, justify in (("run", "left"), ("status", "left"), ("pass", "right"), ("progress", "right"),
                          ("documents", "right"), ("dead", "right"), ("workers", "right"), ("updated", "left"),
                          ("created", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in runs:
        table.add_row(r.run_id, Text(r.status, style=STATUS_STYLE.get(r.status, "")), str(r.pass_number),
                      f"{r.completion_percent:.1f}%", f"{r.total:,}", f"{r.dead_letter:,}", str(r.workers_running),
                      clock(r.updated_at), clock(r.created_at))
    return table


# ---------------------------------------------------------------- the live dashboard


@dataclass
class Dashboard:
    """What the live view remembers between refreshes: alert times and the last completed counts."""

    database: str
    refresh: float
    sparkline_minutes: int = 30
    tracker: AlertTracker = field(default_factory=AlertTracker)
    _previous: dict[str, tuple[float, int, int]] = field(default_factory=dict)
    _now_rate: dict[str, float] = field(default_factory=dict)

    def observe(self, snapshot: MonitorSnapshot) -> None:
        """Feed one refresh: alert transitions and the rate since the previous refresh."""
        self.tracker.update(snapshot.alerts, snapshot.generated_at)
        now = time.monotonic()
        for run in snapshot.runs:
            done = run.counts["completed"]
            seen = self._previous.get(run.run_id)
            if seen is not None and seen[2] == run.pass_number and now > seen[0]:
                self._now_rate[run.run_id] = max(done - seen[1], 0) / (now - seen[0])
            self._previous[run.run_id] = (now, done, run.pass_number)

    def render(self, snapshot: MonitorSnapshot | None, error: str | None = None) -> RenderableType:
        parts: list[RenderableType] = [self._header(snapshot)]
        if error:
            parts.append(Text(f"database unreachable, retrying: {error}", style="bold red"))
        if snapshot is not None:
            if not snapshot.runs:
                parts.append(Text("no runs to show", style="dim"))
            for run in snapshot.runs:
                parts += self._run(run)
            parts.append(self._alerts(snapshot))
        parts.append(Text(f"refresh every {self.refresh:g} s · q or Ctrl-C quits", style="dim"))
        return Group(*parts)

    def _header(self, snapshot: MonitorSnapshot | None) -> Text:
        text = Text("go-doc-go monitor", style="bold")
        text.append(f" · {self.database}")
        if snapshot is not None:
            text.append(f" · {clock(snapshot.generated_at)} UTC · read in {snapshot.collect_seconds * 1000:.0f} ms",
                        style="dim")
        return text

    def _run(self, run: RunMetrics) -> list[RenderableType]:
        bar = Table.grid(padding=(0, 1))
        for _ in range(5):
            bar.add_column()
        now_rate = self._now_rate.get(run.run_id, run.throughput.docs_per_second)
        bar.add_row(Text(f"run {run.run_id}", style="bold"),
                    Text(run.status, style=STATUS_STYLE.get(run.status, "")),
                    ProgressBar(total=max(run.total, 1), completed=run.finished, width=36),
                    Text(f"{run.completion_percent:5.1f}% {run.finished:,}/{run.total:,}"),
                    Text(f"{rate(now_rate)} docs/s · {eta_text(run)}"))
        spark = sparkline(per_minute(run, self.sparkline_minutes))
        lines: list[RenderableType] = [
            bar,
            Text("  ") + counts_text(run),
            Text("  ") + state_line(run),
            Text(f"  throughput {spark} docs/min, last {self.sparkline_minutes} min "
                 f"(window {rate(run.throughput.docs_per_second)} docs/s)"),
        ]
        lines.append(workers_table(run, limit=12))
        return lines

    def _alerts(self, snapshot: MonitorSnapshot) -> RenderableType:
        now = snapshot.generated_at
        lines: list[RenderableType] = [Text("Alerts", style="bold")]
        active = snapshot.alerts
        lines += [Text("  ") + alert_line(a, self.tracker.since.get(a.key), now) for a in active]
        if not active:
            lines.append(Text("  none active", style="green"))
        for alert, at in self.tracker.cleared.values():
            lines.append(Text(f"  cleared {duration((now - at).total_seconds())} ago: {alert.name} run "
                              f"{alert.run_id}", style="dim"))
        return Group(*lines)
