"""HTML to a ``ParsedNode`` tree, with lxml and an explicit stack (no recursion).

Tree shape is the Markdown parser's: top-level ``h1``-``h6`` open nested header
sections (see ``_headings``), and

    p -> paragraph             ul/ol/dl/menu -> list {"ordered"}
    li/dt/dd -> list_item      table -> table > table_header | table_row > table_cell
    pre -> code_block {"language"}   blockquote -> blockquote > blocks
    img -> image {"src", "alt"}      hr -> horizontal_rule     caption -> paragraph

Reading
* Python's codecs decode the bytes: a BOM (UTF-8/16/32), else ``<meta charset>``
  or ``<meta http-equiv content="...; charset=...">`` in the first 2 KB, else an
  XML declaration, else UTF-8 and detection (see ``_lxml_input``);
  ``iso-8859-1``/``us-ascii`` labels mean windows-1252, as in browsers.
  ``metadata["encoding"]`` names the codec when it was not UTF-8.
* libxml2's HTML parser always recovers. ``metadata["recovered"]`` (with
  ``recovery`` and ``first_error: {"message", "line"}``) is set only for real
  breakage: any error it reports except the noise of valid HTML5: unknown tags
  (``Tag nav invalid``, older libxml2), a legacy entity without ``;`` or a bare
  ``&`` in a URL, a repeated attribute (the first wins), an undeclared
  namespace prefix (SVG ``xlink:href``), a close tag inside a script.
  Mismatched or stray end tags, misplaced ``html``/``head``/``body``/DOCTYPE,
  unterminated comments or tags and invalid characters count.
* ``huge_tree`` is on: libxml2 nests up to 2,048 open elements (256 without;
  ``html`` and ``body`` count). Deeper HTML (thousands of unclosed ``div``
  or ``font`` tags) is never truncated: libxml2 reports the depth error, and
  the text is re-read with Python's ``html.parser`` (``_lxml_fallback``,
  ``recovery: "html.parser"``, ``first_error`` naming the limit): every tag
  and all text kept, ``max_depth`` flattening as below.
* libxml2 drops everything after ``</html>`` without a word; those end tags
  are removed first, so trailing content is kept (browsers show it too).

Design choices
* ``script``, ``style``, ``noscript``, ``template``, comments, processing
  instructions and ``<head>`` (apart from ``<title>``) are dropped.
* Other elements (div, section, article, span, ...) make no element of their
  own: their text flows into the block that contains them. Loose text directly
  in a flow container (body/div at top level, blockquote, or a list or table
  outside any cell) becomes an implicit paragraph; it ends at the next block or
  at any non-inline element boundary (``<div>a</div><div>b</div>`` is two
  paragraphs).
* Depth: a container (list, list item, table, row, cell, blockquote, a header
  opening a section) deeper than ``parsers.max_depth`` opens nothing: it is
  treated like a ``div``, so its content flows into the deepest kept element
  (lines of its text, or implicit paragraphs one level below it); a leaf block
  (paragraph, code, header, image) may sit one level below the deepest
  container. ``metadata["flattened_at_depth"]`` records it.
* Whitespace is collapsed to single spaces (``<pre>`` keeps its text verbatim);
  ``<br>`` and nested non-inline elements start a new line in their block's text.
  Containers join their children's text with ``"\\n"``, a table row joins its
  cells with ``" | "``. Image alt text stays in the containing block's text.
  Element text and locations together may be at most 16x the document's size
  plus 1 MB (nesting repeats them); past that the document fails.
* An ``img`` is an ``image`` element: a child of the paragraph/list item/cell/
  header it sits in, or a block of its own when it sits directly in a flow
  container.
* Anchors: every ``id`` (and ``<a name>``) becomes an anchor; an element can
  have several (its own id first). A header without one gets a GitHub-style
  slug. The id of an element that makes no node of its own goes to the block
  it sits in, or, in a flow container, to the next block created (at the end
  of the document, to the container it sat in).
* Links are reported with the block they sit in; a link wrapping block content
  (``<a href><div><p>...</p></div></a>``) is reported with the enclosing
  container. Links spend ``parsers.max_links``, table cells ``parsers.max_cells``,
  every other node ``parsers.max_elements``.
* Location: ``{"xpath": ..., "line_start": ...}`` of the element that made the
  node; the xpath is ``getpath``'s, computed without its quadratic cost under
  elements with many children (``_XPaths``).
"""

from __future__ import annotations

import re
import threading
from typing import Any

import lxml.etree

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers._headings import Sections, Slugger
from go_doc_go.parsers._lxml_errors import first_error, limit_hit, recovery_metadata
from go_doc_go.parsers._lxml_fallback import html_tree
from go_doc_go.parsers._lxml_input import SourceText, encoding_metadata, read_html
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded

_DROP_TAGS = ("script", "style", "noscript", "template")
_SKIP_TAGS = frozenset(("head", "title", "meta", "link", "base", "script", "style", "noscript", "template"))
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_INLINE_TAGS = frozenset(
    """a abbr acronym b bdi bdo big button cite code data del dfn em font i input ins kbd label
    mark meter nobr output progress q rp rt ruby s samp select option small span strike strong
    sub sup textarea time tt u var wbr""".split()
)
_BLOCK_TAGS = (
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "li", "dt", "dd", "table",
    "tr", "td", "th", "pre", "blockquote", "div", "section", "article", "hr",
)  # fmt: skip

_WS = re.compile(r"\s+")
# libxml2 drops everything after </html>, silently (browsers put it in the body).
_HTML_END = re.compile(rb"</html\s*>", re.IGNORECASE)
_LANG_CLASS = re.compile(r"(?:^|\s)(?:language|lang)-([^\s]+)")

_PARSER_OPTIONS: dict[str, Any] = {
    "remove_comments": True, "remove_pis": True, "no_network": True, "recover": True, "huge_tree": True,
}  # fmt: skip

# libxml2 errors that valid HTML5 causes (see the module docstring): not breakage.
_ERRORS = lxml.etree.ErrorTypes
_NOISE = frozenset(
    (_ERRORS.HTML_UNKNOWN_TAG, _ERRORS.ERR_ENTITYREF_SEMICOL_MISSING, _ERRORS.ERR_ATTRIBUTE_REDEFINED)
)

# Total element text (and xpaths) may be at most this many times the document's length.
_TEXT_FACTOR = 16

# An element with more children than this makes libxml2's getpath slow below it.
_WIDE = 64

# Frame kinds.
_FLOW, _TEXT, _PRE, _LIST, _TABLE, _ROW = range(6)

# Stack actions.
_ENTER, _EXIT = 0, 1


def parse(doc: ParseInput) -> ParseResult:
    return guarded("html", _parse, doc)


class _Frame:
    """An open block: its node, kind, finished text chunks and pending inline text."""

    __slots__ = ("node", "kind", "chunks", "buf", "implicit", "in_head", "rows")

    def __init__(self, node: ParsedNode | None, kind: int, implicit: bool = False) -> None:
        self.node = node  # None for the document's top-level flow (resolved through Sections)
        self.kind = kind
        self.chunks: list[str] = []
        self.buf: list[str] = []
        self.implicit = implicit
        self.in_head = False
        self.rows = 0


def _collapse(parts: list[str]) -> str:
    return _WS.sub(" ", "".join(parts)).strip()


class _XPaths:
    """``tree.getpath(el)`` for the HTML tree, without its cost on wide elements.

    libxml2's getpath counts an element's siblings at every level, for every
    call: 100,000 list items took 40 s. Here each parent's child steps are
    counted once (paths are not cached: under deep nesting they would take
    memory quadratic in the depth), so the cost is the depth. Same strings:
    ``tag``, with ``[n]`` (1-based among same-tag siblings) when the tag repeats.
    """

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps: dict[Any, dict[Any, str]] = {}

    def __call__(self, el: Any) -> str:
        parts: list[str] = []
        parent = el.getparent()
        while parent is not None:
            steps = self.steps.get(parent)
            if steps is None:
                steps = self.steps[parent] = _child_steps(parent)
            parts.append(steps[el])
            el, parent = parent, parent.getparent()
        parts.append(el.tag)
        parts.append("")
        return "/".join(reversed(parts))


def _child_steps(parent: Any) -> dict[Any, str]:
    children = [child for child in parent if isinstance(child.tag, str)]
    totals: dict[str, int] = {}
    for child in children:
        totals[child.tag] = totals.get(child.tag, 0) + 1
    seen: dict[str, int] = {}
    steps: dict[Any, str] = {}
    for child in children:
        tag = child.tag
        if totals[tag] == 1:
            steps[child] = tag
        else:
            n = seen[tag] = seen.get(tag, 0) + 1
            steps[child] = f"{tag}[{n}]"
    return steps


class _Builder:
    def __init__(self, doc: ParseInput, tree: Any, source_chars: int) -> None:
        self.xpath = _XPaths()
        self.tree = tree
        self.wide = False  # the element being walked has an ancestor with more than _WIDE children
        # Containers repeat their children's text, and xpaths grow with depth;
        # bound the total so deep nesting around 10 MB cannot take gigabytes.
        self.text_left = _TEXT_FACTOR * source_chars + 1_000_000
        self.root = ParsedNode(ElementType.ROOT)
        self.result = ParseResult(root=self.root)
        self.budget = ElementBudget(doc.limits)
        self.max_depth = doc.limits.max_depth
        self.sections = Sections(self.root)
        self.slugger = Slugger()
        self.frames: list[_Frame] = [_Frame(None, _FLOW)]
        self.explicit: set[int] = set()  # id() of nodes with an anchor from an id attribute
        # Anchors of node-less elements in a flow container, waiting for the next
        # block, each with the container that held it (its home if no block follows).
        self.pending: list[tuple[str, ParsedNode]] = []
        self.first_h1: str | None = None

    # ------------------------------------------------------------ structure

    def container(self, frame: _Frame) -> ParsedNode:
        return frame.node if frame.node is not None else self.sections.parent

    @property
    def depth(self) -> int:
        """The depth a node opened now would have (the root is 0)."""
        return len(self.frames) + self.sections.depth

    def location(self, el: Any) -> dict[str, Any]:
        # libxml2's getpath is fastest, but costs the siblings of every ancestor:
        # under a wide element the linear ``_XPaths`` takes over (same strings).
        xpath = self.xpath(el) if self.wide else self.tree.getpath(el)
        self.text_left -= len(xpath)
        loc: dict[str, Any] = {"xpath": xpath}
        line = el.sourceline
        if line is not None:
            loc["line_start"] = line
        return loc

    def new_node(self, etype: ElementType, el: Any, **metadata: Any) -> ParsedNode:
        return ParsedNode(etype, metadata=metadata, location=self.location(el))

    def attach(self, node: ParsedNode) -> None:
        """Add a block to the innermost open block (after closing an implicit paragraph)."""
        self.boundary()
        self.append(node)

    def append(self, node: ParsedNode, cell: bool = False) -> None:
        """``attach`` once the boundary is done: spend, give it waiting anchors, add it."""
        if cell:
            self.budget.spend_cell()
        else:
            self.budget.spend()
        if self.pending:
            self.claim_pending(node)
        top = self.frames[-1].node
        (top if top is not None else self.sections.parent).children.append(node)

    def open(self, node: ParsedNode, kind: int, implicit: bool = False) -> _Frame:
        self.attach(node)
        frame = _Frame(node, kind, implicit)
        self.frames.append(frame)
        return frame

    def boundary(self) -> None:
        """A non-inline element starts or ends: end an implicit paragraph, or a line of text."""
        top = self.frames[-1]
        if top.implicit:
            self.close_top()
        elif top.kind == _TEXT and top.buf:
            text = _collapse(top.buf)
            top.buf.clear()
            if text:
                top.chunks.append(text)

    def close_top(self) -> None:
        frame = self.frames.pop()
        node = frame.node
        assert node is not None
        kind = frame.kind
        if kind == _TEXT:
            if frame.buf:
                text = _collapse(frame.buf)
                if text:
                    frame.chunks.append(text)
            node.text = "\n".join(frame.chunks)
        elif kind == _PRE:
            text = "".join(frame.buf)
            if text.startswith("\n"):
                text = text[1:]
            node.text = text.rstrip("\n")
        elif kind == _ROW:
            node.text = " | ".join(frame.chunks)
        else:
            node.text = "\n".join(c for c in frame.chunks if c)
        if node.element_type == ElementType.HEADER:
            if id(node) not in self.explicit:
                node.anchor = self.slugger.slug(node.text)
            if node.metadata.get("level") == 1 and self.first_h1 is None and node.text:
                self.first_h1 = node.text
        self.hand_up(node.text)

    def hand_up(self, text: str) -> None:
        """Give a finished block's text to the enclosing block."""
        parent = self.frames[-1]
        self.text_left -= len(text)
        if self.text_left < 0:
            raise ParseError(
                f"text and locations repeated by nested containers exceed {_TEXT_FACTOR}x the document size"
            )
        if parent.kind == _TEXT:
            if parent.buf:
                pending = _collapse(parent.buf)
                parent.buf.clear()
                if pending:
                    parent.chunks.append(pending)
            if text:
                parent.chunks.append(text)
        elif parent.kind == _PRE:
            parent.buf.append(text)
        elif parent.kind == _ROW or text:
            parent.chunks.append(text)

    def close_to(self, frame: _Frame) -> None:
        frames = self.frames
        if frame not in frames:  # pragma: no cover - defensive
            return
        while frames[-1] is not frame:
            self.close_top()
        self.close_top()

    def finish(self) -> None:
        while len(self.frames) > 1:
            self.close_top()
        for anchor, home in self.pending:
            self.set_anchor(home, anchor)
        self.pending.clear()

    # ------------------------------------------------------------ text and anchors

    def text_target(self, el: Any) -> _Frame:
        """The frame inline content goes to, opening an implicit paragraph if needed."""
        top = self.frames[-1]
        if top.kind == _TEXT or top.kind == _PRE:
            return top
        node = self.new_node(ElementType.PARAGRAPH, el)
        return self.open(node, _TEXT, implicit=True)

    def add_text(self, text: str | None, el: Any) -> None:
        if not text:
            return
        top = self.frames[-1]
        if top.kind == _TEXT or top.kind == _PRE:
            top.buf.append(text)
        elif not text.isspace():
            self.text_target(el).buf.append(text)

    def set_anchor(self, node: ParsedNode, anchor: str) -> None:
        node.add_anchor(anchor)
        self.explicit.add(id(node))
        self.slugger.reserve(anchor)

    def claim_pending(self, node: ParsedNode) -> None:
        if self.pending:
            for anchor, _home in self.pending:
                self.set_anchor(node, anchor)
            self.pending.clear()

    def element_anchors(self, el: Any, tag: str, node: ParsedNode | None) -> None:
        """Every ``id`` (and ``<a name>``) of ``el`` becomes an anchor of ``node`` or of where it sits."""
        anchor = el.get("id")
        name = el.get("name") if tag == "a" else None
        if anchor is None and name is None:
            return
        for value in (anchor, name):
            if value and value.strip():
                self.place_anchor(value.strip(), node)

    def place_anchor(self, anchor: str, node: ParsedNode | None) -> None:
        if node is not None:
            self.set_anchor(node, anchor)
            return
        top = self.frames[-1]
        if (top.kind == _TEXT or top.kind == _PRE) and top.node is not None:
            self.set_anchor(top.node, anchor)
        else:
            self.pending.append((anchor, self.container(top)))

    # ------------------------------------------------------------ elements

    def enter(self, el: Any, tag: str) -> tuple[_Frame | None, bool]:
        """Handle an opening tag; returns (frame opened, is inline)."""
        if tag in _INLINE_TAGS:
            if tag == "a":
                self.link(el)
            self.element_anchors(el, tag, None)
            return None, True
        simple = _SIMPLE_BLOCKS.get(tag)
        if simple is not None:
            return self.block(el, tag, simple[0], simple[1], simple[2], {})
        handler = _HANDLERS.get(tag)
        if handler is None:
            self.plain(el, tag)
            return None, False
        return handler(self, el, tag)

    def plain(self, el: Any, tag: str) -> None:
        """div, section, article, thead/tbody, unknown tags, refused containers: only a boundary."""
        self.boundary()
        if tag == "thead":
            table = self.nearest(_TABLE)
            if table is not None:
                table.in_head = True
        self.element_anchors(el, tag, None)

    def block(
        self, el: Any, tag: str, etype: ElementType, kind: int, container: bool, metadata: dict[str, Any]
    ) -> tuple[_Frame | None, bool]:
        """Open a block of ``etype``: a container past ``max_depth``, or a leaf one level deeper, opens nothing."""
        self.boundary()  # an implicit paragraph closes first: it is not the new block's parent
        depth = len(self.frames) + self.sections.depth
        if not container:
            depth -= 1
        if depth > self.max_depth and not self.budget.keeps(depth):
            self.plain(el, tag)
            return None, False
        node = ParsedNode(etype, metadata=metadata, location=self.location(el))
        self.element_anchors(el, tag, node)
        self.append(node, etype is ElementType.TABLE_CELL)
        frame = _Frame(node, kind)
        self.frames.append(frame)
        return frame, False

    def heading(self, el: Any, tag: str) -> tuple[_Frame | None, bool]:
        level = _HEADINGS[tag]
        self.boundary()
        if len(self.frames) > 1 or not self.budget.keeps(self.sections.depth_for(level)):
            # Inside a block (or too deep to open a section): a leaf header.
            return self.block(el, tag, ElementType.HEADER, _TEXT, False, {"level": level})
        node = self.new_node(ElementType.HEADER, el, level=level)
        self.element_anchors(el, tag, node)
        self.budget.spend()
        self.claim_pending(node)
        self.sections.open_header(node, level)
        frame = _Frame(node, _TEXT)
        self.frames.append(frame)
        return frame, False

    def listing(self, el: Any, tag: str) -> tuple[_Frame | None, bool]:
        metadata: dict[str, Any] = {"ordered": tag == "ol"}
        if tag == "ol":
            start = el.get("start")
            if start and start.strip().lstrip("-").isdigit():
                metadata["start"] = int(start)
        if tag == "dl":
            metadata["definition"] = True
        return self.block(el, tag, ElementType.LIST, _LIST, True, metadata)

    def row(self, el: Any, tag: str) -> tuple[_Frame | None, bool]:
        self.boundary()
        if not self.budget.keeps(self.depth):
            self.plain(el, tag)
            return None, False
        table = self.nearest(_TABLE)
        header = False
        if table is not None:
            if table.in_head:
                header = True
            elif table.rows == 0:
                cells = [c.tag for c in el if c.tag in ("th", "td")]
                header = bool(cells) and all(c == "th" for c in cells)
            table.rows += 1
        return self.block(el, tag, ElementType.TABLE_HEADER if header else ElementType.TABLE_ROW, _ROW, True, {})

    def cell(self, el: Any, tag: str) -> tuple[_Frame | None, bool]:
        metadata = {}
        for attr in ("colspan", "rowspan"):
            value = el.get(attr)
            if value and value.strip().isdigit() and int(value) > 1:
                metadata[attr] = int(value)
        return self.block(el, tag, ElementType.TABLE_CELL, _TEXT, True, metadata)

    def code(self, el: Any, tag: str) -> tuple[_Frame | None, bool]:
        return self.block(el, tag, ElementType.CODE_BLOCK, _PRE, False, {"language": _language(el)})

    def rule(self, el: Any, tag: str) -> tuple[_Frame | None, bool]:
        node = self.new_node(ElementType.HORIZONTAL_RULE, el)
        self.element_anchors(el, tag, node)
        self.attach(node)
        return None, False

    def img(self, el: Any, tag: str) -> tuple[_Frame | None, bool]:
        self.image(el)
        self.element_anchors(el, tag, None)
        return None, True

    def line_break(self, el: Any, tag: str) -> tuple[_Frame | None, bool]:
        top = self.frames[-1]
        if top.kind == _PRE:
            top.buf.append("\n")
        elif top.kind == _TEXT and top.buf:
            # A line break inside the block (an implicit paragraph stays open).
            text = _collapse(top.buf)
            top.buf.clear()
            if text:
                top.chunks.append(text)
        self.element_anchors(el, tag, None)
        return None, True

    def exit(self, el: Any, tag: str, frame: _Frame | None, inline: bool) -> None:
        if frame is not None:
            self.close_to(frame)
        elif not inline:
            self.boundary()
            if tag == "thead":
                table = self.nearest(_TABLE)
                if table is not None:
                    table.in_head = False

    def nearest(self, kind: int) -> _Frame | None:
        for frame in reversed(self.frames):
            if frame.kind == kind:
                return frame
        return None

    def link(self, el: Any) -> None:
        href = (el.get("href") or "").strip()
        if not href:
            return
        self.budget.spend_link()
        text = _WS.sub(" ", "".join(el.itertext())).strip()
        if not text:
            img = next(el.iter("img"), None)
            if img is not None:
                text = (img.get("alt") or "").strip()
        top = self.frames[-1]
        if top.kind == _TEXT or top.kind == _PRE:
            node = top.node
        elif next(el.iter(*_BLOCK_TAGS), None) is not None:
            node = self.container(top)
        else:
            node = self.text_target(el).node
        assert node is not None
        self.result.links.append(ParsedLink(href, text, node))

    def image(self, el: Any) -> None:
        alt = _WS.sub(" ", el.get("alt") or "").strip()
        top = self.frames[-1]
        if top.kind == _TEXT or top.kind == _PRE:
            assert top.node is not None
            if alt:
                top.buf.append(alt)
            if not self.budget.keeps(self.depth - 1):
                return  # an image below a leaf already one level past max_depth: its alt text stays
            node = self.new_node(ElementType.IMAGE, el, src=(el.get("src") or "").strip(), alt=alt)
            node.text = alt
            self.budget.spend()
            top.node.children.append(node)
        else:
            node = self.new_node(ElementType.IMAGE, el, src=(el.get("src") or "").strip(), alt=alt)
            node.text = alt
            self.attach(node)
            if alt and top.kind != _ROW:
                top.chunks.append(alt)

    # ------------------------------------------------------------ walk

    def walk(self, start: Any) -> None:
        # Each entry also says whether an ancestor is wide (see ``location``).
        stack: list[tuple[int, Any, _Frame | None, bool, bool]] = [(_ENTER, start, None, False, False)]
        while stack:
            action, el, frame, inline, wide = stack.pop()
            self.wide = wide
            tag = el.tag
            if action == _EXIT:
                self.exit(el, tag, frame, inline)
                self.add_text(el.tail, el.getparent())
                continue
            if not isinstance(tag, str) or tag in _SKIP_TAGS:
                # Comments/PIs/entities and dropped subtrees: only their tail counts.
                self.add_text(el.tail, el.getparent())
                continue
            frame, inline = self.enter(el, tag)
            stack.append((_EXIT, el, frame, inline, wide))
            self.add_text(el.text, el)
            children = list(el)
            wide = wide or len(children) > _WIDE
            for child in reversed(children):
                stack.append((_ENTER, child, None, False, wide))


# Blocks without metadata: tag -> (type, frame kind, is a container).
_SIMPLE_BLOCKS = {
    "p": (ElementType.PARAGRAPH, _TEXT, False), "caption": (ElementType.PARAGRAPH, _TEXT, False),
    "li": (ElementType.LIST_ITEM, _TEXT, True), "dt": (ElementType.LIST_ITEM, _TEXT, True),
    "dd": (ElementType.LIST_ITEM, _TEXT, True), "table": (ElementType.TABLE, _TABLE, True),
    "blockquote": (ElementType.BLOCKQUOTE, _FLOW, True),
}  # fmt: skip

_HANDLERS = {
    "h1": _Builder.heading, "h2": _Builder.heading, "h3": _Builder.heading,
    "h4": _Builder.heading, "h5": _Builder.heading, "h6": _Builder.heading,
    "ul": _Builder.listing, "ol": _Builder.listing, "dl": _Builder.listing, "menu": _Builder.listing,
    "tr": _Builder.row, "th": _Builder.cell, "td": _Builder.cell,
    "pre": _Builder.code, "hr": _Builder.rule,
    "img": _Builder.img, "br": _Builder.line_break,
}  # fmt: skip


def _language(pre: Any) -> str | None:
    for el in (pre, pre.find("code")):
        if el is None:
            continue
        match = _LANG_CLASS.search(el.get("class") or "")
        if match:
            return match.group(1)
    return None


def _is_noise(entry: Any) -> bool:
    """An error valid HTML5 causes (see the module docstring), not breakage."""
    return (
        entry.type in _NOISE
        or entry.domain == lxml.etree.ErrorDomains.NAMESPACE
        or "embeds close tag" in entry.message
    )


def _line_breaks(match: re.Match[bytes]) -> bytes:
    return b"\n" * match.group(0).count(b"\n")


_local = threading.local()


def _parser() -> Any:
    """This thread's HTML parser: reusing one saves libxml2's set-up (a fifth of the parse)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = lxml.etree.HTMLParser(encoding="utf-8", **_PARSER_OPTIONS)
    return parser


def _utf8(doc: ParseInput, source: SourceText) -> bytes:
    """The document as UTF-8 for libxml2: its own bytes when they are plain UTF-8 (the common case)."""
    decoded = source.decoded
    if decoded.source == "utf-8" and not decoded.replaced:
        data = doc.data
    else:
        data = source.text.encode("utf-8")
    if b"</" in data:
        data = _HTML_END.sub(_line_breaks, data)
    return data


def _load(data: bytes, text: str) -> tuple[Any, dict[str, Any]]:
    """The ``html`` root element (None when there is nothing) and the recovery metadata."""
    parser = _parser()
    html = lxml.etree.fromstring(data, parser)
    log = parser.error_log
    if not log:
        return html, {}
    hit = limit_hit(log)
    if hit is not None and hit.limit is not None:
        # libxml2 stopped at its depth limit and kept only what came before.
        message = f"HTML nested deeper than {hit.limit:,} levels, the most libxml2 parses ({hit.message})"
        error = {"message": message, "line": hit.line}
        return html_tree(text), recovery_metadata(error, "html.parser")
    if hit is not None:
        raise ParseError(f"libxml2 refused the document: {hit.message} (line {hit.line})")
    error = first_error(log, _is_noise)
    return html, (recovery_metadata(error, "libxml2") if error is not None else {})


def _parse(doc: ParseInput) -> ParseResult:
    source = read_html(doc)
    text = source.text
    metadata = encoding_metadata(source.decoded)
    if not text.strip():
        return ParseResult(root=ParsedNode(ElementType.ROOT), metadata=metadata)
    html, recovery = _load(_utf8(doc, source), text)
    if html is None:
        return ParseResult(root=ParsedNode(ElementType.ROOT), metadata=metadata)
    lxml.etree.strip_elements(html, *_DROP_TAGS, with_tail=False)
    tree = html.getroottree()
    builder = _Builder(doc, tree, len(text))
    title_el = html.find("head/title")
    title = _WS.sub(" ", "".join(title_el.itertext())).strip() if title_el is not None else ""
    for child in html:
        # Anything the parser left outside head/body (rare) is walked as well.
        if not isinstance(child.tag, str):
            continue
        if child.tag == "head":
            # libxml2's HTML4 parser keeps content it does not know (<nav>, <main>...) in <head>
            # when no <body> tag came first: walk everything there but the head's own metadata.
            for inner in child:
                if isinstance(inner.tag, str) and inner.tag not in _SKIP_TAGS:
                    builder.walk(inner)
            continue
        builder.walk(child)
    builder.finish()
    result = builder.result
    result.title = title or builder.first_h1
    result.metadata.update(metadata)
    result.metadata.update(recovery)
    return builder.budget.finish(result)
