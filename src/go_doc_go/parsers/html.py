"""HTML to a ``ParsedNode`` tree, with lxml and an explicit stack (no recursion).

Tree shape is the Markdown parser's: top-level ``h1``-``h6`` open nested header
sections (see ``_headings``), and

    p -> paragraph             ul/ol/dl/menu -> list {"ordered"}
    li/dt/dd -> list_item      table -> table > table_header | table_row > table_cell
    pre -> code_block {"language"}   blockquote -> blockquote > blocks
    img -> image {"src", "alt"}      hr -> horizontal_rule     caption -> paragraph

Design choices
* ``script``, ``style``, ``noscript``, ``template``, comments, processing
  instructions and ``<head>`` (apart from ``<title>``) are dropped.
* Other elements (div, section, article, span, ...) make no element of their
  own: their text flows into the block that contains them. Loose text directly
  in a flow container (body/div at top level, blockquote, or a list or table
  outside any cell) becomes an implicit paragraph; it ends at the next block or
  at any non-inline element boundary (``<div>a</div><div>b</div>`` is two
  paragraphs).
* Whitespace is collapsed to single spaces (``<pre>`` keeps its text verbatim);
  ``<br>`` and nested non-inline elements start a new line in their block's text.
  Containers join their children's text with ``"\\n"``, a table row joins its
  cells with ``" | "``. Image alt text stays in the containing block's text.
* An ``img`` is an ``image`` element: a child of the paragraph/list item/cell/
  header it sits in, or a block of its own when it sits directly in a flow
  container.
* Anchors: a header gets a GitHub-style slug; an explicit ``id`` (or
  ``<a name>``) wins. The id of an element that makes no node of its own goes
  to the block it sits in, or, in a flow container, to the next block created.
* Links are reported with the block they sit in; a link wrapping block content
  (``<a href><div><p>...</p></div></a>``) is reported with the enclosing container.
* Location: ``{"xpath": ..., "line_start": ...}`` of the element that made the node.
* libxml2 stops nesting at depth 255 (we do not enable huge_tree), so absurdly
  deep documents come back truncated rather than failing.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import lxml.etree
import lxml.html

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers._headings import Sections, Slugger
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
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_LANG_CLASS = re.compile(r"(?:^|\s)(?:language|lang)-([^\s]+)")

_PARSER = lxml.html.HTMLParser(
    remove_comments=True, remove_pis=True, no_network=True, recover=True, huge_tree=False
)

# Total element text may be at most this many times the document's length.
_TEXT_FACTOR = 16

# Frame kinds.
_FLOW, _TEXT, _PRE, _LIST, _TABLE, _ROW = range(6)

# Stack actions.
_ENTER, _EXIT = 0, 1


def parse(doc: ParseInput) -> ParseResult:
    return guarded("html", _parse, doc)


def _decode(data: bytes) -> str:
    """UTF-8 unless a BOM or an early ``<meta charset>`` says otherwise; never fails."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    match = _META_CHARSET.search(data[:2048])
    if match:
        name = match.group(1).decode("ascii", "replace").lower()
        try:
            encoding = codecs.lookup(name).name
        except LookupError:
            encoding = "utf-8"
        if encoding not in ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            return data.decode(encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


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


class _Builder:
    def __init__(self, doc: ParseInput, tree: Any, source_chars: int) -> None:
        self.tree = tree
        # Containers repeat their children's text, so nesting multiplies text size;
        # bound the total so 255 nested blockquotes around 10 MB cannot take gigabytes.
        self.text_left = _TEXT_FACTOR * source_chars + 1_000_000
        self.root = ParsedNode(ElementType.ROOT)
        self.result = ParseResult(root=self.root)
        self.spend = ElementBudget(doc.limits).spend
        self.sections = Sections(self.root)
        self.slugger = Slugger()
        self.frames: list[_Frame] = [_Frame(None, _FLOW)]
        self.explicit: set[int] = set()  # id() of nodes whose anchor came from an id attribute
        self.pending_anchor: str | None = None
        self.first_h1: str | None = None

    # ------------------------------------------------------------ structure

    def container(self, frame: _Frame) -> ParsedNode:
        return frame.node if frame.node is not None else self.sections.parent

    def location(self, el: Any) -> dict[str, Any]:
        loc: dict[str, Any] = {"xpath": self.tree.getpath(el)}
        line = el.sourceline
        if line is not None:
            loc["line_start"] = line
        return loc

    def new_node(self, etype: ElementType, el: Any, **metadata: Any) -> ParsedNode:
        node = ParsedNode(etype, metadata=metadata, location=self.location(el))
        if self.pending_anchor is not None:
            self.set_anchor(node, self.pending_anchor)
            self.pending_anchor = None
        return node

    def attach(self, node: ParsedNode) -> None:
        """Add a block to the innermost open block (after closing an implicit paragraph)."""
        self.boundary()
        self.spend(len(self.frames) + self.sections.depth)
        self.container(self.frames[-1]).children.append(node)

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
        # Hand the finished text up to the enclosing block.
        parent = self.frames[-1]
        text = node.text
        self.text_left -= len(text)
        if self.text_left < 0:
            raise ParseError(f"text repeated by nested containers exceeds {_TEXT_FACTOR}x the document size")
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
        if id(node) in self.explicit:
            return
        node.anchor = anchor
        self.explicit.add(id(node))
        self.slugger.reserve(anchor)

    def element_anchor(self, el: Any, tag: str, node: ParsedNode | None) -> None:
        anchor = el.get("id")
        if not anchor and tag == "a":
            anchor = el.get("name")
        if not anchor or not anchor.strip():
            return
        anchor = anchor.strip()
        if node is not None:
            self.set_anchor(node, anchor)
            return
        top = self.frames[-1]
        if top.kind in (_TEXT, _PRE) and top.node is not None:
            self.set_anchor(top.node, anchor)
        elif self.pending_anchor is None:
            self.pending_anchor = anchor

    # ------------------------------------------------------------ elements

    def enter(self, el: Any, tag: str) -> tuple[_Frame | None, bool]:
        """Handle an opening tag; returns (frame opened, is inline)."""
        frames = self.frames
        frame: _Frame | None = None
        node: ParsedNode | None = None

        if tag in _INLINE_TAGS:
            if tag == "a":
                self.link(el)
            self.element_anchor(el, tag, None)
            return None, True

        if tag == "p" or tag == "caption":
            node = self.new_node(ElementType.PARAGRAPH, el)
            frame = self.open(node, _TEXT)
        elif tag in _HEADINGS:
            level = _HEADINGS[tag]
            node = self.new_node(ElementType.HEADER, el, level=level)
            self.boundary()
            if len(frames) == 1:
                # Top-level flow: headers open sections.
                self.spend(self.sections.depth_for(level))
                self.sections.open_header(node, level)
                frame = _Frame(node, _TEXT)
                frames.append(frame)
            else:
                frame = self.open(node, _TEXT)
        elif tag in ("ul", "ol", "dl", "menu"):
            metadata: dict[str, Any] = {"ordered": tag == "ol"}
            if tag == "ol":
                start = el.get("start")
                if start and start.strip().lstrip("-").isdigit():
                    metadata["start"] = int(start)
            if tag == "dl":
                metadata["definition"] = True
            node = self.new_node(ElementType.LIST, el, **metadata)
            frame = self.open(node, _LIST)
        elif tag in ("li", "dt", "dd"):
            node = self.new_node(ElementType.LIST_ITEM, el)
            frame = self.open(node, _TEXT)
        elif tag == "table":
            node = self.new_node(ElementType.TABLE, el)
            frame = self.open(node, _TABLE)
        elif tag == "tr":
            table = self.nearest(_TABLE)
            header = False
            if table is not None:
                if table.in_head:
                    header = True
                elif table.rows == 0:
                    cells = [c.tag for c in el if c.tag in ("th", "td")]
                    header = bool(cells) and all(c == "th" for c in cells)
                table.rows += 1
            node = self.new_node(ElementType.TABLE_HEADER if header else ElementType.TABLE_ROW, el)
            frame = self.open(node, _ROW)
        elif tag == "th" or tag == "td":
            metadata = {}
            for attr in ("colspan", "rowspan"):
                value = el.get(attr)
                if value and value.strip().isdigit() and int(value) > 1:
                    metadata[attr] = int(value)
            node = self.new_node(ElementType.TABLE_CELL, el, **metadata)
            frame = self.open(node, _TEXT)
        elif tag == "pre":
            node = self.new_node(ElementType.CODE_BLOCK, el, language=_language(el))
            frame = self.open(node, _PRE)
        elif tag == "blockquote":
            node = self.new_node(ElementType.BLOCKQUOTE, el)
            frame = self.open(node, _FLOW)
        elif tag == "hr":
            node = self.new_node(ElementType.HORIZONTAL_RULE, el)
            self.attach(node)
        elif tag == "img":
            self.image(el)
            self.element_anchor(el, tag, None)
            return None, True
        elif tag == "br":
            top = frames[-1]
            if top.kind == _PRE:
                top.buf.append("\n")
            elif top.kind == _TEXT and top.buf:
                # A line break inside the block (an implicit paragraph stays open).
                text = _collapse(top.buf)
                top.buf.clear()
                if text:
                    top.chunks.append(text)
            return None, True
        else:
            # div, section, article, thead/tbody, unknown tags: no node, only a boundary.
            self.boundary()
            if tag == "thead":
                table = self.nearest(_TABLE)
                if table is not None:
                    table.in_head = True
        self.element_anchor(el, tag, node)
        return frame, False

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
        node = self.new_node(ElementType.IMAGE, el, src=(el.get("src") or "").strip(), alt=alt)
        node.text = alt
        top = self.frames[-1]
        if top.kind == _TEXT or top.kind == _PRE:
            assert top.node is not None
            self.spend(len(self.frames) + self.sections.depth)
            top.node.children.append(node)
            if alt:
                top.buf.append(alt)
        else:
            self.attach(node)
            if alt and top.kind != _ROW:
                top.chunks.append(alt)

    # ------------------------------------------------------------ walk

    def walk(self, start: Any) -> None:
        stack: list[tuple[int, Any, _Frame | None, bool]] = [(_ENTER, start, None, False)]
        while stack:
            action, el, frame, inline = stack.pop()
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
            stack.append((_EXIT, el, frame, inline))
            self.add_text(el.text, el)
            children = list(el)
            for child in reversed(children):
                stack.append((_ENTER, child, None, False))
        while len(self.frames) > 1:
            self.close_top()


def _language(pre: Any) -> str | None:
    for el in (pre, pre.find("code")):
        if el is None:
            continue
        match = _LANG_CLASS.search(el.get("class") or "")
        if match:
            return match.group(1)
    return None


def _parse(doc: ParseInput) -> ParseResult:
    source = _XML_DECL.sub("", _decode(doc.data), count=1)
    if not source.strip():
        return ParseResult(root=ParsedNode(ElementType.ROOT))
    try:
        html = lxml.html.document_fromstring(source, parser=_PARSER)
    except lxml.etree.ParserError as error:
        if "empty" in str(error).lower():
            return ParseResult(root=ParsedNode(ElementType.ROOT))
        raise ParseError(f"html {doc.path}: {error}") from None
    lxml.etree.strip_elements(html, *_DROP_TAGS, with_tail=False)
    tree = html.getroottree()
    builder = _Builder(doc, tree, len(source))
    title_el = html.find("head/title")
    title = _WS.sub(" ", title_el.text_content()).strip() if title_el is not None else ""
    for child in html:
        # Anything the parser left outside head/body (rare) is walked as well.
        if isinstance(child.tag, str) and child.tag != "head":
            builder.walk(child)
    result = builder.result
    result.title = title or builder.first_h1
    return result
