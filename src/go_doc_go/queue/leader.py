"""The leader lease of a run: who runs post-processing.

The lease is a holder, a term and an expiry on the run row. ``attempt`` wins
only when the lease is free or expired and then bumps the term; ``renew``
succeeds only for the same holder and term before expiry; ``resign`` frees it
at once. The term is a fencing token: every leader-only write (``begin
post-processing``, ``complete``) names it and is refused for a stale term.

States, for one contender::

    follower --attempt wins--> leader(term t) --renew ok--> leader(term t)
        ^                          |   |
        |                          |   +-- resign --> follower (lease free at once)
        +---- renew refused -------+   (expired, or another holder took term t+1)
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from go_doc_go.queue import repository
from go_doc_go.queue.connection import with_connection
from go_doc_go.queue.service import Service


@dataclass(frozen=True)
class LeaderResult:
    is_leader: bool
    term: int | None


class LeaderLease(Service[LeaderResult]):
    """One contender for a run's leader lease. ``run_once`` attempts or renews (call it at ttl/2)."""

    name = "leader"

    def __init__(self, pool: ConnectionPool, run_id: str, holder: str, *, ttl: float = 60.0) -> None:
        super().__init__()
        self.pool = pool
        self.run_id = run_id
        self.holder = holder
        self.ttl = ttl
        self.term: int | None = None

    def interval(self) -> float:
        return self.ttl / 2

    def _run(self, what: str, operation):  # type: ignore[no-untyped-def]
        return with_connection(self.pool, what, operation)

    @property
    def is_leader(self) -> bool:
        return self.term is not None

    def attempt(self) -> int | None:
        """Try to become leader; returns the term won, or None."""
        self.term = self._run(
            "leader attempt",
            lambda c: repository.leader_attempt(c, run_id=self.run_id, holder=self.holder, ttl=self.ttl),
        )
        return self.term

    def renew(self) -> bool:
        """Extend the lease; on refusal this contender is a follower again."""
        if self.term is None:
            return False
        term = self.term
        ok = self._run(
            "leader renew",
            lambda c: repository.leader_renew(c, run_id=self.run_id, holder=self.holder, term=term, ttl=self.ttl),
        )
        if not ok:
            self.term = None
        return ok

    def resign(self) -> None:
        if self.term is None:
            return
        term, self.term = self.term, None
        self._run(
            "leader resign", lambda c: repository.leader_resign(c, run_id=self.run_id, holder=self.holder, term=term)
        )

    def check(self, term: int | None = None) -> bool:
        """Is ``term`` (default: ours) still the current, unexpired term? Use before leader-only work."""
        term = self.term if term is None else term
        if term is None:
            return False
        return self._run("leader check", lambda c: repository.leader_check(c, run_id=self.run_id, term=term))

    def run_once(self) -> LeaderResult:
        if self.term is None or not self.renew():
            self.attempt()
        return LeaderResult(self.is_leader, self.term)

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        self.resign()
