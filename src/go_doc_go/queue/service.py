"""The shape every background loop takes: a config, ``run_once()`` and a thread loop.

Tests call ``run_once()`` directly; workers call ``start()`` and ``stop()``.
A failing ``run_once`` is logged and retried at the next tick: a loop never
dies of one bad round.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from psycopg_pool import ConnectionPool

from go_doc_go.config import scrub
from go_doc_go.queue.connection import with_connection

log = logging.getLogger(__name__)

R = TypeVar("R")


class Service(Generic[R]):
    name = "service"

    def interval(self) -> float:
        raise NotImplementedError

    def run_once(self) -> R:
        raise NotImplementedError

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_result: R | None = None
        self.last_error: BaseException | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"go-doc-go-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval()):
            try:
                self.last_result = self.run_once()
                self.last_error = None
            except Exception as error:  # noqa: BLE001 - a loop must survive one bad round
                self.last_error = error
                log.warning("%s: %s", self.name, scrub(str(error)))


class RunLease(Service[R]):
    """A lease one holder keeps on a run row (leader, discovery): renewed every ``ttl / 2``."""

    def __init__(self, pool: ConnectionPool, run_id: str, holder: str, *, ttl: float = 60.0) -> None:
        super().__init__()
        self.pool = pool
        self.run_id = run_id
        self.holder = holder
        self.ttl = ttl

    def interval(self) -> float:
        return self.ttl / 2

    def _run(self, what: str, operation: Callable[[Any], Any]) -> Any:
        return with_connection(self.pool, what, operation)
