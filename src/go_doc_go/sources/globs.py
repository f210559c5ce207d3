"""Glob patterns over source-relative posix paths.

``**`` spans any number of folders, ``*`` and ``?`` stay within one. A pattern
without a slash matches the file name at any depth, as in .gitignore.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(path: str, pattern: str) -> bool:
    pattern = pattern.lstrip("/")
    if "/" not in pattern:
        return _compile(pattern).match(path.rsplit("/", 1)[-1]) is not None
    return _compile(pattern).match(path) is not None


def matches_any(path: str, patterns: list[str]) -> bool:
    return any(matches(path, p) for p in patterns)


def excludes_folder(folder: str, patterns: list[str]) -> bool:
    """True when every path under ``folder`` is excluded, so the walk can prune it."""
    for pattern in patterns:
        if matches(folder, pattern):
            return True
        stripped = pattern.rstrip("/")
        if stripped.endswith("/**") and matches(folder, stripped[:-3]):
            return True
    return False
