"""``processing.mode: distributed`` from ``ingest_documents`` (and ``go-doc-go ingest --config``).

This process starts the pass and discovers it (as the coordinator does), then
runs ``processing.jobs`` local worker processes (fresh interpreters, so a script
calling ``ingest_documents`` is never run again in them) under a supervisor until the
run is completed, and returns the same ``IngestSummary`` single mode returns,
read back from the queue and the store. Workers on other machines started
with the same config join the same run and share the work.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from go_doc_go.config import Config, effective_jobs
from go_doc_go.queue import repository
from go_doc_go.queue.connection import with_connection
from go_doc_go.sources import SkippedPath
from go_doc_go.summary import FailureRecord, IngestSummary

from go_doc_go.distributed.coordinator import ProcessingCoordinator
from go_doc_go.distributed.setup import RunResources, open_run
from go_doc_go.distributed.supervisor import Supervisor, worker_ids


#: A local worker is a fresh interpreter (never the caller's ``__main__`` again); its config
#: arrives as JSON on stdin, so no secret is ever on a command line or in the environment.
WORKER_COMMAND = "from go_doc_go.distributed.local import worker_main; worker_main()"


def worker_main() -> None:
    """Entry point of a local worker process: ``WORKER_ID`` in argv, the config on stdin."""
    import logging

    from go_doc_go.distributed.worker import DocumentWorker, name_logs

    worker_id = sys.argv[1]
    config = Config.model_validate_json(sys.stdin.buffer.read())
    logging.basicConfig(level=config.logging.level, format="%(asctime)s %(levelname)s worker=%(worker)s %(message)s")
    name_logs(worker_id)
    worker = DocumentWorker(config, worker_id=worker_id)
    worker.install_signals()
    sys.exit(worker.run().exit_code)


def run_distributed(config: Config) -> IngestSummary:
    """Discover, run ``processing.jobs`` local workers to the end of the pass, summarise it."""
    started = time.perf_counter()
    resources = open_run(config, worker_id=f"{socket.gethostname()}-ingest")
    try:
        ProcessingCoordinator(config).run(resources=resources)
        data = config.model_dump_json().encode()

        def launch(worker_id: str) -> subprocess.Popen[bytes]:
            process = subprocess.Popen([sys.executable, "-c", WORKER_COMMAND, worker_id], stdin=subprocess.PIPE)
            assert process.stdin is not None
            process.stdin.write(data)
            process.stdin.close()
            return process

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
    counts, failures, record, units = with_connection(resources.pool, "summarise the pass", lambda c: (
        repository.run_pass_summary(c, run_id=run_id),
        repository.run_pass_failures(c, run_id=run_id),
        repository.run_pass_record(c, run_id=run_id),
        repository.run_pass_units(c, run_id=run_id),
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
    post_processing = (record or {}).get("post_processing") or {}
    summary.removed = int(post_processing.get("remove_vanished", 0))
    summary.semantic_edges_changed = int(post_processing.get("semantic_edges", 0))
    summary.units_embedded, summary.units_reused = units
    if resources.config.relationship_detection.links:
        links = resources.store.link_counts()
        summary.links_resolved, summary.links_unresolved = links.resolved, links.unresolved
        summary.anchors_missing = links.anchor_missing
    return summary
