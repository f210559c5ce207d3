"""Exact k-nearest-neighbour search: the numpy scan vs sqlite-vec's vec0 table, at 10k and 100k vectors.

    python benchmarks/embeddings_vector_bench.py [--sizes 10000,100000] [--dims 384] [--k 10] [--queries 50]

Vectors are random unit vectors (search cost does not depend on their meaning).
numpy: ``go_doc_go.embeddings.search.top_k`` over an in-memory float32 matrix,
one query at a time and all queries in one call. sqlite-vec: a ``vec0`` virtual
table in an in-memory SQLite database, ``WHERE embedding MATCH ? AND k = ?``
(cosine distance), one query per statement; where this Python's ``sqlite3`` cannot
load extensions (the pyenv build here cannot), through ``pysqlite3-binary``. Both are exact, and the script
checks they return the same neighbours. A benchmark: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time

import numpy as np

from go_doc_go.embeddings.search import to_blob, top_k


def bench(size: int, dims: int, k: int, queries: int) -> dict:
    rng = np.random.default_rng(size)
    vectors = rng.standard_normal((size, dims)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    q = vectors[rng.choice(size, queries, replace=False)] + 0.05 * rng.standard_normal((queries, dims)).astype(
        np.float32
    )
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    row = {"vectors": size, "dims": dims, "k": k, "queries": queries}

    start = time.perf_counter()
    single = [top_k(q[i], vectors, k)[0][0] for i in range(queries)]
    row["numpy_ms_per_query"] = round((time.perf_counter() - start) * 1000 / queries, 3)
    start = time.perf_counter()
    batch_idx, _ = top_k(q, vectors, k)
    row["numpy_batch_ms_per_query"] = round((time.perf_counter() - start) * 1000 / queries, 3)
    assert all(np.array_equal(a, b) for a, b in zip(single, batch_idx, strict=True))

    try:
        import sqlite_vec
    except ImportError:
        row["sqlite_vec"] = "not installed"
        return row
    driver = sqlite3
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        # This Python's sqlite3 was built without loadable extensions: pysqlite3-binary bundles a SQLite that has them.
        try:
            import pysqlite3.dbapi2 as driver
        except ImportError:
            row["sqlite_vec"] = "this Python's sqlite3 cannot load extensions (pip install pysqlite3-binary)"
            return row
    row["sqlite_driver"] = f"{driver.__name__} (SQLite {driver.sqlite_version})"
    db = driver.connect(":memory:")
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    db.enable_load_extension(False)
    row["sqlite_vec_version"] = db.execute("SELECT vec_version()").fetchone()[0]
    db.execute(f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{dims}] distance_metric=cosine)")
    start = time.perf_counter()
    with db:
        db.executemany("INSERT INTO v (rowid, embedding) VALUES (?, ?)",
                       ((i + 1, to_blob(vectors[i])) for i in range(size)))  # fmt: skip
    row["sqlite_vec_insert_s"] = round(time.perf_counter() - start, 2)
    sql = "SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = ? ORDER BY distance"
    start = time.perf_counter()
    found = [[r[0] - 1 for r in db.execute(sql, (to_blob(q[i]), k))] for i in range(queries)]
    row["sqlite_vec_ms_per_query"] = round((time.perf_counter() - start) * 1000 / queries, 3)
    same = sum(set(a) == set(b.tolist()) for a, b in zip(found, batch_idx, strict=True))
    row["same_neighbours"] = f"{same}/{queries}"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args(argv)
    for size in (int(s) for s in args.sizes.split(",")):
        print(json.dumps(bench(size, args.dims, args.k, args.queries)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
