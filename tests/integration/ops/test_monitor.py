"""The monitor against a real queue: exact counts in one snapshot, export, alerts, Prometheus, views."""

from __future__ import annotations

import json
import threading

import psycopg
import pytest
from click.testing import CliRunner
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from go_doc_go.cli.monitor import monitor
from go_doc_go.queue import repository
from go_doc_go.queue.monitoring import AlertTracker, Monitor, MonitorSettings, collect, collect_run, compact, evaluate
from go_doc_go.queue.monitoring.prometheus import registry_for
from go_doc_go.queue.records import NewDocument

from ..queue.helpers import Background
from .conftest import exact_counts, sql

pytestmark = pytest.mark.postgres

STATES = ("pending", "scheduled", "retry", "processing", "completed", "dead_letter")


def filled(make_run, n: int, **settings):  # type: ignore[no-untyped-def]
    run = make_run(**settings)
    run.queue.add_many(NewDocument("s", f"d{i}", doc_path=f"dir/d{i}.md") for i in range(n))
    run.coordinator.discovery_done()
    return run


def drain(run, *, batch: int = 25, fail_every: int = 0,  # type: ignore[no-untyped-def]
          stop: threading.Event | None = None) -> int:
    """Claim and complete (every fail_every-th document fails permanently) until nothing is claimable."""
    done = 0
    while not (stop and stop.is_set()) and (leases := run.queue.claim(batch)):
        bad = [x for i, x in enumerate(leases) if fail_every and (done + i) % fail_every == 0]
        for lease in bad:
            run.queue.fail(lease, f"invalid JSON in {lease.doc_path}: line {lease.queue_id}", stage="parse",
                           permanent=True, error_type="ParseError")
        run.queue.complete_many([x for x in leases if x not in bad], outcomes=None)
        done += len(leases)
    return done


def zero_filled(counts: dict[str, int]) -> dict[str, int]:
    return {state: counts.get(state, 0) for state in STATES}


def test_counts_are_exact_in_one_snapshot_while_a_worker_completes(make_run, pg_url) -> None:
    run = filled(make_run, 1500)
    settings = MonitorSettings()
    worker = Background(lambda: drain(run, fail_every=10))
    mid_run = 0
    with psycopg.connect(pg_url, autocommit=True) as conn, psycopg.connect(pg_url, autocommit=True) as folder:
        while not worker.done or mid_run == 0:
            compact(folder, settings)  # folding concurrently must never change what a snapshot sees
            with conn.transaction():
                repository.monitor_snapshot_begin(conn)
                metrics = collect_run(conn, run.run_id, settings)
                exact = zero_filled(exact_counts(conn, run.run_id))
            assert metrics is not None and metrics.counts == exact
            assert metrics.total == 1500
            assert sum(w.current_documents for w in metrics.workers) == exact["processing"]
            mid_run += 0 < exact["completed"] < 1350
            if worker.done:
                break
    assert worker.get() == 1500
    assert mid_run > 0, "no snapshot was taken while documents were completing"


def test_export_matches_the_database_during_a_live_run(make_run, pg_url, pg_conn, tmp_path) -> None:
    run = filled(make_run, 4000)
    stop = threading.Event()
    worker = Background(lambda: drain(run, batch=10, stop=stop))
    out = tmp_path / "metrics.json"
    try:
        repository.counts_compact(pg_conn, history_minutes=60)
        before = exact_counts(pg_conn, run.run_id).get("completed", 0)
        result = CliRunner().invoke(monitor, ["--run-id", run.run_id, "--export", str(out),
                                              "--database-url", pg_url])
        after = exact_counts(pg_conn, run.run_id).get("completed", 0)
    finally:
        stop.set()
        worker.get()
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["schema"] == "go-doc-go.monitor/1" and data["generated_at"].endswith("Z")
    [exported] = data["runs"]
    counts = exported["counts"]
    assert counts["total"] == 4000 == sum(counts[s] for s in STATES)
    assert before <= counts["completed"] <= after and after < 4000, (before, counts, after)
    assert exported["finished"] == counts["completed"] + counts["dead_letter"]
    [session] = exported["workers"]
    assert session["worker_id"] == run.coordinator.worker_id and session["live"] is True
    assert session["current_documents"] == counts["processing"]

    # Once the worker stopped, the export equals the database exactly.
    again = CliRunner().invoke(monitor, ["--run-id", run.run_id, "--export", "-", "--database-url", pg_url])
    final = json.loads(again.output)["runs"][0]
    exact = zero_filled(exact_counts(pg_conn, run.run_id))
    assert {s: final["counts"][s] for s in STATES} == exact
    assert final["throughput"]["completed_in_window"] == exact["completed"]
    assert sum(m["completed"] for m in final["throughput"]["per_minute"]) == exact["completed"]
    assert final["discovery"]["state"] == "done" and final["post_processing"]["state"] == "waiting"
    assert final["health"]["depth"] == exact["pending"]
    assert {t["name"] for t in json.loads(again.output)["tables"]} >= {"document_queue", "run_state_deltas"}


def test_compaction_folds_deltas_keeps_counts_and_ages_history(make_run, pg_url, pg_conn) -> None:
    run = filled(make_run, 200)
    drain(run, fail_every=4)
    settings = MonitorSettings(history_minutes=60)
    before = repository.counts_by_state(pg_conn, run_id=run.run_id)
    compact(pg_conn, settings)
    assert sql(pg_url, "SELECT count(*) FROM run_state_deltas WHERE run_id = %s", run.run_id) == [(0,)]
    assert repository.counts_by_state(pg_conn, run_id=run.run_id) == before == {(1, "completed"): 150,
                                                                                (1, "dead_letter"): 50}
    history = repository.monitor_run_history(pg_conn, run_id=run.run_id, pass_number=1, minutes=60)
    assert sum(n for _, n in history) == 150
    sql(pg_url, "UPDATE run_state_counts SET bucket = bucket - interval '2 hours' "
                "WHERE run_id = %s AND bucket > '-infinity'", run.run_id)  # two hours pass
    compact(pg_conn, settings)
    assert repository.counts_by_state(pg_conn, run_id=run.run_id) == before
    assert repository.monitor_run_history(pg_conn, run_id=run.run_id, pass_number=1, minutes=60) == []
    buckets = sql(pg_url, "SELECT DISTINCT bucket = '-infinity' FROM run_state_counts WHERE run_id = %s", run.run_id)
    assert buckets == [(True,)]


def test_counts_follow_every_kind_of_change(make_run, pg_url, pg_conn) -> None:
    run = filled(make_run, 30, max_retries=1)

    def agree() -> None:
        exact = sql(pg_url, "SELECT pass_number, state, count(*) FROM document_queue WHERE run_id = %s "
                            "GROUP BY 1, 2", run.run_id)
        assert repository.counts_by_state(pg_conn, run_id=run.run_id) == {(p, s): n for p, s, n in exact}

    agree()
    leases = run.queue.claim(10)
    agree()
    run.queue.release(leases[:3])  # processing -> pending
    run.queue.fail(leases[3], "boom", stage="parse")  # -> retry
    run.queue.complete_many(leases[4:])
    agree()
    compact(pg_conn, MonitorSettings())
    sql(pg_url, "UPDATE document_queue SET lease_expires_at = now() - interval '1 s' WHERE run_id = %s "
                "AND state = 'processing'", run.run_id)
    run.queue.reclaim_expired()
    agree()
    drain(run)  # promotes the due retries, claims and completes the rest
    agree()
    assert run.queue.outstanding().finished and run.post_process()
    run.coordinator.start(new_pass_if_finished=True)  # pass 2 re-queues every document
    run.queue.add_many(NewDocument("s", f"d{i}", doc_path=f"dir/d{i}.md") for i in range(20))
    agree()
    sql(pg_url, "DELETE FROM document_queue WHERE run_id = %s AND doc_id = 'd0'", run.run_id)
    agree()
    sql(pg_url, "DELETE FROM processing_runs WHERE run_id = %s", run.run_id)
    assert repository.counts_by_state(pg_conn, run_id=run.run_id) == {}


def test_migration_0004_counts_the_rows_already_queued(pg_server) -> None:
    import secrets

    from go_doc_go.queue import migrations, sql_loader

    from ..conftest import create_database, drop_database

    name = f"gdg_ops_mig_{secrets.token_hex(4)}"
    url = create_database(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrations.apply(conn)  # then pretend only 0001-0003 existed: drop 0004's and later objects and rows
            for statement in ("DROP TRIGGER document_queue_count_insert ON document_queue",
                              "DROP TRIGGER document_queue_count_update ON document_queue",
                              "DROP TRIGGER document_queue_count_delete ON document_queue",
                              "DROP TRIGGER document_queue_count_truncate ON document_queue",
                              "DROP FUNCTION document_queue_count_insert, document_queue_count_update, "
                              "document_queue_count_delete, document_queue_count_truncate",
                              "DROP TABLE run_state_deltas, run_state_counts",
                              "DROP INDEX document_queue_dead_letter_idx",
                              "ALTER TABLE document_queue DROP COLUMN units_embedded, DROP COLUMN units_reused",
                              "DELETE FROM schema_migrations WHERE version >= 4"):
                conn.execute(statement)
            conn.execute("INSERT INTO processing_runs (run_id, config_hash) VALUES ('r', 'r')")
            conn.execute("INSERT INTO document_queue (run_id, source_name, doc_id, state) "
                         "SELECT 'r', 's', 'd' || g, (ARRAY['pending', 'completed', 'dead_letter'])[1 + g % 3] "
                         "FROM generate_series(1, 300) AS g")
            assert migrations.apply(conn) == [v for v, _, _ in sql_loader.migrations() if v >= 4]
            assert repository.counts_by_state(conn, run_id="r") == {(1, "pending"): 100, (1, "completed"): 100,
                                                                    (1, "dead_letter"): 100}
            conn.execute("TRUNCATE document_queue")
            assert repository.counts_by_state(conn, run_id="r") == {}
    finally:
        drop_database(name)


def test_oldest_pending_is_found_at_the_head_of_every_claim_class(make_run, pg_url, pg_conn) -> None:
    run = make_run()
    run.queue.add_many([NewDocument("s", f"hi{i}", priority=5) for i in range(5)]
                       + [NewDocument("s", f"deep{i}", link_depth=2) for i in range(5)]
                       + [NewDocument("s", f"lo{i}", priority=-1) for i in range(5)])
    sql(pg_url, "UPDATE document_queue SET scheduled_for = now() - interval '2 hours' "
                "WHERE run_id = %s AND doc_id = 'lo0'", run.run_id)
    health = repository.monitor_queue_health(pg_conn, run_id=run.run_id, grace=60)
    assert health["claim_classes"] == 3
    assert 7190 < health["oldest_pending"] < 7300
    run.queue.claim(20)
    empty = repository.monitor_queue_health(pg_conn, run_id=run.run_id, grace=60)
    assert (empty["claim_classes"], empty["oldest_pending"]) == (0, None)  # nothing waits: no age, not 0


def alert_names(run, settings: MonitorSettings, pg_conn) -> dict[str, str]:  # type: ignore[no-untyped-def]
    snapshot = collect(pg_conn, [run.run_id], settings)
    return {a.name: a.severity for a in snapshot.alerts}


def test_alerts_fire_and_clear(make_run, pg_url, pg_conn) -> None:
    settings = MonitorSettings(window=60, worker_silent=30, oldest_pending=600, failure_rate=0.2,
                               failure_rate_critical=0.9, failure_rate_min_attempts=20, dead_letter_growth=1,
                               dead_letter_growth_critical=5, expired_leases=1, expired_lease_grace=60)
    run = filled(make_run, 60)
    assert alert_names(run, settings, pg_conn) == {}

    run.coordinator.deregister()  # the only worker stops while documents wait
    assert alert_names(run, settings, pg_conn) == {"workers_missing": "critical"}
    run.coordinator.register()
    assert alert_names(run, settings, pg_conn) == {}

    sql(pg_url, "UPDATE run_workers SET heartbeat_at = now() - interval '5 minutes' WHERE session_id = %s",
        run.coordinator.session_id)
    assert alert_names(run, settings, pg_conn) == {"workers_missing": "critical"}
    run.coordinator.heartbeat()
    assert alert_names(run, settings, pg_conn) == {}

    drain(run, batch=10, fail_every=3)  # 20 of 60 attempts fail, permanently
    assert alert_names(run, settings, pg_conn) == {"failure_rate": "warning", "dead_letter_growth": "critical"}
    sql(pg_url, "UPDATE run_state_deltas SET at = at - interval '10 minutes' WHERE run_id = %s", run.run_id)
    sql(pg_url, "UPDATE run_state_counts SET bucket = bucket - interval '10 minutes' "
                "WHERE run_id = %s AND bucket > '-infinity'", run.run_id)  # ten minutes pass
    assert alert_names(run, settings, pg_conn) == {}

    run.queue.add_many([NewDocument("s", "late", doc_path="late.md")])
    sql(pg_url, "UPDATE document_queue SET scheduled_for = now() - interval '20 minutes' "
                "WHERE run_id = %s AND doc_id = 'late'", run.run_id)
    assert alert_names(run, settings, pg_conn) == {"oldest_pending": "warning"}
    [lease] = run.queue.claim(1)
    assert alert_names(run, settings, pg_conn) == {}
    sql(pg_url, "UPDATE document_queue SET lease_expires_at = now() - interval '2 minutes' WHERE queue_id = %s",
        lease.queue_id)
    assert alert_names(run, settings, pg_conn) == {"expired_leases": "warning"}
    run.queue.reclaim_expired()
    assert alert_names(run, settings, pg_conn) == {}


def test_stale_worker_beside_a_live_one_is_a_warning(make_run, pg_url, pg_conn) -> None:
    from go_doc_go.queue.coordinator import RunCoordinator

    run = filled(make_run, 10)
    other = RunCoordinator(run.coordinator.pool, run_id_override=run.run_id, worker_id="w-silent")
    other.register()
    settings = MonitorSettings(worker_silent=30)
    assert alert_names(run, settings, pg_conn) == {}
    sql(pg_url, "UPDATE run_workers SET heartbeat_at = now() - interval '2 minutes' WHERE session_id = %s",
        other.session_id)
    snapshot = collect(pg_conn, [run.run_id], settings)
    [alert] = snapshot.alerts
    assert (alert.name, alert.severity) == ("workers_stale", "warning") and "w-silent" in alert.message
    other.heartbeat()
    tracker = AlertTracker()
    fired, cleared = tracker.update(snapshot.alerts, snapshot.generated_at)
    assert fired == [alert] and cleared == []
    later = collect(pg_conn, [run.run_id], settings)
    fired, cleared = tracker.update(later.alerts, later.generated_at)
    assert fired == [] and cleared == [alert] and alert.key in tracker.cleared


def test_alerts_command_exit_code_follows_critical_alerts(make_run, pg_url) -> None:
    run = filled(make_run, 5)
    runner = CliRunner()
    ok = runner.invoke(monitor, ["--alerts", "--run-id", run.run_id, "--database-url", pg_url])
    assert ok.exit_code == 0 and "no active alerts (1 run checked)" in ok.output
    run.coordinator.deregister()
    bad = runner.invoke(monitor, ["--alerts", "--run-id", run.run_id, "--database-url", pg_url])
    assert bad.exit_code == 3, bad.output
    assert bad.output.startswith("CRITICAL workers_missing run " + run.run_id)


def test_prometheus_output_parses_and_matches(make_run, pg_url, pg_conn) -> None:
    run = filled(make_run, 50)
    drain(run, fail_every=5)
    run.queue.add_many([NewDocument("s", "x", doc_path="x.md")])
    with Monitor(pg_url, run_id=run.run_id) as reader:
        text = generate_latest(registry_for(reader.snapshot)).decode()
    metrics = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}

    def value(name: str, **labels: str) -> float:
        return metrics[(name, tuple(sorted(labels.items())))]

    rid = run.run_id
    assert value("go_doc_go_up") == 1
    assert value("go_doc_go_run_documents", run_id=rid, state="completed") == 40
    assert value("go_doc_go_run_documents", run_id=rid, state="dead_letter") == 10
    assert value("go_doc_go_run_documents", run_id=rid, state="pending") == 1
    assert value("go_doc_go_run_completion_ratio", run_id=rid) == pytest.approx(50 / 51)
    assert value("go_doc_go_queue_dead_letters", run_id=rid) == 10
    session = {"run_id": rid, "worker_id": run.coordinator.worker_id, "session_id": str(run.coordinator.session_id)}
    assert value("go_doc_go_worker_completed_total", **session) == 40
    assert value("go_doc_go_worker_failed_total", **session) == 10
    assert value("go_doc_go_alert_level", run_id=rid, alert="dead_letter_growth") == 1
    assert value("go_doc_go_alert_level", run_id=rid, alert="workers_missing") == 0
    assert value("go_doc_go_table_live_rows", table="document_queue") >= 0

    down = Monitor("postgresql://nobody@127.0.0.1:1/none", run_id=rid)
    text = generate_latest(registry_for(down.snapshot)).decode()
    assert "go_doc_go_up 0.0" in text and "go_doc_go_run_documents" not in text


def test_summary_details_list_runs_and_unknown_run(make_run, pg_url) -> None:
    run = filled(make_run, 20)
    drain(run, fail_every=4)
    runner = CliRunner()
    summary = runner.invoke(monitor, ["--run-id", run.run_id, "--database-url", pg_url])
    assert summary.exit_code == 0, summary.output
    assert f"run {run.run_id} active · pass 1 · 100.0% (20/20)" in summary.output
    assert "completed 15 · dead letter 5" in summary.output and "post-processing due" in summary.output
    details = runner.invoke(monitor, ["--run-id", run.run_id, "--details", "--database-url", pg_url])
    assert details.exit_code == 0
    for text in ("Workers of run", run.coordinator.worker_id, "Queue health of run", "dead letters (all passes)",
                 "Queue tables", "run_state_counts"):
        assert text in details.output
    listed = runner.invoke(monitor, ["--list-runs", "--database-url", pg_url])
    assert listed.exit_code == 0 and run.run_id in listed.output and "100.0%" in listed.output
    unknown = runner.invoke(monitor, ["--run-id", "nope", "--database-url", pg_url])
    assert unknown.exit_code == 2 and unknown.output.startswith("error: no run nope in ")
    both = runner.invoke(monitor, ["--alerts", "--list-runs", "--database-url", pg_url])
    assert both.exit_code == 2 and "cannot be combined" in both.output
    piped = runner.invoke(monitor, ["--live", "--database-url", pg_url])  # CliRunner's stdout is no terminal
    assert piped.exit_code == 2 and "--live draws on a terminal" in piped.output


def test_evaluate_is_pure_on_one_snapshot(make_run, pg_conn) -> None:
    run = filled(make_run, 3)
    run.coordinator.deregister()
    metrics = collect(pg_conn, [run.run_id], MonitorSettings()).runs[0]
    assert [a.name for a in evaluate(metrics, MonitorSettings())] == ["workers_missing"]
