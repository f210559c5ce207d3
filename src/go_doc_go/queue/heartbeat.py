"""Heartbeat loop: worker liveness plus lease extension, every ``heartbeat_interval``.

Liveness (``run_workers.heartbeat_at``) and the leases of the documents the
worker holds are renewed together but are separate facts: a document's lease
is extended only while its token is current. If the worker's own heartbeats
keep failing for longer than ``claim_timeout``, or its session was replaced,
it stops claiming.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.service import Service
from go_doc_go.queue.work_queue import WorkQueue


@dataclass(frozen=True)
class HeartbeatResult:
    alive: bool
    lost: set[int] = field(default_factory=set)


class Heartbeat(Service[HeartbeatResult]):
    name = "heartbeat"

    def __init__(self, coordinator: RunCoordinator, queue: WorkQueue) -> None:
        super().__init__()
        self.coordinator = coordinator
        self.queue = queue
        self.lost: set[int] = set()
        self._last_ok = time.monotonic()

    def interval(self) -> float:
        return self.coordinator.settings.heartbeat_interval

    def run_once(self) -> HeartbeatResult:
        try:
            alive = self.coordinator.heartbeat()
            lost = self.queue.heartbeat()
        except Exception:
            if time.monotonic() - self._last_ok > self.coordinator.settings.claim_timeout:
                self.queue.claiming = False
            raise
        self._last_ok = time.monotonic()
        if not alive:
            self.queue.claiming = False
        self.lost |= lost
        return HeartbeatResult(alive=alive, lost=lost)
