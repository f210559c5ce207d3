"""Runs, files and a worker loop for the operator tests: the queue library and the real pipeline.

``work(...)`` does with each claimed document what a distributed worker does:
it fetches and parses it with ``process_document`` on real files and reports
the outcome through ``WorkQueue.complete_many`` / ``WorkQueue.fail`` (class,
stage, kind and traceback from the pipeline's ``Failed``). Nothing imitates
the queue or the database.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from go_doc_go.config import Config, ContentSourceConfig, config_from_dict
from go_doc_go.pipeline import Failed, Unchanged, process_document
from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.leader import LeaderLease
from go_doc_go.queue.records import Lease, NewDocument
from go_doc_go.queue.work_queue import WorkQueue
from go_doc_go.sources import DocumentRef
from go_doc_go.sources.file import FileSource


@dataclass
class Run:
    """One run of the tests: its coordinator, a registered worker queue, the source and the refs it listed."""

    coordinator: RunCoordinator
    queue: WorkQueue
    config: Config
    source: FileSource | None = None
    refs: dict[str, DocumentRef] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.coordinator.run_id

    def discover(self) -> int:
        """List the source and queue every document (what discovery does), then mark discovery done."""
        assert self.source is not None
        refs = list(self.source.iter_documents())
        self.refs.update({ref.path: ref for ref in refs})
        self.queue.add_many(NewDocument(ref.source, ref.doc_id, doc_path=ref.path) for ref in refs)
        self.coordinator.discovery_done()
        return len(refs)

    def handle(self, lease: Lease) -> str:
        """Process one claimed document as a worker does; returns the new state."""
        assert self.source is not None and lease.doc_path is not None
        ref = self.refs.get(lease.doc_path) or self.source.ref_for(lease.doc_path)
        assert ref is not None, lease.doc_path
        outcome = process_document(self.source, ref, self.config)
        if isinstance(outcome, Failed):
            result = self.queue.fail(lease, outcome.cause, stage=outcome.stage, permanent=not outcome.retryable,
                                     error_type=outcome.error_type, traceback=outcome.traceback)
            return result.state
        how = "unchanged" if isinstance(outcome, Unchanged) else "processed"
        self.queue.complete_many([lease], outcomes=[how])
        return "completed"

    def work(self, limit: int = 100) -> dict[str, str]:
        """Claim and handle until nothing is claimable; ``{doc_path: last state}``."""
        seen: dict[str, str] = {}
        while leases := self.queue.claim(limit):
            for lease in leases:
                seen[lease.doc_path or lease.doc_id] = self.handle(lease)
        return seen

    def post_process(self) -> bool:
        """The last worker's job once the pass drained: lead, post-process, complete the run."""
        leader = LeaderLease(self.coordinator.pool, self.run_id, self.coordinator.holder_id, ttl=30)
        term = leader.attempt()
        assert term is not None
        if not self.coordinator.begin_post_processing(term):
            return False
        with self.coordinator.pool.connection() as conn:
            from go_doc_go.queue import repository

            repository.run_record_post_processing(conn, run_id=self.run_id, term=term, result={"links": "ok"})
        ok = self.coordinator.complete(term)
        leader.resign()
        return ok


@pytest.fixture
def make_run(pg_pool) -> Callable[..., Run]:  # type: ignore[no-untyped-def]
    """A fresh run (unique id) with one registered worker; ``files`` gives it a file source."""

    def make(files: Path | None = None, *, source: dict | None = None, parsers: dict | None = None,
             **settings: object) -> Run:
        queue_settings = {"retry_backoff_base": 0.01, "retry_backoff_max": 0.02, **settings}
        cfg = config_from_dict({"work_queue": queue_settings, "parsers": parsers or {}})
        if files is not None:
            cfg.content_sources = [ContentSourceConfig(name="docs", base_path=str(files), **(source or {}))]
        coordinator = RunCoordinator(pg_pool, cfg, run_id_override=f"ops-{secrets.token_hex(6)}",
                                     worker_id=f"w-{secrets.token_hex(2)}")
        coordinator.start()
        session = coordinator.register()
        queue = WorkQueue(pg_pool, coordinator.run_id, cfg.work_queue, worker_id=coordinator.worker_id,
                          session_id=session)
        src = FileSource(cfg.content_sources[0]) if cfg.content_sources else None
        return Run(coordinator, queue, cfg, src)

    return make


def sql(pg_url: str, statement: str, *params: object) -> list[tuple]:
    """Run one statement on its own connection (tests only: setting the clock back, exact counts)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        cur = conn.execute(statement, params or None)
        return cur.fetchall() if cur.description else []


def exact_counts(conn: psycopg.Connection, run_id: str) -> dict[str, int]:
    """Rows per state by counting document_queue itself (what the count tables must agree with)."""
    rows = conn.execute("SELECT state, count(*) FROM document_queue d JOIN processing_runs r USING (run_id) "
                        "WHERE run_id = %s AND d.pass_number = r.pass_number GROUP BY state", (run_id,)).fetchall()
    return {state: n for state, n in rows}


def expire(pg_url: str, queue_id: int, *, timed_out: bool = False) -> None:
    """Make a lease expired now, as if its holder had been killed (or, ``timed_out``, its attempt budget spent)."""
    sql(pg_url, "UPDATE document_queue SET lease_expires_at = now() - interval '1 second', "
                "attempt_deadline = CASE WHEN %s THEN now() - interval '1 second' ELSE attempt_deadline END "
                "WHERE queue_id = %s", timed_out, queue_id)


def crash_until_dead(run: Run, pg_url: str, doc_path: str, *, timed_out: bool = False) -> int:
    """Claim the document and lose its lease again and again until the reclaim dead-letters it."""
    for _ in range(run.queue.settings.max_retries + 1):
        leases = [x for x in run.queue.claim(100) if x.doc_path == doc_path]
        assert len(leases) == 1, f"{doc_path} not claimable"
        expire(pg_url, leases[0].queue_id, timed_out=timed_out)
        states = dict(run.queue.reclaim_expired())
        if states.get(leases[0].queue_id) == "dead_letter":
            return leases[0].queue_id
    raise AssertionError(f"{doc_path} was never dead-lettered")


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root
