"""Wake idle workers: LISTEN/NOTIFY on a dedicated connection, polling as fallback.

``wait(timeout)`` returns when a notification for this run arrives or when
``timeout`` (normally ``poll_interval``) passes; if the listening connection
breaks it reconnects on the next call and, meanwhile, just sleeps: waking then
degrades to polling, never to a busy loop.
"""

from __future__ import annotations

import logging
import time

import psycopg

from go_doc_go.config import scrub
from go_doc_go.queue.connection import TRANSIENT

log = logging.getLogger(__name__)

CHANNEL = "go_doc_go_queue"


class Waker:
    def __init__(self, url: str, run_id: str) -> None:
        self.url = url
        self.run_id = run_id
        self._conn: psycopg.Connection | None = None

    def _listen(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
            self._conn.execute(f"LISTEN {CHANNEL}")
        return self._conn

    def start(self) -> None:
        """LISTEN now: call before checking the queue, so no notification falls in between."""
        try:
            self._listen()
        except TRANSIENT as error:
            log.warning("queue notifications unavailable (%s); polling", scrub(str(error)))
            self.close()

    def wait(self, timeout: float) -> bool:
        """True if woken by a notification for this run, False on timeout."""
        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            conn = self._listen()
            while (remaining := deadline - time.monotonic()) > 0:
                for notify in conn.notifies(timeout=remaining, stop_after=1):
                    if notify.payload == self.run_id:
                        return True
            return False
        except TRANSIENT as error:
            log.warning("queue notifications unavailable (%s); polling", scrub(str(error)))
            self.close()
            time.sleep(max(deadline - time.monotonic(), 0.0))
            return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
            self._conn = None

    def __enter__(self) -> Waker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
