"""Real-PostgreSQL fixtures: one migrated template database per session, a fresh copy per module.

The server comes from ``GO_DOC_GO_TEST_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``). When it cannot be reached
the tests are skipped, except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("GO_DOC_GO_TEST_DATABASE_URL") or DEFAULT_URL


def database_url(name: str) -> str:
    """The server URL pointed at database ``name``."""
    parts = urlsplit(server_url())
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin() -> psycopg.Connection:
    return psycopg.connect(server_url(), autocommit=True, connect_timeout=5)


def create_database(name: str, *, template: str | None = None) -> str:
    with _admin() as conn:
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server() -> str:
    url = server_url()
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        message = f"PostgreSQL not reachable at {url}: {reason}; set GO_DOC_GO_TEST_DATABASE_URL"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    """A database with every migration applied, used as the template for each module."""
    from go_doc_go.queue import migrations

    name = f"gdg_tmpl_{os.getpid()}_{secrets.token_hex(3)}"
    url = create_database(name)
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.apply(conn)
    yield name
    drop_database(name)


@pytest.fixture(scope="module")
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated database for this test module (dropped afterwards)."""
    name = f"gdg_test_{os.getpid()}_{secrets.token_hex(4)}"
    url = create_database(name, template=pg_template)
    yield url
    drop_database(name)


@pytest.fixture(scope="module")
def pg_pool(pg_url: str) -> Iterator[object]:
    from go_doc_go.queue.connection import make_pool

    pool = make_pool(pg_url, max_size=6)
    yield pool
    pool.close()


@pytest.fixture
def pg_conn(pg_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn
