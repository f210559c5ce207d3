"""The discovery lease of a run: who queues the documents of the current pass.

A run whose discovery is not done must always have a discoverer, or it stays
active forever with nobody adding its documents. So discovery runs under a
lease (a holder and an expiry on the run row, like the leader lease):

- ``attempt()`` takes it while the pass's discovery is not done and the lease
  is free, expired or already ours. A worker that finds a run with no
  discovery done and a free lease (``next_batch`` answers ``DISCOVER``)
  performs discovery itself under this lease.
- ``attempt(new_pass_if_finished=True)`` is the only way to begin a new pass
  of a finished run (``completed``, ``failed``, ``abandoned``): the pass and
  its discovery lease begin in the same statement, so a new pass always has a
  discoverer from its first instant, and if that discoverer dies its lease
  expires and another worker takes over.
- ``renew()`` (``run_once`` every ttl/2) extends it; ``done()`` records that
  discovery is complete and frees the lease (refused if another holder took
  over); ``release()`` gives it up unfinished.

States, for one contender::

    none --attempt wins--> holder --renew ok--> holder --done--> (discovery done)
      ^                      |  |
      +---- renew refused ---+  +-- release --> none (lease free at once)
           (expired and taken over, or discovery done)
"""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from go_doc_go.queue import repository
from go_doc_go.queue.service import RunLease


class DiscoveryLease(RunLease[bool]):
    """One contender for a run's discovery lease. ``run_once`` renews it (call it at ttl/2)."""

    name = "discovery"

    def __init__(self, pool: ConnectionPool, run_id: str, holder: str, *, ttl: float = 60.0) -> None:
        super().__init__(pool, run_id, holder, ttl=ttl)
        self.pass_number: int | None = None

    @property
    def is_holder(self) -> bool:
        return self.pass_number is not None

    def attempt(self, *, new_pass_if_finished: bool = False) -> int | None:
        """Take the lease; returns the pass number to discover, or None (held by another, or done)."""
        self.pass_number = self._run(
            "discovery attempt",
            lambda c: repository.discovery_attempt(
                c, run_id=self.run_id, holder=self.holder, ttl=self.ttl, new_pass=new_pass_if_finished
            ),
        )
        return self.pass_number

    def renew(self) -> bool:
        """Extend the lease; on refusal this contender no longer holds it."""
        if self.pass_number is None:
            return False
        ok = self._run(
            "discovery renew",
            lambda c: repository.discovery_renew(c, run_id=self.run_id, holder=self.holder, ttl=self.ttl),
        )
        if not ok:
            self.pass_number = None
        return ok

    def done(self) -> bool:
        """Discovery queued every document: record it and free the lease. False if another holder took over."""
        ok = self._run(
            "discovery done", lambda c: repository.run_discovery_done(c, run_id=self.run_id, holder=self.holder)
        )
        self.pass_number = None
        return ok

    def release(self) -> None:
        """Give the lease up unfinished: another worker may take over at once."""
        if self.pass_number is None:
            return
        self.pass_number = None
        self._run("discovery release", lambda c: repository.discovery_release(c, run_id=self.run_id, holder=self.holder))

    def run_once(self) -> bool:
        return self.renew()

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        self.release()
