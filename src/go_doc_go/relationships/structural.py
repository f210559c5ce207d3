"""Structural edges: contains / contained_by and next_sibling / previous_sibling."""

from __future__ import annotations

from go_doc_go.model import Element, Relationship, RelationshipType, make_relationship_id

CONTAINS = str(RelationshipType.CONTAINS)
CONTAINED_BY = str(RelationshipType.CONTAINED_BY)
NEXT = str(RelationshipType.NEXT_SIBLING)
PREVIOUS = str(RelationshipType.PREVIOUS_SIBLING)


def structural_relationships(elements: list[Element]) -> list[Relationship]:
    relationships: list[Relationship] = []
    last_child: dict[str, str] = {}
    add = relationships.append
    for element in elements:
        parent = element.parent_id
        if parent is None:
            continue
        child = element.element_id
        doc_id = element.doc_id
        add(Relationship(make_relationship_id(parent, CONTAINS, child), doc_id, parent, CONTAINS, child))
        add(Relationship(make_relationship_id(child, CONTAINED_BY, parent), doc_id, child, CONTAINED_BY, parent))
        previous = last_child.get(parent)
        if previous is not None:
            add(Relationship(make_relationship_id(previous, NEXT, child), doc_id, previous, NEXT, child))
            add(Relationship(make_relationship_id(child, PREVIOUS, previous), doc_id, child, PREVIOUS, previous))
        last_child[parent] = child
    return relationships
