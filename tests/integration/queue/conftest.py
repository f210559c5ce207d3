from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest

from go_doc_go.config import WorkQueueConfig
from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.queue.work_queue import WorkQueue


@pytest.fixture
def new_run(pg_pool) -> Callable[..., tuple[RunCoordinator, WorkQueue]]:  # type: ignore[no-untyped-def]
    """Make a fresh run (unique id) plus a registered worker queue on it."""

    def make(run_id: str | None = None, worker_id: str | None = None, **settings: object):
        config = WorkQueueConfig(**settings)  # type: ignore[arg-type]
        coordinator = RunCoordinator(
            pg_pool, run_id_override=run_id or f"test-{secrets.token_hex(6)}", settings=config, worker_id=worker_id
        )
        coordinator.start()
        session = coordinator.register()
        queue = WorkQueue(pg_pool, coordinator.run_id, config, worker_id=coordinator.worker_id, session_id=session)
        return coordinator, queue

    return make


def other_worker(coordinator: RunCoordinator, worker_id: str | None = None) -> WorkQueue:
    """A second worker session on the same run."""
    twin = RunCoordinator(
        coordinator.pool, run_id_override=coordinator.run_id, settings=coordinator.settings, worker_id=worker_id
    )
    session = twin.register()
    return WorkQueue(coordinator.pool, coordinator.run_id, coordinator.settings, worker_id=twin.worker_id,
                     session_id=session)
