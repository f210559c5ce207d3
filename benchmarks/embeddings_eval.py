"""Retrieval quality of full text, vectors and hybrid search over real documentation.

    python benchmarks/embeddings_eval.py [--providers onnx,model2vec,sentence-transformers]
                                         [--granularity section,block,element] [--window N] [--json FILE]

Corpus: the Markdown docs of pymdown-extensions 10.14 (``benchmarks/retrieval/``,
MIT, vendored with its licence). Queries: ``benchmarks/retrieval/queries.jsonl``,
55 questions phrased as a user would, each with the expected document and section.

Each document is parsed by go-doc-go's Markdown parser and cut into retrieval
units (``go_doc_go.embeddings.units``). Three rankings of the units per query:

* ``fts``: BM25 of SQLite FTS5 (porter stemmer) over the same embedded texts, the
  query's words OR-ed (an AND of paraphrased words finds almost nothing);
  ``fts_unicode61`` is the same without the stemmer, as the store's ``elements_fts``;
* ``vector``: cosine similarity with the provider's vectors (exact numpy top-k);
* ``hybrid``: reciprocal rank fusion (k = 60) of the two top-100 lists
  (``hybrid_unicode61``: with the unstemmed full text).

Metrics, over distinct documents in rank order: recall@5 (the expected document
is among the first 5) and MRR (1/rank of the expected document, 0 past 100);
``sec@5`` is recall@5 of the expected section (a unit whose header path, or
whose text as a heading line, holds the section's header). A benchmark: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from go_doc_go.config import EmbeddingConfig
from go_doc_go.embeddings import get_provider
from go_doc_go.embeddings.search import rrf, top_k
from go_doc_go.embeddings.units import PATH_SEPARATOR, Unit, build_units
from go_doc_go.model import flatten
from go_doc_go.parsers import ParseInput, get_parser

HERE = Path(__file__).resolve().parent / "retrieval"
CORPUS = HERE / "pymdown-extensions-10.14"
DEPTH = 100


@dataclass(frozen=True)
class Query:
    id: int
    text: str
    path: str
    section: str | None


def load_queries() -> list[Query]:
    rows = [json.loads(line) for line in (HERE / "queries.jsonl").read_text().splitlines() if line.strip()]
    return [Query(r["id"], r["query"], r["path"], r.get("section")) for r in rows]


def load_units(granularity: str, window: int) -> list[Unit]:
    parse = get_parser("markdown")
    units: list[Unit] = []
    for file in sorted(CORPUS.rglob("*.md")):
        path = file.relative_to(CORPUS).as_posix()
        result = parse(ParseInput(file.read_bytes(), path))
        elements, _ = flatten(path, result.root)  # doc_id = path: the evaluation needs no hashing
        units.extend(build_units(elements, window_chars=window, title=result.title, granularity=granularity))
    return units


# ---------------------------------------------------------------- rankings


def fts_rankings(units: list[Unit], queries: list[Query], tokenize: str = "porter unicode61") -> list[list[int]]:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE u USING fts5(text, tokenize = '{tokenize}')")
    db.executemany("INSERT INTO u (rowid, text) VALUES (?, ?)", ((i, u.embed_text) for i, u in enumerate(units)))
    out = []
    for query in queries:
        words = re.findall(r"\w+", query.text.lower())
        match = " OR ".join(f'"{w}"' for w in words)
        rows = db.execute("SELECT rowid FROM u WHERE u MATCH ? ORDER BY bm25(u), rowid LIMIT ?", (match, DEPTH))
        out.append([r[0] for r in rows])
    return out


def vector_rankings(provider, units: list[Unit], queries: list[Query]) -> tuple[list[list[int]], float]:
    start = time.perf_counter()
    vectors = provider.embed([u.embed_text for u in units])
    seconds = time.perf_counter() - start
    q = provider.embed([query.text for query in queries])
    idx, _ = top_k(q, vectors, DEPTH)
    return [[int(i) for i in row if i >= 0] for row in idx], seconds


# ---------------------------------------------------------------- metrics


def covers_section(unit: Unit, section: str) -> bool:
    if section in unit.context.split(PATH_SEPARATOR):
        return True
    return any(line.strip() == section for line in unit.text.splitlines())


def score(rankings: list[list[int]], units: list[Unit], queries: list[Query]) -> dict[str, float]:
    recall = mrr = sec = 0.0
    for ranking, query in zip(rankings, queries, strict=True):
        docs: list[str] = []
        for i in ranking:
            if units[i].doc_id not in docs:
                docs.append(units[i].doc_id)
        if query.path in docs:
            rank = docs.index(query.path) + 1
            recall += rank <= 5
            mrr += 1 / rank
        if query.section and any(
            units[i].doc_id == query.path and covers_section(units[i], query.section) for i in ranking[:5]
        ):
            sec += 1
    n = len(queries)
    with_section = sum(1 for q in queries if q.section) or 1
    return {"recall@5": recall / n, "mrr": mrr / n, "sec@5": sec / with_section}


def evaluate(providers: list[str], granularities: list[str], window: int | None) -> list[dict]:
    queries = load_queries()
    results = []
    built = {name: get_provider(EmbeddingConfig(enabled=True, provider=name)) for name in providers}
    for granularity in granularities:
        for name, provider in built.items():
            size = window or provider.window_chars
            units = load_units(granularity, size)
            fts = fts_rankings(units, queries)
            plain = fts_rankings(units, queries, "unicode61")  # the store's elements_fts has no stemmer
            vec, seconds = vector_rankings(provider, units, queries)
            hybrid = [[key for key, _ in rrf([f, v], limit=DEPTH)] for f, v in zip(fts, vec, strict=True)]
            hybrid_plain = [[key for key, _ in rrf([f, v], limit=DEPTH)] for f, v in zip(plain, vec, strict=True)]
            row = {"provider": name, "model": provider.model, "granularity": granularity, "window": size,
                   "units": len(units), "embed_seconds": round(seconds, 2),
                   "fts": score(fts, units, queries), "fts_unicode61": score(plain, units, queries),
                   "vector": score(vec, units, queries),
                   "hybrid": score(hybrid, units, queries),
                   "hybrid_unicode61": score(hybrid_plain, units, queries)}  # fmt: skip
            results.append(row)
            print(_line(row), flush=True)
    return results


def _line(row: dict) -> str:
    parts = [f"{row['provider']:<22} {row['granularity']:<8} w={row['window']:<5} units={row['units']:<5}"]
    for kind in ("fts", "fts_unicode61", "vector", "hybrid", "hybrid_unicode61"):
        m = row[kind]
        parts.append(f"{kind} R@5 {m['recall@5']:.3f} MRR {m['mrr']:.3f} sec@5 {m['sec@5']:.3f}")
    return " | ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", default="onnx,model2vec")
    parser.add_argument("--granularity", default="section,block,element")
    parser.add_argument("--window", type=int, default=None, help="characters (default: the provider's window)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    results = evaluate(args.providers.split(","), args.granularity.split(","), args.window)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
