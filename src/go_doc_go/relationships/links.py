"""Explicit links between elements and documents.

Each link becomes a ``links_to`` relationship that keeps the raw href in
``target_reference``. Links inside the source also record the target document
and anchor; the store resolves them to element ids once the target is stored
(``resolve_links``), so the order documents are processed in never matters.
"""

from __future__ import annotations

from go_doc_go.model import Link, Relationship, RelationshipType, make_relationship_id

LINKS_TO = str(RelationshipType.LINKS_TO)


def link_relationships(doc_id: str, links: list[Link]) -> list[Relationship]:
    relationships: list[Relationship] = []
    seen: set[str] = set()
    for link in links:
        relationship_id = make_relationship_id(link.source_element_id, LINKS_TO, link.href)
        if relationship_id in seen:
            continue
        seen.add(relationship_id)
        relationships.append(
            Relationship(
                relationship_id=relationship_id,
                doc_id=doc_id,
                source_id=link.source_element_id,
                relationship_type=LINKS_TO,
                target_id=None,
                target_reference=link.href,
                target_doc_id=link.target_doc_id,
                target_anchor=link.target_anchor,
                metadata={"text": link.text} if link.text else {},
                target_path=link.target_path,
            )
        )
    return relationships
