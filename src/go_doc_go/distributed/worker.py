"""DocumentWorker: one worker process of a distributed run.

Lifecycle:

1. join the run of its config (created if no coordinator ran yet), register a
   session, and start the background services: the heartbeat (leases first,
   then liveness), the queue vacuum, housekeeping (count folding, lost
   sessions) and this worker's parser pool;
2. claim K = free slots documents at a time and hand them to the
   ``QueuedDocumentProcessor``; write what is finished while the parsers work;
3. when the queue says discovery is needed (no coordinator, or the discoverer
   died), take the discovery lease and discover, so ``worker --num-workers 4``
   alone does the whole job;
4. when the pass is drained, try to finish it (``finish.finish_pass``); exit 0
   once the run is completed, post-processing included. With ``wait`` keep
   waiting for the next pass instead;
5. on SIGTERM or SIGINT stop claiming, write or release the documents in hand
   and deregister; a second signal releases the leases at once and exits.

Log lines name the worker (``worker=ID``).
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass

from go_doc_go.config import Config
from go_doc_go.pool import DocumentPool
from go_doc_go.queue.heartbeat import Heartbeat
from go_doc_go.queue.housekeeping import Housekeeping
from go_doc_go.queue.monitoring.collect import MonitorSettings
from go_doc_go.queue.records import BatchStatus
from go_doc_go.queue.service import Service
from go_doc_go.queue.vacuum import QueueVacuum
from go_doc_go.queue.waker import Waker
from go_doc_go.queue.work_queue import WorkQueue

from go_doc_go.distributed.discovery import discover
from go_doc_go.distributed.finish import finish_pass
from go_doc_go.distributed.processor import COMMIT_DOCS, QueuedDocumentProcessor, Tally
from go_doc_go.distributed.setup import RunResources, open_run, pass_token, queue_url

log = logging.getLogger("go_doc_go.distributed")

EXIT_COMPLETED = 0
#: The run was failed or abandoned by an operator: there is nothing to finish.
EXIT_ENDED = 1
EXIT_INTERRUPTED = 130
#: Documents kept in flight per parser process: enough that parsing never waits while a batch of
#: COMMIT_DOCS is written.
IN_FLIGHT_PER_PARSER = 4 * COMMIT_DOCS
#: How long a clean shutdown waits for documents in hand before releasing them.
SHUTDOWN_GRACE = 30.0


@dataclass
class WorkerResult:
    exit_code: int
    tally: Tally
    reason: str


class DocumentWorker:
    def __init__(
        self,
        config: Config,
        *,
        worker_id: str | None = None,
        max_documents: int | None = None,
        wait: bool = False,
        parsers: int = 1,
    ) -> None:
        self.config = config
        self.worker_id = worker_id
        self.max_documents = max_documents
        self.wait = wait
        self.parsers = max(1, parsers)
        self.signals = 0
        self._resources: RunResources | None = None

    # ------------------------------------------------------------ signals

    def install_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.signals += 1
        if self.signals == 1:
            log.info("signal %s: finishing the documents in hand, then stopping", signal.Signals(signum).name)
        else:
            log.info("second signal: releasing leases and stopping now")

    # ------------------------------------------------------------ run

    def run(self) -> WorkerResult:
        name_logs(self.worker_id or "-")
        resources = open_run(self.config, worker_id=self.worker_id)
        self._resources = resources
        coordinator = resources.coordinator
        coordinator.ensure_run()
        session = coordinator.register()
        name_logs(coordinator.worker_id)
        log.info("joined run %s (session %d)", coordinator.run_id, session)
        queue = WorkQueue(resources.pool, coordinator.run_id, self.config.work_queue,
                          worker_id=coordinator.worker_id, session_id=session)
        heartbeat, vacuum = Heartbeat(coordinator, queue), QueueVacuum(resources.pool)
        housekeeping = Housekeeping(resources.pool, coordinator, MonitorSettings.from_config(self.config))
        parsers = DocumentPool(self.config, self.parsers)
        processor = QueuedDocumentProcessor(self.config, resources.sources, resources.store, queue, parsers,
                                            shared=resources.shared)
        waker = Waker(queue_url(self.config), coordinator.run_id)
        services = (heartbeat, vacuum, housekeeping)
        for service in services:
            service.start()
        result = WorkerResult(EXIT_INTERRUPTED, processor.tally, "interrupted")
        try:
            result = self._loop(resources, queue, processor, waker)
        finally:
            self._shut_down(queue, processor, parsers, services, waker)
            coordinator.deregister()
            resources.close()
            log.info("stopped: %s (%s)", result.reason, _describe(processor.tally))
        return result

    def _loop(
        self, resources: RunResources, queue: WorkQueue, processor: QueuedDocumentProcessor, waker: Waker
    ) -> WorkerResult:
        capacity = self.parsers * IN_FLIGHT_PER_PARSER
        claimed = 0
        while not self.signals:
            processor.collect(timeout=0)
            free = capacity - processor.in_flight
            if self.max_documents is not None:
                free = min(free, self.max_documents - claimed)
                if free <= 0 and not processor.in_flight:
                    return WorkerResult(EXIT_COMPLETED, processor.tally, f"--max-documents {self.max_documents} reached")
            if free <= 0:
                processor.collect(timeout=0.5)
                continue
            # Short waits: a signal is noticed within a second even on an idle queue.
            batch = queue.next_batch(waker, limit=free, max_wait=0.0 if processor.in_flight else 1.0)
            if batch.status is BatchStatus.CLAIMED:
                claimed += len(batch.leases)
                processor.submit(batch.leases)
            elif batch.status is BatchStatus.DISCOVER:
                self._discover(resources, queue)
            elif batch.status in (BatchStatus.DRAINED, BatchStatus.ENDED):
                if processor.in_flight:
                    processor.collect(timeout=0.5)
                    continue
                status = self._finish(resources)
                if status == "completed":
                    if not self.wait:
                        return WorkerResult(EXIT_COMPLETED, processor.tally, "run completed")
                    self._wait_for_next_pass(resources)
                elif status in ("failed", "abandoned"):
                    return WorkerResult(EXIT_ENDED, processor.tally, f"run {status}")
            elif processor.in_flight:  # IDLE or STOPPED with parsing under way
                processor.collect(timeout=0.5)
        return WorkerResult(EXIT_INTERRUPTED, processor.tally, "stopped by a signal")

    def _finish(self, resources: RunResources) -> str:
        """The run's status once we tried to finish the pass ourselves (if we win the leader lease)."""
        result = finish_pass(resources, resources.coordinator.holder_id)
        if result.completed:
            return "completed"
        status = resources.coordinator.get().status
        if status in ("active", "post_processing") and not self.signals:
            time.sleep(min(self.config.work_queue.poll_interval, 1.0))
        return status

    def _discover(self, resources: RunResources, queue: WorkQueue) -> None:
        lease = resources.coordinator.discovery_lease()
        pass_number = lease.attempt()
        if pass_number is None:
            return  # another process took it first
        log.info("no discovery done for pass %d: discovering", pass_number)
        lease.start()
        try:
            found = discover(resources.sources, resources.store, queue, pass_token(queue.run_id, pass_number),
                             shared=resources.shared)
        except BaseException:
            lease.stop()  # releases: another worker may take over at once
            raise
        lease.done()
        lease.stop()
        log.info("discovered %d documents (%d skipped)", found.listed, found.skipped)

    def _wait_for_next_pass(self, resources: RunResources) -> None:
        log.info("run completed; waiting for the next pass (--wait)")
        while not self.signals:
            if resources.coordinator.get().status == "active":
                log.info("a new pass began")
                return
            time.sleep(self.config.work_queue.poll_interval)

    def _shut_down(
        self,
        queue: WorkQueue,
        processor: QueuedDocumentProcessor,
        parsers: DocumentPool,
        services: tuple[Service, ...],
        waker: Waker,
    ) -> None:
        if self.signals < 2 and processor.in_flight:
            processor.drain(timeout=SHUTDOWN_GRACE, interrupted=lambda: self.signals >= 2)
        leftover = processor.abandon()
        held = queue.held
        if leftover or held:
            released = queue.release()
            log.info("released %d leases", len(released))
        for service in services:
            service.stop()
        waker.close()
        parsers.close(cancel=self.signals >= 2)


def _describe(tally: Tally) -> str:
    return (f"{tally.processed} processed, {tally.unchanged} unchanged, {tally.vanished} vanished, "
            f"{tally.failed} failed, {tally.lost} leases lost")


class _WorkerName(logging.Filter):
    def __init__(self, worker_id: str) -> None:
        super().__init__()
        self.worker_id = worker_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.worker_id
        return True


def name_logs(worker_id: str) -> None:
    """Every log line of this process says which worker wrote it (``%(worker)s`` in the format)."""
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, _WorkerName)]:
            handler.removeFilter(old)
        handler.addFilter(_WorkerName(worker_id))
