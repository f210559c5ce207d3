"""``python -m go_doc_go.cli.worker`` (also ``go-doc-go worker``): process documents from the work queue."""

from __future__ import annotations

import socket
import sys

import click

from go_doc_go.cli import logs
from go_doc_go.cli.errors import clean_errors
from go_doc_go.config import load_config


@click.command()
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False), help="YAML config file.")
@click.option("--worker-id", help="Name of this worker in logs and the monitor [default: HOST-PID-RANDOM].")
@click.option("--num-workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes to run under one supervisor (restarted if they die).")
@click.option("--max-documents", type=click.IntRange(min=1), help="Stop after claiming this many documents.")
@click.option("--wait", is_flag=True, help="After the run completes, wait for its next pass instead of exiting.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="[default: logging.level]")
@clean_errors
def worker(
    config_file: str, worker_id: str | None, num_workers: int, max_documents: int | None, wait: bool,
    log_level: str | None,
) -> None:
    """Claim documents of the config's run, process them, and finish the run when it is done.

    Workers with the same config join the same run, on any number of machines.
    A worker started before any coordinator discovers the documents itself.
    Exits 0 when the run is completed (post-processing included), 130 when
    stopped by a signal: SIGTERM or Ctrl-C finishes or releases the documents
    in hand, a second one releases them at once.
    """
    config = load_config(config_file)
    from go_doc_go.distributed.setup import check_distributed

    check_distributed(config)
    level = log_level or config.logging.level
    if num_workers > 1:
        _supervise(config_file, worker_id or socket.gethostname(), num_workers, max_documents, wait, level)
        return
    from go_doc_go.distributed.worker import DocumentWorker

    logs.configure(level, worker_id or "-")
    document_worker = DocumentWorker(config, worker_id=worker_id, max_documents=max_documents, wait=wait)
    document_worker.install_signals()
    sys.exit(document_worker.run().exit_code)


def _supervise(config_file: str, base: str, count: int, max_documents: int | None, wait: bool, level: str) -> None:
    from go_doc_go.distributed.supervisor import Supervisor, command_launch, worker_ids

    def argv(worker_id: str) -> list[str]:
        command = [sys.executable, "-m", "go_doc_go.cli.worker", "--config", config_file,
                   "--worker-id", worker_id, "--log-level", level]
        if max_documents is not None:
            command += ["--max-documents", str(max_documents)]
        if wait:
            command.append("--wait")
        return command

    logs.configure(level, f"{base}-supervisor")
    result = Supervisor(worker_ids(base, count), command_launch(argv)).run()
    sys.exit(result.exit_code)


if __name__ == "__main__":
    worker()
