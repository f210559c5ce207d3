"""Queue benchmark: W worker processes drain N documents with no-op processing.

Durable commits (``synchronous_commit=on``), the library's own claim and
complete paths, a scratch run id (never a real run) and cleanup afterwards.
At the end every row must be completed exactly once, by exactly one claim.
"""

from __future__ import annotations

import multiprocessing
import secrets
import statistics
import time
from array import array
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import psycopg

from go_doc_go.config import WorkQueueConfig
from go_doc_go.queue import migrations, repository
from go_doc_go.queue.connection import make_pool
from go_doc_go.queue.records import NewDocument
from go_doc_go.queue.vacuum import QueueVacuum
from go_doc_go.queue.work_queue import WorkQueue


@dataclass
class BenchResult:
    docs: int
    workers: int
    batch_size: int
    backlog: int
    seconds: float
    docs_per_s: float
    enqueue_seconds: float
    claims: int
    claim_p50_ms: float
    claim_p99_ms: float
    complete_mean_ms: float
    verified: bool
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _worker(url: str, run_id: str, settings_json: str, ready, start, results) -> None:  # type: ignore[no-untyped-def]
    settings = WorkQueueConfig.model_validate_json(settings_json)
    pool = make_pool(url, min_size=1, max_size=2, check=False, name="bench-worker")
    vacuum = QueueVacuum(pool)
    with pool.connection() as conn:
        session = repository.worker_register(conn, run_id=run_id, worker_id=f"bench-{secrets.token_hex(3)}",
                                             host="bench", pid=0)
    queue = WorkQueue(pool, run_id, settings, worker_id=f"bench-{session}", session_id=session)
    latencies: list[float] = []
    complete_seconds = 0.0
    claimed, completed = array("q"), array("q")
    ready.wait()
    start.wait()
    vacuum.start()
    while True:
        began = time.perf_counter()
        leases = queue.claim()
        latencies.append(time.perf_counter() - began)
        if not leases:
            if queue.outstanding().drained:
                break
            time.sleep(0.001)
            continue
        claimed.extend(lease.queue_id for lease in leases)
        began = time.perf_counter()
        completed.extend(queue.complete_many(leases).completed_ids)
        complete_seconds += time.perf_counter() - began
    vacuum.stop()
    pool.close()
    results.put((latencies, claimed.tobytes(), completed.tobytes(), complete_seconds))


def _fill_backlog(conn: psycopg.Connection, run_id: str, rows: int) -> None:
    conn.execute(
        "INSERT INTO document_queue (run_id, source_name, doc_id) "
        "SELECT %s, 'backlog', 'doc-' || g FROM generate_series(1, %s) AS g",
        (run_id, rows),
    )


def run_queue_bench(
    url: str,
    *,
    docs: int,
    workers: int,
    batch_size: int = 200,
    backlog: int = 0,
    log: Callable[[str], None] = lambda _: None,
) -> BenchResult:
    """Enqueue ``docs`` documents into a scratch run and let ``workers`` processes drain them."""
    token = secrets.token_hex(4)
    run_id, backlog_run = f"bench-{token}", f"bench-{token}-backlog"
    settings = WorkQueueConfig(batch_size=batch_size, claim_timeout=300)
    ctx = multiprocessing.get_context("fork")
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.ensure_schema(conn)
        for rid in (run_id, backlog_run):
            repository.run_ensure(conn, run_id=rid, config_hash=rid, snapshot={"benchmark": True})
    problems: list[str] = []
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if backlog:
                log(f"filling a backlog of {backlog:,} queued rows (another run)")
                _fill_backlog(conn, backlog_run, backlog)
            # Start from a clean table: earlier runs' dead rows are not this run's cost.
            conn.execute("VACUUM (ANALYZE, TRUNCATE false) document_queue")
        pool = make_pool(url, max_size=1, check=False, name="bench-enqueue")
        queue = WorkQueue(pool, run_id, settings)
        log(f"enqueueing {docs:,} documents")
        began = time.perf_counter()
        queue.add_many(NewDocument("bench", f"doc-{i:08d}") for i in range(docs))
        enqueue_seconds = time.perf_counter() - began
        pool.close()

        ready, start, results = ctx.Barrier(workers + 1), ctx.Barrier(workers + 1), ctx.Queue()
        procs = [
            ctx.Process(target=_worker, args=(url, run_id, settings.model_dump_json(), ready, start, results))
            for _ in range(workers)
        ]
        for p in procs:
            p.start()
        ready.wait()
        log(f"draining with {workers} worker processes, batch size {batch_size}")
        start.wait()
        began = time.perf_counter()
        reports = [results.get() for _ in procs]
        seconds = time.perf_counter() - began
        for p in procs:
            p.join()
            if p.exitcode != 0:
                problems.append(f"worker {p.pid} exited with {p.exitcode}")

        latencies = [x for lat, _, _, _ in reports for x in lat]
        complete_ms = sum(r[3] for r in reports) * 1000 / max(1, len(latencies))
        claimed, completed = array("q"), array("q")
        for _, c, d, _ in reports:
            claimed.frombytes(c)
            completed.frombytes(d)
        if len(claimed) != docs or len(set(claimed)) != docs:
            problems.append(f"{len(claimed)} claims for {docs} documents ({len(set(claimed))} distinct)")
        if len(completed) != docs or len(set(completed)) != docs:
            problems.append(f"{len(completed)} completions for {docs} documents ({len(set(completed))} distinct)")
        with psycopg.connect(url) as conn:
            total, done_once = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE state = 'completed' AND attempts = 1) "
                "FROM document_queue WHERE run_id = %s",
                (run_id,),
            ).fetchone()
            counted = sum(w["completed_count"] for w in repository.worker_list(conn, run_id=run_id))
        if total != docs or done_once != docs:
            problems.append(f"{done_once} of {total} rows completed exactly once (expected {docs})")
        if counted != docs:
            problems.append(f"per-worker counters sum to {counted}, expected {docs}")
        millis = [x * 1000 for x in latencies]
        return BenchResult(
            docs=docs,
            workers=workers,
            batch_size=batch_size,
            backlog=backlog,
            seconds=round(seconds, 3),
            docs_per_s=round(docs / seconds, 1) if seconds else 0.0,
            enqueue_seconds=round(enqueue_seconds, 3),
            claims=len(latencies),
            claim_p50_ms=round(statistics.median(millis), 3) if millis else 0.0,
            claim_p99_ms=round(_percentile(millis, 0.99), 3),
            complete_mean_ms=round(complete_ms, 3),
            verified=not problems,
            problems=problems,
        )
    finally:
        log("cleaning up the scratch runs")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM processing_runs WHERE run_id IN (%s, %s)", (run_id, backlog_run))
            conn.execute("VACUUM document_queue")


def run_claim_latency_bench(url: str, *, waiting: int = 20_000, claims: int = 300, batch_size: int = 32) -> dict:
    """Claim latency of one worker with ``waiting`` not-yet-due retries of higher priority at the head.

    Those rows sat in the claim index and were walked by every claim; now they
    wait in their own index. Scratch run, cleaned up afterwards.
    ``python -c "from go_doc_go.queue.bench import run_claim_latency_bench as b; print(b(URL))"``
    """
    run_id = f"bench-{secrets.token_hex(4)}-waiting"
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.ensure_schema(conn)
        repository.run_ensure(conn, run_id=run_id, config_hash=run_id, snapshot={"benchmark": True})
    pool = make_pool(url, max_size=2, check=False, name="bench-latency")
    queue = WorkQueue(pool, run_id, WorkQueueConfig(batch_size=batch_size))
    try:
        queue.add_many(NewDocument("bench", f"waiting-{i}", priority=10) for i in range(waiting))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "UPDATE document_queue SET state = 'retry', failure_count = 1, "
                "scheduled_for = now() + interval '1 hour' WHERE run_id = %s",
                (run_id,),
            )
        queue.add_many(NewDocument("bench", f"ready-{i}") for i in range(claims * batch_size))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE, TRUNCATE false) document_queue")
        millis = []
        for _ in range(claims):
            began = time.perf_counter()
            leases = queue.claim(batch_size)
            millis.append((time.perf_counter() - began) * 1000)
            queue.complete_many(leases)
        return {"waiting": waiting, "claims": claims, "claim_p50_ms": round(statistics.median(millis), 3),
                "claim_p99_ms": round(_percentile(millis, 0.99), 3)}
    finally:
        pool.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM processing_runs WHERE run_id = %s", (run_id,))
