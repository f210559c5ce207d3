"""Connections: a psycopg_pool factory and a retry helper.

After a PostgreSQL restart or ``pg_terminate_backend`` the pool hands out a
checked, fresh connection, and ``retrying`` runs the operation again, so a
worker goes on instead of dying. Only connection-level errors are retried, and
a retry knows it is one: an operation whose reply was lost after its commit
must recognise its own effect instead of doing it twice (``with_connection``'s
``retried``). Error texts are scrubbed of credentials before they are logged.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg import Connection
from psycopg_pool import ConnectionPool

from go_doc_go.config import scrub
from go_doc_go.exceptions import QueueError

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

#: Errors that mean "the connection is gone", not "the statement is wrong".
TRANSIENT: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg.InterfaceError)


#: Session settings of queue connections. Durable commits. And no sorts or
#: sequential scans: every queue query has an index that yields its rows in
#: order, but queue tables churn faster than their statistics, and with stale
#: ones (a run filled right after an ANALYZE) the planner sorted a whole run per
#: claim. These settings keep the index plans whatever the statistics say.
_OPTIONS = "-c synchronous_commit=on -c enable_sort=off -c enable_seqscan=off"


def default_url() -> str:
    return os.environ.get("GO_DOC_GO_DATABASE_URL") or DEFAULT_URL


def session_options(url: str) -> str:
    """The queue's session settings added to whatever ``options`` the URL has (a search_path, say)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        own = conninfo_to_dict(url).get("options")
    except psycopg.ProgrammingError:
        own = None
    return f"{own} {_OPTIONS}" if own else _OPTIONS


def connect(url: str, *, autocommit: bool = True) -> Connection:
    """One plain connection (for LISTEN, migrations and tools)."""
    return psycopg.connect(url, autocommit=autocommit)


def make_pool(
    url: str, *, min_size: int = 1, max_size: int = 4, name: str = "go-doc-go-queue", check: bool = True
) -> ConnectionPool:
    """An open pool of autocommit connections.

    With ``check`` each connection is tested before it is handed out (one
    extra round trip); without it a broken connection is found by the failing
    statement, discarded by the pool and the operation retried by ``retrying``.
    """
    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"autocommit": True, "options": session_options(url)},
        check=ConnectionPool.check_connection if check else None,
        reconnect_timeout=300,
        name=name,
        open=False,
    )
    pool.open(wait=True, timeout=30)
    return pool


def retrying(
    operation: Callable[[int], T],
    *,
    attempts: int = 8,
    base: float = 0.1,
    cap: float = 5.0,
    what: str = "queue operation",
    deadline: float | None = None,
) -> T:
    """Run ``operation(attempt)``; on a connection error wait (exponential, jittered) and try again.

    ``attempt`` counts from 1, so an operation can tell a retry (whose first
    try may have committed before its reply was lost) from the first try.
    ``deadline`` (``time.monotonic()``) bounds the whole: no retry starts after it.
    """
    for attempt in range(1, attempts + 1):
        try:
            return operation(attempt)
        except TRANSIENT as error:
            pause = min(cap, base * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            out_of_time = deadline is not None and time.monotonic() + pause > deadline
            if attempt == attempts or out_of_time:
                tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                raise QueueError(f"{what} failed after {tries}: {scrub(str(error))}") from error
            log.warning("%s: connection problem (%s); retrying in %.2fs", what, scrub(str(error)), pause)
            time.sleep(pause)
    raise AssertionError("unreachable")


#: Longest wait for a pooled connection (the pool reconnects in the background meanwhile).
POOL_TIMEOUT = 30.0


def with_connection(
    pool: ConnectionPool,
    what: str,
    operation: Callable[[Connection], T],
    *,
    deadline: float | None = None,
    retried: Callable[[Connection], T] | None = None,
) -> T:
    """Run ``operation`` on a pooled connection, retrying connection errors (``retrying``).

    ``retried``, if given, runs instead of ``operation`` on every retry: it
    must first recognise what an earlier try committed before its reply was
    lost. ``deadline`` (monotonic) bounds retries and the wait for a connection.
    """

    def attempt(number: int) -> T:
        timeout = POOL_TIMEOUT if deadline is None else min(POOL_TIMEOUT, max(deadline - time.monotonic(), 0.5))
        with pool.connection(timeout=timeout) as conn:
            return (retried if retried is not None and number > 1 else operation)(conn)

    return retrying(attempt, what=what, deadline=deadline)
