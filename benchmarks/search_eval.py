"""Retrieval quality through the real store and ``go-doc-go search``: full text, vectors, hybrid.

    python benchmarks/search_eval.py [--providers model2vec,onnx] [--backend sqlite|postgresql|pgvector]
                                     [--database-url URL] [--json FILE]

The retrieval set of ``benchmarks/embeddings_eval.py`` (the Markdown docs of
pymdown-extensions 10.14, 55 paraphrased queries with their expected document
and section), but end to end: each provider's run ingests the corpus into a
fresh store with ``ingest_documents`` (``embedding.enabled``, 2 processes),
then every query goes through ``go_doc_go.search.engine.run_search`` (the code
behind ``go-doc-go search``) in each mode, 100 results deep.

Backends: ``sqlite`` (a temporary file), ``postgresql`` (a new database on
``--database-url``, default the local server, without pgvector: numpy scan)
and ``pgvector`` (a PostgreSQL 16 + pgvector server started from the
``pgserver`` wheel: HNSW index).

Metrics over distinct documents in rank order: recall@5 and MRR of the
expected document; ``sec@5``: a top-5 result is the expected section (its
header path holds the section's header) or a whole-document unit of the
expected document. Also: ingest time, embedded units, query latency.
A benchmark: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from go_doc_go import ingest_documents
from go_doc_go.config import config_from_dict, vector_model
from go_doc_go.search.engine import run_search
from go_doc_go.storage import open_store

HERE = Path(__file__).resolve().parent / "retrieval"
CORPUS = HERE / "pymdown-extensions-10.14"
DEPTH = 100
MODES = ("full_text", "vector", "hybrid")


def load_queries() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (HERE / "queries.jsonl").read_text().splitlines() if line.strip()]


@contextmanager
def fresh_storage(backend: str, database_url: str) -> Iterator[dict[str, Any]]:
    """The ``storage`` section of a new, empty store on ``backend`` (removed afterwards)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield {"backend": "sqlite", "path": os.path.join(folder, "eval.db")}
        return
    import psycopg

    server = None
    if backend == "pgvector":
        folder = tempfile.mkdtemp(prefix="gdg-eval-pgvector-")
        os.environ.setdefault("XDG_RUNTIME_DIR", folder)  # platformdirs, imported by pgserver, wants one
        import pgserver

        server = pgserver.get_server(os.path.join(folder, "data"), cleanup_mode="delete")
        database_url = server.get_uri()
    name = f"gdg_eval_{secrets.token_hex(3)}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    uri = database_url.replace("/postgres?", f"/{name}?") if "?" in database_url else \
        database_url.rsplit("/", 1)[0] + f"/{name}"  # fmt: skip
    try:
        yield {"backend": "postgresql", "uri": uri}
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.cleanup()


def evaluate(provider: str, storage: dict[str, Any], queries: list[dict[str, Any]]) -> dict[str, Any]:
    config = config_from_dict({
        "storage": storage, "content_sources": [{"name": "pymdown", "base_path": str(CORPUS)}],
        "embedding": {"enabled": True, "provider": provider}, "processing": {"jobs": 2},
    })  # fmt: skip
    started = time.perf_counter()
    summary = ingest_documents(config)
    ingest_seconds = time.perf_counter() - started
    store = open_store(config, read_only=True)
    try:
        connection = store.db if storage["backend"] == "sqlite" else store.conn  # type: ignore[attr-defined]
        document_units = {row[0] for row in connection.execute("SELECT element_id FROM embeddings WHERE kind = 'document'")}
        row: dict[str, Any] = {"provider": provider, "model": vector_model(config.embedding),
                               "backend": storage["backend"], "vector_search": store.vector_search,
                               "documents": summary.processed, "units": summary.units_embedded,
                               "ingest_seconds": round(ingest_seconds, 1)}  # fmt: skip
        for mode in MODES:
            started = time.perf_counter()
            rankings = [run_search(store, config, q["query"], limit=DEPTH, mode=mode).results for q in queries]
            row[mode] = score(rankings, queries, document_units)
            row[mode]["ms_per_query"] = round((time.perf_counter() - started) / len(queries) * 1000, 1)
    finally:
        store.close()
    return row


def score(rankings: list[list[Any]], queries: list[dict[str, Any]], document_units: set[str]) -> dict[str, float]:
    recall = mrr = sec = 0.0
    for results, query in zip(rankings, queries, strict=True):
        docs: list[str] = []
        for result in results:
            if result.path not in docs:
                docs.append(result.path)
        if query["path"] in docs:
            rank = docs.index(query["path"]) + 1
            recall += rank <= 5
            mrr += 1 / rank
        section = query.get("section")
        if section and any(r.path == query["path"] and (section in r.header_path or r.element_id in document_units)
                           for r in results[:5]):  # fmt: skip
            sec += 1
    n = len(queries)
    with_section = sum(1 for q in queries if q.get("section")) or 1
    return {"recall@5": round(recall / n, 3), "mrr": round(mrr / n, 3), "sec@5": round(sec / with_section, 3)}


def _line(row: dict[str, Any]) -> str:
    head = (f"{row['provider']:<10} {row['backend']:<10} ({row['vector_search']}) units={row['units']} "
            f"ingest {row['ingest_seconds']} s")  # fmt: skip
    parts = [head] + [f"{m} R@5 {row[m]['recall@5']:.3f} MRR {row[m]['mrr']:.3f} sec@5 {row[m]['sec@5']:.3f} "
                      f"({row[m]['ms_per_query']} ms/q)" for m in MODES]  # fmt: skip
    return " | ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", default="model2vec,onnx")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "pgvector"), default="sqlite")
    parser.add_argument("--database-url", default=os.environ.get("GO_DOC_GO_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    queries = load_queries()
    results = []
    for provider in args.providers.split(","):
        with fresh_storage(args.backend, args.database_url) as storage:
            row = evaluate(provider, storage, queries)
        results.append(row)
        print(_line(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
