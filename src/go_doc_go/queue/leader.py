"""The leader lease of a run: who runs post-processing.

The lease is a holder, a term and an expiry on the run row. ``attempt`` wins
only when the lease is free or expired and then bumps the term; ``renew``
succeeds only for the same holder and term before expiry; ``resign`` frees it
at once. The term is a fencing token: every leader-only write (``begin
post-processing``, ``complete``) names it and is refused for a stale term.

Post-processing writes in the leader's own transaction are fenced with
``fence(conn)``: it takes a shared advisory lock of the run for the rest of
that transaction, then checks the term (a stale term raises
``LeaderLostError``, so the transaction rolls back). A new term is only begun
under the exclusive form of that lock (tried, not waited for), so an election
cannot complete while a fenced transaction of the old term is open: the old
term's writes commit before the new term exists, or not at all. A fenced
transaction left idle longer than the TTL is ended by the server
(``idle_in_transaction_session_timeout``), so it cannot hold elections off forever.

States, for one contender::

    follower --attempt wins--> leader(term t) --renew ok--> leader(term t)
        ^                          |   |
        |                          |   +-- resign --> follower (lease free at once)
        +---- renew refused -------+   (expired, or another holder took term t+1)
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import Connection, pq
from psycopg_pool import ConnectionPool

from go_doc_go.exceptions import QueueError
from go_doc_go.queue import repository
from go_doc_go.queue.errors import LeaderLostError
from go_doc_go.queue.service import RunLease


@dataclass(frozen=True)
class LeaderResult:
    is_leader: bool
    term: int | None


class LeaderLease(RunLease[LeaderResult]):
    """One contender for a run's leader lease. ``run_once`` attempts or renews (call it at ttl/2)."""

    name = "leader"

    def __init__(self, pool: ConnectionPool, run_id: str, holder: str, *, ttl: float = 60.0) -> None:
        super().__init__(pool, run_id, holder, ttl=ttl)
        self.term: int | None = None

    @property
    def is_leader(self) -> bool:
        return self.term is not None

    def attempt(self) -> int | None:
        """Try to become leader; returns the term won, or None.

        A new term needs the election lock, which is refused while a fenced
        transaction is open: then this attempt fails and the next round tries again.
        """

        def elect(c: Connection) -> int | None:
            with c.transaction():
                may_take = repository.leader_needs_election(c, run_id=self.run_id) and (
                    repository.leader_election_lock(c, run_id=self.run_id)
                )
                return repository.leader_attempt(
                    c, run_id=self.run_id, holder=self.holder, ttl=self.ttl, may_take=may_take
                )

        self.term = self._run("leader attempt", elect)
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

    def fence(self, conn: Connection, term: int | None = None) -> None:
        """Fence the caller's transaction on ``conn`` with ``term`` (default: ours).

        Raises ``LeaderLostError`` if the term is not current (roll back). Once
        it returns, no new term can be elected until this transaction ends.
        Needs READ COMMITTED (the default) and a transaction on ``conn``: a
        non-autocommit connection, or ``with conn.transaction():``.
        """
        if conn.autocommit and conn.info.transaction_status == pq.TransactionStatus.IDLE:
            raise QueueError("fence(conn) needs an open transaction on conn (it lasts until that transaction ends)")
        term = self.term if term is None else term
        if term is None or not repository.leader_fence(conn, run_id=self.run_id, term=term, idle_timeout=self.ttl):
            raise LeaderLostError(f"leader term {term} of run {self.run_id} is no longer current")

    def run_once(self) -> LeaderResult:
        if self.term is None or not self.renew():
            self.attempt()
        return LeaderResult(self.is_leader, self.term)

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        self.resign()
