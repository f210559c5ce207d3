"""Vector search helpers: exact top-k over normalised vectors, and reciprocal rank fusion.

``top_k`` is the numpy scan the SQLite engine falls back to when sqlite-vec is
not installed: a matrix product of the queries with the stored vectors, taken
in row blocks so memory stays bounded (``block_rows`` × queries floats at a
time), keeping only the best k of each block with ``argpartition``. Exact:
it returns the same neighbours as a full sort.

``rrf`` fuses ranked lists (full text, vectors) by reciprocal rank fusion
(Cormack et al. 2009): score(d) = Σ 1 / (k + rank), ranks from 1, k = 60.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from go_doc_go.embeddings.base import require

if TYPE_CHECKING:
    import numpy as np

K = TypeVar("K", bound=Hashable)

RRF_K = 60


def top_k(
    queries: Any,
    vectors: Any,
    k: int,
    *,
    block_rows: int = 65_536,
    exclude: Any = None,
    groups: tuple[Any, Any] | None = None,
    same_group: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the indices and scores of the ``k`` most similar ``vectors`` rows, best first.

    Both inputs are L2-normalised float32 (so the dot product is the cosine).
    ``vectors`` may be any array-like indexable by row slices (a numpy
    memmap works: each block is read once). ``exclude``, if given, is a
    boolean mask over the rows of ``vectors``; excluded rows never appear.
    ``groups`` = ``(query_groups, row_groups)`` (integer codes, e.g. documents):
    a row of the query's own group never appears, or, with ``same_group``,
    only rows of its own group do. Unfilled places (fewer rows than ``k``
    qualify) have index -1 and score -inf. Ties are broken by the lower
    index, so the result is deterministic.
    """
    np = require("numpy", "vector search")
    q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    total = len(vectors)
    k = max(0, min(k, total))
    if k == 0 or total == 0:
        return np.zeros((len(q), 0), dtype=np.int64), np.zeros((len(q), 0), dtype=np.float32)
    best_idx = np.full((len(q), 0), -1, dtype=np.int64)
    best_val = np.full((len(q), 0), -np.inf, dtype=np.float32)
    for start in range(0, total, block_rows):
        block = np.asarray(vectors[start : start + block_rows], dtype=np.float32)
        scores = q @ block.T
        if exclude is not None:
            mask = np.asarray(exclude[start : start + len(block)], dtype=bool)
            scores[:, mask] = -np.inf
        if groups is not None:
            query_groups = np.asarray(groups[0])[:, None]
            row_groups = np.asarray(groups[1][start : start + len(block)])[None, :]
            scores[(query_groups != row_groups) if same_group else (query_groups == row_groups)] = -np.inf
        take = min(k, scores.shape[1])
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take] if take < scores.shape[1] else (
            np.broadcast_to(np.arange(scores.shape[1]), scores.shape).copy())  # fmt: skip
        cand_val = np.take_along_axis(scores, part, axis=1)
        best_idx = np.concatenate([best_idx, part + start], axis=1)
        best_val = np.concatenate([best_val, cand_val], axis=1)
        if best_idx.shape[1] > k:
            best_idx, best_val = _keep_best(best_idx, best_val, k)
    best_idx, best_val = _keep_best(best_idx, best_val, k)
    valid = np.isfinite(best_val)
    best_idx = np.where(valid, best_idx, -1)
    return best_idx, best_val


def _keep_best(idx: np.ndarray, val: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (highest score, then lowest index) of each row, sorted best first."""
    np = require("numpy", "vector search")
    order = np.lexsort((idx, -val), axis=1)[:, :k]
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(val, order, axis=1)


def rrf(rankings: Iterable[Sequence[K]], *, k: int = RRF_K, limit: int | None = None) -> list[tuple[K, float]]:
    """Reciprocal rank fusion of ranked lists (best first); ties broken by first appearance."""
    scores: dict[K, float] = {}
    first_seen: dict[K, int] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
            first_seen.setdefault(key, len(first_seen))
    fused = sorted(scores.items(), key=lambda item: (-item[1], first_seen[item[0]]))
    return fused if limit is None else fused[:limit]


def to_blob(vector: Any) -> bytes:
    """A vector as little-endian float32 bytes: the ``embeddings.vector`` column, and sqlite-vec's format."""
    np = require("numpy", "vector search")
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes, dimensions: int) -> np.ndarray:
    np = require("numpy", "vector search")
    array = np.frombuffer(blob, dtype="<f4")
    if array.size != dimensions:
        raise ValueError(f"a stored vector has {array.size} values, expected {dimensions}")
    return array


#: Decimals of a stored similarity score: both modes and both engines store the same rounded value.
SCORE_DECIMALS = 6


def pair_scores(left: Any, right: Any) -> list[float]:
    """Exact cosine of each row pair (float64 products of the float32 rows), rounded to ``SCORE_DECIMALS``.

    Candidates come from float32 matrix products (or an index), whose last bits
    depend on blocking; the score that decides and is stored is computed the
    same way for each pair wherever it comes from, so it is deterministic.
    """
    np = require("numpy", "vector search")
    a = np.asarray(left, dtype=np.float64)
    b = np.asarray(right, dtype=np.float64)
    if a.size == 0:
        return []
    return [round(float(x), SCORE_DECIMALS) for x in np.einsum("ij,ij->i", a, b)]
