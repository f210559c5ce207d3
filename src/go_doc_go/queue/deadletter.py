"""The dead letter queue: list, analyze, retry, purge and export dead-lettered documents.

A document lands in the dead letter state through ``WorkQueue.fail`` (a
permanent error, or more than ``max_retries`` failures) or through the
reclaim of expired leases (the ``max_retries``-th crash or timeout). Its row
keeps the error class (``error_type``), message, stage, traceback and the
attempt history; nothing here changes what is recorded.

- ``retry`` / ``retry_run`` make documents claimable again in their run's
  current pass with a fresh retry budget (the history is kept and gains a
  ``requeued`` entry). A run that had finished (or was post-processing)
  goes back to ``active`` with its post-processing result cleared, and
  ``discovery_done_at`` stays set: discovery is not repeated, and when the
  retried documents are done the pass drains again, so the workers' leader
  runs post-processing again. Idle workers are woken (NOTIFY).
- ``purge`` deletes dead letters that died more than N days ago.
- ``analyze`` groups them (error class, stage, source, file type, hour) and
  gives a remediation hint per pattern (``REMEDIES``, table-driven: by
  exception class first, the message only as a fallback).
- ``export`` streams them as JSON, schema ``go-doc-go.deadletter/1``.

Bulk operations work in chunks of locked rows (``FOR UPDATE SKIP LOCKED``),
each chunk its own transaction, and only touch rows that died before the
operation began, so a document that dies again meanwhile is not retried twice.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from psycopg import Connection

from go_doc_go import exceptions
from go_doc_go.queue import repository
from go_doc_go.queue.monitoring.export import iso

SCHEMA = "go-doc-go.deadletter/1"
#: Rows per statement of a bulk retry or purge.
CHUNK = 5000

# ---------------------------------------------------------------- remediation hints


@dataclass(frozen=True, slots=True)
class Remedy:
    """One row of the hint table: matches an error class (or any of its base classes in ``exceptions``),
    a stage and a message pattern; empty means "any". ``hint`` may use the pattern's named groups."""

    hint: str
    error_types: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    message: str | None = None

    def matches(self, ancestry: tuple[str, ...], stage: str, message: str) -> re.Match[str] | bool:
        if self.error_types and not set(self.error_types) & set(ancestry):
            return False
        if self.stages and stage not in self.stages:
            return False
        if self.message is None:
            return True
        return re.search(self.message, message) or False


_CRASH = ("worker killed or out of memory while holding it: check the worker logs and parsers.max_memory_mb "
          "(or raise work_queue.claim_timeout if workers are just slow), then --retry")
_PERMISSION = "fix the file's permissions for the workers' user, then --retry"

#: First match wins: specific classes before their bases, messages only where the class cannot tell.
REMEDIES: tuple[Remedy, ...] = (
    Remedy("raise parsers.{key} (or exclude such documents), then --retry-run", ("LimitExceededError",),
           message=r"parsers\.(?P<key>\w+)"),
    Remedy("raise parsers.timeout (or exclude such documents), then --retry-run", ("ParseTimeoutError",)),
    Remedy("the parser process died: check the worker logs and parsers.max_memory_mb, then --retry",
           ("ParserCrashedError",)),
    Remedy("raise parsers.max_memory_mb, then --retry", ("ParseError",), message=r"max_memory_mb"),
    Remedy("binary bytes in a text type: exclude the file or fix its extension", ("ParseError",),
           message=r"binary content"),
    Remedy("no parser for this type: exclude it (content_sources[].exclude)", ("ParseError",),
           message=r"no parser for"),
    Remedy("fix the file (it does not parse), then --retry", ("ParseError",)),
    Remedy("raise content_sources[].max_file_size (or exclude the file), then --retry",
           ("DocumentTooLargeError",)),
    Remedy("the path or symlink leads outside base_path: fix the link or exclude it", ("OutsideRootError",)),
    Remedy(_PERMISSION, ("FetchError",), message=r"(?i)permission|not permitted"),
    Remedy("the document is gone from its source: restore it and --retry, or --purge it", ("FetchError",),
           message=r"(?i)no such file|not found"),
    Remedy("not a regular file (FIFO, device, socket): exclude it", ("FetchError",),
           message=r"not a regular file"),
    Remedy("the source could not be read: check it (mount, network), then --retry-run", ("FetchError",)),
    Remedy("a parser bug (two elements got one id): report it with the file", ("ElementIdCollisionError",)),
    Remedy(_CRASH, ("LeaseExpired",)),
    Remedy(_CRASH, stages=("lease",)),
    Remedy("the attempt outlived work_queue.attempt_timeout: raise it (or parsers.timeout), then --retry",
           ("AttemptTimeout",)),
    Remedy("the attempt outlived work_queue.attempt_timeout: raise it (or parsers.timeout), then --retry",
           stages=("timeout",)),
    Remedy("the store refused the document: check the store database (disk, permissions), then --retry",
           stages=("store",)),
    Remedy("embedding failed: check the embedding provider (embedding.*), then --retry-run", stages=("embed",)),
    Remedy(_PERMISSION, message=r"(?i)permission denied|not permitted"),
    Remedy("raise parsers.{key} (or exclude such documents), then --retry-run", message=r"parsers\.(?P<key>\w+)"),
    Remedy("an unexpected error: see the traceback (--list --details) and report it with the file",
           stages=("parse", "relate")),
)
DEFAULT_HINT = "see the attempt history and traceback: --list --details"

_CLASS_PREFIX = re.compile(r"^([A-Z][A-Za-z0-9_]*(?:Error|Exception|Expired|Timeout))\b:?")


def ancestry(error_type: str | None, message: str = "") -> tuple[str, ...]:
    """The error class and its base classes when ``exceptions`` defines it (``LimitExceededError`` →
    ``ParseError``, ``DocumentError``...); without a class, the one a message starts with (``KeyError: x``)."""
    name = error_type or ((m := _CLASS_PREFIX.match(message)) and m.group(1)) or ""
    cls = getattr(exceptions, name, None) if name else None
    if isinstance(cls, type) and issubclass(cls, BaseException):
        return tuple(c.__name__ for c in cls.__mro__ if c not in (BaseException, object))
    return (name,) if name else ()


def hint_for(error_type: str | None, stage: str | None, message: str | None) -> str:
    """The remediation hint of the first ``REMEDIES`` row this failure matches."""
    text = message or ""
    chain = ancestry(error_type, text)
    for remedy in REMEDIES:
        found = remedy.matches(chain, stage or "", text)
        if found:
            groups = found.groupdict() if isinstance(found, re.Match) else {}
            return remedy.hint.format(**groups)
    return DEFAULT_HINT


# ---------------------------------------------------------------- entries


def file_type(doc_path: str | None) -> str:
    """Lower-case extension of the document's path (``json``), or ``""``."""
    match = re.search(r"\.([A-Za-z0-9_+-]{1,16})(?:[?#].*)?$", (doc_path or "").rsplit("/", 1)[-1])
    return match.group(1).lower() if match else ""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-lettered document as it is recorded (``history``: the row's ``error_history``)."""

    queue_id: int
    run_id: str
    source_name: str
    doc_id: str
    doc_path: str | None
    pass_number: int
    attempts: int
    failure_count: int
    crash_count: int
    error_type: str | None
    stage: str | None
    error: str | None
    traceback: str | None
    history: list[dict[str, Any]]
    dead_since: datetime
    created_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DeadLetter:
        return cls(
            queue_id=row["queue_id"], run_id=row["run_id"], source_name=row["source_name"], doc_id=row["doc_id"],
            doc_path=row["doc_path"], pass_number=row["pass_number"], attempts=row["attempts"],
            failure_count=row["failure_count"], crash_count=row["crash_count"], error_type=row["error_type"],
            stage=row["error_stage"], error=row["last_error"], traceback=row["last_traceback"],
            history=list(row["error_history"] or []), dead_since=row["dead_since"],
            created_at=row.get("created_at"),
        )

    @property
    def document(self) -> str:
        return f"{self.source_name}:{self.doc_path or self.doc_id}"

    @property
    def file_type(self) -> str:
        return file_type(self.doc_path)

    @property
    def hint(self) -> str:
        return hint_for(self.error_type, self.stage, self.error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "queue_id": self.queue_id, "run_id": self.run_id, "source_name": self.source_name,
            "doc_id": self.doc_id, "doc_path": self.doc_path, "file_type": self.file_type,
            "pass_number": self.pass_number, "error_type": self.error_type, "stage": self.stage,
            "error": self.error, "traceback": self.traceback, "attempts": self.attempts,
            "failure_count": self.failure_count, "crash_count": self.crash_count,
            "created_at": iso(self.created_at), "dead_since": iso(self.dead_since), "hint": self.hint,
            "history": self.history,
        }


def list_dead_letters(conn: Connection, *, run_id: str | None = None, limit: int = 50) -> list[DeadLetter]:
    """Newest first, of one run or all."""
    return [DeadLetter.from_row(row) for row in repository.deadletter_list(conn, run_id=run_id, limit=limit)]


# ---------------------------------------------------------------- analysis


@dataclass(frozen=True, slots=True)
class MessagePattern:
    """Failures whose messages are the same once the document's path and every number are replaced."""

    error_type: str
    stage: str
    pattern: str
    count: int
    example_queue_id: int
    example: str
    hint: str


@dataclass(frozen=True, slots=True)
class Analysis:
    total: int
    #: dimension (error_type, stage, source, file_type, hour) -> [(value, count)], largest first.
    groups: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    top_messages: list[MessagePattern] = field(default_factory=list)

    @property
    def hints(self) -> list[tuple[str, str, int]]:
        """``(hint, example error class, failures)`` per distinct hint, most failures first."""
        totals: dict[str, list[Any]] = {}
        for pattern in self.top_messages:
            entry = totals.setdefault(pattern.hint, [pattern.error_type or pattern.stage, 0])
            entry[1] += pattern.count
        return sorted(((hint, kind, n) for hint, (kind, n) in totals.items()), key=lambda x: -x[2])


def analyze(conn: Connection, *, run_id: str | None = None, top: int = 10) -> Analysis:
    """Counts by error class, stage, source, file type and hour (UTC), the top messages and their hints."""
    groups: dict[str, list[tuple[str, int]]] = {}
    total = 0
    for dimension, value, n in repository.deadletter_groups(conn, run_id=run_id):
        if dimension == "total":
            total = n
        else:
            groups.setdefault(dimension, []).append((value, n))
    groups["hour"] = sorted(groups.get("hour", []))  # hours in time order, not by size
    patterns = [
        MessagePattern(
            error_type=row["error_type"], stage=row["stage"], pattern=row["pattern"], count=row["n"],
            example_queue_id=row["example_queue_id"], example=row["example"] or "",
            hint=hint_for(row["error_type"] or None, row["stage"] or None, row["example"]),
        )
        for row in repository.deadletter_top_messages(conn, run_id=run_id, limit=top)
    ]
    return Analysis(total=total, groups=groups, top_messages=patterns)


# ---------------------------------------------------------------- retry and purge


@dataclass(frozen=True, slots=True)
class RetryResult:
    retried: int
    #: Runs that were not active and now are (their post-processing runs again).
    reopened: list[str]


def lookup(conn: Connection, queue_id: int) -> dict[str, Any] | None:
    """The queue row (with its run's status), whatever its state, for messages about it."""
    return repository.deadletter_get(conn, queue_id=queue_id)


def retry(conn: Connection, queue_id: int) -> RetryResult:
    """Make one dead letter claimable again and reopen its run; ``retried == 0`` if it was not a dead letter."""
    with conn.transaction():
        retried, reopened = repository.deadletter_retry(conn, queue_ids=[queue_id])
    return RetryResult(retried, reopened)


def count(conn: Connection, *, run_id: str | None = None, older_than_days: float | None = None) -> int:
    """Dead letters of a run (or all), only those that died more than ``older_than_days`` ago if given."""
    before = None
    if older_than_days is not None:
        before = _days_ago(conn, older_than_days)
    return repository.deadletter_count(conn, run_id=run_id, before=before)


def _days_ago(conn: Connection, days: float) -> datetime:
    return repository.db_now(conn) - timedelta(days=days)


def retry_run(conn: Connection, run_id: str, *, chunk: int = CHUNK) -> RetryResult:
    """Every dead letter of the run that died before now, in chunks; the run reopens."""
    before = repository.db_now(conn)
    retried, reopened = 0, []
    while True:
        with conn.transaction():
            ids = repository.deadletter_pick(conn, run_id=run_id, before=before, limit=chunk)
            if not ids:
                break
            n, runs = repository.deadletter_retry(conn, queue_ids=ids)
        retried += n
        reopened += [r for r in runs if r not in reopened]
    return RetryResult(retried, reopened)


def purge(conn: Connection, *, days: float, run_id: str | None = None, chunk: int = CHUNK) -> int:
    """Delete dead letters that died more than ``days`` ago (of one run or all); returns how many.

    A purged document is forgotten by the queue: a later pass that lists it again queues it afresh.
    """
    before = _days_ago(conn, days)
    deleted = 0
    while True:
        with conn.transaction():
            ids = repository.deadletter_pick(conn, run_id=run_id, before=before, limit=chunk)
            if not ids:
                return deleted
            deleted += repository.deadletter_delete(conn, queue_ids=ids)


# ---------------------------------------------------------------- export


def iter_dead_letters(conn: Connection, *, run_id: str | None = None) -> Iterator[DeadLetter]:
    """Every dead letter in queue order, streamed (a server-side cursor: call inside a transaction)."""
    cursor = f"gdg_deadletter_{secrets.token_hex(4)}"
    for row in repository.deadletter_export(conn, run_id=run_id, cursor_name=cursor):
        yield DeadLetter.from_row(row)


def export(conn: Connection, out: IO[str], *, run_id: str | None = None) -> int:
    """Write ``{"schema": "go-doc-go.deadletter/1", ...}`` to ``out`` entry by entry; returns the count.

    One snapshot (REPEATABLE READ): ``count`` equals the entries written.
    """
    written = 0
    with conn.transaction():
        repository.monitor_snapshot_begin(conn)
        now = repository.db_now(conn)
        out.write('{"schema": %s, "generated_at": %s, "run_id": %s, "entries": [' % (
            json.dumps(SCHEMA), json.dumps(iso(now)), json.dumps(run_id)))
        for entry in iter_dead_letters(conn, run_id=run_id):
            out.write(("\n  " if written == 0 else ",\n  ") + json.dumps(entry.to_dict(), ensure_ascii=False,
                                                                       default=str))
            written += 1
        out.write('\n], "count": %d}\n' % written)
    return written
