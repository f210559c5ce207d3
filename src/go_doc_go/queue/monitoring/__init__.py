"""Monitoring of distributed runs: metrics, alerts, JSON export and Prometheus (see docs/operations.md).

Public surface::

    Monitor(url, settings, run_id=...)        monitor.py   connection, compaction, snapshot()
    collect(conn, run_ids, settings)          collect.py   one consistent snapshot (pure reads)
    select_runs / list_runs / compact         collect.py
    MonitorSettings.from_config(config)       collect.py   monitoring.alerts + work_queue thresholds
    evaluate(run, settings), AlertTracker     alerts.py    alerts fire and clear
    snapshot_to_dict(snapshot, database=)     export.py    schema go-doc-go.monitor/1
    families(snapshot), serve(fetch, port=)   prometheus.py (imported on demand)
"""

from go_doc_go.queue.monitoring.alerts import ALERT_NAMES, AlertTracker, evaluate
from go_doc_go.queue.monitoring.collect import (
    QUEUE_TABLES,
    MonitorSettings,
    collect,
    collect_run,
    compact,
    list_runs,
    select_runs,
)
from go_doc_go.queue.monitoring.export import SCHEMA, snapshot_to_dict
from go_doc_go.queue.monitoring.monitor import Monitor, check_schema, connect
from go_doc_go.queue.monitoring.records import (
    STATES,
    Alert,
    MonitorSnapshot,
    QueueHealth,
    RunMetrics,
    RunSummary,
    TableHealth,
    Throughput,
    WorkerMetrics,
)

__all__ = [
    "ALERT_NAMES",
    "QUEUE_TABLES",
    "SCHEMA",
    "STATES",
    "Alert",
    "AlertTracker",
    "Monitor",
    "MonitorSettings",
    "MonitorSnapshot",
    "QueueHealth",
    "RunMetrics",
    "RunSummary",
    "TableHealth",
    "Throughput",
    "WorkerMetrics",
    "check_schema",
    "collect",
    "collect_run",
    "compact",
    "connect",
    "evaluate",
    "list_runs",
    "select_runs",
    "snapshot_to_dict",
]
