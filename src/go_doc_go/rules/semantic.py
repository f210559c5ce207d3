"""Semantic edges: ``semantic_similarity`` relationships between the containers of different documents.

Every element with a vector (a container that became a retrieval unit: a
whole short document, a section, a table; ``embeddings.units``) gets an edge
to each of its ``k`` most similar elements of *other* documents whose cosine
similarity is at least ``similarity_threshold``
(``relationship_detection.cross_document_semantic``); with
``within_document`` also to its ``k`` most similar elements of its own
document. An element of several chunks is as similar as its best chunk pair.
An edge is a ``stored_relationships`` row owned by the source's document, with
``target_doc_id`` and ``{"score": s}`` in its metadata (``within_document``:
true for the second kind).

**Incremental** (a post-processing step of both modes, in one transaction):

1. *pending*: the documents written or removed since the last run
   (``Store.semantic_pending``, filled by every document write and delete);
2. the edges from and into pending documents are dropped, and so are the
   cross-document lists of elements that had an edge into one (*lost*: they
   lost a neighbour, so they are recomputed whole);
3. *forward*: new lists for the elements of pending documents and the lost ones;
4. *reverse*: an element of another document whose list a new unit now enters
   gets it merged in. Its old list was exact and nothing else it can see
   changed, so the result equals a computation from scratch.

**Candidates** come from the vector index when the store has one (pgvector
HNSW: approximate, as any ANN index) or else from an exact numpy scan over
all vectors of the model, held in memory (n x d x 4 bytes) and compared in
blocks (changed x all, never all x all in Python). **Scores** are then computed
per pair in float64 and rounded (``embeddings.search.pair_scores``), ties broken
by element id, so single and distributed runs store identical edges.

The parameters (model, k, threshold, within_document) are recorded in the
store: when they change, every edge is recomputed. When the step is off
(embeddings or ``cross_document_semantic`` disabled), the edges it made are
removed once, since nothing would keep them true, and no document waits for
it (turning it on again recomputes everything).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from go_doc_go.config import Config, similarity_threshold_of, vector_model
from go_doc_go.embeddings.base import require
from go_doc_go.embeddings.search import pair_scores, top_k
from go_doc_go.model import make_relationship_id
from go_doc_go.storage import SEMANTIC, Store
from go_doc_go.storage.rows import to_json
from go_doc_go.storage.vectors import VectorRows, concatenate

#: Store setting holding the parameters the stored edges were computed with ('' once removed).
SETTING = "semantic_edges"
#: Float32 candidates this far below the threshold are still scored exactly.
MARGIN = 1e-4
QUERY_CHUNK = 256
BLOCK_ROWS = 16_384
#: Pairs scored exactly at a time (two float64 copies of this many vectors).
SCORE_CHUNK = 16_384
#: Candidates per query row from an index (times k).
INDEX_FANOUT = 4
#: Extra candidates per query row, so float32 ties at the cut still reach the exact scoring.
TIE_MARGIN = 16


@dataclass(frozen=True)
class Params:
    model: str
    k: int
    threshold: float
    within_document: bool

    def recorded(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def params_of(config: Config) -> Params | None:
    """The step's parameters, or None when it is off."""
    semantic = config.relationship_detection.cross_document_semantic
    if not (config.embedding.enabled and semantic.enabled):
        return None
    return Params(vector_model(config.embedding), semantic.k, similarity_threshold_of(config), semantic.within_document)


@dataclass(frozen=True, slots=True)
class Edge:
    source_id: str
    source_doc: str
    target_id: str
    target_doc: str
    score: float

    @property
    def within(self) -> bool:
        return self.source_doc == self.target_doc

    def row(self) -> tuple[Any, ...]:
        metadata: dict[str, Any] = {"score": self.score}
        if self.within:
            metadata["within_document"] = True
        return (make_relationship_id(self.source_id, SEMANTIC, self.target_id), self.source_doc, self.source_id,
                SEMANTIC, self.target_id, None, self.target_doc, None, to_json(metadata), None)  # fmt: skip


def update_semantic_edges(store: Store, tx: Any, config: Config) -> int:
    """Bring the stored edges up to date (see the module docstring); returns the edges written or removed."""
    params = params_of(config)
    recorded = store.setting(SETTING) or None
    if params is None:  # off: nothing to keep up to date (turning it on again recomputes everything)
        pending = store.semantic_pending(tx)
        if pending:
            store.clear_semantic_pending(tx, pending)
        if recorded is None:
            return 0
        removed = store.delete_semantic_edges(tx, everything=True)
        store.set_setting(tx, SETTING, "")
        return removed
    changed = 0
    if recorded != params.recorded():
        changed += store.delete_semantic_edges(tx, everything=True)
        store.mark_all_semantic_pending(tx)
        store.set_setting(tx, SETTING, params.recorded())
    pending = store.semantic_pending(tx)
    if pending:
        changed += _update(store, tx, params, pending)
        store.clear_semantic_pending(tx, pending)
    return changed


# ---------------------------------------------------------------- the update


@dataclass
class _Candidates:
    """Row pairs to score: forward (query row, target row), reverse (target row, query row), within (q, q)."""

    targets: VectorRows
    forward: list[tuple[int, int]]
    reverse: list[tuple[int, int]]
    within: list[tuple[int, int]]


def _update(store: Store, tx: Any, params: Params, pending: Sequence[str]) -> int:
    pending_docs = set(pending)
    lost = store.semantic_sources_into(tx, pending)
    kept_within = [e for e in store.semantic_edges_from(tx, lost) if e.target_doc_id not in pending_docs]
    removed = store.delete_semantic_edges(tx, doc_ids=pending, source_ids=lost)
    queries = store.vectors_of(params.model, doc_ids=pending, element_ids=lost)
    if not len(queries):
        return removed
    in_pending = [doc in pending_docs for doc in queries.doc_ids]
    if store.vector_search == "pgvector":
        candidates = _index_candidates(store, params, queries, in_pending, pending_docs, set(lost))
    else:
        candidates = _scan_candidates(store, params, queries, in_pending, pending_docs, set(lost))
    doc_of = dict(zip(queries.element_ids, queries.doc_ids, strict=True))
    edges: list[Edge] = [
        Edge(e.source_id, doc_of[e.source_id], e.target_id, e.target_doc_id, e.score)
        for e in kept_within if e.source_id in doc_of and doc_of[e.source_id] == e.target_doc_id
    ]
    edges += _forward_edges(params, queries, candidates)
    edges += _within_edges(params, queries, candidates, in_pending)
    merged, rewritten = _reverse_merge(store, tx, params, queries, candidates)
    if rewritten:
        removed += store.delete_semantic_edges(tx, source_ids=rewritten)
    edges += merged
    store.write_relationships(tx, [edge.row() for edge in edges])
    return removed + len(edges)


def _scored(left: VectorRows, right: VectorRows, pairs: Sequence[tuple[int, int]]) -> list[float]:
    """Exact scores of row pairs, a bounded number of pairs at a time."""
    np = require("numpy", "semantic edges")
    scores: list[float] = []
    for start in range(0, len(pairs), SCORE_CHUNK):
        chunk = pairs[start : start + SCORE_CHUNK]
        li = np.fromiter((a for a, _ in chunk), dtype=np.int64, count=len(chunk))
        ri = np.fromiter((b for _, b in chunk), dtype=np.int64, count=len(chunk))
        scores.extend(pair_scores(left.matrix[li], right.matrix[ri]))
    return scores


def _best(found: dict[str, dict[str, tuple[float, str]]], source_doc: dict[str, str], params: Params) -> list[Edge]:
    """Each source's ``k`` best targets at or above the threshold (score, then target id)."""
    edges: list[Edge] = []
    for source in sorted(found):
        ranked = sorted(found[source].items(), key=lambda item: (-item[1][0], item[0]))
        edges.extend(Edge(source, source_doc[source], target, doc, score)
                     for target, (score, doc) in ranked[: params.k] if score >= params.threshold)  # fmt: skip
    return edges


def _collect(found: dict[str, dict[str, tuple[float, str]]], source: str, target: str, doc: str, score: float) -> None:
    targets = found[source]
    if target not in targets or targets[target][0] < score:
        targets[target] = (score, doc)


def _forward_edges(params: Params, queries: VectorRows, candidates: _Candidates) -> list[Edge]:
    targets = candidates.targets
    found: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
    for (qi, ti), score in zip(candidates.forward, _scored(queries, targets, candidates.forward), strict=True):
        _collect(found, queries.element_ids[qi], targets.element_ids[ti], targets.doc_ids[ti], score)
    return _best(found, dict(zip(queries.element_ids, queries.doc_ids, strict=True)), params)


def _within_edges(params: Params, queries: VectorRows, candidates: _Candidates, in_pending: list[bool]) -> list[Edge]:
    found: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
    for (qi, qj), score in zip(candidates.within, _scored(queries, queries, candidates.within), strict=True):
        if queries.element_ids[qi] != queries.element_ids[qj]:
            _collect(found, queries.element_ids[qi], queries.element_ids[qj], queries.doc_ids[qj], score)
    return _best(found, dict(zip(queries.element_ids, queries.doc_ids, strict=True)), params)


def _reverse_merge(
    store: Store, tx: Any, params: Params, queries: VectorRows, candidates: _Candidates
) -> tuple[list[Edge], list[str]]:
    """New units entering the lists of unchanged elements: the merged lists, and which sources they replace."""
    targets = candidates.targets
    offers: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
    source_doc: dict[str, str] = {}
    for (ti, qi), score in zip(candidates.reverse, _scored(targets, queries, candidates.reverse), strict=True):
        if score >= params.threshold:
            source = targets.element_ids[ti]
            source_doc[source] = targets.doc_ids[ti]
            _collect(offers, source, queries.element_ids[qi], queries.doc_ids[qi], score)
    if not offers:
        return [], []
    current: dict[str, list[Edge]] = defaultdict(list)
    for edge in store.semantic_edges_from(tx, sorted(offers)):
        current[edge.source_id].append(
            Edge(edge.source_id, source_doc[edge.source_id], edge.target_id, edge.target_doc_id, edge.score))
    merged: list[Edge] = []
    rewritten: list[str] = []
    for source in sorted(offers):
        old = [e for e in current[source] if not e.within]
        found: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
        for edge in old:
            _collect(found, source, edge.target_id, edge.target_doc, edge.score)
        for target, (score, doc) in offers[source].items():
            _collect(found, source, target, doc, score)
        new = _best(found, source_doc, params)
        if {(e.target_id, e.score) for e in new} != {(e.target_id, e.score) for e in old}:
            rewritten.append(source)
            merged.extend(new)
            merged.extend(e for e in current[source] if e.within)
    return merged, rewritten


# ---------------------------------------------------------------- candidates


def _codes(*columns: Iterable[str]) -> dict[str, int]:
    return {value: n for n, value in enumerate(sorted({v for column in columns for v in column}))}


def _scan_candidates(
    store: Store, params: Params, queries: VectorRows, in_pending: list[bool], pending_docs: set[str],
    lost: set[str],
) -> _Candidates:
    """Exact: every stored vector in memory, compared with the query rows in blocks."""
    np = require("numpy", "semantic edges")
    every = _in_key_order(concatenate(list(store.vector_blocks(params.model, block_rows=BLOCK_ROWS))))
    codes = _codes(every.doc_ids, queries.doc_ids)
    row_docs = np.fromiter((codes[d] for d in every.doc_ids), dtype=np.int64, count=len(every))
    query_docs = np.fromiter((codes[d] for d in queries.doc_ids), dtype=np.int64, count=len(queries))
    chunks = max(max(every.chunks, default=0), max(queries.chunks, default=0)) + 1
    fetch = min(params.k * chunks, 2_000)
    forward = _top_pairs(queries.matrix, every.matrix, fetch, params.threshold, (query_docs, row_docs), False)
    a_rows = [n for n, flag in enumerate(in_pending) if flag]
    within: list[tuple[int, int]] = []
    if params.within_document and a_rows:
        a = np.asarray(a_rows)
        pairs = _top_pairs(queries.matrix[a], queries.matrix[a], fetch + chunks, params.threshold,
                           (query_docs[a], query_docs[a]), True)  # fmt: skip
        within = [(a_rows[i], a_rows[j]) for i, j in pairs]
    eligible = np.fromiter((doc not in pending_docs and element not in lost
                            for doc, element in zip(every.doc_ids, every.element_ids, strict=True)),
                           dtype=bool, count=len(every))  # fmt: skip
    reverse: list[tuple[int, int]] = []
    if a_rows and eligible.any():
        reverse = _reverse_pairs(queries.matrix[np.asarray(a_rows)], every.matrix, eligible, fetch + TIE_MARGIN,
                                 params.threshold)  # fmt: skip
        reverse = [(ti, a_rows[ai]) for ti, ai in reverse]
    return _Candidates(every, forward, reverse, within)


def _in_key_order(rows: VectorRows) -> VectorRows:
    """Rows sorted by (element id, chunk): a scan breaks float32 ties by position, hence by element id."""
    order = sorted(range(len(rows)), key=lambda n: (rows.element_ids[n], rows.chunks[n]))
    if order == list(range(len(rows))):
        return rows
    return VectorRows([rows.element_ids[n] for n in order], [rows.chunks[n] for n in order],
                      [rows.doc_ids[n] for n in order], rows.matrix[order])  # fmt: skip


def _top_pairs(queries: Any, rows: Any, need: int, threshold: float, groups: tuple[Any, Any],
               same_group: bool) -> list[tuple[int, int]]:  # fmt: skip
    """(query, row) pairs: each query's ``need`` best rows not (or only, ``same_group``) of its group.

    Rows tied (within float32 error) with the ``need``-th are kept too, up to
    ``TIE_MARGIN`` more, so the exact scoring decides between them.
    """
    np = require("numpy", "semantic edges")
    pairs: list[tuple[int, int]] = []
    fetch = need + TIE_MARGIN
    for start in range(0, len(queries), QUERY_CHUNK):
        stop = start + QUERY_CHUNK
        index, score = top_k(queries[start:stop], rows, fetch, block_rows=BLOCK_ROWS,
                             groups=(groups[0][start:stop], groups[1]), same_group=same_group)  # fmt: skip
        keep = (index >= 0) & (score >= threshold - MARGIN)
        if score.shape[1] > need:
            keep &= score >= score[:, need - 1 : need] - MARGIN
        for q, r in zip(*np.nonzero(keep), strict=True):
            pairs.append((start + int(q), int(index[q, r])))
    return pairs


def _reverse_pairs(a: Any, rows: Any, eligible: Any, fetch: int, threshold: float) -> list[tuple[int, int]]:
    """(row, a) pairs: for each eligible row, its ``fetch`` most similar ``a`` rows above the threshold."""
    np = require("numpy", "semantic edges")
    found_rows: list[Any] = []
    found_a: list[Any] = []
    found_score: list[Any] = []
    columns = np.nonzero(eligible)[0]
    for start in range(0, len(columns), BLOCK_ROWS):
        block = columns[start : start + BLOCK_ROWS]
        for a_start in range(0, len(a), QUERY_CHUNK):
            scores = a[a_start : a_start + QUERY_CHUNK] @ rows[block].T
            ai, ci = np.nonzero(scores >= threshold - MARGIN)
            found_rows.append(block[ci])
            found_a.append(ai + a_start)
            found_score.append(scores[ai, ci])
    if not found_rows:
        return []
    row_ids, a_ids, scores = (np.concatenate(x) for x in (found_rows, found_a, found_score))
    order = np.lexsort((a_ids, -scores, row_ids))  # per row: best first, then the lower a
    row_ids, a_ids = row_ids[order], a_ids[order]
    starts = np.r_[0, np.nonzero(np.diff(row_ids))[0] + 1]
    rank = np.arange(len(row_ids)) - np.repeat(starts, np.diff(np.r_[starts, len(row_ids)]))
    keep = rank < fetch
    return [(int(r), int(q)) for r, q in zip(row_ids[keep], a_ids[keep], strict=True)]


def _index_candidates(
    store: Store, params: Params, queries: VectorRows, in_pending: list[bool], pending_docs: set[str],
    lost: set[str],
) -> _Candidates:
    """Through the store's vector index (pgvector HNSW); reverse candidates are the new units' own neighbours."""
    np = require("numpy", "semantic edges")
    fetch = params.k * INDEX_FANOUT + TIE_MARGIN
    found = store.nearest(params.model, queries.matrix, fetch, exclude_docs=queries.doc_ids) or []
    wanted = sorted({element for row in found for element, _, _ in row})
    targets = store.vectors_of(params.model, element_ids=wanted)
    where = {key: n for n, key in enumerate(targets.keys)}
    forward: list[tuple[int, int]] = []
    reverse: list[tuple[int, int]] = []
    for qi, row in enumerate(found):
        for element, chunk, doc in row:
            ti = where.get((element, chunk))
            if ti is None:
                continue
            forward.append((qi, ti))
            if in_pending[qi] and doc not in pending_docs and element not in lost:
                reverse.append((ti, qi))
    within: list[tuple[int, int]] = []
    a_rows = [n for n, flag in enumerate(in_pending) if flag]
    if params.within_document and a_rows:
        codes = _codes(queries.doc_ids)
        a = np.asarray(a_rows)
        docs = np.fromiter((codes[queries.doc_ids[n]] for n in a_rows), dtype=np.int64, count=len(a_rows))
        chunks = max(queries.chunks, default=0) + 1
        pairs = _top_pairs(queries.matrix[a], queries.matrix[a], params.k * chunks + chunks, params.threshold,
                           (docs, docs), True)  # fmt: skip
        within = [(a_rows[i], a_rows[j]) for i, j in pairs]
    return _Candidates(targets, forward, reverse, within)
