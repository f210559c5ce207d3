"""RunCoordinator: the run (one per config hash), its passes, its workers and its status.

Run status: ``active`` -> ``post_processing`` -> ``completed``; ``failed`` and
``abandoned`` end a pass early. ``start()`` joins the run as it is: a late
worker that starts after the run finished does not begin a new pass (nobody
would discover it). Only a caller that will run discovery begins one:
``start(new_pass_if_finished=True)`` takes the discovery lease (``discovery.py``)
and, if the run had finished, begins pass ``pass_number + 1`` in the same
statement; exactly one such starter wins and the others join the pass.
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
from go_doc_go.queue.discovery import DiscoveryLease
from go_doc_go.queue.records import Run

#: Run statuses after which only a discoverer may begin a new pass (``start(new_pass_if_finished=True)``).
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
        self.discovery: DiscoveryLease | None = None
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

    def start(self, *, new_pass_if_finished: bool = False) -> Run:
        """Ensure the run and join it as it is.

        ``new_pass_if_finished=True`` is for a caller that will run discovery:
        it takes the discovery lease (``self.discovery``; check ``is_holder``),
        beginning a new pass over all documents if the run had finished. The
        caller must then keep the lease renewed (``discovery.start()``) and end
        with ``discovery.done()`` (or ``release()``).
        """
        run = self.ensure_run()
        if new_pass_if_finished:
            self.discovery = self.discovery_lease()
            self.discovery.attempt(new_pass_if_finished=True)
            run = self.get()
        self.run = run
        return run

    def discovery_lease(self) -> DiscoveryLease:
        """A contender for this run's discovery lease, held as this registration (``holder_id``)."""
        return DiscoveryLease(self.pool, self.run_id, self.holder_id, ttl=self.settings.discovery_ttl)

    def get(self) -> Run:
        run = self._run("read run", lambda c: repository.run_get(c, run_id=self.run_id))
        if run is None:
            raise QueueError(f"run {self.run_id} does not exist")
        self.run = run
        return run

    def discovery_done(self) -> bool:
        """Record that discovery queued everything; refused (False) while another holder's discovery lease is valid."""
        if self.discovery is not None:
            return self.discovery.done()
        holder = self.holder_id
        return self._run(
            "mark discovery done", lambda c: repository.run_discovery_done(c, run_id=self.run_id, holder=holder)
        )

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

    def heartbeat(self, *, deadline: float | None = None) -> bool:
        """Liveness heartbeat; False if this session was replaced or stopped (a ``lost`` one comes back)."""
        if self.session_id is None:
            return False
        session_id = self.session_id
        return with_connection(
            self.pool, "worker heartbeat", lambda c: repository.worker_heartbeat(c, session_id=session_id),
            deadline=deadline,
        )

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
