"""Heartbeat loop: lease extension, then worker liveness, every ``heartbeat_interval``.

The two are separate facts and separate statements. Leases go first and never
wait for a lock: rows a document transaction holds are skipped (and still
count as held), so a worker in a long transaction does not lose its other
leases. Liveness updates only the worker's own ``run_workers`` row, which no
document transaction locks (per-worker counters are separate rows).

If the heartbeats keep failing for longer than ``claim_timeout``, or the
session was replaced, the worker stops claiming; it starts again as soon as
a heartbeat succeeds (a replaced session never does). Each round's retries end
within one interval, so an outage costs rounds, not a stuck loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.records import Lease
from go_doc_go.queue.service import Service
from go_doc_go.queue.work_queue import WorkQueue


@dataclass(frozen=True)
class HeartbeatResult:
    alive: bool
    lost: list[Lease] = field(default_factory=list)


class Heartbeat(Service[HeartbeatResult]):
    name = "heartbeat"

    def __init__(self, coordinator: RunCoordinator, queue: WorkQueue) -> None:
        super().__init__()
        self.coordinator = coordinator
        self.queue = queue
        self.lost: list[Lease] = []
        self._last_ok = time.monotonic()

    def interval(self) -> float:
        return self.coordinator.settings.heartbeat_interval

    def run_once(self) -> HeartbeatResult:
        deadline = time.monotonic() + self.interval()
        failure: Exception | None = None
        lost: list[Lease] = []
        alive = False
        try:
            lost = self.queue.heartbeat(deadline=deadline)
        except Exception as error:  # noqa: BLE001 - liveness must still be tried
            failure = error
        try:
            alive = self.coordinator.heartbeat(deadline=deadline)
        except Exception as error:  # noqa: BLE001
            failure = failure or error
        self.lost.extend(lost)
        if failure is not None:
            if time.monotonic() - self._last_ok > self.coordinator.settings.claim_timeout:
                self.queue.pause_claiming()
            raise failure
        self._last_ok = time.monotonic()
        if alive:
            self.queue.resume_claiming()
        else:
            self.queue.pause_claiming()  # replaced or stopped: this session must not claim again
        return HeartbeatResult(alive=alive, lost=lost)
