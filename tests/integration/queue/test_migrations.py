"""Migrations: reproduce schema.sql exactly, are idempotent and safe to run concurrently."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from go_doc_go.queue import migrations, sql_loader

from ..conftest import create_database, drop_database
from .workers import CTX, migrate

pytestmark = pytest.mark.postgres

#: Everything that makes two schemas different, read from the catalogs (public schema only).
_DUMP = {
    "relations": """
        SELECT c.relname, c.relkind, c.relpersistence, c.reloptions, c.relreplident, c.relrowsecurity,
               c.relispartition, obj_description(c.oid, 'pg_class')
          FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1""",
    "columns": """
        SELECT a.attrelid::regclass::text, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid), co.collname, a.attstorage,
               a.attcompression, a.attstattarget, a.attisdropped, col_description(a.attrelid, a.attnum)
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
         WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
         ORDER BY 1, 2""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), condeferrable, condeferred,
               convalidated, obj_description(oid, 'pg_constraint')
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2""",
    "indexes": """
        SELECT i.indrelid::regclass::text, c.relname, pg_get_indexdef(i.indexrelid), c.reloptions, i.indisclustered,
               i.indisreplident, obj_description(c.oid, 'pg_class')
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1, 2""",
    "sequences": """
        SELECT s.sequencename, s.data_type::text, s.start_value, s.min_value, s.max_value, s.increment_by, s.cycle,
               s.cache_size,
               (SELECT d.refobjid::regclass::text || '.' || a.attname || ':' || d.deptype::text
                  FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                 WHERE d.objid = (quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename))::regclass
                   AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                   AND d.deptype IN ('a', 'i')) AS owned_by
          FROM pg_sequences s WHERE s.schemaname = 'public' ORDER BY 1""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid), tgenabled FROM pg_trigger
         WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
         ORDER BY 1, 2""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid) FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p') ORDER BY 1, 2""",
    "views": """
        SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'm') ORDER BY 1""",
    "policies": "SELECT tablename, policyname, permissive, roles, cmd, qual, with_check FROM pg_policies "
                "WHERE schemaname = 'public' ORDER BY 1, 2",
    "statistics": """
        SELECT stxname, pg_get_statisticsobjdef(oid) FROM pg_statistic_ext
         WHERE stxnamespace = 'public'::regnamespace ORDER BY 1""",
    "inheritance": """
        SELECT inhrelid::regclass::text, inhparent::regclass::text FROM pg_inherits
         WHERE inhrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace) ORDER BY 1, 2""",
    "types": """
        SELECT t.typname, t.typtype, format_type(t.typbasetype, t.typtypmod),
               (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
          FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('d', 'e')
         ORDER BY 1""",
}


def dump(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return dump_with(conn)


def dump_with(conn: psycopg.Connection) -> dict[str, list[tuple]]:
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
    assert left["relations"], "schema.sql created nothing"
    for key in _DUMP:
        assert left[key] == right[key], f"schema.sql and the migrations differ in {key}"


#: Schema differences the comparison must see (each applied to one of two copies of schema.sql).
_MUTATIONS = {
    "table storage parameter": "ALTER TABLE document_queue SET (autovacuum_vacuum_threshold = 1)",
    "reset storage parameter": "ALTER TABLE document_queue RESET (vacuum_truncate)",
    "index storage parameter": "ALTER INDEX document_queue_claim_idx SET (fillfactor = 50)",
    "column default": "ALTER TABLE document_queue ALTER COLUMN priority SET DEFAULT 1",
    "identity generation": "ALTER TABLE run_workers ALTER COLUMN session_id SET GENERATED BY DEFAULT",
    "sequence cache": "ALTER SEQUENCE document_lease_token_seq CACHE 10",
    "sequence bounds": "ALTER SEQUENCE document_lease_token_seq MAXVALUE 1000000",
    "sequence cycle": "ALTER SEQUENCE document_lease_token_seq CYCLE",
    "sequence owner": "ALTER SEQUENCE document_lease_token_seq OWNED BY document_queue.lease_token",
    "column storage": "ALTER TABLE document_queue ALTER COLUMN doc_path SET STORAGE EXTERNAL",
    "column statistics": "ALTER TABLE document_queue ALTER COLUMN doc_id SET STATISTICS 500",
    "column type modifier": "ALTER TABLE run_workers ALTER COLUMN host TYPE varchar(200)",
    "unlogged table": "ALTER TABLE document_dependencies SET UNLOGGED",
    "constraint not valid": "ALTER TABLE run_workers ADD CONSTRAINT pid_positive CHECK (pid >= 0) NOT VALID",
    "deferrable constraint": "ALTER TABLE document_queue ALTER CONSTRAINT document_queue_run_id_fkey DEFERRABLE",
    "comment": "COMMENT ON TABLE run_workers IS 'sessions'",
    "trigger": "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$; "
               "CREATE TRIGGER touch BEFORE UPDATE ON run_workers FOR EACH ROW EXECUTE FUNCTION touch()",
    "replica identity": "ALTER TABLE run_workers REPLICA IDENTITY FULL",
    "extended statistics": "CREATE STATISTICS queue_deps (dependencies) ON run_id, source_name FROM document_queue",
}


@pytest.fixture(scope="module")
def schema_db(pg_server: str):  # type: ignore[no-untyped-def]
    name = f"gdg_schema_{secrets.token_hex(4)}"
    url = create_database(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql_loader.read("schema.sql"))
    yield url, dump(url)
    drop_database(name)


@pytest.mark.parametrize("change", sorted(_MUTATIONS))
def test_schema_comparison_sees_every_kind_of_difference(schema_db, change) -> None:
    url, baseline = schema_db
    with psycopg.connect(url) as conn:  # DDL is transactional: each change is rolled back afterwards
        conn.execute(_MUTATIONS[change])
        changed = dump_with(conn)
        conn.rollback()
    assert changed != baseline, f"the comparison misses a difference in {change}"


def test_apply_is_idempotent(scratch_db) -> None:
    url = scratch_db()
    with psycopg.connect(url, autocommit=True) as conn:
        everything = [version for version, _, _ in sql_loader.migrations()]
        assert migrations.apply(conn) == everything
        assert migrations.apply(conn) == []
        assert migrations.ensure_schema(conn) == []
        assert migrations.applied_versions(conn) == everything


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
    everything = [version for version, _, _ in sql_loader.migrations()]
    assert applied == everything, "each version applied by exactly one process"
    with psycopg.connect(url) as conn:
        assert migrations.applied_versions(conn) == everything


def test_query_names_are_unique_and_described() -> None:
    text = sql_loader.read("queries.sql")
    names = sql_loader.queries()
    assert len(names) == text.count("\n-- name: ")
    for block in text.split("\n-- name: ")[1:]:
        assert block.splitlines()[1].startswith("-- "), f"{block.splitlines()[0]} lacks a description"
