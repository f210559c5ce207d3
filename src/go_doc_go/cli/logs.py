"""Log lines for long-running commands: time, level, which worker, message."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s worker=%(worker)s %(message)s"


def configure(level: str, worker_id: str = "-") -> None:
    """One stderr handler whose records name the worker (``distributed.worker.name_logs``)."""
    from go_doc_go.distributed.worker import name_logs

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    name_logs(worker_id)
    for noisy in ("psycopg", "psycopg.pool"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
