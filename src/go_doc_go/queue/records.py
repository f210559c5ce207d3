"""Plain records the queue hands out. No behaviour, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

RunStatus = Literal["active", "post_processing", "completed", "failed", "abandoned"]
DocumentState = Literal["pending", "processing", "retry", "completed", "dead_letter"]


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
    """One claimed document. ``lease_token`` must be shown to heartbeat, complete or fail it."""

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


@dataclass(frozen=True, slots=True)
class AddResult:
    inserted: int
    updated: int


@dataclass(frozen=True, slots=True)
class FailResult:
    """Outcome of a failure report; ``state`` is ``retry`` or ``dead_letter``."""

    state: str
    scheduled_for: datetime
    delay: float


@dataclass(frozen=True, slots=True)
class CompleteResult:
    completed: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Outstanding:
    """Work left in a run right now."""

    ready: int
    processing: int
    waiting: int
    next_due_in: float | None

    @property
    def drained(self) -> bool:
        return self.ready == 0 and self.processing == 0 and self.waiting == 0
