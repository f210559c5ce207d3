"""An element's surroundings: its header path, parent, siblings, children, links and semantic neighbours.

Used by search results (``related``: semantic neighbours and the links
leaving the element or anything inside it) and by ``go-doc-go show ELEMENT
--neighbourhood``. Everything is read through the ``Store`` protocol, so both
engines answer alike; ancestors are read one level at a time for a whole list
of elements (no recursion, a query per level).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from go_doc_go.storage import SEMANTIC, FoundElement, Store, StoredLink

#: Links leaving a container are collected from at most this many of its elements.
SUBTREE_LIMIT = 2_000
PREVIEW = 160
MAX_DEPTH = 1_000


def ancestors(store: Store, elements: Sequence[FoundElement]) -> dict[str, list[FoundElement]]:
    """Each element's ancestors, root first (the element itself excluded)."""
    chains: dict[str, list[FoundElement]] = {e.element_id: [] for e in elements}
    tips = {e.element_id: e.parent_id for e in elements}  # element -> the next ancestor to read
    known: dict[str, FoundElement] = {}
    for _ in range(MAX_DEPTH):
        wanted = sorted({p for p in tips.values() if p is not None and p not in known})
        known.update(store.elements_by_id(wanted))
        advanced = False
        for element_id, parent in list(tips.items()):
            found = known.get(parent) if parent is not None else None
            if found is None:
                tips.pop(element_id)
                continue
            chains[element_id].append(found)
            tips[element_id] = found.parent_id
            advanced = True
        if not advanced:
            break
    return {element_id: list(reversed(chain)) for element_id, chain in chains.items()}


def header_path(element: FoundElement, chain: Sequence[FoundElement]) -> list[str]:
    """The headers above the element (and the element, if it is one), outermost first."""
    headers = [a.text.strip() for a in chain if a.element_type == "header" and a.text.strip()]
    if element.element_type == "header" and element.text.strip():
        headers.append(element.text.strip())
    return headers


def preview(text: str, limit: int = PREVIEW) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass
class Related:
    """An element at the other end of a relationship."""

    relationship_type: str
    #: ``out``: the relationship leaves the element (or its subtree); ``in``: it arrives.
    direction: str
    element_id: str | None
    doc_id: str | None
    path: str | None
    element_type: str | None
    header_path: list[str]
    text: str
    score: float | None = None
    #: The raw target of a link that resolves to no stored element.
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def related_of(store: Store, element_id: str) -> list[Related]:
    """Semantic neighbours of the element (best first), then the links leaving it or anything inside it."""
    semantic = [r for r in store.relationships_from([element_id]) if r.relationship_type == SEMANTIC]
    semantic.sort(key=lambda r: (-float(r.metadata.get("score", 0.0)), r.target_id or ""))
    links = [r for r in store.relationships_from(store.subtree_ids(element_id, SUBTREE_LIMIT))
             if r.relationship_type == "links_to"]  # fmt: skip
    return _describe(store, semantic + links, "out")


def _describe(store: Store, links: Sequence[StoredLink], direction: str) -> list[Related]:
    far = [(r.target_id if direction == "out" else r.source_id) for r in links]
    found = store.elements_by_id(sorted({f for f in far if f}))
    chains = ancestors(store, list(found.values()))
    out: list[Related] = []
    for link, other in zip(links, far, strict=True):
        element = found.get(other) if other else None
        score = link.metadata.get("score") if link.relationship_type == SEMANTIC else None
        if element is None:
            out.append(Related(link.relationship_type, direction, other, link.other_doc_id, None, None, [], "",
                               score, link.target_reference))  # fmt: skip
            continue
        out.append(Related(link.relationship_type, direction, element.element_id, element.doc_id, element.path,
                           element.element_type, header_path(element, chains.get(element.element_id, [])),
                           preview(element.text or _first_text(store, element)), score,
                           link.target_reference))  # fmt: skip
    return out


def _first_text(store: Store, element: FoundElement) -> str:
    for child in store.element_children(element.element_id, 4):
        if child.text.strip():
            return child.text
    return ""


@dataclass
class Neighbourhood:
    element: FoundElement
    header_path: list[str]
    parent: FoundElement | None
    siblings: list[FoundElement]
    children: list[FoundElement]
    links_out: list[Related] = field(default_factory=list)
    links_in: list[Related] = field(default_factory=list)
    semantic_out: list[Related] = field(default_factory=list)
    semantic_in: list[Related] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def element(e: FoundElement | None) -> dict[str, Any] | None:
            if e is None:
                return None
            return {"element_id": e.element_id, "doc_id": e.doc_id, "path": e.path, "element_type": e.element_type,
                    "sibling_order": e.sibling_order, "text": preview(e.text)}  # fmt: skip

        return {
            "element": {**(element(self.element) or {}), "source": self.element.source, "title": self.element.title,
                        "location": self.element.location, "metadata": self.element.metadata,
                        "text": self.element.text},
            "header_path": self.header_path,
            "parent": element(self.parent),
            "siblings": [element(s) for s in self.siblings],
            "children": [element(c) for c in self.children],
            **{name: [r.to_dict() for r in getattr(self, name)]
               for name in ("links_out", "links_in", "semantic_out", "semantic_in")},
        }  # fmt: skip


def neighbourhood(store: Store, element: FoundElement, *, children: int = 20) -> Neighbourhood:
    """What surrounds ``element``: structure, links both ways (of its subtree, going out), semantic edges both ways."""
    chain = ancestors(store, [element]).get(element.element_id, [])
    parent = chain[-1] if chain else None
    outgoing = store.relationships_from(store.subtree_ids(element.element_id, SUBTREE_LIMIT))
    incoming = store.relationships_into([element.element_id])
    semantic_out = sorted((r for r in outgoing if r.relationship_type == SEMANTIC and r.source_id == element.element_id),
                          key=lambda r: (-float(r.metadata.get("score", 0.0)), r.target_id or ""))  # fmt: skip
    semantic_in = sorted((r for r in incoming if r.relationship_type == SEMANTIC),
                         key=lambda r: (-float(r.metadata.get("score", 0.0)), r.source_id))  # fmt: skip
    return Neighbourhood(
        element, header_path(element, chain), parent, store.element_siblings(element.element_id),
        store.element_children(element.element_id, children),
        _describe(store, [r for r in outgoing if r.relationship_type == "links_to"], "out"),
        _describe(store, [r for r in incoming if r.relationship_type == "links_to"], "in"),
        _describe(store, semantic_out, "out"), _describe(store, semantic_in, "in"),
    )  # fmt: skip
