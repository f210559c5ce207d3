"""Plain text: one paragraph per run of non-blank lines, with its line range.

Linear in the size of the input: one regular-expression scan finds the
paragraphs and line numbers come from counting newlines between them, so no
per-line objects are built and a 20 MB file takes well under a second. Line
endings (``\\r\\n``, ``\\r``) are normalised to ``\\n``; a paragraph keeps its
lines verbatim otherwise. The bytes are decoded by ``go_doc_go.encoding``
(BOM, UTF-8, UTF-16/32, detected code pages such as cp1252), so UTF-16 and
UTF-32 files with or without a BOM read as text. The element budget bounds
pathological files made of millions of one-line paragraphs (a
``LimitExceededError`` naming ``parsers.max_elements``, not a huge tree).

``as_fallback`` is the way back for the other formats: a TOML, YAML or INI
file that does not parse, or a sniffed type whose parser failed, is stored
as plain text with the reason in ``metadata["parse_fallback"]``.
"""

from __future__ import annotations

import re
from typing import Any

from go_doc_go.model import ElementType, ParsedNode, ParseResult
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, line_range

_PARAGRAPH = ElementType.PARAGRAPH
# A maximal run of lines that each hold something other than whitespace.
_PARAGRAPH_RE = re.compile(r"^[^\S\n]*\S.*(?:\n[^\S\n]*\S.*)*", re.MULTILINE)


def parse(doc: ParseInput) -> ParseResult:
    return guarded("text", _parse, doc)


def as_fallback(doc: ParseInput, reason: str, **metadata: Any) -> ParseResult:
    """``doc`` parsed as plain text, with why in ``metadata["parse_fallback"]`` (and ``metadata``)."""
    result = parse(doc)
    result.metadata["parse_fallback"] = reason
    result.metadata.update(metadata)
    return result


def _parse(doc: ParseInput) -> ParseResult:
    return ParseResult(root=blocks(doc, _PARAGRAPH))


def blocks(doc: ParseInput, element_type: ElementType, metadata: dict[str, Any] | None = None) -> ParsedNode:
    """A root whose children are the blank-line separated blocks of ``doc``.

    ``metadata``, when given, is shared by every block (it is never mutated).
    """
    text = doc.text()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    root = ParsedNode(ElementType.ROOT)
    children = root.children
    spend = ElementBudget(doc.limits).spend
    count = text.count
    line = 1  # 1-based line number at offset ``pos``
    pos = 0
    for match in _PARAGRAPH_RE.finditer(text):
        start, end = match.span()
        line += count("\n", pos, start)
        last = line + count("\n", start, end)
        spend(1)
        meta = {} if metadata is None else metadata
        children.append(ParsedNode(element_type, match.group(), meta, line_range(line, last)))
        line, pos = last, end
    return root
