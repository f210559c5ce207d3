"""Relationship detection: structural edges and explicit links."""

from go_doc_go.relationships.links import link_relationships
from go_doc_go.relationships.structural import structural_relationships

__all__ = ["link_relationships", "structural_relationships"]
