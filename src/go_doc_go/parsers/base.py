"""What every parser receives and returns.

A parser is a function ``parse(doc: ParseInput) -> ParseResult``. It builds a
``ParsedNode`` tree (see ``go_doc_go.model``) and lists the links it found; ids,
ordering and hashes are assigned later by ``model.flatten`` so every parser
gets identical identity rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from go_doc_go.config import ParsersConfig
from go_doc_go.encoding import DecodedText, decode
from go_doc_go.exceptions import LimitExceededError, ParseError
from go_doc_go.model import ParsedNode, ParseResult


@dataclass(slots=True)
class ParseInput:
    data: bytes
    path: str
    limits: ParsersConfig = field(default_factory=ParsersConfig)
    #: Set by ``text()`` / ``decoded()``: how the bytes were read (see ``go_doc_go.encoding``).
    decoding: DecodedText | None = None

    def decoded(self, declared: str | None = None) -> DecodedText:
        """The document as text: BOM, ``declared`` encoding, UTF-8, detection (never fails)."""
        if self.decoding is None or declared is not None:
            self.decoding = decode(self.data, declared)
        return self.decoding

    def text(self) -> str:
        return self.decoded().text


class ElementBudget:
    """Per-document limits, spent while a parser builds its tree.

    Elements, table cells and links fail the document past their limit
    (``LimitExceededError`` names the key, the limit and the value met).
    Depth never fails: a parser asks ``keeps(depth)`` before opening a
    container and, when it is refused, puts the content into the deepest
    container it kept (text is kept, structure flattened); ``finish`` then
    records ``flattened_at_depth`` in the document's metadata.
    """

    __slots__ = ("remaining", "cells_left", "links_left", "max_depth", "limits", "flattened")

    def __init__(self, limits: ParsersConfig) -> None:
        self.limits = limits
        self.remaining = limits.max_elements
        self.cells_left = limits.max_cells
        self.links_left = limits.max_links
        self.max_depth = limits.max_depth
        self.flattened = False

    def spend(self, depth: int = 0) -> None:
        """Count one element (``depth`` is accepted for the parsers' convenience and not checked)."""
        self.remaining -= 1
        if self.remaining < 0:
            limit = self.limits.max_elements
            raise LimitExceededError("max_elements", limit, f"more than {limit:,} elements")

    def spend_cell(self) -> None:
        """Count one table cell (cells have their own, larger budget, and are not counted as elements)."""
        self.cells_left -= 1
        if self.cells_left < 0:
            limit = self.limits.max_cells
            raise LimitExceededError("max_cells", limit, f"more than {limit:,} table cells")

    def spend_link(self) -> None:
        self.links_left -= 1
        if self.links_left < 0:
            limit = self.limits.max_links
            raise LimitExceededError("max_links", limit, f"more than {limit:,} links")

    def keeps(self, depth: int) -> bool:
        """May a container be opened at ``depth``? False (and noted) past ``parsers.max_depth``."""
        if depth <= self.max_depth:
            return True
        self.flattened = True
        return False

    def finish(self, result: ParseResult) -> ParseResult:
        """Record in the document's metadata what the limits changed."""
        if self.flattened:
            result.metadata["flattened_at_depth"] = self.max_depth
        return result


def comment_blocks(text: str, markers: tuple[str, ...], budget: ElementBudget) -> list[ParsedNode]:
    """Full-line comments of a config file, one ``comment`` element per run of comment lines.

    Structured readers (tomllib, PyYAML, the INI scanner) drop comments, yet in
    configuration files they are the documentation ("why this is pinned"), so
    they are kept: text without the markers, with the line range. A line inside
    a multi-line string that happens to start with a marker is kept twice
    rather than lost.
    """
    from go_doc_go.model import ElementType

    blocks: list[ParsedNode] = []
    lines: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if stripped.startswith(markers):
            if not lines:
                first = number
            lines.append(stripped.lstrip("".join(markers)).strip())
            continue
        if lines:
            blocks.append(_comment(lines, first, number - 1, budget, ElementType.COMMENT))
            lines = []
    if lines:
        blocks.append(_comment(lines, first, first + len(lines) - 1, budget, ElementType.COMMENT))
    return [block for block in blocks if block.text]


def _comment(lines: list[str], first: int, last: int, budget: ElementBudget, kind: Any) -> ParsedNode:
    budget.spend(1)
    return ParsedNode(kind, text="\n".join(line for line in lines if line), location=line_range(first, last))


def line_range(start: int, end: int) -> dict[str, int]:
    """1-based inclusive line range, the location format of text-like parsers."""
    return {"line_start": start, "line_end": max(start, end)}


def new_root(**metadata: object) -> ParsedNode:
    from go_doc_go.model import ElementType

    return ParsedNode(ElementType.ROOT, metadata=dict(metadata))


_T = TypeVar("_T")


def guarded(
    label: str,
    parse: Callable[..., _T],
    doc: ParseInput,
    *args: Any,
    invalid: tuple[type[BaseException], ...] = (),
) -> _T:
    """``parse(doc, *args)`` with every failure turned into one ``ParseError``.

    ``invalid`` lists the format library's syntax errors, reported as
    "invalid <label>"; anything else (a parser bug included) costs this
    document only, with the exception's type in the message.
    """
    try:
        return parse(doc, *args)
    except ParseError:
        raise
    except RecursionError:
        raise ParseError(f"{label} {doc.path}: nesting too deep to parse") from None
    except invalid as error:
        raise ParseError(f"invalid {label} in {doc.path}: {error}") from error
    except Exception as error:  # noqa: BLE001 - any failure costs this document only
        raise ParseError(f"{label} {doc.path}: {type(error).__name__}: {error}") from error
