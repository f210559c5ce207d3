"""ProcessingCoordinator: start a pass of the run and discover its documents.

It is optional: a worker that finds a run with no discovery done discovers
itself. What the coordinator adds is the start of a *new* pass — run it after
a run completed and the next pass processes what changed, skips what did not
and removes what vanished — and progress output while it lists.

Running it twice is harmless: the second one finds discovery done (or held by
the first) and says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from go_doc_go.config import Config
from go_doc_go.queue.work_queue import WorkQueue

from go_doc_go.distributed.discovery import DiscoveryResult, discover
from go_doc_go.distributed.setup import RunResources, open_run, pass_token

log = logging.getLogger("go_doc_go.distributed")


@dataclass(frozen=True)
class CoordinatorResult:
    run_id: str
    pass_number: int
    #: ``discovered`` (this process discovered the pass), ``discovering`` (another process is),
    #: ``active`` (discovery was done already) or ``completed``.
    state: str
    discovery: DiscoveryResult | None = None


class ProcessingCoordinator:
    def __init__(self, config: Config) -> None:
        self.config = config

    def run(
        self,
        *,
        on_progress: Callable[[DiscoveryResult], None] | None = None,
        resources: RunResources | None = None,
    ) -> CoordinatorResult:
        """Ensure the run, begin a new pass if it had finished, and discover it if nobody else is."""
        own = resources is None
        resources = resources or open_run(self.config, worker_id="coordinator")
        try:
            return self._run(resources, on_progress)
        finally:
            if own:
                resources.close()

    def _run(
        self, resources: RunResources, on_progress: Callable[[DiscoveryResult], None] | None
    ) -> CoordinatorResult:
        coordinator = resources.coordinator
        run = coordinator.start(new_pass_if_finished=True)
        lease = coordinator.discovery
        if lease is None or not lease.is_holder:
            state = "completed" if run.status == "completed" else ("active" if run.discovery_done else "discovering")
            return CoordinatorResult(run.run_id, run.pass_number, state)
        pass_number = lease.pass_number
        assert pass_number is not None
        log.info("run %s: discovering pass %d", run.run_id, pass_number)
        queue = WorkQueue(resources.pool, run.run_id, self.config.work_queue, worker_id=coordinator.worker_id)
        lease.start()
        try:
            found = discover(resources.sources, resources.store, queue, pass_token(run.run_id, pass_number),
                             shared=resources.shared, on_progress=on_progress)
        except BaseException:
            lease.stop()
            raise
        lease.done()
        lease.stop()
        return CoordinatorResult(run.run_id, pass_number, "discovered", found)


def wait_for_completion(
    resources: RunResources, *, on_tick: Callable[[dict[str, int], str], None] | None = None, poll: float = 1.0
) -> str:
    """Block until the run is no longer active or post-processing; returns its final status."""
    coordinator = resources.coordinator
    while True:
        run = coordinator.get()
        if on_tick is not None:
            on_tick(coordinator.counts(), run.status)
        if run.status not in ("active", "post_processing"):
            return run.status
        time.sleep(poll)
