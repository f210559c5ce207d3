"""Every database operation of the work queue: small functions, entity-then-verb.

This is the only module that uses the named queries of ``sql/queries.sql``.
Each function takes an open psycopg connection and runs inside whatever
transaction the caller holds (with autocommit, each call is its own
transaction). Nothing here reads the worker's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb

from go_doc_go.queue.records import (
    AddResult,
    Lease,
    LeaseKey,
    NewDocument,
    Outstanding,
    Run,
)
from go_doc_go.queue.sql_loader import queries

_Q = queries()


def _run(row: Sequence[Any]) -> Run:
    run_id, config_hash, status, pass_number, discovery_done_at, leader_id, leader_term, _exp, holder, created = row
    return Run(
        run_id=run_id,
        config_hash=config_hash,
        status=status,
        pass_number=pass_number,
        discovery_done=discovery_done_at is not None,
        leader_id=leader_id,
        leader_term=leader_term,
        created=created,
        discovery_holder=holder,
    )


def _pairs(leases: Sequence[Lease]) -> dict[str, list[int]]:
    return {"queue_ids": [x.queue_id for x in leases], "lease_tokens": [x.lease_token for x in leases]}


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


def discovery_attempt(conn: Connection, *, run_id: str, holder: str, ttl: float, new_pass: bool) -> int | None:
    """The pass number whose discovery lease this holder now has, or None (taken, done, or run finished)."""
    params = {"run_id": run_id, "holder": holder, "ttl": float(ttl), "new_pass": new_pass}
    row = conn.execute(_Q["discovery_attempt"], params).fetchone()
    return row[0] if row else None


def discovery_renew(conn: Connection, *, run_id: str, holder: str, ttl: float) -> bool:
    params = {"run_id": run_id, "holder": holder, "ttl": float(ttl)}
    return conn.execute(_Q["discovery_renew"], params).fetchone() is not None


def discovery_release(conn: Connection, *, run_id: str, holder: str) -> bool:
    return conn.execute(_Q["discovery_release"], {"run_id": run_id, "holder": holder}).fetchone() is not None


def run_discovery_done(conn: Connection, *, run_id: str, holder: str | None = None) -> bool:
    """Mark discovery done (and free its lease); refused while another holder's discovery lease is valid."""
    return conn.execute(_Q["run_discovery_done"], {"run_id": run_id, "holder": holder}).fetchone() is not None


def run_counts(conn: Connection, *, run_id: str) -> dict[str, int]:
    counts = dict.fromkeys(("pending", "scheduled", "processing", "retry", "completed", "dead_letter"), 0)
    for state, n in conn.execute(_Q["run_counts"], {"run_id": run_id}):
        counts[state] = n
    return counts


def run_outstanding(conn: Connection, *, run_id: str) -> Outstanding:
    row = conn.execute(_Q["run_outstanding"], {"run_id": run_id}).fetchone()
    if row is None:
        return Outstanding(0, 0, 0, None, status="missing", discovery_done=True)
    ready, processing, waiting, next_due, status, done, held = row
    next_due_in = float(next_due) if next_due is not None else None
    return Outstanding(ready, processing, waiting, next_due_in, status=status, discovery_done=done, discovery_held=held)


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
    """Liveness (a ``lost`` session comes back to ``running``); False if replaced, stopped or unknown."""
    row = conn.execute(_Q["worker_heartbeat"], {"session_id": session_id}).fetchone()
    return bool(row and row[0])


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
    conn: Connection, *, run_id: str, max_retries: int, limit: int = 1000, fetch: bool = True
) -> list[tuple[int, str]]:
    """``(queue_id, new_state)`` for every expired lease turned into a retry or a dead letter.

    ``fetch=False`` only sends the statement (for a pipeline) and returns ``[]``.
    """
    params = {"run_id": run_id, "max_retries": max_retries, "limit": limit}
    cursor = conn.execute(_Q["documents_reclaim_expired"], params)
    return [(queue_id, state) for queue_id, state in cursor] if fetch else []


def documents_promote_due(conn: Connection, *, run_id: str, limit: int = 1000) -> None:
    """Make due ``retry``/``scheduled`` rows ``pending`` (claimable). Only sends it: pipeline-friendly."""
    conn.execute(_Q["documents_promote_due"], {"run_id": run_id, "limit": limit})


def _leases(rows: Iterable[Sequence[Any]]) -> list[Lease]:
    leases = [Lease(*row) for row in rows]
    leases.sort(key=lambda x: (-x.priority, x.link_depth, x.queue_id))  # RETURNING has no order
    return leases


def document_claim(
    conn: Connection,
    *,
    run_id: str,
    worker_id: str,
    session_id: int | None,
    limit: int,
    claim_timeout: float,
    request_id: int,
    attempt_timeout: float | None = None,
) -> list[Lease]:
    """Claim up to ``limit`` pending documents of an active run; ``request_id`` marks the rows (see below)."""
    params = {
        "run_id": run_id,
        "worker_id": worker_id,
        "session_id": session_id,
        "limit": limit,
        "claim_timeout": float(claim_timeout),
        "attempt_timeout": None if attempt_timeout is None else float(attempt_timeout),
        "request_id": request_id,
    }
    return _leases(conn.execute(_Q["document_claim"], params))


def document_claimed_by(conn: Connection, *, run_id: str, request_id: int) -> list[Lease]:
    """The leases claim request ``request_id`` committed (still held): what its retry returns."""
    return _leases(conn.execute(_Q["document_claimed_by"], {"run_id": run_id, "request_id": request_id}))


def document_heartbeat_many(
    conn: Connection, *, leases: Sequence[Lease], claim_timeout: float
) -> dict[int, tuple[int | None, str, bool]]:
    """Extend these leases (skipping rows a transaction holds locked, never past their attempt deadline).

    Returns, per queue id, the row's committed ``(lease_token, state, extended)``.
    """
    params = {**_pairs(leases), "claim_timeout": float(claim_timeout)}
    return {q: (token, state, extended) for q, token, state, extended in conn.execute(_Q["document_heartbeat_many"], params)}


def document_complete_many(
    conn: Connection,
    *,
    leases: Sequence[Lease],
    session_id: int | None,
    content_hashes: Sequence[str | None] | None = None,
    outcomes: Sequence[str | None] | None = None,
    units: Sequence[tuple[int, int] | None] | None = None,
) -> set[LeaseKey]:
    """Keys of the leases this statement completed. Run ``document_completed_by`` for the rest."""
    params = {
        **_pairs(leases),
        "content_hashes": Jsonb(_by_token(leases, content_hashes)),
        "outcomes": Jsonb(_by_token(leases, outcomes)),
        "units": Jsonb(_by_token(leases, units)),
        "depths": Jsonb({str(x.lease_token): x.link_depth for x in leases}),
        "session_id": session_id,
    }
    return {(q, t) for q, t in conn.execute(_Q["document_complete_many"], params)}


def _by_token(leases: Sequence[Lease], values: Sequence[Any] | None) -> dict[str, Any]:
    """``{"token": value}``: looked up per row by its lease token (a jsonb binary search)."""
    if values is None:
        return {}
    return {str(x.lease_token): v for x, v in zip(leases, values, strict=True) if v is not None}


def document_completed_by(conn: Connection, *, leases: Sequence[Lease]) -> set[LeaseKey]:
    """Keys of these leases whose documents are completed with that very lease (our own earlier completion).

    A separate statement on purpose: in READ COMMITTED it sees the commit of a
    concurrent completion that ``document_complete_many`` waited for.
    """
    return {(q, t) for q, t in conn.execute(_Q["document_completed_by"], _pairs(leases))}


def document_fail(
    conn: Connection,
    *,
    queue_id: int,
    lease_token: int,
    error: str,
    stage: str,
    delay: float,
    max_retries: int,
    request_id: int,
    session_id: int | None = None,
    permanent: bool = False,
    error_type: str | None = None,
    traceback: str | None = None,
) -> tuple[str, Any] | None:
    """``(new_state, scheduled_for)``, or None when the lease was no longer current."""
    params = {
        "queue_id": queue_id,
        "lease_token": lease_token,
        "error": error,
        "error_type": error_type,
        "traceback": traceback,
        "stage": stage,
        "delay": float(delay),
        "max_retries": max_retries,
        "permanent": permanent,
        "request_id": request_id,
        "session_id": session_id,
    }
    row = conn.execute(_Q["document_fail"], params).fetchone()
    return (row[0], row[1]) if row else None


def document_failed_by(conn: Connection, *, queue_id: int, lease_token: int, request_id: int) -> tuple[str, Any] | None:
    """The outcome of failure request ``request_id`` if it committed already (reply lost), else None."""
    params = {"queue_id": queue_id, "lease_token": lease_token, "request_id": request_id}
    row = conn.execute(_Q["document_failed_by"], params).fetchone()
    return (row[0], row[1]) if row else None


def document_release(conn: Connection, *, leases: Sequence[Lease], request_id: int) -> set[LeaseKey]:
    params = {**_pairs(leases), "request_id": request_id}
    return {(q, t) for q, t in conn.execute(_Q["document_release"], params)}


def document_released_by(conn: Connection, *, leases: Sequence[Lease], request_id: int) -> set[LeaseKey]:
    """Keys of these leases that release request ``request_id`` gave back already (reply lost)."""
    params = {**_pairs(leases), "request_id": request_id}
    return {(q, t) for q, t in conn.execute(_Q["document_released_by"], params)}


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


#: Advisory lock namespace of leader elections and fences (the run id is hashed into the second key).
LEADER_LOCK_NAMESPACE = 0x6764_6C64  # "gdld"


def leader_needs_election(conn: Connection, *, run_id: str) -> bool:
    """Would an attempt begin a new term now (lease free or expired)?"""
    row = conn.execute(_Q["leader_needs_election"], {"run_id": run_id}).fetchone()
    return bool(row and row[0])


def leader_election_lock(conn: Connection, *, run_id: str) -> bool:
    """Try the exclusive election lock (transaction scope); False while a ``leader_fence``d transaction is open."""
    params = {"namespace": LEADER_LOCK_NAMESPACE, "run_id": run_id}
    return bool(conn.execute(_Q["leader_election_lock"], params).fetchone()[0])


def leader_fence(conn: Connection, *, run_id: str, term: int, idle_timeout: float) -> bool:
    """In the caller's transaction: hold off any new election until it ends; True if ``term`` is current.

    Two statements: the check must read a snapshot taken after the lock was granted.
    """
    conn.execute(_Q["leader_fence_lock"], {"namespace": LEADER_LOCK_NAMESPACE, "run_id": run_id})
    params = {"run_id": run_id, "term": term, "idle_timeout_ms": str(max(1, int(idle_timeout * 1000)))}
    return conn.execute(_Q["leader_fence_check"], params).fetchone() is not None


def leader_attempt(conn: Connection, *, run_id: str, holder: str, ttl: float, may_take: bool = False) -> int | None:
    """The term won, or None when another holder's lease is still valid.

    ``may_take`` allows a new term (lease free or expired): pass it only while
    holding ``leader_election_lock`` in the same transaction.
    """
    params = {"run_id": run_id, "holder": holder, "ttl": float(ttl), "may_take": may_take}
    row = conn.execute(_Q["leader_attempt"], params).fetchone()
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


def run_record_discovery(
    conn: Connection, *, run_id: str, incomplete_sources: Sequence[str], stats: dict[str, Any]
) -> None:
    params = {"run_id": run_id, "incomplete_sources": Jsonb(list(incomplete_sources)), "stats": Jsonb(stats)}
    conn.execute(_Q["run_record_discovery"], params)


def run_record_post_processing(conn: Connection, *, run_id: str, term: int, result: dict[str, Any]) -> bool:
    params = {"run_id": run_id, "term": term, "result": Jsonb(result)}
    return conn.execute(_Q["run_record_post_processing"], params).fetchone() is not None


def run_pass_summary(conn: Connection, *, run_id: str) -> dict[tuple[str, str | None], int]:
    """``{(state, outcome): documents}`` of the run's current pass."""
    return {(state, outcome): n for state, outcome, n in conn.execute(_Q["run_pass_summary"], {"run_id": run_id})}


def run_pass_failures(conn: Connection, *, run_id: str, limit: int = 1000) -> list[dict[str, Any]]:
    cur = conn.execute(_Q["run_pass_failures"], {"run_id": run_id, "limit": limit})
    names = [c.name for c in cur.description or ()]
    return [dict(zip(names, row)) for row in cur]


def run_pass_units(conn: Connection, *, run_id: str) -> tuple[int, int]:
    """(units embedded, units reused) over the processed documents of the run's current pass."""
    embedded, reused = conn.execute(_Q["run_pass_units"], {"run_id": run_id}).fetchone()  # type: ignore[misc]
    return int(embedded), int(reused)


def run_pass_record(conn: Connection, *, run_id: str) -> dict[str, Any] | None:
    """``pass_number``, ``incomplete_sources``, ``discovery_stats`` and ``post_processing`` of the run."""
    cur = conn.execute(_Q["run_pass_record"], {"run_id": run_id})
    row = cur.fetchone()
    return dict(zip([c.name for c in cur.description or ()], row)) if row else None


def run_pass_processed(conn: Connection, *, run_id: str) -> list[str]:
    return [row[0] for row in conn.execute(_Q["run_pass_processed"], {"run_id": run_id})]


# ---------------------------------------------------------------- operators: counts, monitor, dead letters
# Used by queue/monitoring and queue/deadletter. Rows come back as dicts keyed by column name.


def _dicts(cur: Any) -> list[dict[str, Any]]:
    names = [c.name for c in cur.description or ()]
    return [dict(zip(names, row)) for row in cur]


def _dict(cur: Any) -> dict[str, Any] | None:
    row = cur.fetchone()
    return dict(zip([c.name for c in cur.description or ()], row)) if row is not None else None


#: Advisory lock key of the count compaction ("gdg-cnt").
COUNTS_LOCK_KEY = 0x6764_672D_636E_74


def counts_compact(conn: Connection, *, history_minutes: int) -> bool:
    """Fold the state-count deltas into minute buckets (older ones into one), in one transaction.

    False when another process was compacting (nothing done). Needs a connection not inside a transaction.
    """
    params = {"history_minutes": int(history_minutes)}
    with conn.transaction():
        if not conn.execute(_Q["counts_compact_lock"], {"key": COUNTS_LOCK_KEY}).fetchone()[0]:
            return False
        conn.execute(_Q["counts_fold_deltas"], params)
        conn.execute(_Q["counts_fold_history"], params)
        conn.execute(_Q["counts_drop_empty"])
    return True


def counts_by_state(conn: Connection, *, run_id: str) -> dict[tuple[int, str], int]:
    """Exact rows per ``(pass_number, state)`` of a run, from the count tables (no document_queue scan)."""
    return {(p, s): int(n) for p, s, n in conn.execute(_Q["counts_by_state"], {"run_id": run_id}) if n}


def monitor_runs_select(
    conn: Connection, *, run_id: str | None, config_run_id: str | None, window: float, limit: int
) -> list[str]:
    params = {"run_id": run_id, "config_run_id": config_run_id, "window": float(window), "limit": limit}
    return [r for (r,) in conn.execute(_Q["monitor_runs_select"], params)]


def monitor_run_latest(conn: Connection) -> str | None:
    row = conn.execute(_Q["monitor_run_latest"]).fetchone()
    return row[0] if row else None


def monitor_runs_recent(conn: Connection, *, limit: int) -> list[dict[str, Any]]:
    return _dicts(conn.execute(_Q["monitor_runs_recent"], {"limit": limit}))


def monitor_run(conn: Connection, *, run_id: str, window: float) -> dict[str, Any] | None:
    return _dict(conn.execute(_Q["monitor_run"], {"run_id": run_id, "window": float(window)}))


def monitor_run_states(conn: Connection, *, run_id: str, window_start: Any) -> list[tuple[int, str, int, int]]:
    """``(pass_number, state, rows, entered since window_start)`` of a run."""
    params = {"run_id": run_id, "window_start": window_start}
    return [(p, s, int(n), int(e)) for p, s, n, e in conn.execute(_Q["monitor_run_states"], params)]


def monitor_run_history(conn: Connection, *, run_id: str, pass_number: int, minutes: int) -> list[tuple[Any, int]]:
    params = {"run_id": run_id, "pass_number": pass_number, "minutes": int(minutes)}
    return [(minute, int(n)) for minute, n in conn.execute(_Q["monitor_run_history"], params)]


def monitor_workers(conn: Connection, *, run_id: str, window: float, limit: int = 200) -> list[dict[str, Any]]:
    params = {"run_id": run_id, "window": float(window), "limit": limit}
    return _dicts(conn.execute(_Q["monitor_workers"], params))


def monitor_leases_by_worker(conn: Connection, *, run_id: str) -> dict[str | None, dict[str, Any]]:
    return {row["worker_id"]: row for row in _dicts(conn.execute(_Q["monitor_leases_by_worker"], {"run_id": run_id}))}


def monitor_queue_health(conn: Connection, *, run_id: str, grace: float) -> dict[str, Any]:
    row = _dict(conn.execute(_Q["monitor_queue_health"], {"run_id": run_id, "grace": float(grace)}))
    assert row is not None  # a SELECT of scalar subqueries always returns one row
    return row


def monitor_tables(conn: Connection, *, tables: Sequence[str]) -> list[dict[str, Any]]:
    return _dicts(conn.execute(_Q["monitor_tables"], {"tables": list(tables)}))


def deadletter_list(conn: Connection, *, run_id: str | None, limit: int) -> list[dict[str, Any]]:
    return _dicts(conn.execute(_Q["deadletter_list"], {"run_id": run_id, "limit": limit}))


def deadletter_export(conn: Connection, *, run_id: str | None, cursor_name: str) -> Iterable[dict[str, Any]]:
    """Every dead letter in queue order through a server-side cursor (call inside a transaction)."""
    with conn.cursor(name=cursor_name) as cur:
        cur.itersize = 500
        cur.execute(_Q["deadletter_export"], {"run_id": run_id})
        names: list[str] | None = None
        for row in cur:
            if names is None:
                names = [c.name for c in cur.description or ()]
            yield dict(zip(names, row))


def deadletter_get(conn: Connection, *, queue_id: int) -> dict[str, Any] | None:
    return _dict(conn.execute(_Q["deadletter_get"], {"queue_id": queue_id}))


def deadletter_count(conn: Connection, *, run_id: str | None, before: Any = None) -> int:
    return int(conn.execute(_Q["deadletter_count"], {"run_id": run_id, "before": before}).fetchone()[0])


def deadletter_pick(conn: Connection, *, run_id: str | None, before: Any, limit: int) -> list[int]:
    """Lock (in the caller's transaction) up to ``limit`` dead letters that died before ``before``."""
    params = {"run_id": run_id, "before": before, "limit": limit}
    return [q for (q,) in conn.execute(_Q["deadletter_pick"], params)]


def deadletter_retry(conn: Connection, *, queue_ids: Sequence[int]) -> tuple[int, list[str]]:
    """``(documents made claimable, runs reopened)``."""
    row = conn.execute(_Q["deadletter_retry"], {"queue_ids": list(queue_ids)}).fetchone()
    return int(row[0]), list(row[1])


def deadletter_delete(conn: Connection, *, queue_ids: Sequence[int]) -> int:
    return len(conn.execute(_Q["deadletter_delete"], {"queue_ids": list(queue_ids)}).fetchall())


def deadletter_groups(conn: Connection, *, run_id: str | None) -> list[tuple[str, str, int]]:
    return [(d, v, int(n)) for d, v, n in conn.execute(_Q["deadletter_groups"], {"run_id": run_id})]


def deadletter_top_messages(conn: Connection, *, run_id: str | None, limit: int) -> list[dict[str, Any]]:
    return _dicts(conn.execute(_Q["deadletter_top_messages"], {"run_id": run_id, "limit": limit}))


def monitor_snapshot_begin(conn: Connection) -> None:
    """Make the caller's (just begun) transaction one REPEATABLE READ, READ ONLY snapshot."""
    conn.execute(_Q["monitor_snapshot_begin"])


def db_now(conn: Connection) -> Any:
    return conn.execute(_Q["db_now"]).fetchone()[0]
