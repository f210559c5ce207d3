"""Shared by the Markdown and HTML parsers: header sections and GitHub-style anchors.

``Sections`` nests headers: a header holds everything after it up to the next
header of the same or a shallower level, so ``h1 > h2 > h3`` and an ``h2``
after an ``h3`` closes the ``h3`` and goes back under the ``h1``. Content
before the first header sits directly under the root.

``Slugger`` gives each header the anchor GitHub would give it.
"""

from __future__ import annotations

import re

from go_doc_go.model import ParsedNode

_NOT_SLUG = re.compile(r"[^\w\- ]+")


class Sections:
    """A stack of open headers; ``parent`` is where top-level content goes next."""

    __slots__ = ("_stack",)

    def __init__(self, root: ParsedNode) -> None:
        # (level, node); the root is level 0 and is never popped.
        self._stack: list[tuple[int, ParsedNode]] = [(0, root)]

    @property
    def parent(self) -> ParsedNode:
        return self._stack[-1][1]

    @property
    def depth(self) -> int:
        """Number of open headers (0 when content goes straight under the root)."""
        return len(self._stack) - 1

    def depth_for(self, level: int) -> int:
        """The depth a new header of ``level`` will have once opened (for budgets)."""
        stack = self._stack
        n = len(stack)
        while n > 1 and stack[n - 1][0] >= level:
            n -= 1
        return n

    def open_header(self, node: ParsedNode, level: int) -> None:
        """Close headers of the same or deeper level, then attach and open ``node``."""
        stack = self._stack
        while len(stack) > 1 and stack[-1][0] >= level:
            stack.pop()
        stack[-1][1].children.append(node)
        stack.append((level, node))


def slugify(text: str) -> str:
    """GitHub's rule: lowercase, drop punctuation except ``-`` and ``_``, spaces to ``-``."""
    return _NOT_SLUG.sub("", text.strip().lower()).replace(" ", "-")


class Slugger:
    """Unique slugs within one document: a repeated slug gets ``-1``, ``-2`` ..."""

    __slots__ = ("_counts", "_used")

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._used: set[str] = set()

    def reserve(self, anchor: str) -> None:
        """Mark an explicit anchor (an HTML id) as taken so no slug repeats it."""
        self._used.add(anchor)

    def slug(self, text: str) -> str | None:
        base = slugify(text)
        if not base:
            return None
        used = self._used
        if base not in used:
            used.add(base)
            self._counts.setdefault(base, 0)
            return base
        n = self._counts.get(base, 0)
        while True:
            n += 1
            candidate = f"{base}-{n}"
            if candidate not in used:
                self._counts[base] = n
                used.add(candidate)
                return candidate

