"""The work queue's versioned schema, through the runner the store uses (``storage.migrations``).

Applied automatically on first use (``ensure_schema``) and by
``go-doc-go db upgrade``. Several workers starting at once are safe: the runner
takes ``pg_advisory_xact_lock(MIGRATION_LOCK_KEY)`` before looking at
``schema_migrations``, so exactly one applies a version and the others find
it applied. The queue and the store keep their versions in separate tables,
so they can share a database.
"""

from __future__ import annotations

import psycopg
from psycopg import Connection

from go_doc_go.exceptions import MigrationError
from go_doc_go.storage.migrations import MigrationSet, postgresql_upgrade, postgresql_version

#: Advisory lock key for migrations (an arbitrary constant: "gdg-mig").
MIGRATION_LOCK_KEY = 0x6764_672D_6D69_67

MIGRATIONS = MigrationSet(
    package="go_doc_go.queue", folder=("sql",), version_table="schema_migrations", marker_table="processing_runs",
    lock_key=MIGRATION_LOCK_KEY,
)  # fmt: skip


def latest_version() -> int:
    return MIGRATIONS.latest


def applied_versions(conn: Connection) -> list[int]:
    if not postgresql_version(conn, MIGRATIONS):
        return []
    return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def apply(conn: Connection) -> list[int]:
    """Apply every missing migration; returns the versions applied by this call (none when up to date)."""
    try:
        return postgresql_upgrade(conn, MIGRATIONS)
    except psycopg.OperationalError:
        raise
    except psycopg.Error as error:
        raise MigrationError(f"migration failed: {error}") from error


def ensure_schema(conn: Connection) -> list[int]:
    """Cheap when up to date (one catalog query, no lock); otherwise ``apply``."""
    return apply(conn)
