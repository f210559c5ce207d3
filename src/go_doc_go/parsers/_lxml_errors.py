"""Reading libxml2's error log: resource limits, the first real error, recovery metadata.

libxml2 stops a parse at a resource limit (nesting depth, entity
amplification) with a fatal error and keeps what it had read so far; in
recover mode that is a silent truncation. ``limit_hit`` finds those errors so
the parsers can fail the document or re-read it another way. The depth limit
is read from the message ("Excessive depth in document: 2048"), since it
differs between libxml2 versions and options (256 by default, 2,048 with
``huge_tree`` in libxml2 2.14; none with ``huge_tree`` in 2.12). The message
gives the depth reached, the limit or one more (2,049), so the limit is the
power of two at or below it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree

_DEPTH = re.compile(r"Excessive depth in document: (\d+)")
# By message, not type: the error types differ between libxml2 versions.
_AMPLIFICATION = "amplification"
_LOOP = "entity reference loop"
_SERIOUS = (etree.ErrorLevels.ERROR, etree.ErrorLevels.FATAL)


@dataclass(frozen=True, slots=True)
class LimitHit:
    #: ``depth`` or ``amplification``.
    kind: str
    message: str
    line: int
    #: The depth libxml2 refused (its limit), for ``depth``.
    limit: int | None = None


def limit_hit(log: Iterable[Any]) -> LimitHit | None:
    """The first resource-limit error in ``log``: excessive depth or entity amplification."""
    for entry in log:
        message = entry.message
        match = _DEPTH.search(message)
        if match is not None:
            reached = int(match.group(1))
            return LimitHit("depth", message.strip(), entry.line, 1 << (reached.bit_length() - 1))
        if _AMPLIFICATION in message or _LOOP in message:
            return LimitHit("amplification", message.strip(), entry.line)
    return None


def first_error(log: Iterable[Any], noise: Callable[[Any], bool] | None = None) -> dict[str, Any] | None:
    """``{"message", "line"}`` of the first error (not warning) that ``noise`` does not dismiss."""
    for entry in log:
        if entry.level in _SERIOUS and (noise is None or not noise(entry)):
            return {"message": entry.message.strip(), "line": entry.line}
    return None


def error_types(log: Iterable[Any]) -> set[int]:
    return {entry.type for entry in log if entry.level in _SERIOUS}


def recovery_metadata(error: dict[str, Any] | None, how: str) -> dict[str, Any]:
    """What a recovered document's metadata says: that it was, how, and the first error."""
    metadata: dict[str, Any] = {"recovered": True, "recovery": how}
    if error is not None:
        metadata["first_error"] = error
    return metadata
