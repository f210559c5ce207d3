"""Housekeeping every worker does for its run, so no process has to be special.

Every ``interval`` seconds (River's service shape: a config, ``run_once()``,
``start()``/``stop()``):

* the count deltas the queue's statement triggers insert are folded into the
  per-minute buckets the monitor reads (``monitoring.compact``; one process at
  a time, the others skip), so an unwatched run of a million documents never
  leaves a monitor with a long fold to do;
* worker sessions silent for longer than ``stale_threshold`` are marked ``lost``,
  so the monitor and the alerts see them as gone.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.monitoring.collect import MonitorSettings, compact
from go_doc_go.queue.service import Service


@dataclass(frozen=True)
class HousekeepingConfig:
    interval: float = 10.0

    def validate(self) -> None:
        if self.interval <= 0:
            raise ValueError("interval must be > 0")


@dataclass(frozen=True)
class HousekeepingResult:
    compacted: bool
    lost_workers: list[str]


class Housekeeping(Service[HousekeepingResult]):
    name = "housekeeping"

    def __init__(
        self, pool: ConnectionPool, coordinator: RunCoordinator, settings: MonitorSettings,
        config: HousekeepingConfig | None = None,
    ) -> None:
        super().__init__()
        self.pool = pool
        self.coordinator = coordinator
        self.settings = settings
        self.config = config or HousekeepingConfig()
        self.config.validate()

    def interval(self) -> float:
        return self.config.interval

    def run_once(self) -> HousekeepingResult:
        with self.pool.connection() as conn:
            compacted = compact(conn, self.settings)
        return HousekeepingResult(compacted, self.coordinator.mark_lost_workers())
