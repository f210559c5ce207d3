"""Plain records the queue hands out. No behaviour, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

RunStatus = Literal["active", "post_processing", "completed", "failed", "abandoned"]
DocumentState = Literal["pending", "scheduled", "processing", "retry", "completed", "dead_letter"]

#: A lease's identity: ``(queue_id, lease_token)``. After a reclaim one worker
#: may hold a stale and a fresh lease on the same document; only the pair tells
#: them apart.
LeaseKey = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Run:
    run_id: str
    config_hash: str
    status: str
    pass_number: int
    discovery_done: bool
    leader_id: str | None
    leader_term: int
    created: bool = False
    discovery_holder: str | None = None


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A document to queue. ``delay`` (seconds) schedules it for later."""

    source_name: str
    doc_id: str
    doc_path: str | None = None
    link_depth: int = 0
    parent_doc_id: str | None = None
    priority: int = 0
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Lease:
    """One claimed document. ``lease_token`` must be shown to heartbeat, complete or fail it.

    ``attempt_deadline`` (database time) is the end of this attempt's time
    budget (``work_queue.attempt_timeout``), or None when unlimited.
    """

    queue_id: int
    lease_token: int
    attempt: int
    source_name: str
    doc_id: str
    link_depth: int
    parent_doc_id: str | None
    priority: int
    pass_number: int
    failure_count: int = 0
    crash_count: int = 0
    doc_path: str | None = None
    attempt_deadline: datetime | None = None

    @property
    def key(self) -> LeaseKey:
        return (self.queue_id, self.lease_token)


@dataclass(frozen=True, slots=True)
class AddResult:
    inserted: int
    updated: int


@dataclass(frozen=True, slots=True)
class FailResult:
    """Outcome of a failure report; ``state`` is ``retry`` or ``dead_letter``.

    ``pending`` is True when it was written on the caller's connection: the
    lease stays held (and heartbeated) until ``WorkQueue.confirm(result)``
    after the caller's commit.
    """

    state: str
    scheduled_for: datetime
    delay: float
    lease: Lease | None = None
    pending: bool = False


@dataclass(frozen=True, slots=True)
class CompleteResult:
    """Leases completed and refused (lease lost: discard the result).

    ``pending`` as in ``FailResult``: written on the caller's connection, the
    completed leases stay held until ``WorkQueue.confirm(result)``.
    """

    completed: list[Lease] = field(default_factory=list)
    refused: list[Lease] = field(default_factory=list)
    pending: bool = False

    @property
    def completed_ids(self) -> list[int]:
        return [lease.queue_id for lease in self.completed]

    @property
    def refused_ids(self) -> list[int]:
        return [lease.queue_id for lease in self.refused]


@dataclass(frozen=True, slots=True)
class Outstanding:
    """Work left in a run right now, and whether more can come.

    ``ready`` counts pending rows plus waiting rows that are due (the next
    claim promotes them). ``discovery_held``: a discovery lease is valid now.
    """

    ready: int
    processing: int
    waiting: int
    next_due_in: float | None
    status: str = "active"
    discovery_done: bool = True
    discovery_held: bool = False

    @property
    def drained(self) -> bool:
        """Nothing claimable, leased or waiting (more may still be discovered: see ``finished``)."""
        return self.ready == 0 and self.processing == 0 and self.waiting == 0

    @property
    def finished(self) -> bool:
        """The pass is over: discovery done and drained, or the run is no longer active."""
        return self.status != "active" or (self.discovery_done and self.drained)

    @property
    def needs_discovery(self) -> bool:
        """The run is active, its discovery is not done and nobody holds the discovery lease."""
        return self.status == "active" and not self.discovery_done and not self.discovery_held


class BatchStatus(enum.Enum):
    """What ``WorkQueue.next_batch`` found. Only ``DRAINED`` and ``ENDED`` mean "stop working"."""

    CLAIMED = "claimed"  # leases handed out
    DRAINED = "drained"  # discovery done, nothing pending, leased or waiting: the pass is over
    ENDED = "ended"  # the run is not active (post-processing, completed, failed, abandoned)
    DISCOVER = "discover"  # discovery is not done and nobody holds the discovery lease: take it
    STOPPED = "stopped"  # this worker stopped claiming (its heartbeats fail, or its session was replaced)
    IDLE = "idle"  # nothing claimable before max_wait passed; more is coming


@dataclass(frozen=True, slots=True)
class Batch:
    """One answer of ``WorkQueue.next_batch``: a status, the leases (only for ``CLAIMED``) and the run status."""

    status: BatchStatus
    leases: list[Lease] = field(default_factory=list)
    run_status: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in (BatchStatus.DRAINED, BatchStatus.ENDED)
