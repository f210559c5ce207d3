"""What is embedded: a document's elements turned into retrieval units (a pure function).

The rule (``granularity="section"``, the default; docs/embeddings.md measures it
against finer ones):

1. The document is a tree of sections: the root (text before the first header)
   and one section per header, holding its blocks, its tables and its
   subsections. A *block* is the highest element whose text stands for its
   whole subtree (a paragraph, a list, a code block, a table row...); an
   element whose text is only a summary of its children (a JSON object's keys,
   a CSV table's header line, an admonition's title) is kept as a label and
   its children are read too.
2. Top down, the largest piece that fits the window becomes one unit: the
   whole document if it fits (a *document* unit, for the root element);
   else each section whose whole subtree fits (a *section* unit, for the
   header element). A section too big for the window gives a unit of its own
   text (chunked at block boundaries), one unit per table (chunked by rows,
   the header row repeated) and recurses into its subsections.
3. Each unit keeps the id of the element it represents (root, header or
   table) and a chunk number; its context is the header path
   (``Install > Options``), or the document's title for the root. The text
   embedded is ``context + "\\n" + text``, cut to the window.

Deterministic: same elements and window, same units, in document order. The
``content_hash`` of a unit covers exactly the text embedded, so a store can
re-embed only units whose hash changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from go_doc_go.model import Element

Granularity = Literal["section", "block", "element"]
GRANULARITIES: tuple[str, ...] = ("section", "block", "element")

#: Separator between the parts of a header path.
PATH_SEPARATOR = " > "


@dataclass(frozen=True, slots=True)
class Unit:
    """One text to embed and the element it stands for."""

    element_id: str
    doc_id: str
    #: ``document`` (a whole short document), ``root`` (text before the first header of a long one),
    #: ``section``, ``table``; ``block`` / ``element`` at finer granularities.
    kind: str
    #: Position among the units of the same element (a long section gives several chunks).
    chunk: int
    #: The header path (``A > B``), or the document title for root units.
    context: str
    #: The unit's own text, without the context.
    text: str
    #: The text given to the model: context and text, cut to the window.
    embed_text: str

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.embed_text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(slots=True)
class _Section:
    element_id: str
    heading: str | None
    context: str
    #: Blocks (str), tables (_Table) and subsections (_Section), in document order.
    items: list[object] = field(default_factory=list)
    #: Characters of the whole subtree as ``_render`` writes it (computed once, bottom up).
    size: int = 0


@dataclass(slots=True)
class _Table:
    element_id: str
    rows: list[str]


def build_units(
    elements: Sequence[Element],
    *,
    window_chars: int,
    title: str | None = None,
    granularity: Granularity = "section",
) -> list[Unit]:
    """The retrieval units of one document (``elements`` in document order, as ``model.flatten`` gives them)."""
    if window_chars < 64:
        raise ValueError(f"window_chars must be at least 64, got {window_chars}")
    if not elements:
        return []
    if granularity == "element":
        return _element_units(elements, window_chars, title)
    root = _section_tree(elements, title, window_chars // 2)
    if granularity == "block":
        return _block_units(elements[0].doc_id, root, window_chars)
    if granularity != "section":
        raise ValueError(f"unknown granularity {granularity!r} (known: {', '.join(GRANULARITIES)})")
    units: list[Unit] = []
    doc_id = elements[0].doc_id
    if root.size and _fits(root.context, root.size, window_chars):
        full = _render(root)
        units.append(_unit(doc_id, root.element_id, "document", 0, root.context, full, window_chars))
        return units
    stack: list[_Section] = [root]
    while stack:  # explicit stack: sections nest as deep as the document does
        section = stack.pop()
        subsections = _emit_section(doc_id, section, window_chars, units)
        stack.extend(reversed(subsections))
    return units


# ---------------------------------------------------------------- the section tree


def _section_tree(elements: Sequence[Element], title: str | None, context_cap: int) -> _Section:
    """Sections, blocks and tables from the flat element list (one pass, no recursion).

    Header paths are capped at ``context_cap`` characters (their innermost end
    is kept), so a document nested thousands deep costs linear time.
    """
    children: dict[str, list[Element]] = {}
    for element in elements:
        if element.parent_id is not None:
            children.setdefault(element.parent_id, []).append(element)
    first = elements[0]
    root = _Section(first.element_id, None, (title or "").strip()[:context_cap])
    sections = [root]
    section_of: dict[str, _Section] = {first.element_id: root}
    taken: set[str] = set()
    for element in elements[1:]:
        parent = element.parent_id
        if parent is None or parent in taken:
            taken.add(element.element_id)
            continue
        owner = section_of[parent]
        kids = children.get(element.element_id, ())
        if element.element_type == "header":
            heading = element.text.strip()
            context = PATH_SEPARATOR.join(p for p in (owner.context if owner.heading else "", heading) if p)
            section = _Section(element.element_id, heading, (context or owner.context)[-context_cap:])
            owner.items.append(section)
            sections.append(section)
            section_of[element.element_id] = section
            continue
        if element.element_type == "table":
            owner.items.append(_Table(element.element_id, _table_rows(element, kids)))
            taken.add(element.element_id)
            continue
        text = element.text.strip()
        if not kids or _covers(element, kids):
            if text:
                owner.items.append(text)
            taken.add(element.element_id)
            continue
        if text and (not owner.items or owner.items[-1] != text):
            owner.items.append(text)  # a label (a JSON object's keys...); its children follow
        section_of[element.element_id] = owner
    for section in reversed(sections):  # children were created after their parents
        section.size = _own_size(section)
    return root


def _own_size(section: _Section) -> int:
    """``len(_render(section))`` from the sizes of its subsections (each already known)."""
    size = 0
    for item in section.items:
        if isinstance(item, str):
            size += len(item) + 1
        elif isinstance(item, _Table):
            size += sum(len(row) + 1 for row in item.rows)
        else:
            assert isinstance(item, _Section)
            size += (len(item.heading) + 1 if item.heading else 0) + item.size + (1 if item.size else 0)
    return max(0, size - 1)


def _covers(element: Element, kids: Sequence[Element]) -> bool:
    """Whether the element's text already holds its children's text (it stands for its subtree).

    Parsers give containers either their whole text (lists, table rows, quotes,
    XML elements) or a summary (JSON keys, a CSV header line, a title). The
    whole text is at least as long as the children's together and contains the
    first of them; a summary is shorter. Linear in the text, never quadratic.
    """
    text = element.text
    if not text:
        return False
    total = 0
    first = None
    for kid in kids:
        if kid.text:
            total += len(kid.text)
            if first is None:
                first = kid.text
    if first is None:
        return True
    return len(text) >= total and first[:64] in text


def _table_rows(table: Element, kids: Sequence[Element]) -> list[str]:
    """A table's rows as text lines (its header row first, when it has one)."""
    rows = [kid.text.strip() for kid in kids if kid.text.strip()]
    if rows:
        return rows
    return [line for line in table.text.splitlines() if line.strip()]


def _render(section: _Section) -> str:
    """The whole text of a section's subtree: blocks, table rows, subsection headings and text."""
    parts: list[str] = []
    stack: list[object] = list(reversed(section.items))
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, _Table):
            parts.append("\n".join(item.rows))
        else:
            assert isinstance(item, _Section)
            if item.heading:
                parts.append(item.heading)
            stack.extend(reversed(item.items))
    return "\n".join(parts)


# ---------------------------------------------------------------- emitting units


def _emit_section(doc_id: str, section: _Section, window: int, units: list[Unit]) -> list[_Section]:
    """Units for one section; returns the subsections still to visit (those that did not fit here)."""
    kind = "section" if section.heading is not None else "root"
    if section.heading is not None and section.size and _fits(section.context, section.size, window):
        full = _render(section)
        units.append(_unit(doc_id, section.element_id, kind, 0, section.context, full, window))
        return []
    own = [item for item in section.items if isinstance(item, str)]
    for number, chunk in enumerate(_chunks(own, _budget(section.context, window))):
        units.append(_unit(doc_id, section.element_id, kind, number, section.context, chunk, window))
    for table in (item for item in section.items if isinstance(item, _Table)):
        budget = _budget(section.context, window)
        for number, chunk in enumerate(_table_chunks(table.rows, budget)):
            units.append(_unit(doc_id, table.element_id, "table", number, section.context, chunk, window))
    return [item for item in section.items if isinstance(item, _Section)]


def _block_units(doc_id: str, root: _Section, window: int) -> list[Unit]:
    """Finer granularity: every block and every table its own unit (header path as context)."""
    units: list[Unit] = []
    stack: list[tuple[_Section, object]] = [(root, item) for item in reversed(root.items)]
    counter: dict[str, int] = {}
    while stack:
        section, item = stack.pop()
        if isinstance(item, _Section):
            stack.extend((item, sub) for sub in reversed(item.items))
            continue
        text = item if isinstance(item, str) else "\n".join(item.rows)
        element_id = item.element_id if isinstance(item, _Table) else section.element_id
        for chunk in _chunks([text], _budget(section.context, window)):
            number = counter.get(element_id, 0)
            counter[element_id] = number + 1
            units.append(_unit(doc_id, element_id, "block", number, section.context, chunk, window))
    return units


def _element_units(elements: Sequence[Element], window: int, title: str | None) -> list[Unit]:
    """Finest granularity: every element with text (about 66 per 5 KB Markdown document)."""
    headings: dict[str, str] = {}
    units: list[Unit] = []
    context_of: dict[str, str] = {elements[0].element_id: (title or "").strip()}
    for element in elements[1:]:
        context = context_of.get(element.parent_id or "", "")
        if element.element_type == "header":
            headings[element.element_id] = element.text.strip()
            own = PATH_SEPARATOR.join(p for p in (context, element.text.strip()) if p)
            context_of[element.element_id] = own
        else:
            context_of[element.element_id] = context
        text = element.text.strip()
        if text:
            chunk = _cut(text, _budget(context, window))
            units.append(_unit(element.doc_id, element.element_id, "element", 0, context, chunk, window))
    return units


def _unit(doc_id: str, element_id: str, kind: str, chunk: int, context: str, text: str, window: int) -> Unit:
    context = context[: window // 2]
    embed = f"{context}\n{text}" if context else text
    return Unit(element_id, doc_id, kind, chunk, context, text, embed[:window])


def _fits(context: str, size: int, window: int) -> bool:
    return len(context[: window // 2]) + 1 + size <= window


def _budget(context: str, window: int) -> int:
    return max(32, window - len(context[: window // 2]) - 1)


def _chunks(blocks: Sequence[str], budget: int) -> list[str]:
    """Blocks packed into chunks of at most ``budget`` characters; a longer block is cut at whitespace."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for block in blocks:
        pieces = [block] if len(block) <= budget else _split(block, budget)
        for piece in pieces:
            extra = len(piece) + (1 if current else 0)
            if current and size + extra > budget:
                chunks.append("\n".join(current))
                current, size = [], 0
                extra = len(piece)
            current.append(piece)
            size += extra
    if current:
        chunks.append("\n".join(current))
    return chunks


def _table_chunks(rows: Sequence[str], budget: int) -> list[str]:
    """Rows packed into chunks; every chunk after the first repeats the first (header) row."""
    if not rows:
        return []
    header = _cut(rows[0], budget // 2)
    chunks = _chunks(rows, budget)
    if len(chunks) <= 1:
        return chunks
    rest = _chunks(rows[1:], budget - len(header) - 1)
    return [f"{header}\n{chunk}" for chunk in rest]


def _split(text: str, budget: int) -> list[str]:
    """``text`` in pieces of at most ``budget`` characters, cut at the last whitespace of each piece."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > budget:
        end = start + budget
        cut = text.rfind(" ", start + budget // 2, end)
        newline = text.rfind("\n", start + budget // 2, end)
        cut = max(cut, newline)
        if cut <= start:
            cut = end
        pieces.append(text[start:cut].strip())
        start = cut
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return [p for p in pieces if p]


def _cut(text: str, budget: int) -> str:
    return text if len(text) <= budget else _split(text, budget)[0]
