"""Versioned schema migrations: idempotent, serialized by an advisory lock.

Applied automatically on first use (``ensure_schema``) and by
``go-doc-go db upgrade``. Several workers starting at once are safe: each takes
``pg_advisory_xact_lock`` before looking at ``schema_migrations``, so exactly
one applies a version and the others find it applied.
"""

from __future__ import annotations

import psycopg
from psycopg import Connection

from go_doc_go.exceptions import MigrationError
from go_doc_go.queue.sql_loader import migrations

#: Advisory lock key for migrations (an arbitrary constant: "gdg-mig").
MIGRATION_LOCK_KEY = 0x6764_672D_6D69_67

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


def latest_version() -> int:
    return max(version for version, _, _ in migrations())


def applied_versions(conn: Connection) -> list[int]:
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
    if not exists:
        return []
    return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def apply(conn: Connection) -> list[int]:
    """Apply every missing migration; returns the versions applied by this call."""
    done: list[int] = []
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            conn.execute(_BOOTSTRAP)
            present = set(applied_versions(conn))
            for version, name, sql in migrations():
                if version in present:
                    continue
                conn.execute(sql)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name)
                )
                done.append(version)
    except psycopg.OperationalError:
        raise
    except psycopg.Error as error:
        raise MigrationError(f"migration failed: {error}") from error
    return done


def ensure_schema(conn: Connection) -> list[int]:
    """Cheap when up to date (no lock taken); otherwise ``apply``."""
    try:
        if latest_version() in applied_versions(conn):
            return []
    except psycopg.OperationalError:
        raise
    except psycopg.Error:
        if not conn.autocommit:
            conn.rollback()
    return apply(conn)
