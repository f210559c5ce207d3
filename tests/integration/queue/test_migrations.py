"""Migrations: reproduce schema.sql exactly, are idempotent and safe to run concurrently."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from go_doc_go.queue import migrations, sql_loader

from ..conftest import create_database, drop_database
from .workers import CTX, migrate

pytestmark = pytest.mark.postgres

_DUMP = {
    "columns": """
        SELECT table_name, column_name, data_type, column_default, is_nullable, is_identity, ordinal_position
          FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2",
    "sequences": """
        SELECT sequencename, data_type, start_value, increment_by FROM pg_sequences
         WHERE schemaname = 'public' ORDER BY 1""",
    "tables": """SELECT relname, relkind FROM pg_class
                  WHERE relnamespace = 'public'::regnamespace ORDER BY 1""",
}


def dump(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {key: conn.execute(sql).fetchall() for key, sql in _DUMP.items()}


@pytest.fixture
def scratch_db(pg_server: str):
    made: list[str] = []

    def make() -> str:
        name = f"gdg_scratch_{secrets.token_hex(4)}"
        made.append(name)
        return create_database(name)

    yield make
    for name in made:
        drop_database(name)


def test_schema_sql_equals_all_migrations(scratch_db) -> None:
    from_schema, from_migrations = scratch_db(), scratch_db()
    with psycopg.connect(from_schema, autocommit=True) as conn:
        conn.execute(sql_loader.read("schema.sql"))
    with psycopg.connect(from_migrations, autocommit=True) as conn:
        assert migrations.apply(conn) == [v for v, _, _ in sql_loader.migrations()]
    left, right = dump(from_schema), dump(from_migrations)
    assert left["tables"], "schema.sql created nothing"
    assert left == right


def test_apply_is_idempotent(scratch_db) -> None:
    url = scratch_db()
    with psycopg.connect(url, autocommit=True) as conn:
        assert migrations.apply(conn) == [1]
        assert migrations.apply(conn) == []
        assert migrations.ensure_schema(conn) == []
        assert migrations.applied_versions(conn) == [1]


def test_four_processes_migrate_at_once(scratch_db) -> None:
    url = scratch_db()
    start, results = CTX.Barrier(4), CTX.Queue()
    procs = [CTX.Process(target=migrate, args=(url, start, results)) for _ in range(4)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert all(status == "ok" for status, _ in outcomes), outcomes
    applied = sorted(v for _, versions in outcomes for v in versions)
    assert applied == [1], "each version applied by exactly one process"
    with psycopg.connect(url) as conn:
        assert migrations.applied_versions(conn) == [1]


def test_query_names_are_unique_and_described() -> None:
    text = sql_loader.read("queries.sql")
    names = sql_loader.queries()
    assert len(names) == text.count("\n-- name: ")
    for block in text.split("\n-- name: ")[1:]:
        assert block.splitlines()[1].startswith("-- "), f"{block.splitlines()[0]} lacks a description"
