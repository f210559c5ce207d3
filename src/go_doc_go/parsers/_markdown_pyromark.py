"""The pyromark (pulldown-cmark) backend of the Markdown parser.

It builds exactly the tree the markdown-it backend in ``markdown.py`` builds
(that module's docstring describes it), from pulldown-cmark's event stream
instead of markdown-it's token stream: one pass, an explicit stack, no
recursion, so 5,000 levels of lists or blockquotes take a fraction of a
second. The places where the two tokenizers report things differently are
mapped here so the results match:

* Byte offsets: pulldown-cmark ranges are UTF-8 byte offsets; they become
  1-based line ranges through a table of line starts, with the same
  conventions as markdown-it's ``token.map`` (including where markdown-it ends
  a container over trailing blank lines, see ``close_container``).
* Tight lists: pulldown-cmark emits no ``Paragraph`` inside a tight item, so a
  run of inline events directly in an item is the (hidden) paragraph whose
  text and links markdown-it folds into the ``list_item``.
* Front matter is found with the rules of mdit-py-plugins' ``front_matter``
  (``_markdown_common.find_front_matter``, not pulldown-cmark's metadata
  blocks, whose rules differ); its lines are blanked before tokenizing so
  line numbers still count them.
* Links: destinations go through markdown-it's ``normalizeLink`` (percent
  encoding, punycode); autolink text through ``normalizeLinkText``; email
  autolinks get ``mailto:``.
* Heading attribute lists are read from the heading's text by the shared rule
  (pulldown-cmark's ``ENABLE_HEADING_ATTRIBUTES`` is not used: it also takes
  ``{: ...}`` but its details differ from what markdown-it can be made to do).
* Nesting: no bound of its own, none emulated. A container past
  ``parsers.max_depth`` gets a frame with a detached stand-in node, which
  keeps markdown-it's line-range rules for the containers around it, while
  its content is attached to the deepest container kept.
* Admonitions and tabs: the shared scanner cuts the document into chunks;
  each chunk is walked with its line offset, inside the frames of the blocks
  around it (``WalkState`` carries the tree between chunks).
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
from go_doc_go.parsers._markdown_admonitions import CLOSE, Block, segments
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
    WalkState,
    add_link,
    find_front_matter,
    finish_header,
    inline_html,
    normalize,
    resolve_markers,
    text_exceeded,
)
from go_doc_go.parsers._markdown_html import html_block
from go_doc_go.parsers.base import ElementBudget, ParseInput

_OPTIONS = pyromark.Options.ENABLE_TABLES
_events = pyromark.events_with_range


# A frame is a list [node, parts, sep, kind, extra, depth, target, last, aux]:
# ``parts`` collects the text of finished children, joined with ``sep`` on
# close; children are attached to ``target`` (``node`` itself, unless the
# container was refused by ``parsers.max_depth``: then ``node`` is a detached
# stand-in that only keeps markdown-it's line range, and ``target`` the
# container its content is flattened into); ``depth`` is the depth of
# ``target``; ``last`` the last block placed in it (for line ranges); ``extra``
# the next cell's index in a table row and ``aux`` the column alignments.
_NODE, _PARTS, _SEP, _KIND, _EXTRA, _DEPTH, _TARGET, _LAST, _AUX = range(9)
_K_QUOTE, _K_LIST, _K_ITEM, _K_TABLE, _K_ROW, _K_BLOCK = 1, 2, 3, 4, 5, 6

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
    text = normalize(doc.text())
    root = ParsedNode(_ROOT)
    result = ParseResult(root=root)

    start_line = 0
    if text[:3] == "---":
        found = find_front_matter(text)
        if found is not None:
            content, body_start, start_line = found
            result.metadata.update(front_matter(content))
            # Blank the front matter so pulldown-cmark ignores it but lines still count.
            text = "\n" * start_line + text[body_start:]

    budget = ElementBudget(doc.limits)
    state = WalkState(result, budget, len(text))
    items = segments(text, start_line) if doc.limits.markdown.admonitions else None
    if items is None:
        _walk(text, state, 0, None)
    else:
        for item in items:
            if item is CLOSE:
                _close_simple(state.frames.pop(), state)
            elif item.__class__ is Block:
                _open_block(state, item)
            else:
                _walk(item.text, state, item.offset, item.cap)
    title = result.metadata.get("title")
    result.title = title if isinstance(title, str) and title.strip() else state.first_h1
    return budget.finish(result)


def _open_frame(
    frames: list[list[Any]], top: ParsedNode, sdepth: int, budget: ElementBudget,
    node: ParsedNode, sep: str, kind: int, aux: Any,
) -> list[Any]:  # fmt: skip
    """Open a container; past ``parsers.max_depth`` a frame whose content goes to the parent's target."""
    if frames:
        parent = frames[-1]
        parent[_LAST] = node
        depth = parent[_DEPTH] + 1
        target = parent[_TARGET]
    else:
        depth = sdepth + 1
        target = top
    if budget.keeps(depth):
        budget.spend()
        target.children.append(node)
        frame = [node, [], sep, kind, 0, depth, node, None, aux]
    else:
        frame = [node, [], sep, kind, 0, depth - 1, target, None, aux]
    frames.append(frame)
    return frame


def _close_simple(frame: list[Any], state: WalkState) -> None:
    """Join a closed frame's parts into its node's text and pass it to the parent frame."""
    frames = state.frames
    if frame[_NODE] is not frame[_TARGET]:  # flattened: its children's text goes up as is
        if frames:
            frames[-1][_PARTS].extend(frame[_PARTS])
        return
    joined = frame[_NODE].text = frame[_SEP].join(frame[_PARTS])
    state.text_left -= len(joined)
    if state.text_left < 0:
        raise text_exceeded()
    if frames:
        frames[-1][_PARTS].append(joined)


def _open_block(state: WalkState, block: Block) -> None:
    """An admonition or tab: a container like a blockquote, its title first in its text."""
    line = block.line_start
    node = ParsedNode(
        block.element_type,
        metadata=dict(block.metadata),
        location={"line_start": line, "line_end": block.line_end},
    )
    frame = _open_frame(state.frames, state.top, state.sdepth, state.budget, node, _BLOCK_SEP, _K_BLOCK, None)
    title = block.title
    if title:
        if frame[_NODE] is not frame[_TARGET]:  # flattened: the title stays as a paragraph of the container kept
            state.budget.spend()
            frame[_TARGET].children.append(
                ParsedNode(_PARAGRAPH, text=title, location={"line_start": line, "line_end": line})
            )
        frame[_PARTS].append(title)


def _walk(text: str, state: WalkState, off: int, cap: int | None) -> None:
    """Build the tree from one chunk; its line k is the file's line ``off + k``.

    Line ranges are clamped to ``cap`` (the chunk's last line when reference
    definitions were appended to it), and blocks starting in that appendix are ignored.
    """
    sections = state.sections
    slugger = state.slugger
    budget = state.budget
    spend = budget.spend
    max_depth = budget.max_depth
    spend_link = budget.spend_link
    links = state.links
    first_h1 = state.first_h1

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
    # Chunk-relative last line and the byte offset where the appendix begins.
    last_line = cap - off if cap is not None else n_lines + 1
    limit = starts[last_line] if cap is not None and last_line < len(starts) else data_len + 1
    para_strip: str | bytes = prefix_chars + newline

    def loc(rng: dict[str, int]) -> dict[str, int]:
        s = rng["start"]
        e = rng["end"]
        ls = bisect_right(starts, s)
        le = bisect_right(starts, e - 1) if e > s else ls
        if le > last_line:
            le = last_line
        return {"line_start": ls + off, "line_end": (le if le > ls else ls) + off}

    def loc_container(rng: dict[str, int]) -> dict[str, int]:
        # A list/item/blockquote range may end inside the next line's container
        # prefix (indentation, ">"), where the next block starts: that line is not its own.
        s = rng["start"]
        e = rng["end"]
        ls = bisect_right(starts, s)
        if e <= s:
            return {"line_start": ls + off, "line_end": ls + off}
        le = bisect_right(starts, e - 1)
        if e < data_len and buf[e - 1 : e] != newline and buf[e : e + 1] != newline:
            if not buf[starts[le - 1] : e].strip(prefix_chars):
                le -= 1
        if le > last_line:
            le = last_line
        return {"line_start": ls + off, "line_end": (le if le > ls else ls) + off}

    def extend(node: ParsedNode, end: int) -> None:
        """``_extend`` to a chunk-relative line, clamped to the chunk."""
        _extend(node, (end if end < last_line else last_line) + off)

    blank_chars: str | bytes = prefix_chars[:2]  # " \t"
    _MARKER_CHARS = prefix_chars + ("-*+.)0123456789" if isinstance(prefix_chars, str) else b"-*+.)0123456789")

    def close_container(frame: list[Any], quote: bool) -> None:
        """Close a list item, list or blockquote, with markdown-it's line range.

        markdown-it ends a container where its block loop stopped. When the
        loop starts over on a run of empty lines that reaches the end of the
        container (empty content, or two or more empty lines after the last
        block), it skips on over the blank lines that follow, too; an empty
        list item followed by a blank line takes exactly that line. And a
        container reaches at least as far as its children. A container
        flattened by ``parsers.max_depth`` keeps these rules through its
        stand-in node, so the containers around it end where markdown-it ends them.
        """
        node = frame[_NODE]
        child_parts = frame[_PARTS]
        location = node.location
        if frame[_KIND] == _K_LIST:
            last = frame[_LAST]
            if last is not None:  # markdown-it: a list ends where its last item ends
                location["line_end"] = last.location["line_end"]
        else:
            ls = location["line_start"] - off
            le = location["line_end"] - off
            extend_blank = False
            if not child_parts and _all_empty(lines, ls, le, _MARKER_CHARS if not quote else prefix_chars):
                if quote:
                    extend_blank = True
                elif ls < n_lines and not lines[ls].strip(blank_chars):
                    extend(node, ls + 1)  # markdown-it's "empty item, then a blank line" rule
            elif le - ls >= 1:
                if quote:
                    last = frame[_LAST]
                    last_end = last.location.get("line_end", le + off) - off if last is not None else le
                    extend_blank = le - last_end >= 2
                else:
                    extend_blank = not lines[le - 1].strip(prefix_chars) and not lines[le - 2].strip(prefix_chars)
            if extend_blank:
                while le < n_lines and not lines[le].strip(blank_chars):
                    le += 1
                if le + off > location["line_end"]:
                    extend(node, le)
        if node is frame[_TARGET]:  # _close_simple, inlined
            joined = node.text = frame[_SEP].join(child_parts)
            state.text_left -= len(joined)
            if state.text_left < 0:
                raise text_exceeded()
            if not frames:
                return
            parent_frame = frames[-1]
            parent_frame[_PARTS].append(joined)
        else:
            if not frames:
                return
            parent_frame = frames[-1]
            parent_frame[_PARTS].extend(child_parts)
        parent = parent_frame[_NODE]
        end = location.get("line_end", 0)
        if end > parent.location.get("line_end", end):
            _extend(parent, end)

    frames = state.frames
    base = len(frames)  # frames open before this chunk (admonitions, tabs)
    top = state.top
    sdepth = state.sdepth

    # Inline context.
    ctx = _C_NONE
    parts: list[str] | None = None
    owner: ParsedNode | None = None  # node that gets links and images
    ctx_node: ParsedNode | None = None  # paragraph / heading / cell / code node
    hidden_node: ParsedNode | None = None  # the paragraph of a tight item flattened away
    hidden_start = 0
    html_seen = False  # raw inline HTML in the current context: markers to resolve
    html_links: list[tuple[str, int]] = []
    open_links: list[tuple[str, int, bool]] = []
    image_start = -1  # index in parts where the outermost open image's alt starts
    image_nest = 0
    image_meta: dict[str, Any] | None = None

    for ev, rng in _events(text, options=_OPTIONS):
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
                        link_text = "".join(parts[start:])
                        if "\0" in link_text:
                            link_text = resolve_markers(link_text)
                        spend_link()
                        links.append(ParsedLink(href, link_text, owner))
                    continue
                elif val == "Image":
                    image_nest -= 1
                    if image_nest:
                        continue
                    alt = "".join(parts[image_start:])
                    del parts[image_start:]
                    parts.append(alt)
                    spend()
                    image_meta["alt"] = alt
                    owner.children.append(ParsedNode(_IMAGE, text=alt, metadata=image_meta, location=dict(owner.location)))
                    image_meta = None
                    continue
                elif val == "TableCell":
                    frames[-1][_EXTRA] += 1
                elif val == "CodeBlock":
                    content = "".join(parts)
                    if content.endswith("\n"):
                        content = content[:-1]
                    ctx_node.text = content
                    parts = None
                    ctx = _C_NONE
                    if frames:
                        frames[-1][_PARTS].append(content)
                    continue
                elif val == "HtmlBlock":
                    content = ctx_node.text = html_block("".join(parts), ctx_node, state)
                    parts = None
                    ctx = _C_NONE
                    if frames:
                        frames[-1][_PARTS].append(content)
                    continue
                elif val == "Item":
                    if parts is not None:  # hidden paragraph of a tight item
                        content = _end_html(parts, html_links, owner, state) if html_seen else "".join(parts)
                        html_seen = False
                        if hidden_node is not None:
                            _end_hidden(hidden_node, content, buf, hidden_start, rng["end"], para_strip, starts, off)
                            hidden_node = None
                        frames[-1][_PARTS].append(content)
                        parts = None
                        ctx = _C_NONE
                    close_container(frames.pop(), False)
                    continue
                elif val == "TableHead" or val == "TableRow" or val == "Table":
                    _close_simple(frames.pop(), state)
                    continue
                else:  # unknown end tag without structure
                    continue
                # The end of a paragraph or a table cell.
                content = _end_html(parts, html_links, owner, state) if html_seen else "".join(parts)
            else:
                # Dict-shaped end tags: Heading, List, BlockQuote, MetadataBlock.
                (tag, _), = val.items()
                if tag != "Heading":
                    if tag == "List" or tag == "BlockQuote":
                        close_container(frames.pop(), tag == "BlockQuote")
                    continue
                if parts and parts[-1][-1:] == "\t":  # pulldown-cmark keeps a trailing tab
                    parts[-1] = parts[-1].rstrip(" \t")
                content = _end_html(parts, html_links, owner, state) if html_seen else "".join(parts)
                if "}" in content or ctx_node.anchor is not None:  # attribute list, HTML anchors
                    content = finish_header(ctx_node, content, slugger)
                else:
                    ctx_node.anchor = slugger.slug(content)
                if first_h1 is None and ctx_node.metadata["level"] == 1:
                    first_h1 = content
            html_seen = False
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
                    budget.spend_cell()
                    node = ParsedNode(_TABLE_CELL, location=dict(frame[_NODE].location))
                    aligns = frame[_AUX]
                    index = frame[_EXTRA]
                    if index < len(aligns):
                        style = _ALIGN.get(aligns[index])
                        if style:
                            node.metadata["style"] = style
                    frame[_TARGET].children.append(node)
                    ctx = _C_CELL
                    ctx_node = owner = node
                    parts = []
                    continue
                elif tag == "Item":
                    node = ParsedNode(_LIST_ITEM, location=loc_container(rng))
                    parent = frames[-1]  # always inside a list
                    depth = parent[_DEPTH] + 1
                    if depth <= max_depth:  # _open_frame's common case, inlined
                        spend()
                        parent[_LAST] = node
                        parent[_TARGET].children.append(node)
                        frames.append([node, [], _BLOCK_SEP, _K_ITEM, 0, depth, node, None, None])
                    else:
                        _open_frame(frames, top, sdepth, budget, node, _BLOCK_SEP, _K_ITEM, None)
                    continue
                elif tag == "TableHead" or tag == "TableRow":
                    table = frames[-1]
                    node = ParsedNode(_TABLE_HEADER if tag == "TableHead" else _TABLE_ROW, location=loc(rng))
                    depth = table[_DEPTH] + 1
                    if depth <= max_depth:  # _open_frame's common case, inlined
                        spend()
                        table[_LAST] = node
                        table[_TARGET].children.append(node)
                        frames.append([node, [], _ROW_SEP, _K_ROW, 0, depth, node, None, table[_AUX]])
                    else:
                        _open_frame(frames, top, sdepth, budget, node, _ROW_SEP, _K_ROW, table[_AUX])
                    continue
                elif tag == "HtmlBlock" or tag == "Rule":
                    inline = False
                else:
                    continue  # other tags carry no structure
            else:
                (tag, arg), = val.items()
                inline = tag == "Link" or tag == "Image"
            if not inline:
                # Block-level tags: close a hidden paragraph.
                if parts is not None and ctx == _C_HIDDEN:
                    content = _end_html(parts, html_links, owner, state) if html_seen else "".join(parts)
                    html_seen = False
                    if hidden_node is not None:
                        _end_hidden(hidden_node, content, buf, hidden_start, rng["start"], para_strip, starts, off)
                        hidden_node = None
                    frames[-1][_PARTS].append(content)
                    parts = None
                    ctx = _C_NONE
                if rng["start"] >= limit and len(frames) == base:
                    break  # the appended reference definitions: nothing of this chunk follows
                if tag == "Paragraph":  # the most common block: straight through
                    spend()
                    node = ParsedNode(_PARAGRAPH, location=loc(rng))
                    if frames:
                        frame = frames[-1]
                        frame[_TARGET].children.append(node)
                        frame[_LAST] = node
                    else:
                        top.children.append(node)
                    ctx = _C_PARA
                    ctx_node = owner = node
                    parts = []
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
                    _open_frame(frames, top, sdepth, budget, node, _BLOCK_SEP, _K_TABLE, arg)
                    continue
                elif tag == "HtmlBlock":
                    node = ParsedNode(_PARAGRAPH, metadata={"html": True}, location=loc(rng))
                    new_ctx = _C_HTML
                elif tag == "Rule":
                    node = ParsedNode(_HR, location=loc(rng))
                    if frames:
                        frames[-1][_PARTS].append("")  # an empty line in its container's text
                else:
                    continue
                if new_frame:
                    if frames:
                        parent = frames[-1]
                        depth = parent[_DEPTH] + 1
                    else:
                        parent = None
                        depth = sdepth + 1
                    if depth <= max_depth:  # _open_frame's common case, inlined
                        spend()
                        if parent is None:
                            top.children.append(node)
                        else:
                            parent[_LAST] = node
                            parent[_TARGET].children.append(node)
                        frames.append([node, [], _BLOCK_SEP, new_frame, 0, depth, node, None, None])
                    else:
                        _open_frame(frames, top, sdepth, budget, node, _BLOCK_SEP, new_frame, None)
                    continue
                spend()
                if frames:
                    frame = frames[-1]
                    frame[_TARGET].children.append(node)
                    frame[_LAST] = node
                elif new_ctx != _C_HEAD:
                    top.children.append(node)
                elif budget.keeps(sections.depth_for(lvl)):  # a top-level heading opens a section
                    sections.open_header(node, lvl)
                    top = node
                    sdepth = sections.depth
                else:  # past max_depth: a plain block of the deepest section kept
                    top.children.append(node)
                if new_ctx:
                    ctx = new_ctx
                    ctx_node = node
                    parts = []
                    if new_ctx == _C_HEAD:  # it owns links and images
                        owner = node
                continue
        elif key == "Code":
            tag = None
        elif key == "InlineHtml":
            tag = key  # it opens a hidden paragraph, too
        elif key == "Html":
            parts.append(val)
            continue
        else:
            continue  # anything else (footnotes, math, ... not enabled) carries no structure

        # Inline content (tag is None for text, else an inline Start tag or InlineHtml). Outside a
        # paragraph, heading or cell it opens the hidden paragraph of a tight item.
        if parts is None:
            ctx = _C_HIDDEN
            parts = []
            frame = frames[-1]
            if frame[_NODE] is frame[_TARGET]:
                owner = frame[_NODE]
            else:  # the item was flattened away: its text becomes a paragraph of the container kept
                spend()
                owner = hidden_node = ParsedNode(_PARAGRAPH, location=loc(rng))
                hidden_start = rng["start"]
                frame[_TARGET].children.append(hidden_node)
                frame[_LAST] = hidden_node
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
        elif tag == "InlineHtml":
            if not image_nest:  # markdown-it keeps only an image's plain alt text
                html_seen = True
                _inline_html(val, parts, html_links, owner, state)
        # Emphasis, Strong, Strikethrough: nothing to keep

    state.top = top
    state.sdepth = sdepth
    state.first_h1 = first_h1


def _inline_html(
    raw: str, parts: list[str], html_links: list[tuple[str, int]], node: ParsedNode, state: WalkState
) -> None:
    """One raw inline HTML tag: its separator, anchors and ``<a href>`` link (shared rule)."""
    text, anchors, href, closes_link = inline_html(raw)
    if text:
        parts.append(text)
    for anchor in anchors:
        node.add_anchor(anchor)
    if href is not None:
        html_links.append((href, len(parts)))
    elif closes_link and html_links:
        href, start = html_links.pop()
        add_link(state, href, resolve_markers("".join(parts[start:])).strip(), node)


def _end_html(parts: list[str], html_links: list[tuple[str, int]], node: ParsedNode, state: WalkState) -> str:
    """End of a block with raw inline HTML: unclosed ``<a href>`` links, then the markers."""
    if html_links:
        for href, start in html_links:  # an <a href> never closed runs to the end of the block
            add_link(state, href, resolve_markers("".join(parts[start:])).strip(), node)
        html_links.clear()
    return resolve_markers("".join(parts))


def _end_hidden(
    node: ParsedNode, content: str, buf: Any, start: int, end: int, strip: Any, starts: list[int], off: int
) -> None:
    """Text and last line of a flattened item's paragraph: its last character before ``end``."""
    node.text = content
    last = start + len(buf[start:end].rstrip(strip))
    line = bisect_right(starts, last - 1 if last > start else start) + off
    if line > node.location["line_start"]:
        node.location["line_end"] = line


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
