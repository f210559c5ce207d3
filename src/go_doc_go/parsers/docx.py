"""DOCX to a ``ParsedNode`` tree: python-docx opens the package, an explicit stack walks its XML.

Shape (headers nest as in the Markdown parser, see ``_headings.Sections``)::

    root
    ├── header {level}            "Heading N" styles (N kept), "Title" (level 1),
    │   ├── paragraph             or a paragraph outline level (w:outlineLvl)
    │   ├── list {ordered} > list_item > list ...   numbered paragraphs, nested by w:ilvl
    │   └── table > table_header | table_row > table_cell
    ├── page_header {kind, section} > paragraph | table     each header part once
    ├── page_footer {kind, section} > paragraph | table
    └── comment {author, date, comment_id, refers_to}       the comment's text

Design choices
* The package is checked by ``_zip.check_package`` first (zip bombs, DTDs,
  password-protected files) and only then given to python-docx.
* The body is walked from the XML, not python-docx's block iterator, so
  content controls (``w:sdt``, where Word puts tables of contents),
  ``w:customXml``, tracked insertions and text boxes keep their text. Deleted
  text (``w:delText``), field codes and ``mc:Fallback`` copies are not text.
* Lists: a paragraph is a list item when it has numbering (``w:numPr``,
  directly or through its style); ``w:ilvl`` (or the ``List Bullet 2`` style
  suffix) gives its nesting, the numbering definition whether it is ordered.
  A list nested deeper than ``parsers.max_depth`` keeps its items in the
  deepest list kept.
* Tables: cells hold their paragraphs' text joined by newlines (nested tables
  included); ``gridSpan`` is ``colspan``. The first row is a ``table_header``
  when marked as a repeating header row (``w:tblHeader``) or when all of its
  text is bold. Every cell spends ``parsers.max_cells``.
* Anchors: headers get a GitHub-style slug; bookmarks (``w:bookmarkStart``)
  are extra anchors of the block they sit in, so internal hyperlinks
  (``w:anchor``) resolve. Hyperlinks are reported with their block.
* Location: ``{"paragraph": n}`` (n-th body paragraph, 0-based),
  ``{"table": t, "row": r, "column": c}`` for tables; header, footer and
  comment content add ``"part"``. DOCX has no pages, so there are none.
* Not extracted: footnotes, endnotes, and the text of charts and SmartArt.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers._headings import Sections, Slugger
from go_doc_go.parsers._office import core_metadata, require
from go_doc_go.parsers._zip import check_package
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, new_root

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


P, TBL, TR, TC, SDT, SDT_CONTENT, CUSTOM_XML = (_w(t) for t in ("p", "tbl", "tr", "tc", "sdt", "sdtContent", "customXml"))
T, TAB, BR, CR, NB_HYPHEN, HYPERLINK = (_w(t) for t in ("t", "tab", "br", "cr", "noBreakHyphen", "hyperlink"))
BOOKMARK, RANGE_START, RANGE_END = _w("bookmarkStart"), _w("commentRangeStart"), _w("commentRangeEnd")
VAL, ID = _w("val"), _w("id")
FALLBACK = f"{{{MC}}}Fallback"
_NO_TEXT = frozenset((_w("pPr"), _w("rPr"), _w("instrText"), _w("delText"), FALLBACK, _w("fldData")))
_HEADING_NAME = re.compile(r"(?i)^heading\s*([1-9])$")
_LIST_SUFFIX = re.compile(r"(?i)^list(?: bullet| number| continue)?\s+([2-9])$")
_WS = re.compile(r"[ \t\r\f\v]+")


def parse(doc: ParseInput) -> ParseResult:
    return guarded("DOCX", _parse, doc)


def _parse(doc: ParseInput) -> ParseResult:
    check_package(doc.data, doc.path, "DOCX", doc.limits)
    docx = require("docx", "DOCX")
    try:
        document = docx.Document(io.BytesIO(doc.data))
    except (KeyError, ValueError, docx.opc.exceptions.OpcError) as error:
        raise ParseError(f"invalid DOCX in {doc.path}: {error}") from None
    builder = _Builder(doc, document)
    builder.body(document.element.body)
    builder.page_parts()
    builder.comments()
    result = builder.result
    result.metadata.update(core_metadata(document.core_properties))
    result.title = result.metadata.get("title") or builder.first_title
    return builder.budget.finish(result)


class _Style:
    __slots__ = ("name", "based_on", "outline", "num_id", "ilvl")

    def __init__(self, el: Any) -> None:
        name = el.find(_w("name"))
        based = el.find(_w("basedOn"))
        self.name: str = (name.get(VAL) if name is not None else "") or ""
        self.based_on: str | None = based.get(VAL) if based is not None else None
        ppr = el.find(_w("pPr"))
        self.outline, self.num_id, self.ilvl = _paragraph_properties(ppr)


class _Styles:
    """Style id -> ``_Style``, read on first use (a template defines hundreds; a document uses a few)."""

    __slots__ = ("_elements", "_styles")

    def __init__(self, styles: Any) -> None:
        self._elements = {el.get(_w("styleId")): el for el in styles.iterchildren(_w("style"))}
        self._styles: dict[str, _Style | None] = {}

    def get(self, style_id: str) -> _Style | None:
        try:
            return self._styles[style_id]
        except KeyError:
            el = self._elements.get(style_id)
            style = self._styles[style_id] = _Style(el) if el is not None else None
            return style


def _paragraph_properties(ppr: Any) -> tuple[int | None, str | None, int | None]:
    """(outline level, numbering id, list level) set directly in a ``w:pPr``."""
    if ppr is None:
        return None, None, None
    outline = _int(ppr.find(_w("outlineLvl")))
    num_id = ilvl = None
    numpr = ppr.find(_w("numPr"))
    if numpr is not None:
        num = numpr.find(_w("numId"))
        num_id = num.get(VAL) if num is not None else None
        ilvl = _int(numpr.find(_w("ilvl")))
    return outline, num_id, ilvl


def _int(el: Any) -> int | None:
    if el is None:
        return None
    try:
        return int(el.get(VAL))
    except (TypeError, ValueError):
        return None


class _Builder:
    def __init__(self, doc: ParseInput, document: Any) -> None:
        self.doc = doc
        self.document = document
        self.part = document.part
        self.root = new_root(format="docx")
        self.result = ParseResult(root=self.root)
        self.budget = ElementBudget(doc.limits)
        self.budget.spend()
        self.sections = Sections(self.root)
        self.slugger = Slugger()
        self.styles = _Styles(document.styles.element)
        self._formats: dict[tuple[str, int], str] | None = None  # read at the first list item
        self.paragraphs = 0
        self.tables = 0
        self.first_title: str | None = None
        self.open_comments: dict[str, list[str]] = {}
        self.comment_text: dict[str, list[str]] = {}
        self.lists: list[tuple[int, ParsedNode]] = []  # (ilvl, list node), innermost last
        self.pending_anchors: list[str] = []
        self.story = document.part  # the part whose relationships hyperlinks refer to

    # ------------------------------------------------------------ body

    def body(self, body: Any, container: ParsedNode | None = None, part_name: str | None = None) -> None:
        """Walk the blocks of ``body`` in order (paragraphs, tables, content controls)."""
        for el in _blocks(body):
            if el.tag == P:
                self.paragraph(el, container, part_name)
            else:
                self.close_lists()
                self.table(el, container, part_name)
        self.close_lists()

    def paragraph(self, p: Any, container: ParsedNode | None, part_name: str | None) -> None:
        location: dict[str, Any] = {"paragraph": self.paragraphs}
        if part_name:
            location["part"] = part_name
        self.paragraphs += 1
        text, links, anchors = self.text_of(p)
        if not text.strip():
            self.pending_anchors.extend(anchors)  # a bookmark in an empty paragraph marks the next block
            return
        if self.pending_anchors:
            anchors = [*self.pending_anchors, *anchors]
            self.pending_anchors.clear()
        text = text.strip()
        ppr = p.find(_w("pPr"))
        style_id, outline, num_id, ilvl, nesting = self.properties(ppr)
        level = self.heading_level(style_id, outline) if container is None else None
        if level is not None:
            self.close_lists()
            node = ParsedNode(ElementType.HEADER, text=text, metadata={"level": level}, location=location)
            style = self.styles.get(style_id or "")
            if style is not None and style.name:
                node.metadata["style"] = style.name
            self.budget.spend()
            self.sections.open_header(node, level)
            node.anchor = self.slugger.slug(text)
            if self.first_title is None and level == 1:
                self.first_title = text
        elif num_id is not None and num_id != "0":
            node = self.list_item(text, (num_id, ilvl or 0), nesting, container, location)
        else:
            self.close_lists()
            node = ParsedNode(ElementType.PARAGRAPH, text=text, location=location)
            self.budget.spend()
            (container or self.sections.parent).children.append(node)
        self.link_up(node, links, anchors)

    def link_up(self, node: ParsedNode, links: list[tuple[str, str]], anchors: list[str]) -> None:
        """Give ``node`` its bookmarks as anchors and report its hyperlinks."""
        for anchor in anchors:
            node.add_anchor(anchor)
        for href, link_text in links:
            self.budget.spend_link()
            self.result.links.append(ParsedLink(href, link_text, node))

    def properties(self, ppr: Any) -> tuple[str | None, int | None, str | None, int | None, int]:
        """(style id, outline level, numbering id, numbering level, nesting), direct formatting over the style chain.

        The nesting is the numbering level, or for styles like ``List Bullet 2``
        (whose numbering is at level 0 of a list of their own) the style's suffix.
        """
        style_id = None
        if ppr is not None:
            pstyle = ppr.find(_w("pStyle"))
            style_id = pstyle.get(VAL) if pstyle is not None else None
        outline, num_id, ilvl = _paragraph_properties(ppr)
        current, seen = style_id, 0
        suffix_level = None
        while current is not None and seen < 20:  # basedOn chains are short; cycles end here
            style = self.styles.get(current)
            if style is None:
                break
            outline = style.outline if outline is None else outline
            num_id = style.num_id if num_id is None else num_id
            if ilvl is None and style.ilvl is not None:
                ilvl = style.ilvl
            if suffix_level is None and seen == 0:
                match = _LIST_SUFFIX.match(style.name)
                suffix_level = int(match.group(1)) - 1 if match else None
            current, seen = style.based_on, seen + 1
        nesting = ilvl or suffix_level or 0
        return style_id, outline, num_id, ilvl, nesting

    def heading_level(self, style_id: str | None, outline: int | None) -> int | None:
        style = self.styles.get(style_id or "")
        if style is not None:
            match = _HEADING_NAME.match(style.name)
            if match:
                return int(match.group(1))
            if style.name.lower() == "title":
                return 1
        if outline is not None and 0 <= outline < 9:
            return outline + 1
        return None

    def list_item(
        self, text: str, numbering: tuple[str, int], ilvl: int, container: ParsedNode | None, location: dict[str, Any]
    ) -> ParsedNode:
        """Add an item at nesting ``ilvl``: into the open list of that level, a new nested one, or a new list."""
        lists = self.lists
        while lists and lists[-1][0] > ilvl:
            _finish_list(lists.pop()[1])
        if not lists or lists[-1][0] < ilvl:
            if self._formats is None:
                self._formats = _numbering_formats(self.part)
            ordered = self._formats.get(numbering, "decimal") not in ("bullet", "none")
            parent = container or self.sections.parent
            if lists and lists[-1][1].children:
                parent = lists[-1][1].children[-1]  # nested under the previous item
            depth = self.sections.depth + 2 * len(lists) + 1
            if lists and not self.budget.keeps(depth):
                parent = lists[-1][1]
                ilvl = lists[-1][0]
            else:
                node = ParsedNode(ElementType.LIST, metadata={"ordered": ordered}, location=dict(location))
                self.budget.spend()
                parent.children.append(node)
                lists.append((ilvl, node))
        item = ParsedNode(ElementType.LIST_ITEM, text=text, metadata={"level": ilvl}, location=location)
        self.budget.spend()
        lists[-1][1].children.append(item)
        return item

    def close_lists(self) -> None:
        for _, node in self.lists:
            _finish_list(node)
        self.lists.clear()

    # ------------------------------------------------------------ text

    def text_of(self, p: Any) -> tuple[str, list[tuple[str, str]], list[str]]:
        """A paragraph's text, its hyperlinks (href, text) and bookmark names; explicit stack, no recursion."""
        out: list[str] = []
        links: list[tuple[str, str]] = []
        anchors: list[str] = []
        spans: list[tuple[str, int]] = []
        stack: list[tuple[Any, bool]] = [(p, False)]
        while stack:
            el, leaving = stack.pop()
            tag = el.tag
            if leaving:  # end of a hyperlink
                href, start = spans.pop()
                links.append((href, _clean("".join(out[start:]))))
                continue
            if not isinstance(tag, str) or tag in _NO_TEXT:
                continue
            if tag == T:
                text = el.text or ""
                out.append(text)
                for pieces in self.open_comments.values():
                    pieces.append(text)
                continue
            if tag == TAB:
                out.append("\t")
                continue
            if tag == BR or tag == CR:
                out.append("\n")
                continue
            if tag == NB_HYPHEN:
                out.append("-")
                continue
            if tag == P and el is not p:
                out.append("\n")  # a text box paragraph inside this one
            elif tag == BOOKMARK:
                name = el.get(_w("name"))
                if name and not name.startswith("_GoBack"):
                    anchors.append(name)
                continue
            elif tag == RANGE_START:
                self.open_comments.setdefault(el.get(ID) or "", self.comment_text.setdefault(el.get(ID) or "", []))
                continue
            elif tag == RANGE_END:
                self.open_comments.pop(el.get(ID) or "", None)
                continue
            elif tag == HYPERLINK:
                href = self.href(el)
                if href:
                    spans.append((href, len(out)))
                    stack.append((el, True))
            stack.extend((child, False) for child in reversed(el))
        return _clean("".join(out)), links, anchors

    def href(self, el: Any) -> str | None:
        rid = el.get(f"{{{R}}}id")
        anchor = el.get(_w("anchor"))
        target = None
        if rid:
            rel = self.story.rels.get(rid)
            if rel is not None and rel.is_external:
                target = rel.target_ref
        if target and anchor:
            return f"{target}#{anchor}"
        if target:
            return target
        return f"#{anchor}" if anchor else None

    # ------------------------------------------------------------ tables

    def table(self, tbl: Any, container: ParsedNode | None, part_name: str | None) -> None:
        index = self.tables
        self.tables += 1
        base: dict[str, Any] = {"table": index}
        if part_name:
            base["part"] = part_name
        table = ParsedNode(ElementType.TABLE, location=dict(base))
        self.budget.spend()
        (container or self.sections.parent).children.append(table)
        rows = [tr for tr in _children(tbl, TR)]
        header_names: list[str] = []
        for r, tr in enumerate(rows):
            cells = [(tc, *self.cell_text(tc)) for tc in _children(tr, TC)]
            is_header = r == 0 and len(rows) > 1 and _is_header_row(tr, [cell[0] for cell in cells])
            row = ParsedNode(
                ElementType.TABLE_HEADER if is_header else ElementType.TABLE_ROW,
                text=" | ".join(cell[1] for cell in cells),
                location={**base, "row": r},
            )
            self.budget.spend()
            table.children.append(row)
            if is_header:
                header_names = [cell[1] for cell in cells]
            for c, (tc, text, links, anchors) in enumerate(cells):
                metadata: dict[str, Any] = {}
                span = _int(tc.find(f"{_w('tcPr')}/{_w('gridSpan')}"))
                if span and span > 1:
                    metadata["colspan"] = span
                if not is_header and c < len(header_names) and header_names[c]:
                    metadata["column"] = header_names[c]
                self.budget.spend_cell()
                node = ParsedNode(ElementType.TABLE_CELL, text=text, metadata=metadata, location={**base, "row": r, "column": c})
                row.children.append(node)
                self.link_up(node, links, anchors)
        table.text = " | ".join(header_names)
        table.metadata.update(rows=len(rows), has_header=bool(header_names))

    def cell_text(self, tc: Any) -> tuple[str, list[tuple[str, str]], list[str]]:
        """A cell's paragraphs (nested tables included) joined by newlines, with their links and bookmarks."""
        parts, links, anchors = [], [], []
        for p in _blocks(tc, paragraphs_only=True):
            text, found, names = self.text_of(p)
            if text:
                parts.append(text)
            links.extend(found)
            anchors.extend(names)
        return "\n".join(parts), links, anchors

    # ------------------------------------------------------------ headers, footers, comments

    def page_parts(self) -> None:
        """Each header and footer part once, in the order the sections reference them."""
        seen: set[str] = set()
        for s, sect in enumerate(self.document.element.body.iter(_w("sectPr"))):
            for ref in sect:
                kind_tag = ref.tag
                if kind_tag not in (_w("headerReference"), _w("footerReference")):
                    continue
                part = self.part.related_parts.get(ref.get(f"{{{R}}}id"))
                if part is None or str(part.partname) in seen:
                    continue
                seen.add(str(part.partname))
                etype = ElementType.PAGE_HEADER if kind_tag == _w("headerReference") else ElementType.PAGE_FOOTER
                node = ParsedNode(etype, metadata={"kind": ref.get(_w("type")) or "default", "section": s},
                                  location={"part": str(part.partname).lstrip("/")})  # fmt: skip
                self.add_part(node, part)

    def add_part(self, node: ParsedNode, part: Any) -> None:
        """Fill ``node`` from a story part (header, footer); keep it only if it has text."""
        saved = self.paragraphs, self.tables
        self.paragraphs = self.tables = 0
        self.story = part
        self.budget.spend()
        self.body(part.element, node, node.location["part"])
        self.paragraphs, self.tables = saved
        self.story = self.part
        node.text = "\n".join(c.text for c in node.children if c.text)
        if node.children:
            self.root.children.append(node)
        else:
            self.budget.remaining += 1

    def comments(self) -> None:
        part = _comments_part(self.part)
        if part is None:
            return
        self.story = part
        for el in part.element.iter(_w("comment")):
            cid = el.get(ID) or ""
            texts, links, anchors = [], [], []
            for p in _blocks(el, paragraphs_only=True):
                text, found, names = self.text_of(p)
                texts.append(text)
                links.extend(found)
                anchors.extend(names)
            metadata: dict[str, Any] = {"comment_id": cid}
            author = el.get(_w("author"))
            if author:
                metadata["author"] = author
            date = el.get(_w("date"))
            if date:
                metadata["date"] = date
            refers = _clean("".join(self.comment_text.get(cid, ())))
            if refers:
                metadata["refers_to"] = refers
            self.budget.spend()
            node = ParsedNode(ElementType.COMMENT, text="\n".join(t for t in texts if t), metadata=metadata,
                              location={"comment_id": cid})  # fmt: skip
            self.root.children.append(node)
            self.link_up(node, links, anchors)


def _finish_list(node: ParsedNode) -> None:
    """A list's text: its items' text, one per line."""
    node.text = "\n".join(child.text for child in node.children)


def _clean(text: str) -> str:
    return "\n".join(_WS.sub(" ", line).strip() for line in text.split("\n")).strip()


def _children(el: Any, tag: str) -> Iterator[Any]:
    """Children with ``tag``, looking through content controls and custom XML wrappers."""
    stack = list(reversed(el))
    while stack:
        child = stack.pop()
        if child.tag == tag:
            yield child
        elif child.tag in (SDT, SDT_CONTENT, CUSTOM_XML):
            stack.extend(reversed(child))


def _blocks(container: Any, paragraphs_only: bool = False) -> Iterator[Any]:
    """Block-level ``w:p`` and ``w:tbl`` in document order (``paragraphs_only``: the paragraphs inside tables too)."""
    stack = list(reversed(container))
    while stack:
        el = stack.pop()
        tag = el.tag
        if tag == P:
            yield el
        elif tag == TBL:
            if paragraphs_only:
                stack.extend(reversed(el))
            else:
                yield el
        elif tag in (SDT, SDT_CONTENT, CUSTOM_XML, TR, TC, _w("ins"), _w("moveTo")):
            stack.extend(reversed(el))


def _is_header_row(tr: Any, cells: list[Any]) -> bool:
    trpr = tr.find(_w("trPr"))
    if trpr is not None and trpr.find(_w("tblHeader")) is not None:
        flag = trpr.find(_w("tblHeader")).get(VAL)
        if flag not in ("0", "false", "off"):
            return True
    runs = [r for tc in cells for r in tc.iter(_w("r")) if "".join(t.text or "" for t in r.iter(T)).strip()]
    return bool(runs) and all(_bold(r) for r in runs)


def _bold(run: Any) -> bool:
    b = run.find(f"{_w('rPr')}/{_w('b')}")
    return b is not None and b.get(VAL) not in ("0", "false", "off")


def _numbering_formats(part: Any) -> dict[tuple[str, int], str]:
    """(numId, ilvl) -> number format (``bullet``, ``decimal``, ``lowerLetter``...)."""
    try:
        numbering = part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return {}
    abstract: dict[str, dict[int, str]] = {}
    for el in numbering.iter(_w("abstractNum")):
        levels: dict[int, str] = {}
        for lvl in el.iter(_w("lvl")):
            fmt = lvl.find(_w("numFmt"))
            try:
                levels[int(lvl.get(_w("ilvl")) or 0)] = (fmt.get(VAL) if fmt is not None else None) or "decimal"
            except ValueError:
                continue
        abstract[el.get(_w("abstractNumId")) or ""] = levels
    formats: dict[tuple[str, int], str] = {}
    for num in numbering.iter(_w("num")):
        ref = num.find(_w("abstractNumId"))
        levels = abstract.get(ref.get(VAL) if ref is not None else "", {})
        for ilvl, fmt in levels.items():
            formats[(num.get(_w("numId")) or "", ilvl)] = fmt
    return formats


def _comments_part(part: Any) -> Any:
    for rel in part.rels.values():
        if not rel.is_external and rel.reltype.endswith("/comments"):
            return rel.target_part
    return None

