"""QueuedDocumentProcessor under forced interleavings (real PostgreSQL, real parser processes).

A stall past the lease, the same document leased twice by one worker, a
document the database refuses (the batch rolls back and commits without it),
and a commit repeated as after a lost reply.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from go_doc_go.config import config_from_dict
from go_doc_go.distributed.processor import QueuedDocumentProcessor
from go_doc_go.distributed.setup import open_run
from go_doc_go.pool import DocumentPool
from go_doc_go.queue.records import NewDocument
from go_doc_go.queue.work_queue import WorkQueue

pytestmark = pytest.mark.postgres


@pytest.fixture
def run(tmp_path: Path, fresh_db: str):
    root = tmp_path / "docs"
    root.mkdir()
    for name in ("a", "b", "c"):
        (root / f"{name}.md").write_text(f"# {name}\n\nfirst version of {name}\n")
    config = config_from_dict({
        "storage": {"backend": "postgresql", "uri": fresh_db},
        "content_sources": [{"name": "docs", "base_path": str(root)}],
        "processing": {"mode": "distributed"},
        "work_queue": {"claim_timeout": 30, "heartbeat_interval": 5},
    })  # fmt: skip
    resources = open_run(config, worker_id="test")
    resources.coordinator.ensure_run()
    pool = DocumentPool(config, 1)
    first = WorkQueue(resources.pool, resources.coordinator.run_id, config.work_queue, worker_id="first")
    first.add_many([NewDocument("docs", resources.sources["docs"].ref_for(f"{n}.md").doc_id, f"{n}.md")
                    for n in ("a", "b", "c")])
    yield config, resources, pool, root
    pool.close()
    resources.close()


def processor(resources, pool, worker_id: str) -> tuple[QueuedDocumentProcessor, WorkQueue]:  # noqa: ANN001
    queue = WorkQueue(resources.pool, resources.coordinator.run_id, resources.config.work_queue, worker_id=worker_id)
    return QueuedDocumentProcessor(resources.config, resources.sources, resources.store, queue, pool,
                                   shared=True), queue


def texts(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {t for (t,) in conn.execute("SELECT text FROM elements WHERE element_type = 'paragraph'")}


def expire_leases(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE document_queue SET lease_expires_at = now() - interval '1 s' WHERE state = 'processing'")


def test_a_worker_that_stalled_past_its_lease_writes_nothing(run):
    config, resources, pool, root = run
    slow, slow_queue = processor(resources, pool, "slow")
    stale = slow_queue.claim(3)
    expire_leases(config.storage.uri)  # it stalled: the leases lapse...
    fast, fast_queue = processor(resources, pool, "fast")
    fresh = fast_queue.claim(3)  # ...and another worker reclaims them
    assert {x.doc_id for x in fresh} == {x.doc_id for x in stale}
    fast.submit(fresh)
    fast.drain()
    assert fast.tally.processed == 3
    (root / "a.md").write_text("# a\n\nwhat the stale worker read\n")
    slow.submit(stale)
    slow.drain()
    assert (slow.tally.processed, slow.tally.lost) == (0, 3)
    assert "what the stale worker read" not in texts(config.storage.uri), "a lost lease wrote no rows"
    assert "first version of a" in texts(config.storage.uri)


def test_the_same_document_leased_twice_by_one_worker_is_written_once(run):
    config, resources, pool, root = run
    worker, queue = processor(resources, pool, "twice")
    stale = queue.claim(3)
    expire_leases(config.storage.uri)
    queue.reclaim_expired()
    fresh = queue.claim(3)  # the same worker reclaims its own documents: stale and fresh leases at once
    assert len(fresh) == 3
    worker.submit(stale + fresh)
    worker.drain()
    assert (worker.tally.processed, worker.tally.lost) == (3, 3)
    with psycopg.connect(config.storage.uri) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
        states = conn.execute("SELECT state, count(*) FROM document_queue GROUP BY state").fetchall()
    assert states == [("completed", 3)]
    assert queue.held == {}, "no lease left held"


def test_a_document_the_database_refuses_fails_alone_and_the_batch_commits(run):
    config, resources, pool, _ = run
    with psycopg.connect(config.storage.uri, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "IF NEW.path = 'b.md' THEN RAISE check_violation USING MESSAGE = 'refused by a trigger'; END IF; "
                     "RETURN NEW; END $$")
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION refuse()")
    worker, queue = processor(resources, pool, "w")
    worker.submit(queue.claim(3))
    worker.drain()
    assert (worker.tally.processed, worker.tally.failed) == (2, 1)
    with psycopg.connect(config.storage.uri) as conn:
        rows = dict(conn.execute("SELECT doc_path, state || ':' || coalesce(error_stage, '') FROM document_queue"))
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 2
    assert rows == {"a.md": "completed:", "b.md": "dead_letter:store", "c.md": "completed:"}, "refused rows are permanent"


def test_a_commit_repeated_after_a_lost_reply_recognises_itself(run):
    config, resources, pool, _ = run
    worker, queue = processor(resources, pool, "w")
    leases = queue.claim(3)
    worker.submit(leases)
    pairs = []
    while len(pairs) < 3:  # take the finished results out before the processor writes them
        for future in list(worker._in_flight):
            pairs.extend(zip(worker._in_flight.pop(future), future.result(), strict=True))
        pairs.extend(worker._decided)
        worker._decided = []
    token = f"{queue.run_id}:1"
    plan = worker._plan(pairs)
    worker._commit(plan, token)
    worker._commit(worker._plan(pairs), token)  # the same batch again, as a retry whose first reply was lost
    assert worker.tally.processed == 6, "both commits count their completions as their own"
    assert worker.tally.lost == 0
    with psycopg.connect(config.storage.uri) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM document_queue WHERE state = 'completed'").fetchone()[0] == 3


def test_store_reads_retry_a_connection_the_server_dropped(run):
    """A database restart breaks the store's connection: the next change-detection read reconnects, not the worker."""
    config, resources, pool, _ = run
    worker, queue = processor(resources, pool, "w")
    with psycopg.connect(config.storage.uri, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (resources.store.conn.info.backend_pid,))
    worker.submit(queue.claim(3))
    worker.drain()
    assert worker.tally.processed == 3
