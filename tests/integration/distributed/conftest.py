"""Distributed runs for tests: a fresh database per test, configs on disk, the CLI in real processes."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..conftest import create_database, drop_database

WORKER_SETTINGS = {"poll_interval": 0.5, "claim_timeout": 20, "heartbeat_interval": 2, "leader_ttl": 5,
                   "discovery_ttl": 5}  # fmt: skip


@pytest.fixture
def fresh_db(pg_template: str) -> Iterator[str]:
    """A new database (queue schema migrated; the store migrates itself) for one test."""
    name = f"gdg_dist_{os.getpid()}_{secrets.token_hex(4)}"
    url = create_database(name, template=pg_template)
    yield url
    drop_database(name)


def write_config(path: Path, *, root: Path, database: str, sources: list[dict[str, Any]] | None = None,
                 **sections: Any) -> Path:
    """A distributed config file for ``root`` (one source named corpus) in ``database``."""
    data: dict[str, Any] = {
        "storage": {"backend": "postgresql", "uri": database},
        "content_sources": sources or [{"name": "corpus", "base_path": str(root)}],
        "processing": {"mode": "distributed", "jobs": 2},
        "work_queue": dict(WORKER_SETTINGS),
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    path.write_text(yaml.safe_dump(data))
    return path


def single_config(config_file: Path, store: Path) -> dict[str, Any]:
    """The same job in single mode into a SQLite file (what a distributed run must equal)."""
    data = yaml.safe_load(config_file.read_text())
    data["storage"] = {"backend": "sqlite", "path": str(store)}
    data["processing"] = {"mode": "single", "jobs": 1}
    data.pop("work_queue", None)
    return data


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def start(*args: str, env: dict[str, str] | None = None, **options: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", *args], env={**os.environ, **(env or {})}, text=True,
                            **options)


Runner = Callable[..., subprocess.CompletedProcess[str]]
