"""Load named SQL blocks from packaged ``.sql`` files.

A block starts with a header line ``-- name: block_name`` (an optional
description may follow on the next ``--`` lines) and runs to the next header.
Keeping SQL in files, with one module per engine using the names, keeps it out
of business logic (procrastinate's approach).
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse_queries(text: str) -> dict[str, str]:
    """Split a queries file into ``{name: sql}``; a repeated name is an error."""
    queries: dict[str, str] = {}
    matches = list(_HEADER.finditer(text))
    for index, match in enumerate(matches):
        name = match.group(1)
        if name in queries:
            raise ValueError(f"duplicate query name: {name}")
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = "\n".join(
            line for line in text[match.end() : end].strip().splitlines() if not line.startswith("--")
        )
        queries[name] = body.strip().rstrip(";")
    return queries
