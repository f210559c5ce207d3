"""The SQLite store's schema: schema.sql is the truth, migrations reproduce it, old stores upgrade."""

import multiprocessing
import sqlite3

import pytest

from go_doc_go.storage.migrations import sql_statements, sqlite_upgrade, sqlite_version
from go_doc_go.storage.sqlite import MIGRATIONS, SQLiteStore


def describe(db: sqlite3.Connection) -> dict:
    """Everything that makes a schema, in a form that ignores how the SQL text was written."""
    objects = {}
    for kind, name, table, sql in db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ):
        if name.startswith("elements_fts_"):
            continue  # FTS5 shadow tables follow from the virtual table
        entry: dict = {"type": kind, "table": table}
        if kind == "table" and not (sql or "").upper().startswith("CREATE VIRTUAL"):
            entry["columns"] = [tuple(r[1:]) for r in db.execute(f"PRAGMA table_xinfo('{name}')")]
            entry["without_rowid"] = "WITHOUT ROWID" in sql.upper()
        elif kind == "index":
            entry["columns"] = [tuple(r[1:]) for r in db.execute(f"PRAGMA index_xinfo('{name}')")]
            entry["unique"] = "UNIQUE" in (sql or "").upper().split("INDEX")[0]
            entry["where"] = " ".join(sql.split("WHERE", 1)[1].split()) if sql and "WHERE" in sql else None
        else:
            entry["sql"] = " ".join((sql or "").split())
        objects[name] = entry
    return objects


def test_schema_sql_equals_all_migrations():
    from_schema = sqlite3.connect(":memory:")
    for statement in sql_statements(MIGRATIONS.schema):
        from_schema.execute(statement)
    from_migrations = sqlite3.connect(":memory:")
    for migration in MIGRATIONS.migrations:
        for statement in sql_statements(migration.sql):
            from_migrations.execute(statement)
    assert describe(from_migrations) == describe(from_schema)
    settings = "SELECT key, value FROM store_settings"
    assert from_migrations.execute(settings).fetchall() == from_schema.execute(settings).fetchall()


def test_an_up_to_date_store_opens_without_ddl(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStore(path, structural=True).close()
    with sqlite3.connect(path) as db:
        before = db.execute("PRAGMA schema_version").fetchone()[0]
    SQLiteStore(path, structural=True).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA schema_version").fetchone()[0] == before
        assert db.execute("SELECT count(*) FROM store_migrations").fetchone()[0] == len(MIGRATIONS.migrations)


def test_a_store_written_before_versioning_is_upgraded_and_keeps_its_data(tmp_path):
    """A store as the first release wrote it (migration 0001 is its exact schema), links-only view."""
    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    for statement in sql_statements(MIGRATIONS.migrations[0].sql):
        old.execute(statement)
    old.executescript(
        "DROP VIEW relationships; CREATE VIEW relationships AS SELECT relationship_id, doc_id, source_id, "
        "relationship_type, target_id, target_reference, target_doc_id, target_anchor, metadata "
        "FROM stored_relationships;"
        "INSERT INTO documents (doc_id, source, path, doc_type, content_hash, size) VALUES "
        "('d1', 's', 'a.md', 'markdown', 'h1', 1), ('d2', 's', 'b.md', 'markdown', 'h2', 1);"
        "INSERT INTO elements (element_id, doc_id, element_type, parent_id, sibling_order, document_position,"
        " path_segment, text, content_hash, anchor) VALUES"
        " ('r1', 'd1', 'root', NULL, 0, 0, 'root', '', 'x', NULL),"
        " ('r2', 'd2', 'root', NULL, 0, 0, 'root', '', 'x', NULL),"
        " ('h2', 'd2', 'header', 'r2', 0, 1, 'header[0]', 'Usage', 'x', 'usage');"
        "INSERT INTO stored_relationships (relationship_id, doc_id, source_id, relationship_type, target_id,"
        " target_reference, target_doc_id, target_anchor) VALUES"
        " ('l1', 'd1', 'r1', 'links_to', 'r2', 'b.md#usage', 'd2', 'usage');"
    )
    old.close()
    store = SQLiteStore(path)
    assert sqlite_version(store.db, MIGRATIONS) == MIGRATIONS.latest
    assert store.db.execute("SELECT anchor, element_id FROM element_anchors").fetchall() == [("usage", "h2")]
    assert store.db.execute("SELECT value FROM store_settings WHERE key = 'structural'").fetchone() == ("0",)
    assert store.db.execute("SELECT count(*) FROM relationships").fetchone() == (1,), "still links only"
    with store.transaction() as tx:
        assert store.resolve_pending_links(tx) == 1
    assert store.db.execute("SELECT target_id FROM stored_relationships").fetchone() == ("h2",)
    assert store.find_document("a.md")[0].doc_id == "d1"
    store.close()


def _open(path, start, results):
    start.wait()
    try:
        SQLiteStore(path).close()
        results.put("ok")
    except Exception as error:  # noqa: BLE001
        results.put(repr(error))


def test_processes_opening_a_new_store_at_once_apply_the_schema_once(tmp_path):
    """Eight processes open one new file together, ten times over (switching it to WAL used to fail one of them)."""
    ctx = multiprocessing.get_context("fork")
    for round_ in range(10):
        start, results = ctx.Barrier(8), ctx.Queue()
        path = tmp_path / f"new{round_}.db"
        procs = [ctx.Process(target=_open, args=(path, start, results)) for _ in range(8)]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join()
        assert outcomes == ["ok"] * 8
        with sqlite3.connect(path) as db:
            versions = db.execute("SELECT version FROM store_migrations ORDER BY version").fetchall()
        assert versions == [(m.version,) for m in MIGRATIONS.migrations]


def test_a_broken_migration_rolls_back(tmp_path):
    db = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    db.execute("CREATE TABLE documents (doc_id TEXT)")  # an old store...
    with pytest.raises(sqlite3.OperationalError):
        sqlite_upgrade(db, MIGRATIONS)  # ...that lacks the tables 0002 changes
    assert sqlite_version(db, MIGRATIONS) == 0, "nothing recorded"
