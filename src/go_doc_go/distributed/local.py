"""``processing.mode: distributed`` from ``ingest_documents`` (and ``go-doc-go ingest --config``).

This process starts the pass and discovers it (as the coordinator does), then
runs ``processing.jobs`` local worker processes under a supervisor until the
run is completed, and returns the same ``IngestSummary`` single mode returns,
read back from the queue and the store. Workers on other machines started
with the same config join the same run and share the work.
"""

from __future__ import annotations

import multiprocessing
import socket
import time
from typing import Any

from go_doc_go.config import Config, effective_jobs
from go_doc_go.queue import repository
from go_doc_go.queue.connection import with_connection
from go_doc_go.sources import SkippedPath
from go_doc_go.summary import FailureRecord, IngestSummary

from go_doc_go.distributed.coordinator import ProcessingCoordinator
from go_doc_go.distributed.setup import RunResources, open_run
from go_doc_go.distributed.supervisor import ProcessHandle, Supervisor, worker_ids


def _worker_main(config_data: dict[str, Any], worker_id: str) -> None:
    import logging
    import sys

    from go_doc_go.distributed.worker import DocumentWorker, name_logs

    logging.basicConfig(level=config_data.get("logging", {}).get("level", "INFO"),
                        format="%(asctime)s %(levelname)s worker=%(worker)s %(message)s")
    name_logs(worker_id)
    worker = DocumentWorker(Config.model_validate(config_data), worker_id=worker_id)
    worker.install_signals()
    sys.exit(worker.run().exit_code)


def run_distributed(config: Config) -> IngestSummary:
    """Discover, run ``processing.jobs`` local workers to the end of the pass, summarise it."""
    started = time.perf_counter()
    resources = open_run(config, worker_id=f"{socket.gethostname()}-ingest")
    try:
        ProcessingCoordinator(config).run(resources=resources)
        ctx = multiprocessing.get_context("spawn")
        data = config.model_dump()

        def launch(worker_id: str) -> ProcessHandle:
            process = ctx.Process(target=_worker_main, args=(data, worker_id), name=worker_id)
            process.start()
            return ProcessHandle(process)

        jobs = effective_jobs(config)
        outcome = Supervisor(worker_ids(f"{socket.gethostname()}-ingest", jobs), launch).run()
        summary = _summary(resources, IngestSummary(jobs=jobs))
        summary.seconds = time.perf_counter() - started
        if outcome.exit_code != 0 and not summary.failures:
            summary.notes.append(f"workers stopped before the run completed (exit code {outcome.exit_code})")
        return summary
    finally:
        resources.close()


def _summary(resources: RunResources, summary: IngestSummary) -> IngestSummary:
    run_id = resources.coordinator.run_id
    counts, failures, record = with_connection(resources.pool, "summarise the pass", lambda c: (
        repository.run_pass_summary(c, run_id=run_id),
        repository.run_pass_failures(c, run_id=run_id),
        repository.run_pass_record(c, run_id=run_id),
    ))
    summary.processed = counts.get(("completed", "processed"), 0)
    summary.unchanged = counts.get(("completed", "unchanged"), 0)
    summary.failed = sum(n for (state, _), n in counts.items() if state == "dead_letter")
    summary.failures = [
        FailureRecord(f["source_name"], f["doc_path"] or "", f["doc_id"], f["error_stage"] or "process",
                      f["last_error"] or "", "permanent")
        for f in failures
    ]
    processed = with_connection(resources.pool, "list processed documents",
                                lambda c: repository.run_pass_processed(c, run_id=run_id))
    for start in range(0, len(processed), 5000):
        states = resources.store.document_states(processed[start : start + 5000])
        summary.bytes_processed += sum(state.size for state in states.values())
    stats = (record or {}).get("discovery_stats") or {}
    summary.skipped = int(stats.get("skipped", 0))
    summary.skipped_paths = [SkippedPath(p["source"], p["path"], p["reason"]) for p in stats.get("skipped_paths", [])]
    summary.removed = int(((record or {}).get("post_processing") or {}).get("remove_vanished", 0))
    if resources.config.relationship_detection.links:
        links = resources.store.link_counts()
        summary.links_resolved, summary.links_unresolved = links.resolved, links.unresolved
        summary.anchors_missing = links.anchor_missing
    return summary
