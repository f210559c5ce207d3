"""Exact top-k over normalised vectors and reciprocal rank fusion."""

from __future__ import annotations

import pytest

from go_doc_go.embeddings.search import from_blob, rrf, to_blob, top_k

np = pytest.importorskip("numpy")


def _unit_rows(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("block_rows", [7, 64, 100_000])
def test_top_k_equals_a_full_sort_whatever_the_block_size(block_rows):
    rng = np.random.default_rng(3)
    vectors, queries = _unit_rows(rng, 500, 16), _unit_rows(rng, 9, 16)
    idx, val = top_k(queries, vectors, 10, block_rows=block_rows)
    full = queries @ vectors.T
    expected = np.argsort(-full, axis=1, kind="stable")[:, :10]
    assert np.array_equal(idx, expected)
    assert np.allclose(val, np.take_along_axis(full, expected, axis=1))


def test_top_k_excludes_rows_breaks_ties_by_index_and_caps_k():
    vectors = np.asarray([[1, 0], [0, 1], [1, 0], [0.6, 0.8]], dtype=np.float32)
    idx, val = top_k([[1, 0]], vectors, 3, block_rows=2)
    assert idx.tolist() == [[0, 2, 3]]  # rows 0 and 2 tie: the lower index first
    idx, _ = top_k([[1, 0]], vectors, 10, exclude=np.asarray([True, False, False, False]))
    assert idx[0].tolist() == [2, 3, 1, -1]  # only 3 rows left: the 4th slot is empty
    assert top_k([[1, 0]], vectors[:0], 5)[0].shape == (1, 0)


def test_top_k_reads_a_memmap_in_blocks(tmp_path):
    rng = np.random.default_rng(5)
    vectors = _unit_rows(rng, 1000, 8)
    path = tmp_path / "v.f32"
    vectors.tofile(path)
    mapped = np.memmap(path, dtype=np.float32, mode="r", shape=vectors.shape)
    assert np.array_equal(top_k(vectors[:3], mapped, 5, block_rows=128)[0], top_k(vectors[:3], vectors, 5)[0])


def test_rrf_fuses_by_reciprocal_rank():
    fused = rrf([["a", "b", "c"], ["c", "a", "d"]], k=60)
    keys = [k for k, _ in fused]
    assert keys == ["a", "c", "b", "d"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert rrf([["x"], []], limit=1) == [("x", 1 / 61)]


def test_rrf_ties_keep_first_appearance():
    assert [k for k, _ in rrf([["a", "b"], ["b", "a"]])] == ["a", "b"]


def test_blob_round_trip_and_size_check():
    vector = np.asarray([0.25, -1.5, 3.0], dtype=np.float32)
    blob = to_blob(vector)
    assert len(blob) == 12 and np.array_equal(from_blob(blob, 3), vector)
    with pytest.raises(ValueError, match="expected 4"):
        from_blob(blob, 4)
