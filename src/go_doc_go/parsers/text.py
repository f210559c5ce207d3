"""Plain text: one paragraph per run of non-blank lines, with its line range.

Linear in the size of the input: one regular-expression scan finds the
paragraphs and line numbers come from counting newlines between them, so no
per-line objects are built and a 20 MB file takes well under a second. Line
endings (``\\r\\n``, ``\\r``) are normalised to ``\\n``; a paragraph keeps its
lines verbatim otherwise. The element budget bounds pathological files made
of millions of one-line paragraphs (that gives a ParseError, not a huge tree).
"""

from __future__ import annotations

import re

from go_doc_go.model import ElementType, ParsedNode, ParseResult
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, line_range

_PARAGRAPH = ElementType.PARAGRAPH
# A maximal run of lines that each hold something other than whitespace.
_PARAGRAPH_RE = re.compile(r"^[^\S\n]*\S.*(?:\n[^\S\n]*\S.*)*", re.MULTILINE)


def parse(doc: ParseInput) -> ParseResult:
    return guarded("text", _parse, doc)


def _parse(doc: ParseInput) -> ParseResult:
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
        children.append(ParsedNode(_PARAGRAPH, text=match.group(), location=line_range(line, last)))
        line, pos = last, end
    return ParseResult(root=root)
