"""``Monitor``: one operator's connection to the queue database, refreshed as often as a view needs.

It checks that the database holds a go-doc-go queue (and brings its schema
up to date, as workers do on first use), reconnects after a lost connection,
folds the count deltas at most every ``compact_interval`` seconds (skipped
for good when the role may not write) and hands out ``MonitorSnapshot``s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import psycopg
from psycopg import Connection

from go_doc_go.config import redact_uri, scrub
from go_doc_go.exceptions import ConfigError, MigrationError, QueueError
from go_doc_go.queue import migrations
from go_doc_go.queue.monitoring.collect import MonitorSettings, collect, compact, list_runs, select_runs
from go_doc_go.queue.monitoring.records import MonitorSnapshot, RunSummary

T = TypeVar("T")

#: Operator sessions prefer indexes whatever the statistics say (queue tables churn faster than them),
#: and never JIT-compile: a plan whose only way is a (penalized) sequential scan, such as folding the
#: small delta table, costs enough to trigger JIT, which took 270 ms for a 2 ms statement.
_OPTIONS = "-c enable_seqscan=off -c jit=off"
#: Errors that mean "this role may not write here": compaction is skipped, reads go on.
_NO_WRITE = (psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)


def connect(url: str, *, application_name: str = "go-doc-go-monitor", timeout: float = 10.0) -> Connection:
    """An autocommit connection for operator tools (fails within ``timeout`` seconds when unreachable)."""
    return psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout)), options=_OPTIONS,
                           application_name=application_name)


def check_schema(conn: Connection, url: str) -> None:
    """Refuse a database without a go-doc-go queue; bring an older queue schema up to date."""
    applied = migrations.applied_versions(conn)
    if not applied:
        raise ConfigError(f"{redact_uri(url)} holds no go-doc-go work queue (no schema_migrations table): "
                          "check --database-url, work_queue.uri or storage.uri")
    if migrations.latest_version() not in applied:
        try:
            migrations.ensure_schema(conn)
        except MigrationError as error:
            raise QueueError(f"the queue schema is at version {max(applied)}; run go-doc-go db upgrade "
                             f"({scrub(str(error))})") from None


class Monitor:
    """Reads snapshots of the runs to show (``run_id``, else active runs, the config's run and recent ones)."""

    def __init__(
        self,
        url: str,
        settings: MonitorSettings | None = None,
        *,
        run_id: str | None = None,
        config_run_id: str | None = None,
        max_runs: int = 10,
        compact_interval: float = 10.0,
    ) -> None:
        self.url = url
        self.settings = settings or MonitorSettings()
        self.run_id = run_id
        self.config_run_id = config_run_id
        self.max_runs = max_runs
        self.compact_interval = compact_interval
        self.can_write = True
        self._conn: Connection | None = None
        self._next_compaction = 0.0
        self._lock = threading.Lock()  # one connection: the dashboard and Prometheus scrapes take turns

    # ------------------------------------------------------------ connection

    def open(self) -> Monitor:
        if self._conn is None or self._conn.closed:
            conn = connect(self.url)
            try:
                check_schema(conn, self.url)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Monitor:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _with_connection(self, operation: Callable[[Connection], T]) -> T:
        """Run ``operation``; after a lost connection reconnect once and run it again (reads only: safe)."""
        with self._lock:
            return self._attempt(operation)

    def _attempt(self, operation: Callable[[Connection], T]) -> T:
        for attempt in (1, 2):
            try:
                self.open()
                assert self._conn is not None
                return operation(self._conn)
            except (psycopg.OperationalError, psycopg.InterfaceError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ reading

    def run_ids(self) -> list[str]:
        return self._with_connection(lambda c: select_runs(
            c, self.settings, run_id=self.run_id, config_run_id=self.config_run_id, limit=self.max_runs))

    def snapshot(self) -> MonitorSnapshot:
        """Fold deltas if due, select the runs and read them in one snapshot."""

        def read(conn: Connection) -> MonitorSnapshot:
            self._maybe_compact(conn)
            ids = select_runs(conn, self.settings, run_id=self.run_id, config_run_id=self.config_run_id,
                              limit=self.max_runs)
            return collect(conn, ids, self.settings)

        return self._with_connection(read)

    def runs(self, limit: int = 20) -> list[RunSummary]:
        return self._with_connection(lambda c: list_runs(c, limit=limit))

    def _maybe_compact(self, conn: Connection) -> None:
        now = time.monotonic()
        if not self.can_write or now < self._next_compaction:
            return
        self._next_compaction = now + self.compact_interval
        try:
            compact(conn, self.settings)
        except _NO_WRITE:
            self.can_write = False  # a read-only role or replica: reads stay exact, they just read more deltas
