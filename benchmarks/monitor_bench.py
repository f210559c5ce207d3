"""Cost of one monitor refresh on a run with 1,000,000 queue rows (docs/operations.md reports it).

    python benchmarks/monitor_bench.py [--rows 1000000] [--refreshes 50] [--workers 1] [--json]

Creates a scratch database on the server (``--server-url``, default
``$GO_DOC_GO_TEST_DATABASE_URL`` or the local postgres), fills one run with
``--rows`` rows in a mid-run mix of states (60 % completed, 0.2 % dead,
0.5 % waiting retries, 200 leased, the rest pending) plus a second run of a
fifth of that, and times ``Monitor.snapshot()`` (what every dashboard refresh,
``--alerts``, ``--export`` and Prometheus scrape costs):

- idle: nobody writes;
- busy: ``--workers`` processes claim and complete batches of 32 through
  ``WorkQueue`` (one in 50 fails) while the monitor refreshes every 0.2 s
  (it folds the count deltas every 10 s, as the CLI does).

For comparison it also times counting the run's rows per state with
``count(*)`` (what the monitor avoids). The scratch database is dropped at the
end (``--keep`` keeps it). Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import statistics
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg

from go_doc_go.config import WorkQueueConfig
from go_doc_go.queue import migrations, repository
from go_doc_go.queue.connection import make_pool
from go_doc_go.queue.monitoring import Monitor, MonitorSettings
from go_doc_go.queue.vacuum import QueueVacuum
from go_doc_go.queue.work_queue import WorkQueue

FILL = """
INSERT INTO document_queue (run_id, source_name, doc_id, doc_path, state, completed_at, lease_expires_at,
                            scheduled_for, worker_id, claimed_at, updated_at, error_type, error_stage, last_error)
SELECT %(run_id)s, 'docs', 'doc-' || g, 'folder/file-' || g || (ARRAY['.md', '.json', '.html', '.xml'])[1 + g %% 4],
       s.state,
       CASE WHEN s.state = 'completed' THEN now() - make_interval(secs => (%(rows)s::int - g) / 500.0) END,
       CASE WHEN s.state = 'processing' THEN now() + interval '5 minutes' END,
       now() + CASE WHEN s.state = 'retry' THEN interval '10 minutes' ELSE interval '0' END,
       CASE WHEN s.state = 'processing' THEN 'bench-' || (g %% 8) END,
       CASE WHEN s.state = 'processing' THEN now() END,
       now() - make_interval(secs => (%(rows)s::int - g) / 500.0),
       CASE WHEN s.state = 'dead_letter' THEN 'ParseError' END,
       CASE WHEN s.state = 'dead_letter' THEN 'parse' END,
       CASE WHEN s.state = 'dead_letter' THEN 'invalid JSON in folder/file-' || g || '.json: line 1' END
  FROM generate_series(%(first)s::int, %(last)s::int) AS g,
       LATERAL (SELECT CASE WHEN g <= %(rows)s::int * 0.60 THEN 'completed'
                            WHEN g <= %(rows)s::int * 0.602 THEN 'dead_letter'
                            WHEN g <= %(rows)s::int * 0.607 THEN 'retry'
                            WHEN g <= %(rows)s::int * 0.607 + 200 THEN 'processing'
                            ELSE 'pending' END AS state) AS s
"""
COUNT_ROWS = "SELECT state, count(*) FROM document_queue WHERE run_id = %s GROUP BY state"


def database_url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def fill(url: str, run_id: str, rows: int, log) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(url, autocommit=True) as conn:
        repository.run_ensure(conn, run_id=run_id, config_hash=run_id, snapshot={"benchmark": True})
        repository.run_discovery_done(conn, run_id=run_id)
        chunk = 100_000
        for first in range(1, rows + 1, chunk):
            conn.execute(FILL, {"run_id": run_id, "rows": rows, "first": first, "last": min(first + chunk - 1, rows)})
            log(f"  {run_id}: {min(first + chunk - 1, rows):,} rows")
        for i in range(8):
            session = repository.worker_register(conn, run_id=run_id, worker_id=f"bench-{i}", host="bench", pid=i)
            repository.worker_heartbeat(conn, session_id=session)


def _worker(url: str, run_id: str, stop, index: int) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(url, max_size=2, check=False, name=f"bench-monitor-{index}")
    with pool.connection() as conn:
        session = repository.worker_register(conn, run_id=run_id, worker_id=f"busy-{index}", host="bench",
                                             pid=os.getpid())
    queue = WorkQueue(pool, run_id, WorkQueueConfig(batch_size=32), worker_id=f"busy-{index}", session_id=session)
    vacuum = QueueVacuum(pool)
    vacuum.start()
    done = 0
    while not stop.is_set():
        leases = queue.claim()
        if not leases:
            break
        bad = [x for x in leases if x.queue_id % 50 == 0]
        for lease in bad:
            queue.fail(lease, "benchmark failure", stage="parse", permanent=True, error_type="ParseError")
        queue.complete_many([x for x in leases if x not in bad])
        done += len(leases)
    vacuum.stop()
    pool.close()


def time_refreshes(reader: Monitor, count: int, pause: float) -> list[float]:
    times = []
    for _ in range(count):
        began = time.perf_counter()
        snapshot = reader.snapshot()
        times.append((time.perf_counter() - began) * 1000)
        assert snapshot.runs, "the run disappeared"
        time.sleep(pause)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
            "max_ms": round(ordered[-1], 1), "refreshes": len(ordered)}


def run(args: argparse.Namespace) -> dict:  # type: ignore[type-arg]
    log = (lambda _m: None) if args.json else (lambda m: print(m, file=sys.stderr))
    name = f"gdg_monitor_bench_{secrets.token_hex(3)}"
    with psycopg.connect(args.server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(args.server_url, name)
    result: dict = {"rows": args.rows, "database": name}
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrations.apply(conn)
        log(f"filling {args.rows:,} rows (+{args.rows // 5:,} in another run) into {name}")
        began = time.perf_counter()
        fill(url, "big", args.rows, log)
        fill(url, "other", args.rows // 5, log)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) document_queue")
            result["fill_seconds"] = round(time.perf_counter() - began, 1)
            began = time.perf_counter()
            conn.execute(COUNT_ROWS, ("big",)).fetchall()
            result["count_star_ms"] = round((time.perf_counter() - began) * 1000, 1)
        with Monitor(url, MonitorSettings(), run_id="big") as reader:
            reader.snapshot()  # first refresh: folds the fill's deltas
            result["idle"] = summary(time_refreshes(reader, args.refreshes, 0.05))
            log(f"idle: {result['idle']}")
            ctx = multiprocessing.get_context("fork")
            stop = ctx.Event()
            procs = [ctx.Process(target=_worker, args=(url, "big", stop, i)) for i in range(args.workers)]
            for p in procs:
                p.start()
            time.sleep(1.0)
            before = reader.snapshot().runs[0].counts["completed"]
            busy = time_refreshes(reader, args.refreshes, 0.2)
            after = reader.snapshot()
            stop.set()
            for p in procs:
                p.join(60)
            result["busy"] = summary(busy)
            result["busy"]["docs_completed_meanwhile"] = after.runs[0].counts["completed"] - before
            result["busy"]["workers"] = args.workers
            log(f"busy: {result['busy']}")
    finally:
        if not args.keep:
            with psycopg.connect(args.server_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default=os.environ.get("GO_DOC_GO_TEST_DATABASE_URL")
                        or "postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--refreshes", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result))
        return
    idle, busy = result["idle"], result["busy"]
    print(f"{result['rows']:,} rows in the run (+{result['rows'] // 5:,} in another), filled in "
          f"{result['fill_seconds']} s")
    print(f"one refresh, idle: p50 {idle['p50_ms']} ms, p95 {idle['p95_ms']} ms, max {idle['max_ms']} ms "
          f"({idle['refreshes']} refreshes)")
    print(f"one refresh, {busy['workers']} worker(s) completing ({busy['docs_completed_meanwhile']:,} docs meanwhile): "
          f"p50 {busy['p50_ms']} ms, p95 {busy['p95_ms']} ms, max {busy['max_ms']} ms")
    print(f"for comparison, count(*) per state of the run: {result['count_star_ms']} ms")


if __name__ == "__main__":
    main()
