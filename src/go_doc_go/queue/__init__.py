"""The PostgreSQL work queue of distributed mode (see docs/queue.md).

Public surface::

    make_pool(url) / retrying(op)               connection.py
    ensure_schema(conn) / apply(conn)           migrations.py
    RunCoordinator, new_worker_id               coordinator.py
    WorkQueue, QueueTransaction                 work_queue.py
    LeaderLease                                 leader.py
    Acknowledger                                acks.py
    Waker                                       waker.py
    Heartbeat, QueueVacuum                      heartbeat.py, vacuum.py
    DiscoveryLease                              discovery.py
    Lease, NewDocument, Batch, Run, ...         records.py
    LeaderLostError, AcksNotWrittenError        errors.py
"""

from go_doc_go.queue.acks import Acknowledger
from go_doc_go.queue.connection import default_url, make_pool, retrying
from go_doc_go.queue.coordinator import RunCoordinator, new_worker_id
from go_doc_go.queue.discovery import DiscoveryLease
from go_doc_go.queue.errors import AcksNotWrittenError, LeaderLostError
from go_doc_go.queue.heartbeat import Heartbeat
from go_doc_go.queue.leader import LeaderLease
from go_doc_go.queue.migrations import apply as apply_migrations
from go_doc_go.queue.migrations import ensure_schema
from go_doc_go.queue.records import (
    AddResult,
    Batch,
    BatchStatus,
    CompleteResult,
    FailResult,
    Lease,
    LeaseKey,
    NewDocument,
    Outstanding,
    Run,
)
from go_doc_go.queue.vacuum import QueueVacuum, VacuumConfig
from go_doc_go.queue.waker import Waker
from go_doc_go.queue.work_queue import QueueTransaction, WorkQueue

__all__ = [
    "Acknowledger",
    "AcksNotWrittenError",
    "AddResult",
    "Batch",
    "BatchStatus",
    "CompleteResult",
    "DiscoveryLease",
    "FailResult",
    "Heartbeat",
    "LeaderLease",
    "LeaderLostError",
    "Lease",
    "LeaseKey",
    "NewDocument",
    "Outstanding",
    "QueueTransaction",
    "QueueVacuum",
    "Run",
    "RunCoordinator",
    "VacuumConfig",
    "Waker",
    "WorkQueue",
    "apply_migrations",
    "default_url",
    "ensure_schema",
    "make_pool",
    "new_worker_id",
    "retrying",
]
