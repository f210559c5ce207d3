"""Embedding speed on this CPU: units/s per provider, in 1 and 2 processes, and what it means for ingest.

    python benchmarks/embeddings_bench.py [--providers onnx,model2vec,sentence-transformers]
                                          [--docs 40] [--processes 1,2] [--json FILE]

The texts are the retrieval units (section granularity, the provider's window)
of the ingest benchmark's ~5 KB Markdown documents (``benchmarks/ingest_bench.py``),
so ``units/doc × docs/s`` is the embedding cost an ingest with embeddings on
would pay. Each process runs its provider with one thread (as a parser child
of ``go_doc_go.pool`` would); ``--threads`` changes that. Reported: wall
units/s, units per CPU-second of the workers (steadier on a shared machine),
units per document, the ingest rate embeddings alone would allow (docs/s), and
the load time. A benchmark: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_bench import markdown_doc  # noqa: E402

from go_doc_go.config import EmbeddingConfig  # noqa: E402
from go_doc_go.embeddings import get_provider  # noqa: E402
from go_doc_go.embeddings.units import build_units  # noqa: E402
from go_doc_go.model import flatten  # noqa: E402
from go_doc_go.parsers import ParseInput, get_parser  # noqa: E402


def make_provider(name: str, threads: int):
    config = EmbeddingConfig(enabled=True, provider=name)
    provider = get_provider(config)
    if threads and hasattr(provider, "session"):  # onnx: rebuild with a thread limit
        from go_doc_go.embeddings.onnx import OnnxProvider

        provider = OnnxProvider(provider.model, threads=threads)
    elif threads and name == "sentence-transformers":
        import torch

        torch.set_num_threads(threads)
    return provider


def corpus_units(docs: int, window: int) -> tuple[list[str], float]:
    rng = random.Random(7)
    parse = get_parser("markdown")
    texts: list[str] = []
    for index in range(docs):
        data = markdown_doc(rng, index, docs).encode()
        result = parse(ParseInput(data, f"doc{index}.md"))
        elements, _ = flatten(f"d{index}", result.root)
        texts.extend(u.embed_text for u in build_units(elements, window_chars=window, title=result.title))
    return texts, len(texts) / docs


def _worker(name: str, threads: int, texts: list[str], start_at: float, queue) -> None:
    provider = make_provider(name, threads)
    provider.embed(texts[:4])  # warm up outside the timing
    while time.time() < start_at:
        time.sleep(0.01)
    cpu = time.process_time()
    wall = time.perf_counter()
    provider.embed(texts)
    queue.put((time.perf_counter() - wall, time.process_time() - cpu, len(texts)))


def measure(name: str, texts: list[str], processes: int, threads: int) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    share = [texts[i::processes] for i in range(processes)]
    start_at = time.time() + 15 + 5 * processes  # every worker loaded before anyone starts
    workers = [ctx.Process(target=_worker, args=(name, threads, part, start_at, queue)) for part in share]
    for w in workers:
        w.start()
    results = [queue.get(timeout=1800) for _ in workers]
    for w in workers:
        w.join()
    wall = max(r[0] for r in results)
    cpu = sum(r[1] for r in results)
    count = sum(r[2] for r in results)
    return {"units_per_s": count / wall, "units_per_cpu_s": count / cpu, "seconds": wall}


def run(names: list[str], docs: int, processes: list[int], threads: int) -> list[dict]:
    rows = []
    for name in names:
        start = time.perf_counter()
        provider = make_provider(name, threads)
        load = time.perf_counter() - start
        texts, per_doc = corpus_units(docs, provider.window_chars)
        del provider
        for count in processes:
            m = measure(name, texts, count, threads)
            row = {"provider": name, "processes": count, "threads": threads, "units": len(texts),
                   "units_per_doc": round(per_doc, 2), "load_seconds": round(load, 2),
                   "units_per_s": round(m["units_per_s"], 1), "units_per_cpu_s": round(m["units_per_cpu_s"], 1),
                   "docs_per_s_embedding_only": round(m["units_per_s"] / per_doc, 2)}  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", default="onnx,model2vec")
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows = run(args.providers.split(","), args.docs, [int(p) for p in args.processes.split(",")], args.threads)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
