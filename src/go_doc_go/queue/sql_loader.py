"""The queue's packaged SQL: named queries (same format as the store's) and migrations."""

from __future__ import annotations

import re
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
    folder = resources.files("go_doc_go.queue").joinpath("sql", "migrations")
    found = []
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)
