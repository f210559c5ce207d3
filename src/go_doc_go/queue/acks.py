"""Batched completion acknowledgements.

``ack(lease)`` only buffers. A background thread flushes the buffer with one
statement when it holds ``batch_size`` leases or ``flush_interval`` seconds
after the first buffered one, and ``close()`` flushes whatever is left. Acks
refused because the lease passed to another worker are handed to
``on_refused``; acks that could not be written (database down) stay buffered
and are retried, never dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from go_doc_go.queue.records import Lease
from go_doc_go.queue.work_queue import WorkQueue

log = logging.getLogger(__name__)


class Acknowledger:
    def __init__(
        self,
        queue: WorkQueue,
        *,
        flush_interval: float | None = None,
        batch_size: int | None = None,
        on_refused: Callable[[list[Lease]], None] | None = None,
    ) -> None:
        self.queue = queue
        self.flush_interval = queue.settings.ack_flush_interval if flush_interval is None else flush_interval
        self.batch_size = batch_size or queue.settings.batch_size
        self.on_refused = on_refused
        self.completed = 0
        self.refused: list[Lease] = []
        self._buffer: list[Lease] = []
        self._cond = threading.Condition()
        self._flush_lock = threading.Lock()
        self._closed = False
        self._first_at: float | None = None
        self._thread = threading.Thread(target=self._loop, name="go-doc-go-acks", daemon=True)
        self._thread.start()

    def ack(self, lease: Lease) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("acknowledger is closed")
            first = not self._buffer
            if first:
                self._first_at = time.monotonic()
            self._buffer.append(lease)
            if first or len(self._buffer) >= self.batch_size or self.flush_interval == 0:
                self._cond.notify()  # start the flush clock, or flush now

    def pending(self) -> int:
        with self._cond:
            return len(self._buffer)

    def flush(self) -> int:
        """Write every buffered ack now; returns how many were completed."""
        with self._flush_lock:
            with self._cond:
                batch, self._buffer, self._first_at = self._buffer, [], None
            if not batch:
                return 0
            try:
                result = self.queue.complete_many(batch)
            except Exception:
                with self._cond:  # keep them: written later, not lost
                    self._buffer[:0] = batch
                    self._first_at = self._first_at or time.monotonic()
                raise
            refused_ids = set(result.refused)
            refused = [lease for lease in batch if lease.queue_id in refused_ids]
            self.completed += len(result.completed)
            if refused:
                self.refused.extend(refused)
                log.warning("%d completions refused: their leases passed to other workers", len(refused))
                if self.on_refused is not None:
                    self.on_refused(refused)
            return len(result.completed)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._buffer:
                        if len(self._buffer) >= self.batch_size:
                            break
                        assert self._first_at is not None
                        remaining = self._first_at + self.flush_interval - time.monotonic()
                        if remaining <= 0:
                            break
                        self._cond.wait(remaining)
                    else:
                        self._cond.wait()
                closed = self._closed
            try:
                self.flush()
            except Exception as error:  # noqa: BLE001 - retried at the next round
                log.warning("ack flush failed, will retry: %s", error)
                time.sleep(0.5)
            if closed:
                return

    def close(self) -> None:
        """Flush what is left (retrying) and stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        while self.pending():
            self.flush()

    def __enter__(self) -> Acknowledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
