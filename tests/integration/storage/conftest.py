"""Stores of both engines for the contract suite: a SQLite file, or a PostgreSQL schema of its own.

Each PostgreSQL test gets a fresh schema in the module's database (the store
finds its tables through ``search_path``, set in the URI's ``options``), so a
test costs a ``CREATE SCHEMA`` instead of a database. The SQLite half needs no
server and runs wherever the tests run.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from go_doc_go.storage.sqlite import SQLiteStore

OpenStore = Callable[..., Any]


def schema_url(database_url: str, schema: str) -> str:
    """``database_url`` with a session ``search_path`` of just ``schema``."""
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def pg_schema_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A URI whose sessions live in a fresh, empty schema (dropped afterwards)."""
    pg_url: str = request.getfixturevalue("pg_url")
    schema = f"store_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema_url(pg_url, schema)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store_target(engine: str, tmp_path: Any, request: pytest.FixtureRequest) -> str:
    """Where this test's store lives: a SQLite path or a PostgreSQL URI."""
    if engine == "sqlite":
        return str(tmp_path / "store.db")
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def open_store(engine: str, store_target: str) -> Iterator[OpenStore]:
    """Open (and reopen) this test's store with the engine's class; every store is closed at the end."""
    opened: list[Any] = []

    def opener(**options: Any) -> Any:
        if engine == "sqlite":
            store = SQLiteStore(store_target, **options)
        else:
            from go_doc_go.storage.postgresql import PostgreSQLStore

            store = PostgreSQLStore(store_target, **options)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: OpenStore) -> Any:
    return open_store()


def storage_config(engine: str, store_target: str) -> dict[str, Any]:
    """The ``storage`` section of a config for this engine and target."""
    if engine == "sqlite":
        return {"backend": "sqlite", "path": store_target}
    return {"backend": "postgresql", "uri": store_target}
