"""What every process of a distributed run opens, checked the same way everywhere."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import ConnectionPool

from go_doc_go.config import Config, scrub
from go_doc_go.exceptions import ConfigError
from go_doc_go.queue.connection import make_pool
from go_doc_go.queue.coordinator import RunCoordinator
from go_doc_go.sources import ContentSource, open_source
from go_doc_go.storage import Store, open_store

log = logging.getLogger("go_doc_go.distributed")


def queue_url(config: Config) -> str:
    """The work queue's database: ``work_queue.uri``, else the store's."""
    url = config.work_queue.uri or config.storage.uri
    if not url:
        raise ConfigError("work_queue.uri: distributed mode needs a PostgreSQL database (or set storage.uri)")
    return url


def check_distributed(config: Config) -> None:
    """The config errors a distributed run would hit later, named now."""
    if config.storage.backend != "postgresql":
        raise ConfigError(
            "storage.backend: distributed mode stores into PostgreSQL (workers on several machines "
            "share the store); set storage.backend: postgresql and storage.uri"
        )
    if not config.storage.uri:
        raise ConfigError("storage.uri: backend postgresql needs a database URI (postgresql://user@host/db)")
    if not config.content_sources:
        raise ConfigError("content_sources: no sources configured")
    queue_url(config)


def shares_database(config: Config) -> bool:
    """Do the store and the queue live in the same database (so one transaction can hold both)?"""
    return config.work_queue.uri is None or config.work_queue.uri == config.storage.uri


def pass_token(run_id: str, pass_number: int) -> str:
    """The store's name for one pass of a run (seen marks, removal of vanished documents)."""
    return f"{run_id}:{pass_number}"


@dataclass
class RunResources:
    """The open connections and sources of one process of a run; ``close()`` frees them."""

    config: Config
    pool: ConnectionPool
    store: Store
    sources: dict[str, ContentSource]
    coordinator: RunCoordinator
    shared: bool
    extra: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for item in reversed(self.extra):
            item.close()
        self.store.close()
        self.pool.close()


def open_run(config: Config, *, worker_id: str | None = None, pool_size: int = 4) -> RunResources:
    """Check the config, open the queue pool, the store (schema up to date) and the sources."""
    check_distributed(config)
    url = queue_url(config)
    log.debug("queue database %s", scrub(url))
    sources = {s.name: open_source(s) for s in config.content_sources}
    pool = make_pool(url, max_size=pool_size, name="go-doc-go-worker")
    try:
        store = open_store(config)
    except BaseException:
        pool.close()
        raise
    coordinator = RunCoordinator(pool, config, worker_id=worker_id)
    return RunResources(config, pool, store, sources, coordinator, shares_database(config))
