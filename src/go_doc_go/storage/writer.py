"""A store writer on its own thread, so parsing results keep flowing while a batch commits.

SQLite releases the GIL while it works, so the driver thread can dispatch and
collect documents during a commit. The writer has its own connection; writes
go through a bounded queue (back-pressure instead of unbounded memory), and
the first error is raised again in the caller at the next call or at close().
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

S = TypeVar("S")
_STOP = object()


class BackgroundWriter(Generic[S]):
    def __init__(self, open_store: Callable[[], S], *, max_pending: int = 4) -> None:
        self._open_store = open_store
        self._pending: queue.Queue[object] = queue.Queue(maxsize=max_pending)
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        self._raise_if_failed()

    def submit(self, write: Callable[[S], object]) -> None:
        """Queue ``write(store)``; blocks while ``max_pending`` writes are waiting."""
        self._raise_if_failed()
        self._pending.put(write)

    def close(self) -> None:
        """Wait for every queued write, then close the writer's connection."""
        if self._thread.is_alive():
            self._pending.put(_STOP)
            self._thread.join()
        self._raise_if_failed()

    def _run(self) -> None:
        try:
            store = self._open_store()
        except BaseException as error:
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        try:
            while (item := self._pending.get()) is not _STOP:
                if self._error is None:  # after a failure, drain without writing
                    try:
                        item(store)  # type: ignore[operator]
                    except BaseException as error:
                        self._error = error
        finally:
            store.close()  # type: ignore[attr-defined]

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error
