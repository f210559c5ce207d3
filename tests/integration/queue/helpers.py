"""Deterministic interleavings against a real server: lost replies, outages, lock waits.

Nothing here imitates PostgreSQL. ``LossyPool`` hands out real pooled
connections that, for chosen statements, run the statement (which commits:
the connections are autocommit) and then drop the connection before the caller
sees the result: exactly what a network failure after the commit looks like.
``database_down`` makes the test database refuse connections for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import psycopg

from go_doc_go.queue.sql_loader import queries

from ..conftest import server_url


def wait_until(condition: Callable[[], bool], *, timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds (a state is awaited, never a fixed time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def lock_waiters(pg_url: str) -> int:
    """Backends of the test database waiting for a lock right now."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]


class Background:
    """Run a call in a thread; keep its result or exception."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.result = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.error = error

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def get(self, timeout: float = 20.0) -> Any:
        self._thread.join(timeout)
        assert self.done, "background call did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def finishes_without_waiting(pg_url: str, call: Callable[[], Any], *, timeout: float = 20.0) -> Background:
    """Start ``call`` in a thread and wait until it finishes or some backend waits for a lock.

    Returns the ``Background`` job; the caller asserts ``job.done``.
    """
    job = Background(call)
    wait_until(lambda: job.done or lock_waiters(pg_url) > 0, timeout=timeout, what="the call or a lock wait")
    return job


class _LossyConnection:
    def __init__(self, conn: psycopg.Connection, owner: LossyPool) -> None:
        self._conn = conn
        self._owner = owner
        self._lose_at_commit = False

    def _lose(self) -> None:
        self._conn.close()
        raise psycopg.OperationalError("simulated: connection lost after the statement committed")

    def _idle(self) -> bool:
        return self._conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        cursor = self._conn.execute(query, params, **kwargs)
        if self._owner.take(query):
            cursor.fetchall()
            if self._idle():
                self._lose()  # autocommit: the server has run and committed it
            self._lose_at_commit = True  # inside a transaction: lose the reply of its commit
        return cursor

    @contextmanager
    def transaction(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with self._conn.transaction(*args, **kwargs) as tx:
            yield tx
        if self._lose_at_commit and self._idle():
            self._lose_at_commit = False
            self._lose()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class LossyPool:
    """A real pool whose connections lose the reply of the next ``times`` runs of query ``name``."""

    def __init__(self, pool: Any, name: str, *, times: int = 1) -> None:
        self.pool = pool
        self.query = queries()[name]
        self.left = times
        self.lost = 0

    def take(self, query: Any) -> bool:
        if self.left > 0 and query == self.query:
            self.left -= 1
            self.lost += 1
            return True
        return False

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[_LossyConnection]:
        with self.pool.connection(**({} if timeout is None else {"timeout": timeout})) as conn:
            yield _LossyConnection(conn, self)


def _admin() -> psycopg.Connection:
    return psycopg.connect(server_url(), autocommit=True)


@contextmanager
def database_down(pg_url: str) -> Iterator[None]:
    """The test database refuses new connections and loses its current ones, until the block ends."""
    name = urlsplit(pg_url).path.lstrip("/")
    with _admin() as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    try:
        yield
    finally:
        with _admin() as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def expire_lease(pg_url: str, queue_id: int) -> None:
    """Make a lease expired now (as if its holder had stalled past claim_timeout)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE document_queue SET lease_expires_at = now() - interval '1 second' WHERE queue_id = %s", (queue_id,)
        )


def row(pg_url: str, queue_id: int) -> dict:
    from go_doc_go.queue import repository

    with psycopg.connect(pg_url) as conn:
        return repository.document_get(conn, queue_id=queue_id)
