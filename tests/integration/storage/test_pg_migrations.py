"""The PostgreSQL store's schema: schema.sql is the truth, migrations reproduce it, opening is DDL-free,
many processes can open a new store at once, and the store lives beside the work queue."""

from __future__ import annotations

import multiprocessing
import secrets
import time
from collections.abc import Iterator

import psycopg
import pytest

from go_doc_go.queue import migrations as queue_migrations
from go_doc_go.storage.migrations import postgresql_version
from go_doc_go.storage.postgresql import MIGRATION_LOCK_KEY, MIGRATIONS, PostgreSQLStore

from ..conftest import create_database, drop_database

pytestmark = pytest.mark.postgres

#: Everything that makes a schema, read from the catalog (so how the SQL was written does not matter).
CATALOG = {
    "relations": """
        SELECT c.relname, c.relkind, c.relpersistence, coalesce(c.reloptions, '{}')
          FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1""",
    "columns": """
        SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.attgenerated, pg_get_expr(d.adbin, d.adrelid), coalesce(co.collname, '')
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
         WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY 1, 2""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2",
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2""",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
    "functions": "SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
    "triggers": "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal",
    "settings": "SELECT key, value FROM store_settings ORDER BY key",
}


def describe(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {key: conn.execute(sql).fetchall() for key, sql in CATALOG.items()}


@pytest.fixture
def fresh_database(pg_server: str) -> Iterator[callable]:
    """Make empty databases (no queue tables); all dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"gdg_store_{secrets.token_hex(4)}"
        made.append(name)
        return create_database(name)

    yield make
    for name in made:
        drop_database(name)


def test_schema_sql_equals_all_migrations(fresh_database):
    from_schema, from_migrations = fresh_database(), fresh_database()
    with psycopg.connect(from_schema, autocommit=True) as conn:
        conn.execute(MIGRATIONS.schema)
    with psycopg.connect(from_migrations, autocommit=True) as conn:
        for migration in MIGRATIONS.migrations:
            conn.execute(migration.sql)
    schema, migrated = describe(from_schema), describe(from_migrations)
    assert migrated == schema
    assert {name for name, *_ in schema["relations"]} >= {
        "documents", "elements", "element_anchors", "stored_relationships", "pending_links", "sources",
        "store_settings", "embeddings", "relationships", "store_migrations", "elements_text_search",
    }


def test_a_new_store_records_every_version(fresh_database):
    url = fresh_database()
    store = PostgreSQLStore(url)
    versions = store.conn.execute("SELECT version, name FROM store_migrations ORDER BY version").fetchall()
    assert versions == [(m.version, m.name) for m in MIGRATIONS.migrations]
    assert postgresql_version(store.conn, MIGRATIONS) == MIGRATIONS.latest
    store.close()


def _open(url: str, start, results, structural: bool | None) -> None:  # noqa: ANN001
    start.wait()
    try:
        PostgreSQLStore(url, structural=structural).close()
        results.put("ok")
    except Exception as error:  # noqa: BLE001
        results.put(repr(error))


def _open_at_once(url: str, processes: int, structural: bool | None = True) -> list[str]:
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Barrier(processes), ctx.Queue()
    procs = [ctx.Process(target=_open, args=(url, start, results, structural)) for _ in range(processes)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return outcomes


def test_processes_opening_a_new_store_at_once_apply_the_schema_once(fresh_database):
    url = fresh_database()
    assert _open_at_once(url, 6) == ["ok"] * 6
    with psycopg.connect(url) as conn:
        versions = conn.execute("SELECT version FROM store_migrations ORDER BY version").fetchall()
    assert versions == [(m.version,) for m in MIGRATIONS.migrations]


_CATALOG_STATE = """
    SELECT 'class', c.relname, c.oid::text || ':' || c.xmin::text FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'attribute', c.relname || '.' || a.attname, a.xmin::text FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0
    UNION ALL
    SELECT 'setting', key, xmin::text FROM store_settings
    UNION ALL
    SELECT 'version', version::text, xmin::text FROM store_migrations
    ORDER BY 1, 2
"""
_WRITES = """
    SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables
     WHERE schemaname = 'public' ORDER BY 1
"""


def _state(url: str) -> tuple[list[tuple], list[tuple]]:
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + 30  # the openers' backends flush their statistics as they exit
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute(_CATALOG_STATE).fetchall(), conn.execute(_WRITES).fetchall()


def test_opening_an_up_to_date_store_runs_no_ddl_and_writes_nothing(fresh_database):
    url = fresh_database()
    PostgreSQLStore(url, structural=True).close()
    catalog, writes = _state(url)
    assert _open_at_once(url, 6, structural=True) == ["ok"] * 6
    PostgreSQLStore(url, read_only=True).close()
    assert _state(url) == (catalog, writes)
    # The check can fail: a changed setting is one write (and only one, however many open).
    assert _open_at_once(url, 3, structural=False) == ["ok"] * 3
    assert _state(url)[0] != catalog


def test_the_store_and_the_work_queue_share_a_database(pg_url):
    """The module database has the queue's schema (tests/integration/conftest.py): the store adds its own."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        queue_versions = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
        store = PostgreSQLStore(pg_url)
        assert conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall() == queue_versions
        assert queue_migrations.apply(conn) == [], "the queue still finds itself up to date"
        assert conn.execute("SELECT count(*) FROM store_migrations").fetchone()[0] == len(MIGRATIONS.migrations)
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"document_queue", "processing_runs", "documents", "elements"} <= tables
    assert MIGRATION_LOCK_KEY != queue_migrations.MIGRATION_LOCK_KEY
    store.close()


def test_a_failing_migration_leaves_nothing(fresh_database):
    url = fresh_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE sources (name text)")  # in the way of 0001
    with pytest.raises(Exception, match="sources"):
        PostgreSQLStore(url)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('store_migrations'), to_regclass('documents')").fetchone() == (
            None, None)
