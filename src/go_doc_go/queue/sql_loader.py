"""The queue's packaged SQL: named queries (same format as the store's) and migrations."""

from __future__ import annotations

from functools import cache
from importlib import resources

from go_doc_go.storage.queries import parse_queries


def read(name: str) -> str:
    """The text of one packaged file under ``queue/sql``."""
    return resources.files("go_doc_go.queue").joinpath("sql", name).read_text(encoding="utf-8")


@cache
def queries() -> dict[str, str]:
    return parse_queries(read("queries.sql"))


def migrations() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for every file in ``sql/migrations``, in order."""
    from go_doc_go.queue.migrations import MIGRATIONS

    return [(m.version, m.name, m.sql) for m in MIGRATIONS.migrations]
