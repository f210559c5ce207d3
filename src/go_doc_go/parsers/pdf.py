"""PDF to a ``ParsedNode`` tree with pypdfium2 (PDFium, BSD/Apache): text layer, layout inferred.

Shape (headers nest as in the Markdown parser, within each page)::

    root {pages}
    └── page {number, width, height}                    location {"page": n}
        ├── header {level}                              larger or bold short lines
        │   ├── paragraph
        │   ├── list {ordered} > list_item > list ...   bullet / enumerator lines, nested by indent
        │   └── table > table_header | table_row > table_cell
        └── ...

Why PDFium: measured on real files (see ``docs/formats.md``) it reads text
layers 10-30x faster than pdfminer.six or pypdf, gives per-character font
size, weight and boxes, and is permissively licensed (PyMuPDF is AGPL).

How the layout is inferred (a PDF has no paragraphs, only positioned glyphs):

1. Lines: PDFium's text (content-stream order, which is reading order for
   almost every producer) split at the line breaks it generates. For each line
   one character is asked for its font size (scaled by its text matrix), weight
   and name, and PDFium's text rectangles give the line's box and its
   segments (runs separated by a gap wider than one em).
2. Blocks: consecutive lines with the same size and weight and a vertical gap
   of at most ``PARAGRAPH_GAP`` em join into a paragraph (a hyphen that splits
   a lower-case word is removed, as are the line-end hyphens PDFium marks);
   a list marker, a table row or a jump upwards (a new column) starts a new
   block. Lines near the top or bottom edge, no larger than the body text,
   whose text (digits aside) repeats on at least half the pages are running
   headers/footers: paragraphs marked ``running``, outside the sections.
3. Headers: the body size is the size most characters have. A block of at
   most three lines and ``HEADING_MAX_CHARS`` characters is a header when its
   size is at least ``HEADING_RATIO`` times the body size, or when it is a
   single bold line at body size. Header styles (size, bold) are ranked over
   the whole document, largest first: level 1, 2, ... (at most 6).
4. Lists: a line starting with a bullet (``•``, ``◦``, ``-``, ``*``, Symbol-font
   bullets) or an enumerator (``1.``, ``a)``, ``(iv)``) is an item; lines
   indented under it continue it; a marker further right nests a list.
5. Tables: two or more consecutive lines that split into the same number
   (two or more) of segments, each column overlapping the one above, are a
   table; the first row is a ``table_header`` when it is bold or all text
   above numbers. Each cell spends ``parsers.max_cells``.

Reading order is the content stream's: a producer that writes a two-column
page row by row gives lines that run across both columns (PDFium, like pypdf,
does no layout analysis; pdfminer.six does, at a twentieth of the speed).

Location of every block: ``{"page": n, "bbox": [x0, y0, x1, y1]}`` in PDF
points with the origin at the page's bottom-left (PDF user space), 1-based
page numbers. Links: URI link annotations, attached to the block their
rectangle overlaps most (else the page). Document metadata: title, author,
subject, keywords, creator, producer, created/modified (ISO 8601), pages.

Failures: a PDF that needs a password fails with ``EncryptedDocumentError``
(one with only an owner password opens and is marked ``encrypted``); one
PDFium cannot open fails as invalid, saying when the file looks truncated
(no ``%%EOF``). A page PDFium cannot load is kept as an empty page marked
``unreadable`` and listed in ``unreadable_pages``. Pages without any text
(scans) are listed in ``pages_without_text``; there is no OCR.
"""

from __future__ import annotations

import ctypes
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from go_doc_go.exceptions import EncryptedDocumentError, ParseError
from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers._headings import Sections, Slugger
from go_doc_go.parsers._office import require
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, new_root

#: A vertical gap between two lines larger than this many ems starts a new paragraph.
PARAGRAPH_GAP = 0.8
#: A block this many times the body size (or more) may be a header.
HEADING_RATIO = 1.15
HEADING_MAX_CHARS = 200
#: Runs of a line further apart than this many ems are separate segments (table cells).
SEGMENT_GAP = 1.0
MAX_LEVELS = 6

_BULLET = re.compile("^([\u2022\u25e6\u25aa\u25ab\u2023\u2043\u25cf\u25cb\u25a0\u25a1\u27a2\u25ba\u2713\u2714"
                     "\u00b7\uf0b7\uf0a7\uf076\uf0d8\uf0fc]|[-*\u2013](?=\\s))\\s*")  # fmt: skip
_ENUMERATOR = re.compile(r"^(\(?(?:\d{1,3}|[a-zA-Z]|[ivxlcdm]{1,6}|[IVXLCDM]{1,6})[.)])\s+(?=\S)")
_BOLD_NAME = re.compile(r"(?i)bold|black|heavy|semibold|demi|\bcmbx|cmb\d|-bd\b|,bd\b")
_NUMBER = re.compile(r"^[\s$€£¥%+\-(),.\d]+$")
_FORCE_BOLD = 0x40000
_HYPHENS = ("-", "\u00ad", "\x02")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_DIGITS = re.compile(r"\d+")
#: Lines this close to the top or bottom edge (share of the page height) may be running headers/footers.
EDGE = 0.1


def parse(doc: ParseInput) -> ParseResult:
    return guarded("PDF", _parse, doc)


@dataclass(slots=True)
class _Line:
    text: str
    size: float
    bold: bool
    x0: float
    y0: float
    x1: float
    y1: float
    #: (x0, x1, text) of each segment when the line has gaps wider than SEGMENT_GAP em, else None.
    segments: list[tuple[float, float, str]] | None = None
    #: ``table`` (part of a table run), ``header``/``footer`` (running text repeated at the page edge) or None.
    role: str | None = None


def _parse(doc: ParseInput) -> ParseResult:
    pdfium = require("pypdfium2", "PDF")
    pdf = _open(pdfium, doc)
    try:
        return _Document(doc, pdfium, pdf).build()
    finally:
        pdf.close()


def _open(pdfium: Any, doc: ParseInput) -> Any:
    try:
        return pdfium.PdfDocument(doc.data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD or "password" in str(error).lower():
            raise EncryptedDocumentError(
                f"PDF {doc.path} is encrypted with a password; it cannot be read without it"
            ) from None
        truncated = b"%%EOF" not in doc.data[-2048:]
        hint = " (no %%EOF marker: the file looks truncated)" if truncated else ""
        raise ParseError(f"invalid PDF in {doc.path}: {error}{hint}") from None


class _Document:
    def __init__(self, doc: ParseInput, pdfium: Any, pdf: Any) -> None:
        self.doc = doc
        self.pdfium = pdfium
        self.raw = pdfium.raw
        self.pdf = pdf
        self.budget = ElementBudget(doc.limits)
        self.root = new_root(format="pdf")
        self.result = ParseResult(root=self.root)
        self.slugger = Slugger()
        self.metadata: dict[str, Any] = {}
        # Reused ctypes buffers (one PDFium call each per line).
        self._matrix = self.raw.FS_MATRIX()
        self._font = ctypes.create_string_buffer(128)
        self._flags = ctypes.c_int()
        self._rect = [ctypes.c_double() for _ in range(4)]

    def build(self) -> ParseResult:
        self.budget.spend()
        count = len(self.pdf)
        pages: list[tuple[ParsedNode, list[_Line], list[tuple[tuple[float, ...], str, str]]]] = []
        unreadable, empty = [], []
        for index in range(count):
            node, lines, links = self.read_page(index)
            if node.metadata.get("unreadable"):
                unreadable.append(index + 1)
            elif not lines:
                empty.append(index + 1)
            pages.append((node, lines, links))
        _mark_running(pages, _body_size(lines for _, lines, _ in pages))
        for _, lines, _ in pages:
            _mark_tables(lines)
        body = _body_size(lines for _, lines, _ in pages)
        styles = _heading_styles(body, (line for _, lines, _ in pages for line in lines if line.role is None))
        for node, lines, links in pages:
            _PageBuilder(self, node, body, styles).build(lines, links)
        self.metadata.update(_document_metadata(self.pdf, self.raw))
        self.metadata["pages"] = count
        if unreadable:
            self.metadata["unreadable_pages"] = unreadable
        if empty:
            self.metadata["pages_without_text"] = empty if len(empty) <= 100 else len(empty)
        if b"%%EOF" not in self.doc.data[-2048:]:
            self.metadata["repaired"] = "no %%EOF marker (truncated?); the pages PDFium could read are kept"
        self.result.metadata.update(self.metadata)
        self.result.title = self.metadata.get("title") or self.first_header()
        return self.budget.finish(self.result)

    def first_header(self) -> str | None:
        for page in self.root.children:
            for child in page.children:
                if child.element_type == ElementType.HEADER and child.metadata.get("level") == 1:
                    return child.text
        return None

    # ------------------------------------------------------------ reading a page

    def read_page(self, index: int) -> tuple[ParsedNode, list[_Line], list[tuple[tuple[float, ...], str, str]]]:
        number = index + 1
        node = ParsedNode(ElementType.PAGE, metadata={"number": number}, location={"page": number})
        self.budget.spend()
        self.root.children.append(node)
        try:
            page = self.pdf[index]
        except self.pdfium.PdfiumError:
            node.metadata["unreadable"] = True
            return node, [], []
        try:
            width, height = page.get_size()
            node.metadata.update(width=round(width, 1), height=round(height, 1))
            textpage = page.get_textpage()
            try:
                lines = self.read_lines(textpage)
                links = self.read_links(page, textpage)
            finally:
                textpage.close()
        finally:
            page.close()
        return node, lines, links

    def read_lines(self, textpage: Any) -> list[_Line]:
        raw, tp = self.raw, textpage.raw
        text = textpage.get_text_range()
        if not text.strip():
            return []
        astral = not text.isascii() and _ASTRAL.search(text) is not None
        lines: list[_Line] = []
        units = 0  # UTF-16 units before ``match.start()`` (PDFium's text indexes), when they differ
        previous_end = 0
        for match in re.finditer(r"[^\r\n]+", text):
            start, end = match.span()
            piece = match.group()
            stripped = piece.strip()
            if not stripped:
                continue
            lead = len(piece) - len(piece.lstrip())
            first, last = start + lead, start + lead + len(stripped)
            if astral:
                units += _utf16_len(text[previous_end:first])
                first_unit, last_unit = units, units + _utf16_len(stripped)
                units, previous_end = last_unit, last
            else:
                first_unit, last_unit = first, last
            char_first = raw.FPDFText_GetCharIndexFromTextIndex(tp, first_unit)
            char_last = raw.FPDFText_GetCharIndexFromTextIndex(tp, last_unit - 1)
            if char_first < 0 or char_last < char_first:
                continue
            line = self.line(tp, stripped, char_first, char_last - char_first + 1, textpage)
            if line is not None:
                lines.append(line)
        return lines

    def line(self, tp: Any, text: str, first: int, count: int, textpage: Any) -> _Line | None:
        raw = self.raw
        m = self._matrix
        size = raw.FPDFText_GetFontSize(tp, first)
        if raw.FPDFText_GetMatrix(tp, first, m):
            size *= math.sqrt(abs(m.a * m.d - m.b * m.c)) or 1.0
        raw.FPDFText_GetFontInfo(tp, first, self._font, 128, self._flags)
        name = self._font.value.decode("latin-1", "replace")
        bold = raw.FPDFText_GetFontWeight(tp, first) >= 600 or bool(self._flags.value & _FORCE_BOLD) or bool(
            _BOLD_NAME.search(name)
        )
        rects = []
        left, top, right, bottom = self._rect
        for i in range(raw.FPDFText_CountRects(tp, first, count)):
            if raw.FPDFText_GetRect(tp, i, left, top, right, bottom):
                rects.append((left.value, bottom.value, right.value, top.value))
        if not rects:
            return None
        size = round(size, 1) or 1.0
        x0 = min(r[0] for r in rects)
        line = _Line(text, size, bold, x0, min(r[1] for r in rects), max(r[2] for r in rects), max(r[3] for r in rects))
        if len(rects) > 1:
            line.segments = _segments(rects, size, textpage)
        return line

    def read_links(self, page: Any, textpage: Any) -> list[tuple[tuple[float, ...], str, str]]:
        """URI link annotations: (rect, uri, text under the rect)."""
        raw = self.raw
        links = []
        position = ctypes.c_int(0)
        link = raw.FPDF_LINK()
        rect = raw.FS_RECTF()
        while raw.FPDFLink_Enumerate(page.raw, ctypes.byref(position), ctypes.byref(link)):
            action = raw.FPDFLink_GetAction(link)
            if not action or raw.FPDFAction_GetType(action) != raw.PDFACTION_URI:
                continue
            size = raw.FPDFAction_GetURIPath(self.pdf.raw, action, None, 0)
            if size <= 1:
                continue
            buffer = ctypes.create_string_buffer(size)
            raw.FPDFAction_GetURIPath(self.pdf.raw, action, buffer, size)
            uri = buffer.value.decode("utf-8", "replace").strip()
            if not uri or not raw.FPDFLink_GetAnnotRect(link, ctypes.byref(rect)):
                continue
            box = (min(rect.left, rect.right), min(rect.bottom, rect.top), max(rect.left, rect.right),
                   max(rect.bottom, rect.top))  # fmt: skip
            label = " ".join(textpage.get_text_bounded(*box).split())
            links.append((box, uri, label))
        return links


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _segments(rects: list[tuple[float, float, float, float]], size: float, textpage: Any) -> list[tuple[float, float, str]] | None:
    """Merge a line's rectangles into segments separated by gaps wider than SEGMENT_GAP em."""
    rects = sorted(rects)
    merged = [list(rects[0])]
    for x0, y0, x1, y1 in rects[1:]:
        last = merged[-1]
        if x0 - last[2] <= SEGMENT_GAP * size:
            last[2], last[1], last[3] = max(last[2], x1), min(last[1], y0), max(last[3], y1)
        else:
            merged.append([x0, y0, x1, y1])
    if len(merged) < 2:
        return None
    out = []
    for x0, y0, x1, y1 in merged:
        text = " ".join(textpage.get_text_bounded(x0, y0, x1, y1).split())
        out.append((x0, x1, text))
    return out


def _mark_running(pages: list[tuple[ParsedNode, list[_Line], Any]], body: float) -> None:
    """Running headers and footers: edge lines no larger than the body text whose text (digits aside)
    repeats on at least half the pages (and 3)."""
    if len(pages) < 3:
        return
    seen: Counter[str] = Counter()
    edges: list[list[tuple[_Line, str, str]]] = []
    for node, lines, _ in pages:
        height = node.metadata.get("height") or 792.0
        found = []
        for line in lines:
            if line.size > body * 1.05:
                continue
            if line.y0 > height * (1 - EDGE):
                found.append((line, "header", _DIGITS.sub("#", line.text)))
            elif line.y1 < height * EDGE:
                found.append((line, "footer", _DIGITS.sub("#", line.text)))
        seen.update({key for _, _, key in found})
        edges.append(found)
    needed = max(3, len(pages) // 2)
    for found in edges:
        for line, role, key in found:
            if seen[key] >= needed:
                line.role = role


def _mark_tables(lines: list[_Line]) -> None:
    i = 0
    while i < len(lines):
        if lines[i].segments is not None and lines[i].role is None:
            end = _table_run(lines, i)
            if end - i >= 2:
                for line in lines[i:end]:
                    line.role = "table"
                i = end
                continue
        i += 1


def _body_size(pages: Any) -> float:
    """The font size carrying the most characters (0 for a document without text)."""
    weights: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            if line.role is None or line.role == "table":
                weights[round(line.size * 2) / 2] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _style(line: _Line) -> tuple[float, bool]:
    return (round(line.size * 2) / 2, line.bold)


def _heading_styles(body: float, lines: Any) -> dict[tuple[float, bool], int]:
    """Header styles over the whole document, largest first -> level 1, 2, ... (at most MAX_LEVELS)."""
    found: set[tuple[float, bool]] = set()
    for line in lines:
        if _may_be_heading(line, body):
            found.add(_style(line))
    ranked = sorted(found, key=lambda s: (-s[0], not s[1]))
    return {style: min(rank + 1, MAX_LEVELS) for rank, style in enumerate(ranked)}


def _may_be_heading(line: _Line, body: float) -> bool:
    if not body or len(line.text) > HEADING_MAX_CHARS or line.role is not None:
        return False
    if not any(ch.isalpha() for ch in line.text):
        return False
    if line.size >= body * HEADING_RATIO:
        return True
    return line.bold and line.size >= body * 0.95 and not _marker(line.text)[0]


def _marker(text: str) -> tuple[str | None, str]:
    """(``bullet``/``ordered``/None, the text without the marker)."""
    match = _BULLET.match(text)
    if match and len(text) > match.end():
        return "bullet", text[match.end():].strip()
    match = _ENUMERATOR.match(text)
    if match:
        return "ordered", text[match.end():].strip()
    return None, text


class _PageBuilder:
    """Turns one page's lines into blocks under its ``page`` node."""

    def __init__(self, document: _Document, page: ParsedNode, body: float, styles: dict[tuple[float, bool], int]) -> None:
        self.document = document
        self.budget = document.budget
        self.page = page
        self.number = page.metadata["number"]
        self.body = body
        self.styles = styles
        self.sections = Sections(page)
        self.lists: list[tuple[float, ParsedNode]] = []  # (marker x0, list node), innermost last
        self.blocks: list[tuple[ParsedNode, tuple[float, float, float, float]]] = []

    def build(self, lines: list[_Line], links: list[tuple[tuple[float, ...], str, str]]) -> None:
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.role == "table":
                end = _table_run(lines, i)  # the run ``_mark_tables`` found
                self.close_lists()
                self.table(lines[i:end])
                i = end
                continue
            if line.role is not None:  # a running header or footer: kept, marked, outside the sections
                node = ParsedNode(ElementType.PARAGRAPH, text=line.text, metadata={"running": line.role},
                                  location=self.location([line]))  # fmt: skip
                self.budget.spend()
                self.page.children.append(node)
                self.blocks.append((node, _box([line])))
                i += 1
                continue
            kind, rest = _marker(line.text)
            if kind is not None and not self.heading_level([line]):
                i = self.list_item(lines, i, kind, rest)
                continue
            end = self.block_end(lines, i)
            self.close_lists()
            self.text_block(lines[i:end])
            i = end
        self.close_lists()
        self.attach_links(links)

    def block_end(self, lines: list[_Line], start: int) -> int:
        first = lines[start]
        end = start + 1
        while end < len(lines):
            previous, line = lines[end - 1], lines[end]
            if _style(line) != _style(first) or line.role is not None or _marker(line.text)[0]:
                break
            if previous.y0 - line.y1 > PARAGRAPH_GAP * max(line.size, previous.size) or line.y1 > previous.y1 + line.size:
                break
            end += 1
        return end

    def heading_level(self, lines: list[_Line]) -> int | None:
        if len(lines) > 3 or sum(len(line.text) for line in lines) > HEADING_MAX_CHARS:
            return None
        if not _may_be_heading(lines[0], self.body):
            return None
        return self.styles.get(_style(lines[0]))

    def text_block(self, lines: list[_Line]) -> None:
        text = _join(lines)
        location = self.location(lines)
        level = self.heading_level(lines)
        if level is not None:
            node = ParsedNode(ElementType.HEADER, text=text, metadata={"level": level}, location=location)
            self.budget.spend()
            self.sections.open_header(node, level)
            node.anchor = self.document.slugger.slug(text)
        else:
            node = ParsedNode(ElementType.PARAGRAPH, text=text, location=location)
            self.budget.spend()
            self.sections.parent.children.append(node)
        self.blocks.append((node, _box(lines)))

    def list_item(self, lines: list[_Line], start: int, kind: str, rest: str) -> int:
        """Add the item starting at ``lines[start]`` (with its continuation lines); returns the next index."""
        first = lines[start]
        end = start + 1
        while end < len(lines):
            previous, line = lines[end - 1], lines[end]
            if (_marker(line.text)[0] or line.role is not None or line.x0 <= first.x0 + 0.3 * first.size
                    or abs(line.size - first.size) > 0.5 or previous.y0 - line.y1 > PARAGRAPH_GAP * line.size):
                break
            end += 1
        item_lines = lines[start:end]
        text = _join([_Line(rest, first.size, first.bold, first.x0, first.y0, first.x1, first.y1), *item_lines[1:]])
        lists = self.lists
        tolerance = 0.5 * first.size
        while lists and first.x0 < lists[-1][0] - tolerance:
            _finish_list(lists.pop()[1])
        if not lists or first.x0 > lists[-1][0] + tolerance:
            parent = lists[-1][1].children[-1] if lists and lists[-1][1].children else self.sections.parent
            depth = self.sections.depth + 2 * len(lists) + 2
            if lists and not self.budget.keeps(depth):
                parent = None
            if parent is not None:
                node = ParsedNode(ElementType.LIST, metadata={"ordered": kind == "ordered"}, location=self.location(item_lines))
                self.budget.spend()
                parent.children.append(node)
                lists.append((first.x0, node))
        item = ParsedNode(ElementType.LIST_ITEM, text=text, location=self.location(item_lines))
        self.budget.spend()
        lists[-1][1].children.append(item)
        self.blocks.append((item, _box(item_lines)))
        return end

    def close_lists(self) -> None:
        for _, node in self.lists:
            _finish_list(node)
        self.lists.clear()

    def table(self, lines: list[_Line]) -> None:
        table = ParsedNode(ElementType.TABLE, location=self.location(lines))
        self.budget.spend()
        self.sections.parent.children.append(table)
        first = lines[0]
        assert first.segments is not None
        header = first.bold and not all(line.bold for line in lines[1:]) or (
            not any(_NUMBER.match(s[2]) for s in first.segments)
            and any(_NUMBER.match(s[2]) for line in lines[1:] for s in line.segments or ())
        )
        names = [s[2] for s in first.segments] if header else []
        for r, line in enumerate(lines):
            row = ParsedNode(ElementType.TABLE_HEADER if header and r == 0 else ElementType.TABLE_ROW,
                             location={**self.location([line]), "row": r})  # fmt: skip
            self.budget.spend()
            table.children.append(row)
            cells = line.segments or []
            row.text = " | ".join(s[2] for s in cells)
            for c, (x0, x1, text) in enumerate(cells):
                self.budget.spend_cell()
                metadata = {"column": names[c]} if names and r > 0 and c < len(names) else {}
                row.children.append(ParsedNode(ElementType.TABLE_CELL, text=text, metadata=metadata,
                                               location={"page": self.number, "row": r, "column": c,
                                                         "bbox": _rounded((x0, line.y0, x1, line.y1))}))  # fmt: skip
        table.text = " | ".join(names)
        table.metadata.update(rows=len(lines) - (1 if header else 0), columns=len(first.segments), has_header=header)
        self.blocks.append((table, _box(lines)))

    def location(self, lines: list[_Line]) -> dict[str, Any]:
        return {"page": self.number, "bbox": _rounded(_box(lines))}

    def attach_links(self, links: list[tuple[tuple[float, ...], str, str]]) -> None:
        for box, uri, label in links:
            best, best_area = self.page, 0.0
            for node, block in self.blocks:
                area = _overlap(box, block)
                if area > best_area:
                    best, best_area = node, area
            self.budget.spend_link()
            self.document.result.links.append(ParsedLink(uri, label or uri, best))


def _finish_list(node: ParsedNode) -> None:
    """A list's text: its items' text, one per line."""
    node.text = "\n".join(child.text for child in node.children)


def _table_run(lines: list[_Line], start: int) -> int:
    """End of the run of lines from ``start`` that line up as table rows."""
    first = lines[start]
    assert first.segments is not None
    columns = len(first.segments)
    end = start + 1
    while end < len(lines):
        line, previous = lines[end], lines[end - 1]
        segments = line.segments
        if segments is None or len(segments) != columns or previous.y0 - line.y1 > 2 * line.size:
            break
        above = previous.segments or []
        if not all(s[0] <= a[1] + line.size and a[0] <= s[1] + line.size for s, a in zip(segments, above, strict=True)):
            break
        end += 1
    return end


def _join(lines: list[_Line]) -> str:
    """Lines of one block as one text: spaces between lines, a hyphen splitting a lower-case word removed."""
    out = lines[0].text
    for line in lines[1:]:
        text = line.text
        if out.endswith(_HYPHENS) and len(out) > 1 and out[-2].isalpha() and text[:1].islower():
            out = out[:-1] + text
        else:
            out = f"{out} {text}"
    return out.replace("\x02", "").replace("\u00ad", "").replace("\ufffe", "")


def _box(lines: list[_Line]) -> tuple[float, float, float, float]:
    return (min(line.x0 for line in lines), min(line.y0 for line in lines), max(line.x1 for line in lines),
            max(line.y1 for line in lines))  # fmt: skip


def _rounded(box: tuple[float, ...]) -> list[float]:
    return [round(v, 1) for v in box]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


_PDF_DATE = re.compile(r"^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*([Zz]|[+-]\d{2}'?\d{2}'?|[+-]\d{2})?")


def pdf_date(value: str) -> str | None:
    """``D:20240102030405+01'00'`` -> ``2024-01-02T03:04:05+01:00``; None when it is not a PDF date."""
    match = _PDF_DATE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    text = f"{year}-{month or '01'}-{day or '01'}"
    if hour:
        text += f"T{hour}:{minute or '00'}:{second or '00'}"
        if zone:
            if zone in ("Z", "z"):
                text += "Z"
            else:
                digits = zone.replace("'", "")
                text += f"{digits[:3]}:{digits[3:5] or '00'}"
    return text


def _document_metadata(pdf: Any, raw: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    info = pdf.get_metadata_dict(skip_empty=True)
    for key, name in (("Title", "title"), ("Author", "author"), ("Subject", "subject"), ("Keywords", "keywords"),
                      ("Creator", "creator"), ("Producer", "producer")):  # fmt: skip
        value = info.get(key)
        if isinstance(value, str) and value.strip():
            metadata[name] = value.strip()
    for key, name in (("CreationDate", "created"), ("ModDate", "modified")):
        value = info.get(key)
        if isinstance(value, str) and pdf_date(value):
            metadata[name] = pdf_date(value)
    version = pdf.get_version()
    if version:
        metadata["pdf_version"] = f"{version // 10}.{version % 10}"
    if raw.FPDF_GetSecurityHandlerRevision(pdf.raw) != -1:
        metadata["encrypted"] = True  # opened without a user password (owner password only)
    return metadata
