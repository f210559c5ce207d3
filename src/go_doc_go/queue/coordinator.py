"""RunCoordinator: the run (one per config hash), its passes, its workers and its status.

Run status: ``active`` -> ``post_processing`` -> ``completed``; ``failed`` and
``abandoned`` end a pass early. Starting the same config after a run has
finished begins a new pass (``pass_number + 1``); exactly one starter wins the
bump and the others join it.
"""

from __future__ import annotations

import os
import secrets
import socket
from typing import Any

from psycopg_pool import ConnectionPool

from go_doc_go.config import Config, WorkQueueConfig, config_hash, run_id, run_snapshot
from go_doc_go.exceptions import QueueError
from go_doc_go.queue import migrations, repository
from go_doc_go.queue.connection import with_connection
from go_doc_go.queue.records import Run

FINISHED = ("completed", "failed", "abandoned")


def new_worker_id() -> str:
    """``host-pid-random``: unique per process, so no two processes ever share one."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


class RunCoordinator:
    """Coordinates one worker process with the run of its config.

    ``run_id``/``config_hash``/``snapshot`` default to the ones derived from
    ``config``; the benchmark and tests pass scratch ids instead.
    """

    def __init__(
        self,
        pool: ConnectionPool,
        config: Config | None = None,
        *,
        worker_id: str | None = None,
        run_id_override: str | None = None,
        settings: WorkQueueConfig | None = None,
    ) -> None:
        config = config or Config()
        self.pool = pool
        self.settings = settings or config.work_queue
        self.run_id = run_id_override or run_id(config)
        self.config_hash = config_hash(config)
        self.snapshot: dict[str, Any] = run_snapshot(config)
        self.worker_id = worker_id or new_worker_id()
        self.session_id: int | None = None
        self.run: Run | None = None
        self._unregistered = f"unregistered-{secrets.token_hex(4)}"

    def _run(self, what: str, operation):  # type: ignore[no-untyped-def]
        return with_connection(self.pool, what, operation)

    @property
    def holder_id(self) -> str:
        """Identity used for the leader lease: unique per registration, not just per worker id."""
        return f"{self.worker_id}#{self.session_id if self.session_id is not None else self._unregistered}"

    # ------------------------------------------------------------ runs

    def ensure_run(self) -> Run:
        """Create the run if missing (race-free) and return it; migrates the schema on first use."""
        self._run("migrate schema", migrations.ensure_schema)
        self.run = self._run(
            "ensure run",
            lambda c: repository.run_ensure(
                c, run_id=self.run_id, config_hash=self.config_hash, snapshot=self.snapshot
            ),
        )
        return self.run

    def start(self, *, new_pass_if_finished: bool = True) -> Run:
        """Ensure the run; if it had finished, begin a new pass over all documents."""
        run = self.ensure_run()
        if new_pass_if_finished and run.status in FINISHED:
            self._run("start pass", lambda c: repository.run_start_pass(c, run_id=self.run_id))
            run = self.get()
        self.run = run
        return run

    def get(self) -> Run:
        run = self._run("read run", lambda c: repository.run_get(c, run_id=self.run_id))
        if run is None:
            raise QueueError(f"run {self.run_id} does not exist")
        self.run = run
        return run

    def discovery_done(self) -> None:
        self._run("mark discovery done", lambda c: repository.run_discovery_done(c, run_id=self.run_id))

    def counts(self) -> dict[str, int]:
        return self._run("count documents", lambda c: repository.run_counts(c, run_id=self.run_id))

    def begin_post_processing(self, term: int) -> bool:
        """active -> post_processing, if ``term`` is the current leader term and no work is left."""
        return self._run(
            "begin post-processing",
            lambda c: repository.run_begin_post_processing(c, run_id=self.run_id, term=term),
        )

    def complete(self, term: int) -> bool:
        """post_processing -> completed, only for the current leader term."""
        return self._run("complete run", lambda c: repository.run_complete(c, run_id=self.run_id, term=term))

    def fail(self) -> bool:
        return self._set_status("failed", ("active", "post_processing"))

    def abandon(self) -> bool:
        return self._set_status("abandoned", ("active", "post_processing"))

    def _set_status(self, status: str, from_states: tuple[str, ...]) -> bool:
        return self._run(
            f"set run {status}",
            lambda c: repository.run_set_status(c, run_id=self.run_id, status=status, from_states=from_states),
        )

    # ------------------------------------------------------------ workers

    def register(self) -> int:
        """Start a fresh worker session. An older session with the same worker id is marked replaced;
        its leases are not carried over (they expire and are reclaimed as crashes)."""
        self.session_id = self._run(
            "register worker",
            lambda c: repository.worker_register(
                c, run_id=self.run_id, worker_id=self.worker_id, host=socket.gethostname(), pid=os.getpid()
            ),
        )
        return self.session_id

    def heartbeat(self) -> bool:
        """Liveness heartbeat; False if this session was replaced or stopped."""
        if self.session_id is None:
            return False
        session_id = self.session_id
        return self._run("worker heartbeat", lambda c: repository.worker_heartbeat(c, session_id=session_id))

    def deregister(self, status: str = "stopped") -> None:
        if self.session_id is None:
            return
        session_id = self.session_id
        self._run(
            "deregister worker", lambda c: repository.worker_deregister(c, session_id=session_id, status=status)
        )

    def mark_lost_workers(self) -> list[str]:
        """Sessions silent for longer than ``stale_threshold`` become ``lost``."""
        return self._run(
            "mark lost workers",
            lambda c: repository.workers_mark_lost(
                c, run_id=self.run_id, stale_threshold=self.settings.stale_threshold
            ),
        )

    def workers(self) -> list[dict[str, Any]]:
        return self._run("list workers", lambda c: repository.worker_list(c, run_id=self.run_id))
