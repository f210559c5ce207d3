"""Ingest benchmark: generate N realistic ~5 KB documents, ingest them, print docs/s and MB/s.

    python benchmarks/ingest_bench.py --docs 5000 [--format markdown|html|mixed] [--jobs 1 --jobs 0]
                                      [--pipeline-only] [--json]

Each configuration ingests into a fresh SQLite store. ``--jobs 0`` means one
process per core. A benchmark, not a test: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

from go_doc_go import ingest_documents
from go_doc_go.config import config_from_dict, effective_jobs

WORDS = (
    "tide gauge station harbor predictor feed reading level datum constituent amplitude phase "
    "interval quarantine restart service maintainer window hour metre offset sample noise "
    "signal model harmonic lunar solar cycle surge forecast archive record"
).split()


def sentence(rng: random.Random, n: int = 12) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def markdown_doc(rng: random.Random, index: int, count: int) -> str:
    parts = [f"# Document {index}: {sentence(rng, 4)[:-1]}\n"]
    for section in range(4):
        parts.append(f"## Section {section} {rng.choice(WORDS)}\n")
        parts.append(" ".join(sentence(rng) for _ in range(5)) + "\n")
        other = rng.randrange(count)
        parts.append(
            f"See [document {other}](doc{other:06d}.md#section-1-{rng.choice(WORDS)}) and "
            f"[the archive](https://example.invalid/{index}/{section}).\n"
        )
        parts.append("".join(f"- {sentence(rng, 8)}\n" for _ in range(4)))
        parts.append("### Details\n")
        parts.append("| key | value | note |\n|---|---|---|\n")
        parts.append("".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {sentence(rng, 4)} |\n" for _ in range(3)))
        parts.append(f"\n```python\ndef f{section}(x):\n    return x * {rng.randint(2, 9)}\n```\n")
        parts.append("> " + sentence(rng, 16) + "\n")
    return "\n".join(parts)


def html_doc(rng: random.Random, index: int, count: int) -> str:
    body = [f"<h1>Document {index}</h1>"]
    for section in range(4):
        other = rng.randrange(count)
        body.append(f"<h2 id='s{section}'>Section {section}</h2>")
        body.append("<p>" + " ".join(sentence(rng) for _ in range(4)) + "</p>")
        body.append(f"<p>See <a href='doc{other:06d}.html#s1'>document {other}</a>.</p>")
        body.append("<ul>" + "".join(f"<li>{sentence(rng, 8)}</li>" for _ in range(4)) + "</ul>")
        body.append(
            "<table><tr><th>key</th><th>value</th></tr>"
            + "".join(f"<tr><td>{rng.choice(WORDS)}</td><td>{rng.randint(1, 999)}</td></tr>" for _ in range(4))
            + "</table>"
        )
        body.append(f"<pre><code class='language-python'>def f(x):\n    return x * {section}</code></pre>")
        body.append(f"<blockquote>{sentence(rng, 16)}</blockquote>")
    return f"<!DOCTYPE html><html><head><title>Doc {index}</title></head><body>{''.join(body)}</body></html>"


def generate(folder: Path, count: int, kind: str, seed: int = 7) -> int:
    rng = random.Random(seed)
    total = 0
    for index in range(count):
        as_html = kind == "html" or (kind == "mixed" and index % 2)
        text = html_doc(rng, index, count) if as_html else markdown_doc(rng, index, count)
        name = f"doc{index:06d}.{'html' if as_html else 'md'}"
        (folder / name).write_text(text, encoding="utf-8")
        total += len(text.encode())
    return total


def measure(folder: Path, jobs: int) -> dict:
    with tempfile.TemporaryDirectory() as store:
        config = config_from_dict(
            {
                "storage": {"path": os.path.join(store, "bench.db")},
                "content_sources": [{"name": "bench", "base_path": str(folder)}],
                "processing": {"jobs": jobs},
            }
        )
        summary = ingest_documents(config)
        if summary.failed:
            raise SystemExit(f"benchmark documents failed: {summary.failures[:3]}")
        return {
            "jobs": effective_jobs(config),
            "docs": summary.processed,
            "seconds": round(summary.seconds, 3),
            "docs_per_s": round(summary.processed / summary.seconds, 1),
            "mb_per_s": round(summary.bytes_processed / summary.seconds / 1e6, 2),
        }


def _pipeline_chunk(args: tuple[dict, list[str]]) -> int:
    """Fetch, parse, relate and encode documents without storing them."""
    from go_doc_go.config import Config
    from go_doc_go.pipeline import process_document
    from go_doc_go.sources import open_source
    from go_doc_go.storage.rows import encode_document

    config_data, paths = args
    config = Config.model_validate(config_data)
    source = open_source(config.content_sources[0])
    for path in paths:
        encode_document(process_document(source, source.ref_for(path), config))
    return len(paths)


def measure_pipeline_only(folder: Path, jobs: int) -> dict:
    """The parsing side alone, on all cores: the ceiling if storing cost nothing."""
    import time
    from concurrent.futures import ProcessPoolExecutor

    config = config_from_dict({"content_sources": [{"name": "bench", "base_path": str(folder)}],
                               "processing": {"jobs": jobs}})
    paths = sorted(p.name for p in folder.iterdir())
    chunks = [(config.model_dump(), paths[i : i + 64]) for i in range(0, len(paths), 64)]
    workers = effective_jobs(config)
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        done = sum(pool.map(_pipeline_chunk, chunks))
    seconds = time.perf_counter() - started
    return {"jobs": workers, "docs": done, "seconds": round(seconds, 3), "docs_per_s": round(done / seconds, 1),
            "mb_per_s": None, "pipeline_only": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--format", choices=("markdown", "html", "mixed"), default="markdown")
    parser.add_argument("--jobs", type=int, action="append", help="repeatable; default: 1 and 0 (all cores)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pipeline-only", action="store_true",
                        help="also measure fetch+parse+relate+encode on all cores without the store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir)
        size = generate(folder, args.docs, args.format)
        results = [measure(folder, jobs) for jobs in (args.jobs or [1, 0])]
        if args.pipeline_only:
            results.append(measure_pipeline_only(folder, 0))
    report = {"format": args.format, "avg_doc_bytes": size // max(args.docs, 1), "runs": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.docs} {args.format} documents, {report['avg_doc_bytes']} bytes on average, cores: {os.cpu_count()}")
    for run in results:
        if run.get("pipeline_only"):
            print(f"  jobs={run['jobs']}: {run['docs_per_s']:>8,.0f} docs/s  without the store (parsing side only)")
            continue
        print(f"  jobs={run['jobs']}: {run['docs_per_s']:>8,.0f} docs/s  {run['mb_per_s']:>6.2f} MB/s  ({run['seconds']} s)")


if __name__ == "__main__":
    sys.exit(main())
