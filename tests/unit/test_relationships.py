"""Links become links_to relationships: one per (element, href), the pipeline's resolution kept."""

from go_doc_go.model import Link, make_relationship_id
from go_doc_go.relationships import link_relationships


def test_one_relationship_per_element_and_href_with_the_resolved_target():
    links = [
        Link("e1", "b.md#part", "see b", target_doc_id="db", target_path="b.md", target_anchor="part"),
        Link("e1", "b.md#part", "again", target_doc_id="db", target_path="b.md", target_anchor="part"),
        Link("e2", "b.md#part", ""),
        Link("e1", "https://example.com", "web"),
    ]
    relationships = link_relationships("da", links)
    assert [(r.source_id, r.target_reference) for r in relationships] == [
        ("e1", "b.md#part"), ("e2", "b.md#part"), ("e1", "https://example.com")]
    first = relationships[0]
    assert first.relationship_id == make_relationship_id("e1", "links_to", "b.md#part")
    assert (first.target_doc_id, first.target_path, first.target_anchor) == ("db", "b.md", "part")
    assert first.target_id is None, "element ids are resolved by the store once the target is stored"
    assert first.metadata == {"text": "see b"} and relationships[1].metadata == {}
    assert relationships[2].target_doc_id is None and relationships[2].target_path is None
