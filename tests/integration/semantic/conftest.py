"""Stores for the semantic layer on three engines: SQLite, the system PostgreSQL (no pgvector), and
PostgreSQL 16 with pgvector 0.6.2 started from the ``pgserver`` wheel.

``pgvector_server`` starts one server per session (about 5 s) on a Unix socket
inside its own data folder, so it never meets the system server on port 5432.
Without the wheel the pgvector tests are skipped with a message saying so;
under ``CI=true`` that is a failure (``.[dev]`` installs it).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from go_doc_go.storage.sqlite import SQLiteStore

from ..conftest import create_database, drop_database

OpenStore = Callable[..., Any]


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pgvector_server() -> Iterator[str]:
    """The URI of a PostgreSQL server that has pgvector (pgserver), for this session."""
    # Outside pytest's numbered folders: a concurrent pytest session of the same user may prune those.
    folder = Path(tempfile.mkdtemp(prefix="gdg-pgvector-"))
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder))  # platformdirs (used by pgserver) wants one
    try:
        import pgserver
    except ImportError:
        _unavailable("pgserver is not installed (pip install pgserver, or '.[dev]'): the pgvector path is untested")
    try:
        server = pgserver.get_server(str(folder / "data"), cleanup_mode="stop")
    except Exception as error:  # noqa: BLE001 - whatever stops the bundled server from starting
        _unavailable(f"pgserver could not start PostgreSQL with pgvector: {error}")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pgvector_url(pgvector_server: str) -> Iterator[str]:
    """A fresh database on the pgvector server (the extension is created by the store itself)."""
    name = f"gdg_vec_{secrets.token_hex(4)}"
    with psycopg.connect(pgvector_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pgvector_server.replace("/postgres?", f"/{name}?")
    with psycopg.connect(pgvector_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def system_pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database on the system server (no pgvector there)."""
    name = f"gdg_sem_{os.getpid()}_{secrets.token_hex(4)}"
    url = create_database(name)
    yield url
    drop_database(name)


ENGINES = ["sqlite", "postgresql", "pgvector"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def target(engine: str, tmp_path: Any, request: pytest.FixtureRequest) -> str:
    """Where this test's store lives: a SQLite file, or a database URI."""
    if engine == "sqlite":
        return str(tmp_path / "store.db")
    return request.getfixturevalue("system_pg_url" if engine == "postgresql" else "pgvector_url")


def storage_section(engine: str, target: str) -> dict[str, Any]:
    return {"backend": "sqlite", "path": target} if engine == "sqlite" else {"backend": "postgresql", "uri": target}


@pytest.fixture
def open_store(engine: str, target: str) -> Iterator[OpenStore]:
    opened: list[Any] = []

    def opener(**options: Any) -> Any:
        if engine == "sqlite":
            store = SQLiteStore(target, **options)
        else:
            from go_doc_go.storage.postgresql import PostgreSQLStore

            store = PostgreSQLStore(target, **options)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()
