"""Plain typed data shared by every layer: documents, elements, relationships.

This module imports nothing of ours. Parsers build a tree of ``ParsedNode``;
``flatten`` turns it into ``Element`` rows with deterministic ids so that every
parser gets identity, ordering and hashing from one place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from go_doc_go.exceptions import ElementIdCollisionError


class ElementType(StrEnum):
    ROOT = "root"
    HEADER = "header"
    PARAGRAPH = "paragraph"
    LIST = "list"
    LIST_ITEM = "list_item"
    TABLE = "table"
    TABLE_ROW = "table_row"
    TABLE_HEADER = "table_header"
    TABLE_CELL = "table_cell"
    CODE_BLOCK = "code_block"
    BLOCKQUOTE = "blockquote"
    IMAGE = "image"
    HORIZONTAL_RULE = "horizontal_rule"
    JSON_OBJECT = "json_object"
    JSON_ARRAY = "json_array"
    JSON_FIELD = "json_field"
    JSON_ITEM = "json_item"
    XML_ELEMENT = "xml_element"
    XML_TEXT = "xml_text"
    ADMONITION = "admonition"
    TAB = "tab"
    # Office and PDF documents.
    PAGE = "page"
    SLIDE = "slide"
    SLIDE_NOTES = "slide_notes"
    SHEET = "sheet"
    PAGE_HEADER = "page_header"
    PAGE_FOOTER = "page_footer"
    COMMENT = "comment"


class RelationshipType(StrEnum):
    CONTAINS = "contains"
    CONTAINED_BY = "contained_by"
    NEXT_SIBLING = "next_sibling"
    PREVIOUS_SIBLING = "previous_sibling"
    LINKS_TO = "links_to"


def _digest(*parts: str, length: int = 32) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:length]


def normalize_path(relative_path: str) -> str:
    """Posix form without ``./`` or duplicate slashes, so ids match across OSes."""
    parts = [p for p in relative_path.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def make_doc_id(source_name: str, relative_path: str) -> str:
    """Same source + same path gives the same id, on any machine, in any mode."""
    return _digest("doc", source_name, normalize_path(relative_path))


def _element_hasher(doc_id: str) -> hashlib._Hash:
    h = hashlib.sha256()
    h.update(b"el\x00" + doc_id.encode("utf-8", "surrogatepass") + b"\x00root")
    return h


def make_element_id(doc_id: str, structural_path: str) -> str:
    """Hash of ``doc_id`` and the full structural path, e.g. ``root/header[1]/paragraph[0]``.

    ``flatten`` computes the same value incrementally from the parent's hash
    state, so deep documents do not cost quadratic time in path length.
    """
    if structural_path != "root" and not structural_path.startswith("root/"):
        raise ValueError(f"structural paths start at root: {structural_path!r}")
    h = _element_hasher(doc_id)
    h.update(structural_path[4:].encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]


def content_hash(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


@dataclass(slots=True)
class ParsedNode:
    """A parser's view of one element, before ids are assigned.

    ``key`` names the node among its siblings in the structural path. When it is
    None the path uses ``type[n]`` (n = ordinal among same-type siblings), so an
    edit in one section does not shift the ids of the others.
    """

    element_type: ElementType
    text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    location: dict[str, Any] = field(default_factory=dict)
    children: list[ParsedNode] = field(default_factory=list)
    key: str | None = None
    #: The element's main anchor (a header slug, an explicit id); ``more_anchors``
    #: holds further ids/names found inside it. Links resolve to any of them.
    anchor: str | None = None
    more_anchors: list[str] | None = None

    def add(self, child: ParsedNode) -> ParsedNode:
        self.children.append(child)
        return child

    def add_anchor(self, anchor: str) -> None:
        """Give the element one more anchor (the first becomes ``anchor``)."""
        if self.anchor is None:
            self.anchor = anchor
        elif anchor != self.anchor:
            if self.more_anchors is None:
                self.more_anchors = [anchor]
            elif anchor not in self.more_anchors:
                self.more_anchors.append(anchor)

    @property
    def anchors(self) -> list[str]:
        if self.anchor is None:
            return list(self.more_anchors or ())
        return [self.anchor, *(self.more_anchors or ())]


@dataclass(slots=True)
class ParsedLink:
    """An outgoing link as found by a parser: where it points and where it sits."""

    href: str
    text: str
    node: ParsedNode


@dataclass(slots=True)
class ParseResult:
    root: ParsedNode
    links: list[ParsedLink] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    title: str | None = None


@dataclass(slots=True)
class Element:
    element_id: str
    doc_id: str
    element_type: str
    parent_id: str | None
    sibling_order: int
    document_position: int
    path_segment: str
    text: str
    content_hash: str
    metadata: dict[str, Any]
    location: dict[str, Any]
    anchor: str | None = None
    #: Every anchor of the element, ``anchor`` first; empty when it has none.
    anchors: tuple[str, ...] = ()


@dataclass(slots=True)
class Relationship:
    """A stored relationship (a link, later a semantic edge).

    ``target_id`` is an element id once resolved; ``target_reference`` keeps the
    raw target. Structural edges are derived by the store, never built here.
    """

    relationship_id: str
    doc_id: str
    source_id: str
    relationship_type: str
    target_id: str | None
    target_reference: str | None = None
    target_doc_id: str | None = None
    target_anchor: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: For links inside the source: the target's path there (link following reuses it).
    target_path: str | None = None


@dataclass(slots=True)
class Link:
    """A link leaving an element, with its target resolved as far as the source allows."""

    source_element_id: str
    href: str
    text: str
    target_doc_id: str | None = None
    target_path: str | None = None
    target_anchor: str | None = None


@dataclass(slots=True)
class Document:
    doc_id: str
    source: str
    path: str
    doc_type: str
    content_hash: str
    size: int
    mtime_ns: int | None
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DocumentResult:
    """Everything the pipeline produced for one document, ready to store in one transaction."""

    document: Document
    elements: list[Element]
    relationships: list[Relationship]
    links: list[Link]


def make_relationship_id(source_id: str, relationship_type: str, target: str) -> str:
    return _digest("rel", source_id, relationship_type, target)


def key_segment(key: str) -> str:
    """The path segment of a keyed child: ``@`` + the key with ``~ / [`` escaped.

    ``~`` -> ``~0`` and ``/`` -> ``~1`` as in JSON pointers, and ``[`` -> ``~2``
    so a key can never look like the ``[n]`` that numbers a repeated key:
    ``{"a": 1, "a": 2, "a[1]": 3}`` gives ``@a``, ``@a[1]`` and ``@a~21]``.
    """
    return "@" + key.replace("~", "~0").replace("/", "~1").replace("[", "~2")


def flatten(doc_id: str, root: ParsedNode) -> tuple[list[Element], dict[int, str]]:
    """Assign ids, sibling order and document position depth-first.

    Returns the elements in document order and a map from ``id(node)`` to its
    element id, which the pipeline uses to attach links to their elements.
    Iterative, so a document nested 100,000 deep cannot overflow the stack.
    Two elements with the same id (only a parser bug can cause it) raise
    ``ElementIdCollisionError``: that document fails, no other.
    """
    elements: list[Element] = []
    node_ids: dict[int, str] = {}
    seen_ids: set[str] = set()
    Frame = tuple[ParsedNode, str, "hashlib._Hash", str | None, int]
    stack: list[Frame] = [(root, "root", _element_hasher(doc_id), None, 0)]
    while stack:
        node, segment, hasher, parent_id, order = stack.pop()
        element_id = hasher.hexdigest()[:32]
        node_ids[id(node)] = element_id
        if element_id in seen_ids:
            raise ElementIdCollisionError(
                f"two elements have the structural path segment {segment!r} under the same parent "
                f"(element id {element_id}); the document was not stored"
            )
        seen_ids.add(element_id)
        anchors = node.anchors if node.more_anchors else ((node.anchor,) if node.anchor else ())
        elements.append(
            Element(
                element_id=element_id,
                doc_id=doc_id,
                element_type=str(node.element_type),
                parent_id=parent_id,
                sibling_order=order,
                document_position=len(elements),
                path_segment=segment,
                text=node.text,
                content_hash=content_hash(node.text),
                metadata=node.metadata,
                location=node.location,
                anchor=node.anchor,
                anchors=tuple(anchors),
            )
        )
        children = node.children
        if not children:
            continue
        seen: dict[str, int] = {}
        frames: list[Frame] = []
        for index, child in enumerate(children):
            # Keyed children (JSON fields) keep their key; a repeated key, or an
            # unkeyed child, is numbered among its siblings of the same name.
            base = key_segment(child.key) if child.key is not None else str(child.element_type)
            n = seen.get(base, 0)
            seen[base] = n + 1
            child_segment = base if child.key is not None and n == 0 else f"{base}[{n}]"
            child_hasher = hasher.copy()
            child_hasher.update(("/" + child_segment).encode("utf-8", "surrogatepass"))
            frames.append((child, child_segment, child_hasher, element_id, index))
        stack.extend(reversed(frames))
    return elements, node_ids
