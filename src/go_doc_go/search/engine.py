"""Hybrid search over a store: full text and vectors, fused by reciprocal rank fusion.

1. The query's words (``text.query_terms``) are OR-ed over the store's full-text
   index (FTS5 BM25 on SQLite; a BM25-style rank over ``tsvector`` on
   PostgreSQL). A hit is any element (a paragraph, a list item, a cell); it
   counts for its *container*: its nearest ancestor-or-self that has a vector
   (a retrieval unit), else its nearest header, table or root.
2. The query is embedded with the store's model and compared with the stored
   unit vectors: through the vector index when there is one (pgvector HNSW),
   else an exact numpy scan, block by block.
3. The two ranked lists of containers are fused by RRF (k = 60); the score
   is the fused one. With embeddings off (or no vectors in the store) full
   text alone ranks, scored by the engine's full-text rank; vectors alone
   (``mode="vector"``) are scored by cosine similarity.

``--type`` keeps the elements of that type: full-text hits are then results
themselves (no container), and only units of that type are compared.
Each result carries its document, the header path, a snippet around the
match and the score; ``related`` adds its semantic neighbours and the links
leaving it (``neighbourhood``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from go_doc_go.config import Config, EmbeddingConfig, vector_model
from go_doc_go.embeddings.search import RRF_K, rrf, top_k
from go_doc_go.search.neighbourhood import Related, ancestors, header_path, related_of
from go_doc_go.search.text import query_terms, snippet
from go_doc_go.storage import FoundElement, Store

log = logging.getLogger("go_doc_go.search")

Mode = Literal["hybrid", "full_text", "vector"]
MODES: tuple[str, ...] = ("hybrid", "full_text", "vector")
#: Candidates taken from each list before fusion.
FULL_TEXT_CANDIDATES = 200
VECTOR_CANDIDATES = 100
CONTAINER_TYPES = frozenset({"root", "header", "table"})


@dataclass
class SearchResult:
    doc_id: str
    source: str
    path: str
    title: str | None
    element_id: str
    element_type: str
    header_path: list[str]
    snippet: str
    highlights: list[tuple[int, int]]
    score: float
    rank: int
    full_text_rank: int | None = None
    vector_rank: int | None = None
    #: Cosine similarity of the query with the element's best chunk (vector hits).
    similarity: float | None = None
    related: list[Related] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "related"}
        data["highlights"] = [list(h) for h in self.highlights]
        if self.related is not None:
            data["related"] = [r.to_dict() for r in self.related]
        return data


@dataclass
class SearchResponse:
    query: str
    mode: str
    results: list[SearchResult]
    #: The vector model used, if any.
    model: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "mode": self.mode, "model": self.model, "notes": self.notes,
                "results": [r.to_dict() for r in self.results]}  # fmt: skip


def run_search(
    store: Store, config: Config, query: str, *, limit: int = 10, source: str | None = None,
    element_type: str | None = None, related: bool = False, mode: Mode = "hybrid",
) -> SearchResponse:
    """Search ``store`` (see the module docstring); ``mode`` picks full text, vectors, or both."""
    terms = query_terms(query)
    notes: list[str] = []
    embedding = _embedding_for(store, config, notes) if mode != "full_text" else None
    if embedding is None and mode == "vector":
        raise ValueError("vector search needs embeddings: " + "; ".join(notes or ["none are configured"]))
    used: str = mode if embedding is not None else "full_text"
    rankings: list[list[str]] = []
    text_hits: dict[str, str] = {}  # container -> the element whose text matched best
    text_scores: dict[str, float] = {}
    if used != "vector":
        hits = store.full_text(terms, FULL_TEXT_CANDIDATES, source=source, element_type=element_type)
        containers = _containers(store, [e for e, _ in hits], embedding is not None and element_type is None)
        for element_id, score in hits:
            container = element_id if element_type else containers.get(element_id, element_id)
            if container not in text_hits:
                text_hits[container] = element_id
                text_scores[container] = score
        rankings.append(list(text_hits))
    similarity: dict[str, float] = {}
    if embedding is not None:
        similarity = _vector_hits(store, embedding, query, source=source, element_type=element_type)
        rankings.append(list(similarity))
    fused = rrf(rankings, k=RRF_K, limit=limit)
    if used != "hybrid":  # one list: its own score says more than a reciprocal rank
        own = text_scores if used == "full_text" else similarity
        fused = [(element_id, own[element_id]) for element_id, _ in fused]
    text_ranking = rankings[0] if used != "vector" else []
    results = _results(store, fused, text_ranking, terms, text_hits, similarity)
    if related:
        for result in results:
            result.related = related_of(store, result.element_id)
    return SearchResponse(query, used, results, vector_model(embedding) if embedding else None, notes)


def _results(
    store: Store, fused: list[tuple[str, float]], text_ranking: list[str], terms: list[str],
    text_hits: dict[str, str], similarity: dict[str, float],
) -> list[SearchResult]:
    ids = [element_id for element_id, _ in fused]
    found = store.elements_by_id(list(dict.fromkeys([*ids, *(text_hits[i] for i in ids if i in text_hits)])))
    chains = ancestors(store, [found[i] for i in ids if i in found])
    text_rank = {e: n for n, e in enumerate(text_ranking, start=1)}
    vector_rank = {e: n for n, e in enumerate(similarity, start=1)}
    results: list[SearchResult] = []
    for rank, (element_id, score) in enumerate(fused, start=1):
        element = found.get(element_id)
        if element is None:  # removed since the index answered
            continue
        matched = found.get(text_hits.get(element_id, ""), None)
        shown = snippet(_snippet_text(store, element, matched), terms)
        results.append(SearchResult(
            element.doc_id, element.source, element.path, element.title, element.element_id, element.element_type,
            header_path(element, chains.get(element_id, [])), shown.text, shown.highlights, round(score, 6), rank,
            text_rank.get(element_id), vector_rank.get(element_id), similarity.get(element_id),
        ))  # fmt: skip
    return results


def _snippet_text(store: Store, element: FoundElement, matched: FoundElement | None) -> str:
    """The matching element's text; for a vector-only hit, the container's first text."""
    if matched is not None and matched.text.strip():
        return matched.text
    if element.element_type != "header" and element.text.strip():
        return element.text
    for child in store.element_children(element.element_id, 8):
        if child.element_type != "header" and child.text.strip():
            return child.text
    return element.text


def _containers(store: Store, element_ids: Sequence[str], units_only: bool) -> dict[str, str]:
    """Each element's nearest ancestor-or-self with a vector (``units_only``), else header, table or root."""
    found = store.elements_by_id(list(dict.fromkeys(element_ids)))
    chains = ancestors(store, list(found.values()))
    candidates = {e.element_id for chain in chains.values() for e in chain} | set(found)
    with_vectors = store.unit_elements(sorted(candidates)) if units_only else set()
    out: dict[str, str] = {}
    for element_id, element in found.items():
        for item in [element, *reversed(chains.get(element_id, []))]:  # self, then parent up to the root
            if item.element_id in with_vectors or (not with_vectors and item.element_type in CONTAINER_TYPES):
                out[element_id] = item.element_id
                break
        else:
            out[element_id] = element_id
    return out


# ---------------------------------------------------------------- vectors


def _embedding_for(store: Store, config: Config, notes: list[str]) -> EmbeddingConfig | None:
    """The embedding config whose vectors the store holds: the configured one, else the store's only model."""
    stored = {model for model, _, count in store.vector_models() if count}
    if not stored:
        notes.append("the store holds no vectors: full text only (ingest with embedding.enabled: true)")
        return None
    if config.embedding.enabled:
        if vector_model(config.embedding) in stored:
            return config.embedding
        notes.append(f"the store has no vectors of {vector_model(config.embedding)}: full text only")
        return None
    for model in sorted(stored):
        parsed = embedding_config_of(model, config.embedding)
        if parsed is not None and vector_model(parsed) == model:
            return parsed
    notes.append(f"the store's vectors ({', '.join(sorted(stored))}) are of no model known here: full text only")
    return None


def embedding_config_of(model: str, base: EmbeddingConfig) -> EmbeddingConfig | None:
    """The embedding config that names ``model`` (``config.vector_model`` read back), or None."""
    from go_doc_go.embeddings.base import PROVIDERS

    head, *options = model.split(";")
    provider, _, name = head.partition("/")
    if provider not in PROVIDERS or not name:
        return None
    settings: dict[str, Any] = {"enabled": True, "provider": provider, "model": name.split("@", 1)[0]}
    for option in options:
        key, _, value = option.partition("=")
        if key == "dimensions":
            settings["dimensions"] = int(value)
        elif key == "window":
            settings["window_chars"] = int(value)
    return base.model_copy(update=settings)


#: Providers built by this process, by config: a model loads once however many searches run.
_PROVIDERS: dict[str, Any] = {}


def _provider(embedding: EmbeddingConfig) -> Any:
    from go_doc_go.embeddings import get_provider

    key = embedding.model_dump_json()
    if key not in _PROVIDERS:
        _PROVIDERS[key] = get_provider(embedding)
    return _PROVIDERS[key]


def _vector_hits(store: Store, embedding: EmbeddingConfig, query: str, *, source: str | None,
                 element_type: str | None) -> dict[str, float]:  # fmt: skip
    """Container element -> cosine with its best chunk, best first (ties by element id)."""
    model = vector_model(embedding)
    vector = _provider(embedding).embed([query])
    found = store.nearest(model, vector, VECTOR_CANDIDATES, source=source, element_type=element_type)
    best: dict[str, float] = {}
    if found is not None:
        rows = store.vectors_of(model, element_ids=sorted({e for e, _, _ in found[0]}))
        for element_id, score in zip(rows.element_ids, (rows.matrix @ vector[0]).tolist(), strict=True):
            best[element_id] = max(score, best.get(element_id, -2.0))
    else:
        for block in store.vector_blocks(model, source=source, element_type=element_type):
            index, scores = top_k(vector, block.matrix, VECTOR_CANDIDATES)
            for i, score in zip(index[0].tolist(), scores[0].tolist(), strict=True):
                if i >= 0:
                    element_id = block.element_ids[i]
                    best[element_id] = max(score, best.get(element_id, -2.0))
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:VECTOR_CANDIDATES]
    return {element_id: round(score, 6) for element_id, score in ranked}
