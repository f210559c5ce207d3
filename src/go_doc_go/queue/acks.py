"""Batched completion acknowledgements.

``ack(lease)`` only buffers. A background thread flushes the buffer with one
statement when it holds ``batch_size`` leases or ``flush_interval`` seconds
after the first buffered one. Acks refused because the lease passed to another
worker are handed to ``on_refused``; acks that could not be written (database
down) stay buffered, their leases stay held (and heartbeated), and the thread
tries again with a growing pause. Nothing is ever dropped silently:
``close(timeout)`` keeps trying for at most ``timeout`` seconds
(``work_queue.ack_close_timeout``) and then raises ``AcksNotWrittenError``
naming exactly the leases it could not acknowledge (a later ``close()`` or
``flush()`` may still write them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from go_doc_go.config import scrub
from go_doc_go.queue.errors import AcksNotWrittenError
from go_doc_go.queue.records import Lease
from go_doc_go.queue.work_queue import WorkQueue

log = logging.getLogger(__name__)

#: Pauses between background flush attempts after a failure: doubled from the first, capped.
RETRY_PAUSE = (0.05, 2.0)


class Acknowledger:
    def __init__(
        self,
        queue: WorkQueue,
        *,
        flush_interval: float | None = None,
        batch_size: int | None = None,
        on_refused: Callable[[list[Lease]], None] | None = None,
        close_timeout: float | None = None,
    ) -> None:
        self.queue = queue
        self.flush_interval = queue.settings.ack_flush_interval if flush_interval is None else flush_interval
        self.batch_size = batch_size or queue.settings.batch_size
        self.close_timeout = queue.settings.ack_close_timeout if close_timeout is None else close_timeout
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

    def unacknowledged(self) -> list[Lease]:
        """The leases buffered and not written yet."""
        with self._cond:
            return list(self._buffer)

    def flush(self, *, deadline: float | None = None) -> int:
        """Write every buffered ack now; returns how many were completed.

        On failure the acks go back to the buffer and the error is raised.
        ``deadline`` (``time.monotonic()``) bounds the retries.
        """
        with self._flush_lock:
            return self._flush(deadline)

    def _flush(self, deadline: float | None) -> int:
        with self._cond:
            batch, self._buffer, self._first_at = self._buffer, [], None
        if not batch:
            return 0
        try:
            result = self.queue.complete_many(batch, deadline=deadline)
        except BaseException:
            with self._cond:  # keep them: written later, not lost
                self._buffer[:0] = batch
                self._first_at = self._first_at or time.monotonic()
            raise
        self.completed += len(result.completed)
        if result.refused:
            self.refused.extend(result.refused)
            log.warning("%d completions refused: their leases passed to other workers", len(result.refused))
            if self.on_refused is not None:
                self.on_refused(list(result.refused))
        return len(result.completed)

    def _wait_for_batch(self) -> bool:
        """Block until a flush is due; False once closed (close() writes the rest itself)."""
        with self._cond:
            while not self._closed:
                if self._buffer:
                    if len(self._buffer) >= self.batch_size:
                        return True
                    assert self._first_at is not None
                    remaining = self._first_at + self.flush_interval - time.monotonic()
                    if remaining <= 0:
                        return True
                    self._cond.wait(remaining)
                else:
                    self._cond.wait()
            return False

    def _loop(self) -> None:
        pause = RETRY_PAUSE[0]
        while self._wait_for_batch():
            try:
                self.flush(deadline=time.monotonic())  # one try: this loop does the retrying
                pause = RETRY_PAUSE[0]
            except Exception as error:  # noqa: BLE001 - retried at the next round
                log.warning("ack flush failed, will retry in %.2fs: %s", pause, scrub(str(error)))
                with self._cond:
                    self._cond.wait_for(lambda: self._closed, timeout=pause)
                pause = min(pause * 2, RETRY_PAUSE[1])

    def close(self, timeout: float | None = None) -> None:
        """Write what is left, trying for at most ``timeout`` seconds (default ``close_timeout``), and stop.

        Raises ``AcksNotWrittenError`` with the leases still unacknowledged
        when time runs out; they stay buffered and held, so the caller can
        report them, or call ``close()`` again once the database is back.
        """
        deadline = time.monotonic() + (self.close_timeout if timeout is None else timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(max(deadline - time.monotonic(), 0.0))
        last_error: BaseException | None = None
        while self.pending():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._flush_lock.acquire(timeout=remaining):
                break
            try:
                self._flush(deadline)
            except Exception as error:  # noqa: BLE001 - reported below with the leases
                last_error = error
                with self._cond:
                    self._cond.wait(min(0.1, max(deadline - time.monotonic(), 0.0)))
            finally:
                self._flush_lock.release()
        left = self.unacknowledged()
        if left:
            reason = scrub(str(last_error)) if last_error is not None else "out of time"
            raise AcksNotWrittenError(
                f"{len(left)} completions not acknowledged within the close timeout: {reason}", left
            ) from last_error

    def __enter__(self) -> Acknowledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
