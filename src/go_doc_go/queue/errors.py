"""Errors of the work queue beyond those in ``go_doc_go.exceptions``."""

from __future__ import annotations

from go_doc_go.exceptions import QueueError
from go_doc_go.queue.records import Lease


class LeaderLostError(QueueError):
    """This leader term is no longer current: the fenced transaction must roll back."""


class AcksNotWrittenError(QueueError):
    """``Acknowledger.close()`` ran out of time; ``leases`` were not acknowledged (they are still held)."""

    def __init__(self, message: str, leases: list[Lease]) -> None:
        super().__init__(message)
        self.leases = leases
