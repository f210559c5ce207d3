"""MkDocs / Python-Markdown admonitions and pymdownx tabs, found before CommonMark runs.

    !!! note "Title"          ??? tip "Collapsed"     ???+ tip "Open"     === "Tab 1"
        body, indented            body                    body                body
        four spaces

CommonMark reads such a body as an indented code block. ``segments`` scans the
lines once (no recursion: a stack of open blocks) and cuts the document into
CommonMark chunks and block boundaries, in document order::

    Chunk(text, offset, cap)   markdown to tokenize; its line k is the file's line offset + k
    Block(type, metadata, ...) an admonition or tab opens; its body follows as chunks
    CLOSE                      the innermost open block ends

A block's body is every following line indented four more columns (blank lines
between them included); the first non-blank line indented less ends it (as in
Python-Markdown). Markers count only at the start of a line of the current
body, outside fenced code; inside list items and blockquotes they stay
CommonMark text. Bodies nest: an admonition inside an admonition or a tab is
found the same way. Each backend tokenizes the chunks with its own CommonMark
parser, so both see exactly the same text.

Link reference definitions are document-wide in Markdown but a chunk is
tokenized alone: the single-line definitions found anywhere are appended,
after a blank line, to every chunk that may use them (not to a chunk that ends
inside an open fence); ``cap`` is then the chunk's last real line, and line
ranges are clamped to it.
"""

from __future__ import annotations

import re
from typing import Any

from go_doc_go.parsers._markdown_common import _ADMONITION, _TAB

_QUICK = re.compile(r"\n(?:!!!|\?\?\?|===)")
_ADMONITION_MARKER = re.compile(
    r'(?:!!!|\?\?\?(\+)?)[ \t]*([\w-]+(?:[ \t]+[\w-]+)*)(?:[ \t]+"(.*?)")?[ \t]*\Z'
)
_TAB_MARKER = re.compile(r'===([!+]{0,2})[ \t]+"(.*?)"[ \t]*\Z')
_FENCE_OPEN = re.compile(r" {0,3}(`{3,}|~{3,})(.*)\Z")
_REF_DEF = re.compile(
    r""" {0,3}\[(?:[^\]\\\n]|\\.)+\]:[ \t]*(?:<[^>\n]*>|\S+)"""
    r"""(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*\Z"""
)


class Chunk:
    __slots__ = ("lines", "offset", "text", "cap", "in_fence")

    def __init__(self, lines: list[str], offset: int, in_fence: bool) -> None:
        self.lines = lines
        self.offset = offset
        self.in_fence = in_fence
        self.text = ""
        self.cap: int | None = None


class Block:
    """An admonition or a tab: its element type, metadata, title and 1-based line range."""

    __slots__ = ("element_type", "metadata", "title", "line_start", "line_end")

    def __init__(self, element_type: Any, metadata: dict[str, Any], title: str | None, line: int) -> None:
        self.element_type = element_type
        self.metadata = metadata
        self.title = title
        self.line_start = line
        self.line_end = line


CLOSE = None


class _Level:
    """One open body (the document is level 0): its indent, block and pending chunk."""

    __slots__ = ("indent", "block", "lines", "offset", "fence")

    def __init__(self, indent: int, block: Block | None, offset: int) -> None:
        self.indent = indent
        self.block = block
        self.lines: list[str] = []
        self.offset = offset
        self.fence: tuple[str, int] | None = None


def _indent(line: str) -> tuple[int, int]:
    """(columns, characters) of the line's leading whitespace; tabs stop every 4 columns."""
    pos = len(line) - len(line.lstrip(" \t"))
    if "\t" not in line[:pos]:
        return pos, pos
    cols = 0
    pos = 0
    for ch in line:
        if ch == " ":
            cols += 1
        elif ch == "\t":
            cols += 4 - cols % 4
        else:
            break
        pos += 1
    return cols, pos


def _dedent(line: str, cols: int) -> str:
    """``line`` without its first ``cols`` columns of indentation (``cols`` is a multiple of 4)."""
    if cols == 0:
        return line
    head = line[:cols]
    if "\t" not in head:
        return line[len(head) - len(head.lstrip(" ")) :] if head.strip(" ") else line[cols:]
    width = 0
    pos = 0
    while width < cols and pos < len(line):
        ch = line[pos]
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            break
        pos += 1
    return " " * (width - cols) + line[pos:] if width > cols else line[pos:]


def _marker(line: str) -> Block | None:
    first = line[:1]
    if first == "!" or first == "?":
        match = _ADMONITION_MARKER.match(line)
        if match is None:
            return None
        words = match.group(2).split()
        collapsible = first == "?"
        meta: dict[str, Any] = {
            "kind": words[0].lower(),
            "title": match.group(3),
            "collapsible": collapsible,
            "open": bool(match.group(1)),
        }
        if len(words) > 1:
            meta["classes"] = [w.lower() for w in words[1:]]
        return Block(_ADMONITION, meta, match.group(3), 0)
    if first == "=":
        match = _TAB_MARKER.match(line)
        if match is None:
            return None
        meta = {"title": match.group(2)}
        flags = match.group(1)
        if "!" in flags:
            meta["new_group"] = True
        if "+" in flags:
            meta["selected"] = True
        return Block(_TAB, meta, match.group(2), 0)
    return None


def _fence_closes(line: str, fence: tuple[str, int]) -> bool:
    cols, pos = _indent(line)
    if cols > 3:
        return False
    char, length = fence
    rest = line[pos:]
    run = len(rest) - len(rest.lstrip(char))
    return run >= length and not rest[run:].strip(" \t")


def _may_have_markers(text: str) -> bool:
    """A cheap test first: most documents have no line starting with a marker.

    ``ch in text`` is a memchr, several times faster than any search for the markers.
    """
    if "!" not in text and "?" not in text and "=" not in text:
        return False
    return text.startswith(("!!!", "???", "===")) or _QUICK.search(text) is not None


def segments(text: str, start_line: int = 0) -> list[Any] | None:
    """The document as chunks and block boundaries, or None when it has no marker at all.

    ``start_line`` is the first line after the front matter (which stays in the
    first chunk, verbatim).
    """
    if not _may_have_markers(text):
        return None
    lines = text.split("\n")
    n = len(lines) - (1 if lines[-1] == "" else 0)
    out: list[Any] = []
    refs: list[str] = []
    levels = [_Level(0, None, 0)]
    levels[0].lines.extend(lines[:start_line])

    def flush(level: _Level, upto: int) -> None:
        """Emit the level's pending lines ``[:upto]`` as a chunk (if any is not blank)."""
        pending = level.lines[:upto]
        if any(line.strip(" \t") for line in pending):
            out.append(Chunk(pending, level.offset, level.fence is not None))
        level.offset += upto
        del level.lines[:upto]

    def close_level() -> None:
        level = levels.pop()
        body = level.lines
        keep = len(body)
        while keep and not body[keep - 1]:
            keep -= 1
        flush(level, keep)
        out.append(CLOSE)
        parent = levels[-1]
        # The parent took no line while this body was open: its chunk goes on
        # with the body's trailing blank lines.
        parent.lines = level.lines
        parent.offset = level.offset
        if parent.block is not None and level.block is not None:
            parent.block.line_end = max(parent.block.line_end, level.block.line_end)

    level = levels[0]
    for i in range(start_line, n):
        line = lines[i]
        stripped = line.lstrip(" \t")
        if not stripped:
            level.lines.append("")
            continue
        if len(levels) > 1:
            cols = len(line) - len(stripped)
            if cols < level.indent or "\t" in line[:cols]:
                cols = _indent(line)[0]
                while len(levels) > 1 and cols < levels[-1].indent:
                    close_level()
                level = levels[-1]
        if level.block is not None:
            body = _dedent(line, level.indent)
            level.block.line_end = i + 1
        else:
            body = line
        first = stripped[0]
        if level.fence is not None:
            if (first == "`" or first == "~") and _fence_closes(body, level.fence):
                level.fence = None
        elif (first == "`" or first == "~") and (fence := _FENCE_OPEN.match(body)) is not None and not (
            fence.group(1)[0] == "`" and "`" in fence.group(2)
        ):
            level.fence = (fence.group(1)[0], len(fence.group(1)))
        elif (first == "!" or first == "?" or first == "=") and (block := _marker(body)) is not None:
            pending = level.lines
            keep = len(pending)
            while keep and not pending[keep - 1]:
                keep -= 1
            flush(level, keep)  # the blank lines before the marker belong to no block
            level.lines = []
            block.line_start = block.line_end = i + 1
            out.append(block)
            level.offset = i + 1
            level = _Level(level.indent + 4, block, i + 1)
            levels.append(level)
            continue
        elif first == "[" and _REF_DEF.match(body):
            refs.append(body.strip())
        level.lines.append(body)
    while len(levels) > 1:
        close_level()
    flush(levels[0], len(levels[0].lines))
    _finish(out, refs)
    return out


def _finish(out: list[Any], refs: list[str]) -> None:
    """Give each chunk its text, with the document's reference definitions where useful."""
    appendix = "\n" + "\n".join(refs) + "\n" if refs else ""
    for item in out:
        if item.__class__ is Chunk:
            text = "\n".join(item.lines) + "\n"
            if appendix and not item.in_fence and "[" in text:
                item.cap = item.offset + len(item.lines)
                text += appendix
            item.text = text
