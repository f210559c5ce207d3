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
from go_doc_go.exceptions import ParseError
from go_doc_go.model import ParsedNode


@dataclass(slots=True)
class ParseInput:
    data: bytes
    path: str
    limits: ParsersConfig = field(default_factory=ParsersConfig)

    def text(self) -> str:
        """UTF-8 (BOM tolerated). Invalid bytes become U+FFFD rather than failing the document."""
        return self.data.decode("utf-8-sig", errors="replace")


class ElementBudget:
    """Counts nodes so a hostile document fails cleanly instead of exhausting memory."""

    def __init__(self, limits: ParsersConfig) -> None:
        self.remaining = limits.max_elements
        self.max_depth = limits.max_depth

    def spend(self, depth: int = 0) -> None:
        self.remaining -= 1
        if self.remaining < 0:
            raise ParseError("document has more elements than parsers.max_elements allows")
        if depth > self.max_depth:
            raise ParseError(f"document nesting exceeds parsers.max_depth ({self.max_depth})")


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
