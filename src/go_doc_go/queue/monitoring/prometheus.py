"""Prometheus exposition of a ``MonitorSnapshot`` (prometheus-client; metric names in docs/operations.md).

``families(snapshot)`` is pure; ``MonitorCollector`` reads a fresh snapshot at
every scrape (so a scrape costs one refresh) and reports ``go_doc_go_up 0``
instead of failing when the database cannot be read. ``serve`` starts the
HTTP endpoint in a background thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from go_doc_go.config import scrub
from go_doc_go.queue.monitoring.alerts import ALERT_NAMES
from go_doc_go.queue.monitoring.records import STATES, MonitorSnapshot, RunMetrics

log = logging.getLogger(__name__)

#: Alert levels as gauge values.
LEVELS = {"warning": 1, "critical": 2}


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"go_doc_go_{name}", doc, labels=labels)


def families(snapshot: MonitorSnapshot) -> list[Metric]:
    """Every metric of the snapshot: runs, queue health, workers, alerts and tables."""
    metrics = _run_families(snapshot.runs) + _health_families(snapshot.runs) + _worker_families(snapshot.runs)
    alert = _gauge("alert_level", "Alert level per run: 0 none, 1 warning, 2 critical.", ["run_id", "alert"])
    for run in snapshot.runs:
        active = {a.name: LEVELS[a.severity] for a in run.alerts}
        for name in ALERT_NAMES:
            alert.add_metric([run.run_id, name], active.get(name, 0))
    tables = {
        "live_rows": _gauge("table_live_rows", "Live rows of a queue table (pg_stat_user_tables).", ["table"]),
        "dead_rows": _gauge("table_dead_rows", "Dead rows of a queue table, removed by the next VACUUM.", ["table"]),
        "size_bytes": _gauge("table_size_bytes", "Size of a queue table with its indexes and TOAST.", ["table"]),
    }
    for table in snapshot.tables:
        for key, family in tables.items():
            family.add_metric([table.name], getattr(table, key))
    return [*metrics, alert, *tables.values()]


def _run_families(runs: list[RunMetrics]) -> list[Metric]:
    info = _gauge("run_info", "One per run shown; its status, discovery and post-processing state.",
                  ["run_id", "status", "pass_number", "discovery", "post_processing"])
    documents = _gauge("run_documents", "Documents of the run's current pass by state.", ["run_id", "state"])
    ratio = _gauge("run_completion_ratio", "Completed or dead-lettered share of the current pass.", ["run_id"])
    elapsed = _gauge("run_elapsed_seconds", "Seconds since the current pass began (until it completed).", ["run_id"])
    rate = _gauge("run_throughput_docs_per_second", "Documents completed per second over the alert window.",
                  ["run_id"])
    eta = _gauge("run_eta_seconds", "Seconds until the remaining documents are done (absent when unknown).",
                 ["run_id"])
    for run in runs:
        info.add_metric([run.run_id, run.status, str(run.pass_number), run.discovery["state"],
                         run.post_processing["state"]], 1)
        for state in STATES:
            documents.add_metric([run.run_id, state], run.counts.get(state, 0))
        ratio.add_metric([run.run_id], run.finished / run.total if run.total else 0.0)
        elapsed.add_metric([run.run_id], run.elapsed_seconds)
        rate.add_metric([run.run_id], run.throughput.docs_per_second)
        if run.eta_seconds is not None:
            eta.add_metric([run.run_id], run.eta_seconds)
    return [info, documents, ratio, elapsed, rate, eta]


def _health_families(runs: list[RunMetrics]) -> list[Metric]:
    specs: dict[str, tuple[str, Callable[[RunMetrics], Any]]] = {
        "queue_depth": ("Claimable documents (pending).", lambda r: r.health.depth),
        "queue_waiting": ("Documents waiting for their time (retry backoff or delayed adds).",
                          lambda r: r.health.waiting),
        "queue_retry_backlog": ("Documents waiting to be retried after a failure or crash.",
                                lambda r: r.health.retry_backlog),
        "queue_oldest_pending_seconds": ("Longest wait of a claimable document (absent when none).",
                                         lambda r: r.health.oldest_pending_seconds),
        "queue_expired_leases": ("Leases expired past the grace and not reclaimed.",
                                 lambda r: r.health.expired_leases),
        "queue_dead_letters": ("Dead-lettered documents of the run (all passes).", lambda r: r.health.dead_letters),
        "queue_dead_letter_growth": ("New dead letters over the alert window.",
                                     lambda r: r.health.dead_letter_growth),
        "queue_failure_ratio": ("Failed attempts / attempts over the alert window (absent without attempts).",
                                lambda r: r.health.failure_rate),
    }
    out: list[Metric] = []
    for name, (doc, value) in specs.items():
        family = _gauge(name, doc, ["run_id"])
        for run in runs:
            measured = value(run)
            if measured is not None:
                family.add_metric([run.run_id], measured)
        out.append(family)
    return out


def _worker_families(runs: list[RunMetrics]) -> list[Metric]:
    labels = ["run_id", "worker_id", "session_id"]
    up = _gauge("worker_up", "1 for a running worker heard from within the stale threshold.",
                [*labels, "host", "status"])
    current = _gauge("worker_current_documents", "Documents the worker holds a lease on.", labels)
    silent = _gauge("worker_heartbeat_age_seconds", "Seconds since the worker's last heartbeat.", labels)
    rate = _gauge("worker_docs_per_second", "Documents completed per second over the session's life.", labels)
    counters = {key: CounterMetricFamily(f"go_doc_go_worker_{key}", f"Documents {key} by the session.", labels=labels)
                for key in ("claimed", "completed", "failed")}
    for run in runs:
        for w in run.workers:
            key = [run.run_id, w.worker_id, str(w.session_id)]
            up.add_metric([*key, w.host, w.status], 1 if w.live else 0)
            current.add_metric(key, w.current_documents)
            silent.add_metric(key, w.silent_seconds)
            rate.add_metric(key, w.docs_per_second)
            for name, family in counters.items():
                family.add_metric(key, getattr(w, name))
    return [up, current, silent, rate, *counters.values()]


class MonitorCollector:
    """A prometheus-client collector that reads one snapshot per scrape."""

    def __init__(self, fetch: Callable[[], MonitorSnapshot]) -> None:
        self.fetch = fetch

    def describe(self) -> list[Metric]:
        return []  # registering must not read the database

    def collect(self) -> Iterator[Metric]:
        began = time.perf_counter()
        try:
            snapshot = self.fetch()
        except Exception as error:  # noqa: BLE001 - a scrape reports the outage, it never raises
            log.warning("monitor scrape failed: %s", scrub(str(error)))
            snapshot = None
        up = _gauge("up", "1 when the last scrape read the queue database.", [])
        up.add_metric([], 1 if snapshot is not None else 0)
        duration = _gauge("scrape_duration_seconds", "Seconds the last scrape took.", [])
        duration.add_metric([], time.perf_counter() - began)
        yield up
        yield duration
        if snapshot is not None:
            yield from families(snapshot)


def registry_for(fetch: Callable[[], MonitorSnapshot]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MonitorCollector(fetch))
    return registry


def serve(fetch: Callable[[], MonitorSnapshot], *, port: int, addr: str = "0.0.0.0") -> Any:
    """Serve ``/metrics`` on ``addr:port`` from a daemon thread; returns the HTTP server (``.shutdown()``)."""
    server, _thread = start_http_server(port, addr=addr, registry=registry_for(fetch))
    return server
