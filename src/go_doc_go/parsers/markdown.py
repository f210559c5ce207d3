"""Markdown (CommonMark + tables + YAML front matter + MkDocs blocks) to a ``ParsedNode`` tree.

markdown-it-py tokenizes; this module walks its flat token stream once, with an
explicit stack, so the walk never recurses and does little work per token.

Tree shape
    root
    ├── content before the first header
    └── header (level n)           text = heading text only
        ├── its section's blocks
        └── header (level > n) ... nested the same way

    paragraph, code_block {"language"}, HTML blocks (paragraph {"html": True}),
    horizontal_rule, blockquote > blocks, list {"ordered"} > list_item > blocks,
    table > table_header | table_row > table_cell,
    admonition {"kind", "title", "collapsible", "open"} > blocks, tab {"title"} > blocks.

Design choices
* Text of a container (blockquote, list, list_item, table, admonition, tab) is
  its children's text joined with ``"\\n"`` (an admonition's or tab's title
  first); a table row joins its cells with ``" | "``. Inline markup is
  dropped: text, inline code, alt text of images are kept, line breaks become
  ``"\\n"``.
* Raw inline HTML adds no text, but keeps word boundaries: ``<br>`` is a line
  break; phrasing tags that style part of a word (``b i em strong span a sub
  sup u s mark small del ins abbr ...``, see ``_markdown_common.INLINE_TAGS``)
  separate nothing (``wo<b>r</b>d`` is "word"), except a closing tag directly
  followed by an opening one (``<span>a</span><span>b</span>`` is "a b"); any
  other tag (block-level, ``code kbd samp var tt``, ``img``, unknown) is a word
  boundary (``<code>linux</code><code>win32</code>`` is "linux win32").
  A boundary becomes one space, and only between two word characters.
  ``<a href>`` written as inline HTML is a link of its block; ``id`` (and
  ``name`` on ``<a>``) become anchors of the block.
* HTML blocks are parsed with lxml (``_markdown_html``): their text (one line
  per block-level element, no tags), ``<a href>`` links, ``id``/``name``
  anchors and ``<img>`` image children; ``{"html": True}`` stays.
* In a *tight* list the item's paragraph is not a separate element: its text
  and links belong to the ``list_item`` itself. Loose list items contain
  ``paragraph`` children.
* An image is an ``image`` element *child of the block it sits in* (paragraph,
  list_item, table_cell, header), with ``{"src", "alt"}`` (and ``"title"``) in
  its metadata; its alt text also stays in the block's text. For a header the
  image comes before the header's section content.
* Links (``[t](href)``, autolinks, inline ``<a href>``) are reported with the
  block they sit in; each one counts against ``parsers.max_links``, each
  table cell against ``parsers.max_cells`` (not ``max_elements``).
* Anchors: a header gets GitHub's slug, unique in the document. An attribute
  list at the end of a heading (``## Title {#id .class key=value}``, also
  ``{: ...}``, as Python-Markdown attr_list / kramdown / pandoc) is removed
  from its text: ``#id`` replaces the slug (and is reserved, so no later slug
  repeats it), classes go to ``metadata["classes"]``, other attributes to
  ``metadata["attributes"]``. HTML ids inside a heading or paragraph are
  further anchors (``ParsedNode.add_anchor``: the slug or explicit id first);
  they are not reserved, so ``<a name="x">`` before ``# X`` is the same anchor
  on two elements, as on GitHub (a link resolves to the first).
* Admonitions and tabs (MkDocs / Python-Markdown ``!!!``, pymdownx details
  ``???``/``???+`` and tabbed ``===``, body indented four spaces): containers
  whose body is parsed as Markdown, nested ones included, with the file's line
  numbers; ``open`` is True only for ``???+``, ``collapsible`` for ``???`` and
  ``???+``, ``title`` is None when the marker has none. Consecutive tabs are
  sibling ``tab`` elements (no group element; ``===!`` starts a new group:
  ``{"new_group": True}``, ``===+`` is ``{"selected": True}``). Found by the
  line scanner in ``_markdown_admonitions`` (which says how a body ends, and
  how reference definitions still reach every chunk); recognised at the start
  of a line of the document or of another admonition's or tab's body, not
  inside list items or blockquotes. ``parsers.markdown.admonitions: false``
  gives strict CommonMark (the body is an indented code block).
* Front matter goes to ``ParseResult.metadata`` (made JSON-safe); invalid or
  non-mapping front matter gives ``{"front_matter_error": ...}`` instead.
* Nesting: nothing is dropped. A container (blockquote, list, list item,
  table, row, admonition, tab, header section) deeper than
  ``parsers.max_depth`` is not created: its content goes into the deepest
  container kept (a tight item's text as a paragraph there), all text kept,
  and ``metadata["flattened_at_depth"]`` records it. markdown-it's own
  ``maxNesting`` (20 in the CommonMark preset, past which it silently drops
  the rest) is set out of reach; but markdown-it-py recurses once per nesting
  level, so this backend parses about 490 levels of blockquotes or lists at
  Python's default recursion limit (1000) and fails deeper documents with a
  ``ParseError`` naming that limit. The pyromark backend has no such bound.
  Text repeated by nested containers is bounded (16x the document, plus 1 MB):
  past that the document fails rather than taking gigabytes.

Backends
    Two tokenizers give the same tree. ``parse_with_markdown_it`` walks
    markdown-it-py's tokens and is the reference implementation.
    ``parse_with_pyromark`` walks pyromark's (Rust pulldown-cmark) events, about
    an order of magnitude faster; ``_markdown_pyromark`` maps its differences
    (byte ranges, tight lists, link normalization) onto the reference
    behaviour, and ``tests/unit/parsers/test_markdown_backends.py`` checks the
    two agree. The rules above that are not CommonMark (admonitions, raw
    HTML, attribute lists, front matter detection) live in shared modules both
    backends call. ``parse`` is pyromark's when pyromark is importable, else
    markdown-it's; ``BACKEND`` names the one in use. Both turn any failure
    into ``ParseError``.
"""

from __future__ import annotations

import datetime as _dt
import sys
from typing import Any

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ParsedNode, ParseResult
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
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded

# libyaml's loader when available: same safe semantics, ~10x faster than pure Python.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: markdown-it stops parsing (and drops the rest) past ``maxNesting`` open
#: tokens; the CommonMark preset says 20. Set out of reach on purpose: depth is
#: bounded by ``parsers.max_depth`` (flattening) and, for this backend, by
#: Python's recursion limit (a ``ParseError``), never by silent truncation.
_MAX_NESTING = 1_000_000
_OPTIONS = {"maxNesting": _MAX_NESTING}
_MD = MarkdownIt("commonmark", _OPTIONS).enable("table").use(front_matter_plugin)
_MD_BODY = MarkdownIt("commonmark", _OPTIONS).enable("table")  # chunks after the first: no front matter


_FRONT_MATTER_MAX_NODES = 10_000
_FRONT_MATTER_MAX_DEPTH = 100


def parse_with_markdown_it(doc: ParseInput) -> ParseResult:
    """The reference backend: markdown-it-py's token stream."""
    return guarded("markdown", _parse, doc)


def parse_with_pyromark(doc: ParseInput) -> ParseResult:
    """The fast backend: pyromark's (pulldown-cmark) event stream, same tree."""
    if _pyromark_backend is None:
        raise ParseError(f"markdown {doc.path}: pyromark is not installed")
    return guarded("markdown", _pyromark_backend.parse, doc, _front_matter)


try:
    from go_doc_go.parsers import _markdown_pyromark as _pyromark_backend
except ImportError:  # pyromark missing (or no wheel for this platform)
    _pyromark_backend = None

#: The backend ``parse`` uses: "pyromark" when importable, else "markdown-it".
BACKEND = "pyromark" if _pyromark_backend is not None else "markdown-it"

#: Markdown (CommonMark + tables + front matter) to a ``ParseResult``; see ``BACKEND``.
parse = parse_with_pyromark if _pyromark_backend is not None else parse_with_markdown_it


# An open container is a list ``[node, parts, sep, in_head, depth, flat]``:
# ``parts`` collects the text of its finished children, joined with ``sep``
# when it closes; ``depth`` is the depth of ``node``. A container refused by
# ``parsers.max_depth`` gets a *flat* frame: ``node`` and ``parts`` are those of
# the container it is flattened into, so its content lands there. Lists are
# cheaper to build than objects and this runs once per container.
_NODE, _PARTS, _SEP, _IN_HEAD, _DEPTH, _FLAT = 0, 1, 2, 3, 4, 5

# Close tokens that end a container frame (paragraph/heading/cell closes are
# consumed together with their open token).
_FRAME_CLOSE = frozenset(
    (
        "list_item_close",
        "bullet_list_close",
        "ordered_list_close",
        "blockquote_close",
        "table_close",
        "tr_close",
    )
)


def _parse(doc: ParseInput) -> ParseResult:
    text = normalize(doc.text())
    root = ParsedNode(_ROOT)
    result = ParseResult(root=root)
    budget = ElementBudget(doc.limits)
    state = WalkState(result, budget, len(text))
    items = _segments(text, result) if doc.limits.markdown.admonitions else None
    try:
        if items is None:
            _walk(_MD.parse(text), state, 0, None)
        else:
            for item in items:
                if item is CLOSE:
                    _close(state.frames, state)
                elif item.__class__ is Block:
                    _open_block(state, item)
                else:
                    _walk(_MD_BODY.parse(item.text), state, item.offset, item.cap)
    except RecursionError:
        raise ParseError(
            f"markdown {doc.path}: nested too deeply for the markdown-it backend, which recurses once "
            f"per nesting level and hit Python's recursion limit ({sys.getrecursionlimit()}); "
            "the pyromark backend parses such documents"
        ) from None
    title = result.metadata.get("title")
    result.title = title if isinstance(title, str) and title.strip() else state.first_h1
    return budget.finish(result)


def _segments(text: str, result: ParseResult) -> list[Any] | None:
    """The admonition scanner's chunks, or None (then the whole text is tokenized at once).

    When the document is cut, front matter is read as the pyromark backend
    reads it (same rule as the plugin) and blanked, so both backends tokenize
    exactly the same chunks.
    """
    found = find_front_matter(text) if text[:3] == "---" else None
    if found is None:
        return segments(text, 0)
    content, body_start, n_lines = found
    items = segments("\n" * n_lines + text[body_start:], n_lines)
    if items is not None:
        result.metadata.update(_front_matter(content))
    return items


def _walk(tokens: list[Any], state: WalkState, off: int, cap: int | None) -> None:
    """Build the tree from one chunk's tokens; its line k is the file's line ``off + k``."""
    if cap is not None:
        tokens = _before_appendix(tokens, cap - off)
    result = state.result
    budget = state.budget
    spend = budget.spend
    sections = state.sections
    slugger = state.slugger
    frames = state.frames
    first_h1 = state.first_h1
    # Where top-level blocks go (the innermost open header, or the root) and its depth.
    top = state.top
    sdepth = state.sdepth

    n = len(tokens)
    i = 0
    while i < n:
        tok = tokens[i]
        ttype = tok.type

        if ttype == "paragraph_open":
            inline = tokens[i + 1]
            if frames:
                frame = frames[-1]
                if tok.hidden and not frame[_FLAT]:
                    # Tight list item: the text and links belong to the list_item itself.
                    frame[_PARTS].append(_inline_text(inline, frame[_NODE], state))
                else:
                    spend()
                    node = ParsedNode(_PARAGRAPH, location=_lines(tok.map, off, cap))
                    text = node.text = _inline_text(inline, node, state)
                    frame[_NODE].children.append(node)
                    frame[_PARTS].append(text)
            else:
                spend()
                node = ParsedNode(_PARAGRAPH, location=_lines(tok.map, off, cap))
                node.text = _inline_text(inline, node, state)
                top.children.append(node)
            i += 3
            continue

        if tok.nesting == -1:
            if ttype in _FRAME_CLOSE:
                _close(frames, state)
            elif ttype == "thead_close":
                frames[-1][_IN_HEAD] = False
            # tbody_close carries no structure.
            i += 1
            continue

        if ttype == "td_open" or ttype == "th_open":
            inline = tokens[i + 1]
            frame = frames[-1]
            budget.spend_cell()
            node = ParsedNode(_TABLE_CELL, location=_lines(inline.map, off, cap))
            style = tok.attrs.get("style")
            if style:
                node.metadata["style"] = style
            text = node.text = _inline_text(inline, node, state)
            frame[_NODE].children.append(node)
            frame[_PARTS].append(text)
            i += 3
            continue

        if ttype == "list_item_open":
            _open(frames, top, sdepth, budget, ParsedNode(_LIST_ITEM, location=_lines(tok.map, off, cap)), _BLOCK_SEP)
        elif ttype == "tr_open":
            etype = _TABLE_HEADER if frames[-1][_IN_HEAD] else _TABLE_ROW
            _open(frames, top, sdepth, budget, ParsedNode(etype, location=_lines(tok.map, off, cap)), _ROW_SEP)
        elif ttype == "heading_open":
            level = int(tok.tag[1])
            inline = tokens[i + 1]
            node = ParsedNode(_HEADER, metadata={"level": level}, location=_lines(tok.map, off, cap))
            spend()
            if frames:
                # A heading inside a blockquote, list item or admonition is a plain block there.
                frame = frames[-1]
                frame[_NODE].children.append(node)
                text = finish_header(node, _inline_text(inline, node, state), slugger)
                frame[_PARTS].append(text)
            else:
                if budget.keeps(sections.depth_for(level)):
                    sections.open_header(node, level)
                    top = node
                    sdepth = sections.depth
                else:  # past max_depth: a plain block of the deepest section kept
                    top.children.append(node)
                text = finish_header(node, _inline_text(inline, node, state), slugger)
            if level == 1 and first_h1 is None:
                first_h1 = text
            i += 3
            continue
        elif ttype == "bullet_list_open":
            node = ParsedNode(_LIST, metadata={"ordered": False}, location=_lines(tok.map, off, cap))
            _open(frames, top, sdepth, budget, node, _BLOCK_SEP)
        elif ttype == "ordered_list_open":
            meta: dict[str, Any] = {"ordered": True}
            start = tok.attrs.get("start")
            if start is not None:
                meta["start"] = start
            node = ParsedNode(_LIST, metadata=meta, location=_lines(tok.map, off, cap))
            _open(frames, top, sdepth, budget, node, _BLOCK_SEP)
        elif ttype == "fence" or ttype == "code_block":
            info = tok.info.strip()
            content = tok.content
            if content.endswith("\n"):
                content = content[:-1]
            node = ParsedNode(
                _CODE,
                text=content,
                metadata={"language": info.split(None, 1)[0] if info else None},
                location=_lines(tok.map, off, cap),
            )
            _leaf(frames, top, spend, node)
        elif ttype == "thead_open":
            frames[-1][_IN_HEAD] = True
        elif ttype == "table_open":
            _open(frames, top, sdepth, budget, ParsedNode(_TABLE, location=_lines(tok.map, off, cap)), _BLOCK_SEP)
        elif ttype == "blockquote_open":
            _open(frames, top, sdepth, budget, ParsedNode(_QUOTE, location=_lines(tok.map, off, cap)), _BLOCK_SEP)
        elif ttype == "html_block":
            node = ParsedNode(_PARAGRAPH, metadata={"html": True}, location=_lines(tok.map, off, cap))
            node.text = html_block(tok.content, node, state)
            _leaf(frames, top, spend, node)
        elif ttype == "hr":
            _leaf(frames, top, spend, ParsedNode(_HR, location=_lines(tok.map, off, cap)))
        elif ttype == "front_matter":
            result.metadata.update(_front_matter(tok.content))
        elif ttype == "inline":
            # Not expected outside paragraph/heading/cell, but keep its text if it happens.
            if frames:
                frame = frames[-1]
                frame[_PARTS].append(_inline_text(tok, frame[_NODE], state))
        # tbody_open and anything unknown carry no structure of their own.
        i += 1

    state.top = top
    state.sdepth = sdepth
    state.first_h1 = first_h1


def _before_appendix(tokens: list[Any], lines: int) -> list[Any]:
    """The tokens of the chunk itself, without those of the appended reference definitions."""
    for index, tok in enumerate(tokens):
        if tok.level == 0 and tok.nesting >= 0 and tok.map and tok.map[0] >= lines:
            return tokens[:index]
    return tokens


def _lines(map_: list[int] | None, off: int, cap: int | None) -> dict[str, int]:
    if not map_:
        return {}
    start = map_[0] + 1 + off
    end = map_[1] + off
    if cap is not None and end > cap:
        end = cap
    return {"line_start": start, "line_end": end if end > start else start}


def _open(
    frames: list[list[Any]], top: ParsedNode, sdepth: int, budget: ElementBudget, node: ParsedNode, sep: str
) -> None:
    """Open a container, or a flat frame when ``parsers.max_depth`` refuses it."""
    if frames:
        parent = frames[-1]
        depth = parent[_DEPTH] + 1
        target = parent[_NODE]
    else:
        parent = None
        depth = sdepth + 1
        target = top
    if budget.keeps(depth):
        budget.spend()
        target.children.append(node)
        frames.append([node, [], sep, False, depth, False])
    else:
        parts = parent[_PARTS] if parent is not None else []
        frames.append([target, parts, sep, False, depth - 1, True])


def _close(frames: list[list[Any]], state: WalkState) -> None:
    frame = frames.pop()
    if frame[_FLAT]:
        return  # its content already sits in the container it was flattened into
    text = frame[_NODE].text = frame[_SEP].join(frame[_PARTS])
    state.text_left -= len(text)
    if state.text_left < 0:
        raise text_exceeded()
    if frames:
        frames[-1][_PARTS].append(text)


def _open_block(state: WalkState, block: Block) -> None:
    """An admonition or tab: a container like a blockquote, its title first in its text."""
    line = block.line_start
    node = ParsedNode(
        block.element_type,
        metadata=dict(block.metadata),
        location={"line_start": line, "line_end": block.line_end},
    )
    frames = state.frames
    _open(frames, state.top, state.sdepth, state.budget, node, _BLOCK_SEP)
    title = block.title
    if title:
        frame = frames[-1]
        if frame[_FLAT]:  # flattened: the title stays as a paragraph of the container kept
            state.budget.spend()
            frame[_NODE].children.append(
                ParsedNode(_PARAGRAPH, text=title, location={"line_start": line, "line_end": line})
            )
        frame[_PARTS].append(title)


def _leaf(frames: list[list[Any]], top: ParsedNode, spend: Any, node: ParsedNode) -> None:
    spend()
    if frames:
        frame = frames[-1]
        frame[_NODE].children.append(node)
        frame[_PARTS].append(node.text)
    else:
        top.children.append(node)


def _inline_text(inline: Any, node: ParsedNode, state: WalkState) -> str:
    """Plain text of an inline token; links, images and HTML anchors are recorded against ``node``."""
    children = inline.children
    if not children:
        return inline.content
    if len(children) == 1:
        only = children[0]
        if only.type == "text":
            return only.content
    parts: list[str] = []
    open_links: list[tuple[str, int]] = []
    html_links: list[tuple[str, int]] | None = None
    for child in children:
        ctype = child.type
        if ctype == "text" or ctype == "code_inline":
            parts.append(child.content)
        elif ctype == "softbreak" or ctype == "hardbreak":
            parts.append("\n")
        elif ctype == "link_open":
            open_links.append((child.attrs.get("href") or "", len(parts)))
        elif ctype == "link_close":
            if open_links:
                href, start = open_links.pop()
                if href:
                    add_link(state, str(href), resolve_markers("".join(parts[start:])), node)
        elif ctype == "image":
            alt = _plain(child)
            parts.append(alt)
            state.budget.spend()
            meta: dict[str, Any] = {"src": str(child.attrs.get("src") or ""), "alt": alt}
            title = child.attrs.get("title")
            if title:
                meta["title"] = str(title)
            node.children.append(ParsedNode(_IMAGE, text=alt, metadata=meta, location=dict(node.location)))
        elif ctype == "html_inline":
            if html_links is None:
                html_links = []
            _inline_html(child.content, parts, html_links, node, state)
        # em/strong open/close add no text.
    if html_links is None:
        return "".join(parts)
    for href, start in html_links:  # an <a href> never closed runs to the end of the block
        add_link(state, href, resolve_markers("".join(parts[start:])).strip(), node)
    return resolve_markers("".join(parts))


def _inline_html(raw: str, parts: list[str], html_links: list[tuple[str, int]], node: ParsedNode, state: WalkState) -> None:
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


def _plain(token: Any) -> str:
    children = token.children
    if not children:
        return token.content
    parts = []
    for c in children:
        if c.type in ("text", "code_inline", "image"):
            parts.append(c.content)
        elif c.type.endswith("break"):
            parts.append("\n")
    return "".join(parts)


# ---------------------------------------------------------------- front matter


class _TooBig(Exception):
    pass


def _front_matter(source: str) -> dict[str, Any]:
    try:
        data = yaml.load(source, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        return {"front_matter_error": f"invalid YAML front matter{where}"}
    except RecursionError:
        return {"front_matter_error": "front matter nested too deeply"}
    if data is None:
        return {}
    if not isinstance(data, dict):
        return {"front_matter_error": f"front matter is not a mapping (got {type(data).__name__})"}
    try:
        counter = [0]
        return {str(k): _json_safe(v, 1, counter) for k, v in data.items()}
    except _TooBig as error:
        return {"front_matter_error": str(error)}


def _json_safe(value: Any, depth: int, counter: list[int]) -> Any:
    """JSON-compatible copy; bounded so YAML aliases cannot blow up into a huge tree."""
    counter[0] += 1
    if counter[0] > _FRONT_MATTER_MAX_NODES:
        raise _TooBig(f"front matter has more than {_FRONT_MATTER_MAX_NODES} values")
    if depth > _FRONT_MATTER_MAX_DEPTH:
        raise _TooBig(f"front matter is nested deeper than {_FRONT_MATTER_MAX_DEPTH}")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1, counter) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v, depth + 1, counter) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
