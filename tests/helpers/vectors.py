"""Documents with vectors of our choosing, and the semantic edges a brute force computes for them.

``vector_document`` builds the rows of a document whose sections are retrieval
units with the given vectors (one per chunk), exactly as the embed step would
store them, so the semantic step and vector search can be tested on any engine
without a model. ``expected_edges`` is an independent oracle: every pair
compared in plain Python, the rules of ``rules.semantic`` applied from scratch.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

from go_doc_go.config import EmbeddingConfig, vector_model
from go_doc_go.embeddings.search import to_blob
from go_doc_go.model import Document, DocumentResult, ElementType, ParsedNode, flatten, make_doc_id
from go_doc_go.storage.rows import DocumentRows, encode_document

MODEL = vector_model(EmbeddingConfig(enabled=True))

Section = tuple[str, Sequence[Sequence[float]]]  # title, one vector per chunk


def unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def vector_document(path: str, sections: Sequence[Section], *, source: str = "s", model: str = MODEL) -> DocumentRows:
    """Rows of a Markdown-like document: one header per section, its vectors as the section's units."""
    doc_id = make_doc_id(source, path)
    root = ParsedNode(ElementType.ROOT)
    for title, _ in sections:
        header = root.add(ParsedNode(ElementType.HEADER, title, metadata={"level": 2}))
        header.add(ParsedNode(ElementType.PARAGRAPH, f"Text of {title}."))
    elements, _ = flatten(doc_id, root)
    digest = hashlib.sha256(repr((path, sections)).encode()).hexdigest()
    document = Document(doc_id, source, path, "markdown", digest, 100, 1, title=path)
    rows = encode_document(DocumentResult(document, elements, [], []))
    headers = [e for e in elements if e.element_type == "header"]
    rows.embeddings = [
        (header.element_id, chunk, doc_id, "section", hashlib.sha256(f"{title}{chunk}{vector}".encode()).hexdigest(),
         model, len(vector), to_blob(unit(vector)))
        for header, (title, vectors) in zip(headers, sections, strict=True)
        for chunk, vector in enumerate(vectors)
    ]  # fmt: skip
    rows.document = (*rows.document[:10], model)
    return rows


def expected_edges(documents: Sequence[DocumentRows], k: int, threshold: float, *, within: bool = False
                   ) -> set[tuple[str, str, float]]:  # fmt: skip
    """``(source element, target element, score)`` of every edge, by comparing every pair."""
    import numpy as np

    units: dict[str, tuple[str, list[Any]]] = {}
    for rows in documents:
        for element_id, _, doc_id, _, _, _, dims, blob in rows.embeddings:
            vector = np.frombuffer(blob, dtype="<f4").astype(np.float64)
            units.setdefault(element_id, (doc_id, []))[1].append(vector)
    edges: set[tuple[str, str, float]] = set()
    for source, (doc, vectors) in units.items():
        for same in ([False, True] if within else [False]):
            scored = []
            for target, (other_doc, others) in units.items():
                if target == source or (other_doc == doc) != same:
                    continue
                score = max(round(float(a @ b), 6) for a in vectors for b in others)
                if score >= threshold:
                    scored.append((-score, target))
            for negative, target in sorted(scored)[:k]:
                edges.add((source, target, -negative))
    return edges
