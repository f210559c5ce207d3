"""The pyromark (pulldown-cmark) backend of the Markdown parser.

It builds exactly the tree the markdown-it backend in ``markdown.py`` builds
(that module's docstring describes it), from pulldown-cmark's event stream
instead of markdown-it's token stream: one pass, an explicit stack, no
recursion. The places where the two tokenizers report things differently are
mapped here so the results match:

* Byte offsets: pulldown-cmark ranges are UTF-8 byte offsets; they become
  1-based line ranges through a table of line starts, with the same
  conventions as markdown-it's ``token.map``.
* Tight lists: pulldown-cmark emits no ``Paragraph`` inside a tight item, so a
  run of inline events directly in an item is the (hidden) paragraph whose
  text and links markdown-it folds into the ``list_item``.
* Front matter is found with the rules of mdit-py-plugins' ``front_matter``
  (not pulldown-cmark's metadata blocks, whose rules differ); its lines are
  blanked before tokenizing so line numbers still count them.
* Links: destinations go through markdown-it's ``normalizeLink`` (percent
  encoding, punycode); autolink text through ``normalizeLinkText``; email
  autolinks get ``mailto:``.
* Nesting: markdown-it's CommonMark preset stops at ``maxNesting`` = 20 open
  container tokens (blockquote, list, list item each count one). A block that
  would start deeper is dropped together with the rest of its container, and
  a list item that hits the bound swallows everything up to the end of the
  enclosing blockquote (or the document), exactly as markdown-it does.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate
from typing import Any

import pyromark
from markdown_it.common.normalize_url import normalizeLink, normalizeLinkText

from go_doc_go.model import ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers._headings import Sections, Slugger
from go_doc_go.parsers._markdown_common import (
    _BLOCK_SEP,
    _CODE,
    _HEADER,
    _HR,
    _IMAGE,
    _LIST,
    _LIST_ITEM,
    _PARAGRAPH,
    _QUOTE,
    _ROOT,
    _ROW_SEP,
    _TABLE,
    _TABLE_CELL,
    _TABLE_HEADER,
    _TABLE_ROW,
)
from go_doc_go.parsers.base import ElementBudget, ParseInput

_OPTIONS = pyromark.Options.ENABLE_TABLES
_events = pyromark.events_with_range

MAX_NESTING = 20  # markdown-it's CommonMark preset


# Frame kinds. A frame is a list [node, parts, sep, kind, extra]: ``parts``
# collects the text of finished children, joined with ``sep`` on close.
_NODE, _PARTS, _SEP, _KIND, _EXTRA = 0, 1, 2, 3, 4
_K_QUOTE, _K_LIST, _K_ITEM, _K_TABLE, _K_ROW = 1, 2, 3, 4, 5

# Inline contexts (what ends the current run of inline events).
_C_NONE, _C_PARA, _C_HEAD, _C_CELL, _C_HIDDEN, _C_CODE, _C_HTML = 0, 1, 2, 3, 4, 5, 6

_ALIGN = {"Left": "text-align:left", "Right": "text-align:right", "Center": "text-align:center"}
_LEVEL = {"H1": 1, "H2": 2, "H3": 3, "H4": 4, "H5": 5, "H6": 6}

# A destination made only of these is left unchanged by normalizeLink.
_PLAIN_URL = re.compile(r"(?:[A-Za-z0-9;/?:@&=+$,\-_.!~*'()#]|%[0-9A-Fa-f]{2})*\Z")


@lru_cache(maxsize=4096)
def _normalize_slow(url: str) -> str:
    return normalizeLink(url)


# Autolink text that normalizeLinkText leaves unchanged (no %-escapes, auth or punycode).
_PLAIN_LINK_TEXT = re.compile(r"[A-Za-z0-9/:.\-_~?#=&+,;!$*'()]*\Z")


def _link_text(url: str) -> str:
    if _PLAIN_LINK_TEXT.match(url) and "xn--" not in url.lower():
        return url
    return _link_text_slow(url)


@lru_cache(maxsize=1024)
def _link_text_slow(url: str) -> str:
    return normalizeLinkText(url)


def _href(url: str) -> str:
    if _PLAIN_URL.match(url):
        return url
    return _normalize_slow(url)


def parse(doc: ParseInput, front_matter: Callable[[str], dict[str, Any]]) -> ParseResult:
    """Parse with pyromark; errors propagate (``markdown.parse_with_pyromark`` wraps them).

    ``front_matter`` turns the front matter's source into metadata (shared with
    the markdown-it backend).
    """
    text = doc.text()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in text:
        text = text.replace("\0", "\ufffd")

    root = ParsedNode(_ROOT)
    result = ParseResult(root=root)

    if text[:3] == "---":
        found = _find_front_matter(text)
        if found is not None:
            content, body_start, n_lines = found
            result.metadata.update(front_matter(content))
            # Blank the front matter so pulldown-cmark ignores it but lines still count.
            text = "\n" * n_lines + text[body_start:]

    _walk(text, result, ElementBudget(doc.limits).spend)
    title = result.metadata.get("title")
    if not (isinstance(title, str) and title.strip()):
        title = result.title  # the first h1, set by _walk
    result.title = title
    return result


def _find_front_matter(src: str) -> tuple[str, int, int] | None:
    """mdit-py-plugins' front_matter rule: (content, offset after it, lines it spans).

    Lines are measured the way markdown-it's StateBlock measures them, but only
    as far as the closing marker.
    """
    length = len(src)
    find = src.find

    def line_at(start: int) -> tuple[int, int, int] | None:
        """(first non-blank offset, end offset, indent width) of the line at ``start``."""
        if start >= length:
            return None
        end = find("\n", start)
        if end < 0:
            end = length
        pos = start
        width = 0
        while pos < end:
            ch = src[pos]
            if ch != " " and ch != "\t":
                break
            width += 4 - width % 4 if ch == "\t" else 1
            pos += 1
        if pos == end == length:
            return None  # a final blank line without "\n" is no line for markdown-it
        return pos, end, width

    def skip_spaces(pos: int) -> int:
        while pos < length and src[pos] in " \t":
            pos += 1
        return pos

    first = line_at(0)
    if first is None or src[0] != "-":
        return None
    maximum = first[1]
    pos = 1
    while pos <= maximum and pos < length and src[pos] == "-":
        pos += 1
    marker_count = pos
    if marker_count < 3:
        return None
    body_start = maximum + 1  # offset of line 1
    line_start = body_start
    prev_end = maximum
    n = 0
    while True:
        n += 1
        info = line_at(line_start)
        if info is None:
            return None  # unclosed: not front matter
        start, maximum, width = info
        closed = False
        if width == 0 and src.startswith("...", start) and skip_spaces(start + 3) >= maximum:
            closed = True
        elif src[start : start + 1] == "-" and width < 4:
            pos = start + 1
            while pos < maximum and src[pos] == "-":
                pos += 1
            closed = pos - start >= marker_count and skip_spaces(pos) >= maximum
        if closed:
            content = src[body_start:prev_end] if n > 1 else ""
            after = maximum + 1 if maximum < length else length
            return content, after, n + 1
        prev_end = maximum
        line_start = maximum + 1


def _walk(text: str, result: ParseResult, spend: Any) -> None:
    root = result.root
    links = result.links
    sections = Sections(root)
    slugger = Slugger()
    first_h1: str | None = None

    # markdown-it does not see a last line of only spaces/tabs without "\n": drop it.
    cut = text.rfind("\n") + 1
    if cut < len(text) and not text[cut:].strip(" \t"):
        text = text[:cut]
    if text.isascii():
        buf: str | bytes = text
        prefix_chars: str | bytes = " \t>"
        newline: str | bytes = "\n"
    else:
        buf = text.encode("utf-8", "surrogatepass")
        prefix_chars = b" \t>"
        newline = b"\n"
    data_len = len(buf)
    lines = buf.split(newline)
    # Byte offset of each line start; line of offset p (1-based) = bisect_right(starts, p).
    starts = list(accumulate(map((1).__add__, map(len, lines[:-1])), initial=0))
    n_lines = len(lines) - (1 if not lines[-1] else 0)  # markdown-it's line count
    # Byte offset after the last non-blank character: a container reaching it
    # is followed only by its ancestors' ends.
    content_end = data_len - (len(text) - len(text.rstrip(" \t\n")))

    def loc(rng: dict[str, int]) -> dict[str, int]:
        s = rng["start"]
        e = rng["end"]
        ls = bisect_right(starts, s)
        le = bisect_right(starts, e - 1) if e > s else ls
        return {"line_start": ls, "line_end": le if le > ls else ls}

    def loc_container(rng: dict[str, int]) -> dict[str, int]:
        # A list/item/blockquote range may end inside the next line's container
        # prefix (indentation, ">"), where the next block starts: that line is not its own.
        s = rng["start"]
        e = rng["end"]
        ls = bisect_right(starts, s)
        if e <= s:
            return {"line_start": ls, "line_end": ls}
        le = bisect_right(starts, e - 1)
        if e < data_len and buf[e - 1 : e] != newline and buf[e : e + 1] != newline:
            if not buf[starts[le - 1] : e].strip(prefix_chars):
                le -= 1
        return {"line_start": ls, "line_end": le if le > ls else ls}

    blank_chars: str | bytes = prefix_chars[:2]  # " \t"
    _MARKER_CHARS = prefix_chars + ("-*+.)0123456789" if isinstance(prefix_chars, str) else b"-*+.)0123456789")

    def close_container(frame: list[Any], quote: bool) -> None:
        """Close a list item, list or blockquote, with markdown-it's line range.

        markdown-it ends a container where its block loop stopped. When the
        loop starts over on a run of empty lines that reaches the end of the
        container (empty content, or two or more empty lines after the last
        block), it skips on over the blank lines that follow, too; an empty
        list item followed by a blank line takes exactly that line. And a
        container reaches at least as far as its children.
        """
        node = frame[_NODE]
        child_parts = frame[_PARTS]
        location = node.location
        if frame[_KIND] == _K_LIST:
            if node.children:  # markdown-it: a list ends where its last item ends
                location["line_end"] = node.children[-1].location["line_end"]
        elif len(frame) == 5:  # not cut short by the nesting bound
            ls = location["line_start"]
            le = location["line_end"]
            extend = False
            if not child_parts and _all_empty(lines, ls, le, _MARKER_CHARS if not quote else prefix_chars):
                if quote:
                    extend = True
                elif ls < n_lines and not lines[ls].strip(blank_chars):
                    _extend(node, ls + 1)  # markdown-it's "empty item, then a blank line" rule
            elif le - ls >= 1:
                if quote:
                    children = node.children
                    extend = le - (children[-1].location.get("line_end", le) if children else le) >= 2
                else:
                    extend = not lines[le - 1].strip(prefix_chars) and not lines[le - 2].strip(prefix_chars)
            if extend:
                while le < n_lines and not lines[le].strip(blank_chars):
                    le += 1
                if le > location["line_end"]:
                    _extend(node, le)
        joined = node.text = frame[_SEP].join(child_parts)
        if frames:
            parent = frames[-1]
            parent[_PARTS].append(joined)
            end = location.get("line_end", 0)
            if end > parent[_NODE].location.get("line_end", end):
                _extend(parent[_NODE], end)

    frames: list[list[Any]] = []
    top = root
    sdepth = 0
    level = 0  # markdown-it nesting level: open blockquotes + lists + items

    # Inline context.
    ctx = _C_NONE
    parts: list[str] | None = None
    owner: ParsedNode | None = None  # node that gets links and images
    ctx_node: ParsedNode | None = None  # paragraph / heading / cell / code node
    img_depth_budget = 0
    open_links: list[tuple[str, int, bool]] = []
    image_start = -1  # index in parts where the outermost open image's alt starts
    image_nest = 0
    image_meta: dict[str, Any] | None = None

    events = _events(text, options=_OPTIONS)
    skip = swallow = False
    skip_depth = region_end = 0

    for ev, rng in events:
        if skip:
            # Dropping the tail of a container nested too deep (see _drop).
            if ev.__class__ is str:
                continue
            (key, val), = ev.items()
            if key == "Start":
                skip_depth += 1
                continue
            if key != "End":
                continue
            skip_depth -= 1
            if skip_depth >= 0:
                continue
            frame = frames[-1]
            if swallow and frame[_KIND] != _K_QUOTE:
                # An item (or list) that hit the bound runs to the region end.
                frames.pop()
                level -= 1
                _extend(frame[_NODE], region_end)
                _close_frame(frame, frames)
                if not frames:
                    break  # the region is the rest of the document
                skip_depth = 0
                continue
            skip = False  # this End closes the dropped container: handle it normally
        if ev.__class__ is str:
            if ev == "Rule":
                key = "Start"  # a leaf block: handled with the block starts below
                val = "Rule"
            else:  # SoftBreak / HardBreak: a line break in the text
                if parts is not None:  # fast path: inside a block's text
                    parts.append("\n")
                    continue
                key = "Text"
                val = "\n"
        else:
            (key, val), = ev.items()

        if key == "Text":
            if parts is not None:  # fast path: inside a block's text
                parts.append(val)
                continue
            tag = None
        elif key == "End":
            if val.__class__ is str:
                if val == "Paragraph":
                    if ctx != _C_PARA:
                        continue
                    content = "".join(parts)
                elif val == "Emphasis" or val == "Strong" or val == "Strikethrough":
                    continue
                elif val == "Link":
                    if image_nest:
                        continue
                    href, start, auto = open_links.pop()
                    if auto:
                        raw = "".join(parts[start:])
                        del parts[start:]
                        parts.append(_link_text(raw))
                    if href:
                        links.append(ParsedLink(href, "".join(parts[start:]), owner))
                    continue
                elif val == "Image":
                    image_nest -= 1
                    if image_nest:
                        continue
                    alt = "".join(parts[image_start:])
                    del parts[image_start:]
                    parts.append(alt)
                    spend(img_depth_budget)
                    image_meta["alt"] = alt
                    owner.children.append(ParsedNode(_IMAGE, text=alt, metadata=image_meta, location=dict(owner.location)))
                    image_meta = None
                    continue
                elif val == "TableCell":
                    content = "".join(parts)
                    frames[-1][_EXTRA] += 1
                elif val == "CodeBlock":
                    content = "".join(parts)
                    if content.endswith("\n"):
                        content = content[:-1]
                elif val == "HtmlBlock":
                    content = "".join(parts).rstrip("\n")
                elif val == "Item":
                    if parts is not None:  # hidden paragraph of a tight item
                        frames[-1][_PARTS].append("".join(parts))
                        parts = None
                        ctx = _C_NONE
                    level -= 1
                    close_container(frames.pop(), False)
                    continue
                elif val == "TableHead" or val == "TableRow" or val == "Table":
                    frame = frames.pop()
                    joined = frame[_NODE].text = frame[_SEP].join(frame[_PARTS])
                    if frames:
                        frames[-1][_PARTS].append(joined)
                    continue
                else:  # unknown end tag without structure
                    continue
            else:
                # Dict-shaped end tags: Heading, List, BlockQuote, MetadataBlock.
                (tag, _), = val.items()
                if tag != "Heading":
                    if tag == "List" or tag == "BlockQuote":
                        level -= 1
                        close_container(frames.pop(), tag == "BlockQuote")
                    continue
                if parts and parts[-1][-1:] == "\t":  # pulldown-cmark keeps a trailing tab
                    parts[-1] = parts[-1].rstrip(" \t")
                content = "".join(parts)
                ctx_node.anchor = slugger.slug(content)
                if first_h1 is None and ctx_node.metadata["level"] == 1:
                    first_h1 = content
            # The end of a paragraph, heading, table cell, code or HTML block.
            ctx_node.text = content
            parts = None
            ctx = _C_NONE
            if frames:
                frames[-1][_PARTS].append(content)
            continue
        elif key == "Start":
            if val.__class__ is str:
                tag = val
                if tag == "Emphasis" or tag == "Strong" or tag == "Strikethrough":
                    if parts is not None:  # fast path: markup only
                        continue
                    inline = True
                elif tag == "Paragraph":
                    inline = False
                elif tag == "TableCell":
                    frame = frames[-1]
                    depth = len(frames) + sdepth + 1
                    spend(depth)
                    node = ParsedNode(_TABLE_CELL, location=dict(frame[_NODE].location))
                    aligns = frame[_EXTRA + 1]
                    index = frame[_EXTRA]
                    if index < len(aligns):
                        style = _ALIGN.get(aligns[index])
                        if style:
                            node.metadata["style"] = style
                    frame[_NODE].children.append(node)
                    ctx = _C_CELL
                    ctx_node = owner = node
                    parts = []
                    img_depth_budget = depth + 1
                    continue
                elif tag == "Item":
                    node = ParsedNode(_LIST_ITEM, location=loc_container(rng))
                    spend(len(frames) + sdepth + 1)
                    frames[-1][_NODE].children.append(node)
                    frames.append([node, [], _BLOCK_SEP, _K_ITEM, rng["end"]])
                    level += 1
                    continue
                elif tag == "TableHead" or tag == "TableRow":
                    table = frames[-1]
                    node = ParsedNode(_TABLE_HEADER if tag == "TableHead" else _TABLE_ROW, location=loc(rng))
                    spend(len(frames) + sdepth + 1)
                    table[_NODE].children.append(node)
                    frames.append([node, [], _ROW_SEP, _K_ROW, 0, table[_EXTRA]])
                    continue
                elif tag == "HtmlBlock" or tag == "Rule":
                    inline = False
                else:
                    continue  # other tags carry no structure
            else:
                (tag, arg), = val.items()
                inline = tag == "Link" or tag == "Image"
            if not inline:
                # Block-level tags: close a hidden paragraph, apply the nesting bound.
                if parts is not None and ctx == _C_HIDDEN:
                    frames[-1][_PARTS].append("".join(parts))
                    parts = None
                    ctx = _C_NONE
                if level >= MAX_NESTING:
                    # A Start is skipped together with its End; a Rule has none.
                    skip, skip_depth, swallow, region_end = _drop(frames, n_lines, 0 if tag == "Rule" else 1)
                    if frames[-1][_EXTRA] >= content_end:
                        break  # nothing follows the dropped container but its ancestors' ends
                    continue
                if tag == "Paragraph":  # the most common block: straight through
                    depth = len(frames) + sdepth + 1
                    spend(depth)
                    node = ParsedNode(_PARAGRAPH, location=loc(rng))
                    (frames[-1][_NODE] if frames else top).children.append(node)
                    ctx = _C_PARA
                    ctx_node = owner = node
                    parts = []
                    img_depth_budget = depth + 1
                    continue
                # Other blocks: build the node, then attach it and open what it opens.
                new_ctx = _C_NONE  # the inline context it opens, if any
                new_frame = 0  # or the kind of container frame it opens
                if tag == "Heading":
                    lvl = _LEVEL[arg["level"]]
                    node = ParsedNode(_HEADER, metadata={"level": lvl}, location=loc(rng))
                    new_ctx = _C_HEAD
                elif tag == "List":
                    meta: dict[str, Any] = {"ordered": arg is not None}
                    if arg is not None and arg != 1:
                        meta["start"] = arg
                    node = ParsedNode(_LIST, metadata=meta, location=loc_container(rng))
                    new_frame = _K_LIST
                elif tag == "CodeBlock":
                    if arg.__class__ is str:  # "Indented"
                        language = None
                    else:
                        info = arg["Fenced"].strip()
                        language = info.split(None, 1)[0] if info else None
                    node = ParsedNode(_CODE, metadata={"language": language}, location=loc(rng))
                    new_ctx = _C_CODE
                elif tag == "BlockQuote":
                    node = ParsedNode(_QUOTE, location=loc_container(rng))
                    new_frame = _K_QUOTE
                elif tag == "Table":
                    node = ParsedNode(_TABLE, location=loc(rng))
                    new_frame = _K_TABLE
                elif tag == "HtmlBlock":
                    node = ParsedNode(_PARAGRAPH, metadata={"html": True}, location=loc(rng))
                    new_ctx = _C_HTML
                elif tag == "Rule":
                    node = ParsedNode(_HR, location=loc(rng))
                    if frames:
                        frames[-1][_PARTS].append("")  # an empty line in its container's text
                else:
                    continue
                if frames or new_ctx != _C_HEAD:
                    depth = len(frames) + sdepth + 1
                    spend(depth)
                    (frames[-1][_NODE] if frames else top).children.append(node)
                else:  # a top-level heading opens a section
                    spend(sections.depth_for(lvl))
                    sections.open_header(node, lvl)
                    top = node
                    depth = sdepth = sections.depth
                if new_ctx:
                    ctx = new_ctx
                    ctx_node = node
                    parts = []
                    if new_ctx == _C_HEAD:  # it owns links and images
                        owner = node
                        img_depth_budget = depth + 1
                elif new_frame == _K_TABLE:
                    frames.append([node, [], _BLOCK_SEP, _K_TABLE, arg])  # extra: the column alignments
                elif new_frame:
                    frames.append([node, [], _BLOCK_SEP, new_frame, rng["end"]])
                    level += 1
                continue
        elif key == "Code":
            tag = None
        elif key == "InlineHtml":
            tag = key  # dropped, but it still opens a hidden paragraph
        elif key == "Html":
            parts.append(val)
            continue
        else:
            continue  # anything else (footnotes, math, ... not enabled) carries no structure

        # Inline content (tag is None for text, else an inline Start tag or InlineHtml). Outside a
        # paragraph, heading or cell it opens the hidden paragraph of a tight item.
        if parts is None:
            if level >= MAX_NESTING:
                skip, skip_depth, swallow, region_end = _drop(frames, n_lines, 1 if key == "Start" else 0)
                if frames[-1][_EXTRA] >= content_end:
                    break  # nothing follows the dropped container but its ancestors' ends
                continue
            ctx = _C_HIDDEN
            parts = []
            owner = frames[-1][_NODE]
            img_depth_budget = len(frames) + sdepth + 1
        if tag is None:
            parts.append(val)
        elif tag == "Link":
            if image_nest:
                continue
            link_type = arg["link_type"]
            url = arg["dest_url"]
            if link_type == "Email":
                open_links.append((_normalize_slow("mailto:" + url), len(parts), True))
            elif link_type == "Autolink":
                open_links.append((_normalize_slow(url), len(parts), True))
            else:
                open_links.append((_href(url) if url else "", len(parts), False))
        elif tag == "Image":
            image_nest += 1
            if image_nest == 1:
                image_start = len(parts)
                url = arg["dest_url"]
                image_meta = {"src": _href(url) if url else "", "alt": ""}
                if arg["title"]:
                    image_meta["title"] = arg["title"]
        # Emphasis, Strong, Strikethrough, InlineHtml: nothing to keep

    # Containers still open: only after a drop that stopped the walk early.
    extending = skip and swallow
    while frames:
        frame = frames.pop()
        if extending:
            if frame[_KIND] == _K_QUOTE:
                extending = False
            else:
                _extend(frame[_NODE], region_end)
        _close_frame(frame, frames)

    result.title = first_h1


def _close_frame(frame: list[Any], frames: list[list[Any]]) -> None:
    """Join a closed frame's parts into its node's text and pass it to the parent frame."""
    joined = frame[_NODE].text = frame[_SEP].join(frame[_PARTS])
    if frames:
        frames[-1][_PARTS].append(joined)


def _drop(frames: list[list[Any]], n_lines: int, skip_depth: int) -> tuple[bool, int, bool, int]:
    """Start dropping the rest of the innermost container (markdown-it's maxNesting).

    Returns (skip, skip_depth, swallow, region_end); ``skip_depth`` is 1 when
    the event that hit the bound is a Start (its End is skipped too), else 0.
    When that container is a list item, markdown-it lets it (and the lists and
    items around it) run to the end of the enclosing blockquote, or of the document.
    """
    frame = frames[-1]
    frame.append(True)  # marks the frame as cut short
    if frame[_KIND] != _K_ITEM:
        return True, skip_depth, False, 0
    region_end = n_lines
    for outer in reversed(frames):
        if outer[_KIND] == _K_QUOTE:
            region_end = outer[_NODE].location.get("line_end", n_lines)
            break
    return True, skip_depth, True, region_end


def _all_empty(lines: list[Any], first: int, last: int, chars: Any) -> bool:
    """Lines ``first..last`` (1-based) hold nothing but ``chars``."""
    for i in range(first - 1, last):
        if lines[i].strip(chars):
            return False
    return True


def _extend(node: ParsedNode, end: int) -> None:
    location = node.location
    start = location.get("line_start", 1)
    location["line_end"] = end if end > start else start
    for child in node.children:
        if child.element_type is _IMAGE:
            child.location = dict(location)
