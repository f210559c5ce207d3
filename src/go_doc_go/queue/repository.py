"""Every database operation of the work queue: small functions, entity-then-verb.

This is the only module that uses the named queries of ``sql/queries.sql``.
Each function takes an open psycopg connection and runs inside whatever
transaction the caller holds (with autocommit, each call is its own
transaction). Nothing here reads the worker's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb

from go_doc_go.queue.records import (
    AddResult,
    Lease,
    NewDocument,
    Outstanding,
    Run,
)
from go_doc_go.queue.sql_loader import queries

_Q = queries()


def _run(row: Sequence[Any]) -> Run:
    run_id, config_hash, status, pass_number, discovery_done_at, leader_id, leader_term, _exp, created = row
    return Run(
        run_id=run_id,
        config_hash=config_hash,
        status=status,
        pass_number=pass_number,
        discovery_done=discovery_done_at is not None,
        leader_id=leader_id,
        leader_term=leader_term,
        created=created,
    )


# ---------------------------------------------------------------- runs


def run_ensure(conn: Connection, *, run_id: str, config_hash: str, snapshot: dict[str, Any]) -> Run:
    row = conn.execute(
        _Q["run_ensure"], {"run_id": run_id, "config_hash": config_hash, "snapshot": Jsonb(snapshot)}
    ).fetchone()
    assert row is not None  # INSERT ... ON CONFLICT DO UPDATE always returns the row
    return _run(row)


def run_get(conn: Connection, *, run_id: str) -> Run | None:
    row = conn.execute(_Q["run_get"], {"run_id": run_id}).fetchone()
    return _run(row) if row else None


def run_start_pass(conn: Connection, *, run_id: str) -> int | None:
    """New pass number if the run had finished and this caller started the pass, else None."""
    row = conn.execute(_Q["run_start_pass"], {"run_id": run_id}).fetchone()
    return row[0] if row else None


def run_discovery_done(conn: Connection, *, run_id: str) -> None:
    conn.execute(_Q["run_discovery_done"], {"run_id": run_id})


def run_counts(conn: Connection, *, run_id: str) -> dict[str, int]:
    counts = dict.fromkeys(("pending", "processing", "retry", "completed", "dead_letter"), 0)
    for state, n in conn.execute(_Q["run_counts"], {"run_id": run_id}):
        counts[state] = n
    return counts


def run_outstanding(conn: Connection, *, run_id: str) -> Outstanding:
    ready, processing, waiting, next_due = conn.execute(_Q["run_outstanding"], {"run_id": run_id}).fetchone()
    return Outstanding(ready, processing, waiting, float(next_due) if next_due is not None else None)


def run_begin_post_processing(conn: Connection, *, run_id: str, term: int) -> bool:
    return conn.execute(_Q["run_begin_post_processing"], {"run_id": run_id, "term": term}).fetchone() is not None


def run_complete(conn: Connection, *, run_id: str, term: int) -> bool:
    return conn.execute(_Q["run_complete"], {"run_id": run_id, "term": term}).fetchone() is not None


def run_set_status(conn: Connection, *, run_id: str, status: str, from_states: Sequence[str]) -> bool:
    params = {"run_id": run_id, "status": status, "from_states": list(from_states)}
    return conn.execute(_Q["run_set_status"], params).fetchone() is not None


# ---------------------------------------------------------------- workers


def worker_register(conn: Connection, *, run_id: str, worker_id: str, host: str, pid: int) -> int:
    params = {"run_id": run_id, "worker_id": worker_id, "host": host, "pid": pid}
    return conn.execute(_Q["worker_register"], params).fetchone()[0]


def worker_heartbeat(conn: Connection, *, session_id: int) -> bool:
    return conn.execute(_Q["worker_heartbeat"], {"session_id": session_id}).fetchone() is not None


def worker_deregister(conn: Connection, *, session_id: int, status: str = "stopped") -> bool:
    params = {"session_id": session_id, "status": status}
    return conn.execute(_Q["worker_deregister"], params).fetchone() is not None


def workers_mark_lost(conn: Connection, *, run_id: str, stale_threshold: float) -> list[str]:
    params = {"run_id": run_id, "stale_threshold": float(stale_threshold)}
    return [worker_id for _, worker_id in conn.execute(_Q["workers_mark_lost"], params)]


def worker_list(conn: Connection, *, run_id: str) -> list[dict[str, Any]]:
    cur = conn.execute(_Q["worker_list"], {"run_id": run_id})
    names = [c.name for c in cur.description or ()]
    return [dict(zip(names, row)) for row in cur]


def worker_count_failures(conn: Connection, *, session_id: int, n: int) -> None:
    conn.execute(_Q["worker_count_failures"], {"session_id": session_id, "n": n})


# ---------------------------------------------------------------- documents


def document_add_many(conn: Connection, *, run_id: str, documents: Sequence[NewDocument]) -> AddResult:
    """Idempotent bulk add into the run's current pass; rows of an older pass are reset to pending.

    Duplicates inside the batch are merged first (smallest depth wins).
    """
    unique: dict[tuple[str, str], NewDocument] = {}
    for doc in documents:
        key = (doc.source_name, doc.doc_id)
        seen = unique.get(key)
        if seen is None or doc.link_depth < seen.link_depth:
            unique[key] = doc
    if not unique:
        return AddResult(0, 0)
    docs = list(unique.values())
    params = {
        "run_id": run_id,
        "source_names": [d.source_name for d in docs],
        "doc_ids": [d.doc_id for d in docs],
        "doc_paths": [d.doc_path for d in docs],
        "link_depths": [d.link_depth for d in docs],
        "parent_doc_ids": [d.parent_doc_id for d in docs],
        "priorities": [d.priority for d in docs],
        "delays": [float(d.delay) for d in docs],
    }
    inserted = updated = 0
    for _, was_inserted in conn.execute(_Q["document_add_many"], params):
        if was_inserted:
            inserted += 1
        else:
            updated += 1
    linked = [d for d in docs if d.parent_doc_id is not None]
    if linked:
        conn.execute(
            _Q["dependency_add_many"],
            {
                "run_id": run_id,
                "source_names": [d.source_name for d in linked],
                "from_doc_ids": [d.parent_doc_id for d in linked],
                "to_doc_ids": [d.doc_id for d in linked],
            },
        )
    return AddResult(inserted, updated)


def queue_notify(conn: Connection, *, run_id: str) -> None:
    conn.execute(_Q["queue_notify"], {"run_id": run_id})


def documents_reclaim_expired(
    conn: Connection, *, run_id: str, max_retries: int, limit: int = 1000
) -> list[tuple[int, str]]:
    """``(queue_id, new_state)`` for every expired lease turned into a retry or a dead letter."""
    params = {"run_id": run_id, "max_retries": max_retries, "limit": limit}
    return [(queue_id, state) for queue_id, state in conn.execute(_Q["documents_reclaim_expired"], params)]


def document_claim(
    conn: Connection,
    *,
    run_id: str,
    worker_id: str,
    session_id: int | None,
    limit: int,
    claim_timeout: float,
) -> list[Lease]:
    params = {
        "run_id": run_id,
        "worker_id": worker_id,
        "session_id": session_id,
        "limit": limit,
        "claim_timeout": float(claim_timeout),
    }
    leases = [Lease(*row) for row in conn.execute(_Q["document_claim"], params)]
    leases.sort(key=lambda x: (-x.priority, x.link_depth, x.queue_id))  # RETURNING has no order
    return leases


def document_heartbeat_many(
    conn: Connection, *, queue_ids: Sequence[int], lease_tokens: Sequence[int], claim_timeout: float
) -> set[int]:
    """Queue ids whose leases were extended (the caller still holds them)."""
    params = {"queue_ids": list(queue_ids), "lease_tokens": list(lease_tokens), "claim_timeout": float(claim_timeout)}
    return {row[0] for row in conn.execute(_Q["document_heartbeat_many"], params)}


def document_complete_many(
    conn: Connection,
    *,
    queue_ids: Sequence[int],
    lease_tokens: Sequence[int],
    session_id: int | None,
    content_hashes: Sequence[str | None] | None = None,
) -> set[int]:
    """Queue ids now completed by these leases; the others were refused (lease lost)."""
    params = {
        "queue_ids": list(queue_ids),
        "lease_tokens": list(lease_tokens),
        "content_hashes": list(content_hashes) if content_hashes is not None else [None] * len(queue_ids),
        "session_id": session_id,
    }
    return {row[0] for row in conn.execute(_Q["document_complete_many"], params)}


def document_fail(
    conn: Connection,
    *,
    queue_id: int,
    lease_token: int,
    error: str,
    stage: str,
    delay: float,
    max_retries: int,
    permanent: bool = False,
) -> tuple[str, Any] | None:
    """``(new_state, scheduled_for)``, or None when the lease was no longer current."""
    params = {
        "queue_id": queue_id,
        "lease_token": lease_token,
        "error": error,
        "stage": stage,
        "delay": float(delay),
        "max_retries": max_retries,
        "permanent": permanent,
    }
    row = conn.execute(_Q["document_fail"], params).fetchone()
    return (row[0], row[1]) if row else None


def document_release(conn: Connection, *, queue_ids: Sequence[int], lease_tokens: Sequence[int]) -> set[int]:
    params = {"queue_ids": list(queue_ids), "lease_tokens": list(lease_tokens)}
    return {row[0] for row in conn.execute(_Q["document_release"], params)}


def document_retry_dead_letter(conn: Connection, *, queue_id: int) -> str | None:
    """Run id of the reopened run, or None if the document was not dead-lettered."""
    row = conn.execute(_Q["document_retry_dead_letter"], {"queue_id": queue_id}).fetchone()
    return row[0] if row else None


def document_get(conn: Connection, *, queue_id: int) -> dict[str, Any] | None:
    cur = conn.execute(_Q["document_get"], {"queue_id": queue_id})
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([c.name for c in cur.description or ()], row))


def documents_dead_letter(conn: Connection, *, run_id: str) -> list[dict[str, Any]]:
    cur = conn.execute(_Q["documents_dead_letter"], {"run_id": run_id})
    names = [c.name for c in cur.description or ()]
    return [dict(zip(names, row)) for row in cur]


# ---------------------------------------------------------------- leader lease


def leader_attempt(conn: Connection, *, run_id: str, holder: str, ttl: float) -> int | None:
    """The term won, or None when another holder's lease is still valid."""
    row = conn.execute(_Q["leader_attempt"], {"run_id": run_id, "holder": holder, "ttl": float(ttl)}).fetchone()
    return row[0] if row else None


def leader_renew(conn: Connection, *, run_id: str, holder: str, term: int, ttl: float) -> bool:
    params = {"run_id": run_id, "holder": holder, "term": term, "ttl": float(ttl)}
    return conn.execute(_Q["leader_renew"], params).fetchone() is not None


def leader_resign(conn: Connection, *, run_id: str, holder: str, term: int) -> bool:
    params = {"run_id": run_id, "holder": holder, "term": term}
    return conn.execute(_Q["leader_resign"], params).fetchone() is not None


def leader_check(conn: Connection, *, run_id: str, term: int) -> bool:
    return conn.execute(_Q["leader_check"], {"run_id": run_id, "term": term}).fetchone() is not None


# ---------------------------------------------------------------- maintenance


def queue_dead_tuples(conn: Connection) -> tuple[int, int, int]:
    """``(dead rows, rows changed since the last ANALYZE, live rows)`` of document_queue."""
    row = conn.execute(_Q["queue_dead_tuples"]).fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


def queue_vacuum(conn: Connection, *, lock_key: int) -> bool:
    """VACUUM document_queue unless another process is doing it; needs an autocommit connection."""
    if not conn.execute(_Q["queue_vacuum_lock"], {"key": lock_key}).fetchone()[0]:
        return False
    try:
        conn.execute(_Q["queue_vacuum"])
    finally:
        conn.execute(_Q["queue_vacuum_unlock"], {"key": lock_key})
    return True
