"""PPTX to a ``ParsedNode`` tree with python-pptx: one ``slide`` element per slide.

Shape::

    root
    └── slide {number, title, layout, hidden?}          location {"slide": n}
        ├── header {level: 1}                            the title placeholder
        ├── paragraph | list {ordered} > list_item > list ...   text frames, shape by shape
        ├── table > table_header | table_row > table_cell
        ├── image {alt, name}                            pictures (their alt text)
        └── slide_notes > paragraph                      the speaker notes

Design choices
* The package is checked by ``_zip.check_package`` first (zip bombs, DTDs,
  password-protected files).
* Shapes are read in the slide's order (z-order), the title first; group
  shapes are walked with an explicit stack and add no level of their own.
* A text frame's paragraphs are list items when they are bulleted: in body
  and content placeholders unless ``a:buNone``, elsewhere only with an
  explicit ``a:buChar``/``a:buAutoNum`` (ordered). ``paragraph.level`` nests
  them (explicit stack, flattened into the deepest list past ``parsers.max_depth``).
  Other paragraphs are ``paragraph`` elements; a line break inside one is a newline.
* Tables: the first row is a ``table_header`` when the table marks it
  (``firstRow``); merged cells are kept once (``colspan``/``rowspan``), the
  cells they cover are skipped. Each cell spends ``parsers.max_cells``.
* Hyperlinks on text runs and on shapes (click actions) are reported with the
  element they belong to.
* Location: ``{"slide": n}`` plus ``"shape"`` (the shape id) and
  ``"paragraph"`` (index in its text frame), or ``"row"``/``"column"`` in a table.
* Not extracted: chart data (a chart's title is kept), SmartArt text, slide masters and layouts.
"""

from __future__ import annotations

import io
from typing import Any

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers._office import core_metadata, require
from go_doc_go.parsers._zip import check_package
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, new_root

A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_BODY_PLACEHOLDERS = frozenset(("body", "obj"))  # bulleted unless they say otherwise
_TITLE_PLACEHOLDERS = frozenset(("title", "ctrTitle"))


def parse(doc: ParseInput) -> ParseResult:
    return guarded("PPTX", _parse, doc)


def _parse(doc: ParseInput) -> ParseResult:
    check_package(doc.data, doc.path, "PPTX", doc.limits)
    pptx = require("pptx", "PPTX")
    try:
        deck = pptx.Presentation(io.BytesIO(doc.data))
    except (KeyError, ValueError, pptx.exc.PythonPptxError) as error:
        raise ParseError(f"invalid PPTX in {doc.path}: {error}") from None
    root = new_root(format="pptx")
    result = ParseResult(root=root)
    builder = _Builder(doc, result)
    for number, slide in enumerate(deck.slides, 1):
        builder.slide(slide, number)
    result.metadata.update(core_metadata(deck.core_properties))
    result.metadata["slides"] = len(root.children)
    titles = [s.metadata.get("title") for s in root.children if s.metadata.get("title")]
    result.title = result.metadata.get("title") or (titles[0] if titles else None)
    return builder.budget.finish(result)


class _Builder:
    def __init__(self, doc: ParseInput, result: ParseResult) -> None:
        self.result = result
        self.budget = ElementBudget(doc.limits)
        self.budget.spend()

    def slide(self, slide: Any, number: int) -> None:
        node = ParsedNode(ElementType.SLIDE, metadata={"number": number}, location={"slide": number})
        self.budget.spend()
        self.result.root.children.append(node)
        try:
            node.metadata["layout"] = slide.slide_layout.name
        except (KeyError, AttributeError):  # a slide without a layout part
            pass
        if slide._element.get("show") in ("0", "false"):
            node.metadata["hidden"] = True
        shapes = list(slide.shapes)
        shapes.sort(key=lambda s: 0 if _placeholder_kind(s) in _TITLE_PLACEHOLDERS else 1)  # stable: title first
        stack = list(reversed(shapes))
        while stack:
            shape = stack.pop()
            if _shape_type(shape) == 6:  # MSO_SHAPE_TYPE.GROUP
                stack.extend(reversed(list(shape.shapes)))
                continue
            self.shape(node, shape, number)
        notes = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
        if notes is not None:
            holder = ParsedNode(ElementType.SLIDE_NOTES, location={"slide": number, "notes": True})
            self.text_frame(holder, notes, {"slide": number, "notes": True}, bulleted=False)
            if holder.children:
                self.budget.spend()
                holder.text = "\n".join(child.text for child in holder.children)
                node.children.append(holder)

    def shape(self, slide: ParsedNode, shape: Any, number: int) -> None:
        location = {"slide": number, "shape": shape.shape_id}
        kind = _placeholder_kind(shape)
        if kind in _TITLE_PLACEHOLDERS and shape.has_text_frame:
            text = _frame_text(shape.text_frame)
            if text:
                self.budget.spend()
                header = ParsedNode(ElementType.HEADER, text=text, metadata={"level": 1}, location=location)
                slide.children.append(header)
                slide.metadata.setdefault("title", text)
                self.shape_link(shape, header)
            return
        if getattr(shape, "has_table", False) and shape.has_table:
            self.table(slide, shape.table, location)
            return
        if getattr(shape, "has_chart", False) and shape.has_chart:
            chart = shape.chart
            if chart.has_title and chart.chart_title.has_text_frame:
                text = _frame_text(chart.chart_title.text_frame)
                if text:
                    self.budget.spend()
                    slide.children.append(ParsedNode(ElementType.PARAGRAPH, text=text, metadata={"chart": True},
                                                     location=location))  # fmt: skip
            return
        if _shape_type(shape) == 13:  # MSO_SHAPE_TYPE.PICTURE
            alt = (shape._element.xpath("./*[1]/*[local-name()='cNvPr']/@descr") or [""])[0].strip()
            self.budget.spend()
            image = ParsedNode(ElementType.IMAGE, text=alt, metadata={"alt": alt, "name": shape.name}, location=location)
            slide.children.append(image)
            self.shape_link(shape, image)
            return
        if shape.has_text_frame:
            before = len(slide.children)
            self.text_frame(slide, shape.text_frame, location, bulleted=kind in _BODY_PLACEHOLDERS)
            if len(slide.children) > before:
                self.shape_link(shape, slide.children[before])

    def shape_link(self, shape: Any, node: ParsedNode) -> None:
        try:
            address = shape.click_action.hyperlink.address
        except (AttributeError, KeyError, ValueError):
            return
        if address:
            self.budget.spend_link()
            self.result.links.append(ParsedLink(address, node.text, node))

    def text_frame(self, parent: ParsedNode, frame: Any, location: dict[str, Any], bulleted: bool) -> None:
        """Paragraphs and lists of one text frame, in order, added to ``parent``."""
        lists: list[tuple[int, ParsedNode]] = []  # (level, list), innermost last
        for index, paragraph in enumerate(frame.paragraphs):
            text = _paragraph_text(paragraph)
            if not text:
                continue
            here = {**location, "paragraph": index}
            bullet = _bullet(paragraph, bulleted)
            if bullet is None:
                lists.clear()
                node = ParsedNode(ElementType.PARAGRAPH, text=text, location=here)
                self.budget.spend()
                parent.children.append(node)
            else:
                node = self.list_item(parent, lists, text, paragraph.level, bullet == "ordered", here)
            for run in paragraph.runs:
                address = run.hyperlink.address
                if address:
                    self.budget.spend_link()
                    self.result.links.append(ParsedLink(address, run.text.strip(), node))
        _finish_lists(parent)

    def list_item(
        self, parent: ParsedNode, lists: list[tuple[int, ParsedNode]], text: str, level: int, ordered: bool,
        location: dict[str, Any],
    ) -> ParsedNode:  # fmt: skip
        while lists and lists[-1][0] > level:
            lists.pop()
        if not lists or lists[-1][0] < level:
            container = lists[-1][1].children[-1] if lists and lists[-1][1].children else parent
            if lists and not self.budget.keeps(2 * len(lists) + 2):
                level = lists[-1][0]
            else:
                node = ParsedNode(ElementType.LIST, metadata={"ordered": ordered}, location=dict(location))
                self.budget.spend()
                container.children.append(node)
                lists.append((level, node))
        item = ParsedNode(ElementType.LIST_ITEM, text=text, metadata={"level": level}, location=location)
        self.budget.spend()
        lists[-1][1].children.append(item)
        return item

    def table(self, slide: ParsedNode, table: Any, location: dict[str, Any]) -> None:
        node = ParsedNode(ElementType.TABLE, location=dict(location))
        self.budget.spend()
        slide.children.append(node)
        first_row = table.first_row
        header: list[str] = []
        rows = list(table.rows)
        for r, row in enumerate(rows):
            is_header = r == 0 and first_row and len(rows) > 1
            row_node = ParsedNode(ElementType.TABLE_HEADER if is_header else ElementType.TABLE_ROW,
                                  location={**location, "row": r})  # fmt: skip
            self.budget.spend()
            node.children.append(row_node)
            texts = []
            for c, cell in enumerate(row.cells):
                if cell.is_spanned:
                    continue
                text = _frame_text(cell.text_frame)
                texts.append(text)
                metadata: dict[str, Any] = {}
                if cell.is_merge_origin:
                    if cell.span_width > 1:
                        metadata["colspan"] = cell.span_width
                    if cell.span_height > 1:
                        metadata["rowspan"] = cell.span_height
                if not is_header and header and c < len(header) and header[c]:
                    metadata["column"] = header[c]
                self.budget.spend_cell()
                row_node.children.append(ParsedNode(ElementType.TABLE_CELL, text=text, metadata=metadata,
                                                    location={**location, "row": r, "column": c}))  # fmt: skip
            row_node.text = " | ".join(texts)
            if is_header:
                header = texts
        node.text = " | ".join(header)
        node.metadata.update(rows=len(rows), has_header=bool(header))


def _shape_type(shape: Any) -> int | None:
    """python-pptx's shape type, None where it cannot tell (it raises for unrecognised shapes)."""
    try:
        kind = shape.shape_type
    except (NotImplementedError, AttributeError, KeyError, ValueError):
        return None
    return int(kind) if kind is not None else None


def _placeholder_kind(shape: Any) -> str | None:
    """The ``type`` of a placeholder (``title``, ``body``...; ``obj`` when unset), else None."""
    ph = shape._element.xpath("./*[1]/*[local-name()='nvPr']/*[local-name()='ph']")
    if not ph:
        return None
    return ph[0].get("type") or "obj"


def _bullet(paragraph: Any, bulleted: bool) -> str | None:
    """``ordered``, ``bullet`` or None (not a list item) from the paragraph's own ``a:pPr``."""
    ppr = paragraph._p.pPr
    if ppr is not None:
        if ppr.find(f"{{{A}}}buNone") is not None:
            return None
        if ppr.find(f"{{{A}}}buAutoNum") is not None:
            return "ordered"
        if ppr.find(f"{{{A}}}buChar") is not None or ppr.find(f"{{{A}}}buBlip") is not None:
            return "bullet"
    return "bullet" if bulleted else None


def _paragraph_text(paragraph: Any) -> str:
    """The paragraph's text; a line break (``a:br``, ``\\v`` in python-pptx) is a newline."""
    return "\n".join(line.strip() for line in paragraph.text.replace("\v", "\n").split("\n")).strip()


def _frame_text(frame: Any) -> str:
    return "\n".join(text for text in (_paragraph_text(p) for p in frame.paragraphs) if text)


def _finish_lists(parent: ParsedNode) -> None:
    """A list's text is its items' text, one per line (explicit stack over nested lists)."""
    stack = [child for child in parent.children if child.element_type == ElementType.LIST and not child.text]
    while stack:
        node = stack.pop()
        node.text = "\n".join(c.text for c in node.children)
        for item in node.children:
            stack.extend(c for c in item.children if c.element_type == ElementType.LIST)
