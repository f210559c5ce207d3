"""Relationship detection.

Explicit links become ``links_to`` relationships here. Structural edges
(contains / contained_by / next_sibling / previous_sibling) are a pure function
of each element's parent and sibling order, so the store derives them (the
``relationships`` view) instead of writing four rows per element.
"""

from go_doc_go.relationships.links import link_relationships

__all__ = ["link_relationships"]
