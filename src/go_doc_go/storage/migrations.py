"""Versioned schema migrations, one runner for every schema we own.

A ``MigrationSet`` names a folder of packaged SQL: ``schema.sql`` (the truth)
and ``migrations/NNNN_name.sql``. A new database gets ``schema.sql`` and every
version recorded as applied; an existing one gets the versions it lacks, in
order, inside one transaction. A test per set proves that both routes give the
same schema. Opening a store that is up to date costs one query and runs no
DDL, so many workers starting at once never race on a ``DROP VIEW``.

SQLite serializes upgrades with ``BEGIN IMMEDIATE``; PostgreSQL with
``pg_advisory_xact_lock(lock_key)``. Each set has its own version table, so
the store and the work queue can share one PostgreSQL database.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING, Any

from go_doc_go.exceptions import MigrationError

if TYPE_CHECKING:  # psycopg is imported only where PostgreSQL is used
    import psycopg


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class MigrationSet:
    package: str
    folder: tuple[str, ...]
    version_table: str
    #: The table whose presence tells an existing database from a new one.
    marker_table: str
    lock_key: int = 0

    def read(self, *parts: str) -> str:
        return resources.files(self.package).joinpath(*self.folder, *parts).read_text(encoding="utf-8")

    @cached_property
    def schema(self) -> str:
        return self.read("schema.sql")

    @cached_property
    def migrations(self) -> list[Migration]:
        folder = resources.files(self.package).joinpath(*self.folder, "migrations")
        found = []
        for entry in folder.iterdir():
            match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
            if match:
                found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
        return sorted(found, key=lambda m: m.version)

    @property
    def latest(self) -> int:
        return self.migrations[-1].version


def sql_statements(script: str) -> list[str]:
    """Split a script into statements (``sqlite3.complete_statement`` knows about triggers and strings)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statement = current.strip()
            if statement.rstrip(";").strip() and not _only_comments(statement):
                statements.append(statement)
            current = ""
    if current.strip() and not _only_comments(current):
        statements.append(current.strip())
    return statements


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())


# ---------------------------------------------------------------- SQLite


def sqlite_version(db: sqlite3.Connection, migrations: MigrationSet) -> int | None:
    """The applied version, 0 for a database that predates versioning, None for an empty one."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if migrations.version_table in tables:
        row = db.execute(f"SELECT max(version) FROM {migrations.version_table}").fetchone()  # noqa: S608
        return row[0] or 0
    return 0 if migrations.marker_table in tables else None


def sqlite_upgrade(db: sqlite3.Connection, migrations: MigrationSet, *, legacy_version: int = 1) -> list[int]:
    """Bring the database to the latest version; returns the versions applied now.

    ``db`` must be in autocommit mode (``isolation_level=None``). A database
    that has the marker table but no version table was made before versioning
    and counts as ``legacy_version``.
    """
    if sqlite_version(db, migrations) == migrations.latest:
        return []
    db.execute("BEGIN IMMEDIATE")
    try:
        version = sqlite_version(db, migrations)
        if version is None:
            for statement in sql_statements(migrations.schema):
                db.execute(statement)
            applied = [m.version for m in migrations.migrations]
        else:
            if version == 0:
                _sqlite_create_version_table(db, migrations)
                db.execute(
                    f"INSERT INTO {migrations.version_table} (version, name) VALUES (?, 'legacy')",  # noqa: S608
                    (legacy_version,),
                )
                version = legacy_version
            applied = []
            for migration in migrations.migrations:
                if migration.version > version:
                    for statement in sql_statements(migration.sql):
                        db.execute(statement)
                    applied.append(migration.version)
        recorded = {row[0] for row in db.execute(f"SELECT version FROM {migrations.version_table}")}  # noqa: S608
        for migration in migrations.migrations:
            if migration.version in applied and migration.version not in recorded:
                db.execute(
                    f"INSERT INTO {migrations.version_table} (version, name) VALUES (?, ?)",  # noqa: S608
                    (migration.version, migration.name),
                )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return applied


def _sqlite_create_version_table(db: sqlite3.Connection, migrations: MigrationSet) -> None:
    for statement in sql_statements(migrations.schema):
        if re.search(rf"(?m)^CREATE TABLE {migrations.version_table}\b", statement):
            db.execute(statement)
            return
    raise MigrationError(f"{migrations.folder}: schema.sql does not define {migrations.version_table}")


# ---------------------------------------------------------------- PostgreSQL


def postgresql_version(conn: psycopg.Connection[Any], migrations: MigrationSet) -> int | None:
    """As ``sqlite_version``, for PostgreSQL (no lock taken).

    Reads ``pg_class`` with the statement's snapshot rather than ``to_regclass``:
    after waiting for the advisory lock, the backend's relation cache may not yet
    know the tables that the lock's previous holder just created (``to_regclass``
    takes no lock, so it never refreshes the cache), and the schema would be
    applied twice. Locking ``pg_class`` for the scan refreshes the cache too.
    """
    row = conn.execute(
        "SELECT coalesce(bool_or(c.relname = %s), false), coalesce(bool_or(c.relname = %s), false) "
        "FROM pg_catalog.pg_class c WHERE c.relname IN (%s, %s) AND pg_catalog.pg_table_is_visible(c.oid)",
        (migrations.version_table, migrations.marker_table, migrations.version_table, migrations.marker_table),
    ).fetchone()
    assert row is not None
    has_versions, has_marker = row
    if has_versions:
        found = conn.execute(f"SELECT max(version) FROM {migrations.version_table}").fetchone()  # noqa: S608
        return (found[0] if found else None) or 0
    return 0 if has_marker else None


def postgresql_upgrade(conn: psycopg.Connection[Any], migrations: MigrationSet) -> list[int]:
    """Bring the database to the latest version under an advisory lock; returns the versions applied."""
    if postgresql_version(conn, migrations) == migrations.latest:
        return []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (migrations.lock_key,))
        version = postgresql_version(conn, migrations)
        if version is None:
            conn.execute(migrations.schema)  # type: ignore[arg-type]  # our own packaged SQL
            applied = [m.version for m in migrations.migrations]
        else:
            applied = []
            for migration in migrations.migrations:
                if migration.version > version:
                    conn.execute(migration.sql)  # type: ignore[arg-type]
                    applied.append(migration.version)
        for version_applied in applied:
            name = next(m.name for m in migrations.migrations if m.version == version_applied)
            conn.execute(
                f"INSERT INTO {migrations.version_table} (version, name) VALUES (%s, %s) "  # noqa: S608
                "ON CONFLICT DO NOTHING",
                (version_applied, name),
            )
    return applied
