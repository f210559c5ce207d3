"""Ingest benchmark: generate N realistic ~5 KB documents, ingest them, print docs/s and MB/s.

    python benchmarks/ingest_bench.py --docs 5000 [--format markdown|html|mixed] [--jobs 1 --jobs 0]
                                      [--backend sqlite|postgresql] [--database-url URL]
                                      [--mode single|distributed] [--embeddings off|model2vec|onnx ...]
                                      [--pipeline-only] [--json]

``--mode distributed`` runs ``processing.mode: distributed`` through
``ingest_documents`` (discovery, ``--jobs`` local worker processes, last-man-
standing post-processing: the whole pass, coordinator included) into a fresh
PostgreSQL database holding both the store and the work queue.

Each configuration ingests into a fresh store: a SQLite file in a temporary
folder, or (``--backend postgresql``) a new database on the server of
``--database-url`` (default ``$GO_DOC_GO_DATABASE_URL`` or the local server),
dropped afterwards. ``--jobs 0`` means one process per core. Besides the rate
it reports the bytes stored per source byte (SQLite: the file after its WAL
checkpoint; PostgreSQL: ``pg_total_relation_size`` of the store's tables) and
each engine's durability settings. ``--embeddings PROVIDER`` (repeatable; default
``off``) ingests with ``embedding.enabled`` and that provider, semantic edges
included (their post-processing is part of the time), and reports the units
embedded. A benchmark, not a test: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import secrets
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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


#: The store's tables on PostgreSQL (what "bytes stored" counts; a shared database may hold others).
PG_STORE_TABLES = ("documents", "elements", "element_anchors", "stored_relationships", "pending_links", "sources",
                   "store_settings", "embeddings", "store_migrations")  # fmt: skip


@contextmanager
def fresh_store(backend: str, database_url: str) -> Iterator[tuple[dict[str, Any], Any]]:
    """A new, empty store: the ``storage`` config section and a function that measures it afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "bench.db")
            yield {"backend": "sqlite", "path": path}, lambda: _sqlite_measures(path)
        return
    import psycopg

    name = f"gdg_bench_{os.getpid()}_{secrets.token_hex(3)}"
    url = urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"backend": "postgresql", "uri": url}, lambda: _postgresql_measures(url)
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite_measures(path: str) -> dict[str, Any]:
    with sqlite3.connect(path) as db:  # the store checkpointed (TRUNCATE) when it closed
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = Path(path + "-wal")
    size = os.path.getsize(path) + (wal.stat().st_size if wal.exists() else 0)
    # The store's own settings (storage/sqlite.py): what a commit survives.
    return {"bytes_stored": size, "durability": "journal_mode=WAL, synchronous=NORMAL"}


def _postgresql_measures(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        size = conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relkind = 'r' AND c.relname = ANY(%s) "
            "AND pg_table_is_visible(c.oid)", (list(PG_STORE_TABLES),)).fetchone()[0]  # fmt: skip
        fsync, full_page_writes = (conn.execute(f"SHOW {name}").fetchone()[0] for name in ("fsync", "full_page_writes"))
    # synchronous_commit=on is set by the store for its own sessions (storage/postgresql.py).
    durability = f"synchronous_commit=on, fsync={fsync}, full_page_writes={full_page_writes}"
    return {"bytes_stored": int(size), "durability": durability}


class BackendCpu:
    """CPU seconds used by the PostgreSQL backends of one database, read from /proc (local server only).

    Backends exit when the store closes, so a thread samples them while the run goes on.
    """

    def __init__(self, database: str) -> None:
        self.marker, self.seen, self.stop = f" {database} ", {}, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self.stop.wait(0.1):
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    if self.marker in Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " "):
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                        self.seen[pid] = (int(fields[11]) + int(fields[12])) / tick
                except OSError:
                    continue

    def total(self) -> float | None:
        self.stop.set()
        self.thread.join()
        return sum(self.seen.values()) if self.seen else None


def cpu_seconds() -> tuple[float, float]:
    """(this process, its finished children) user+system CPU seconds."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def measure(folder: Path, jobs: int, backend: str = "sqlite", database_url: str = "", mode: str = "single",
            embeddings: str = "off") -> dict:  # fmt: skip
    if mode == "distributed":
        backend = "postgresql"
    with fresh_store(backend, database_url) as (storage, measures):
        embedding = {"enabled": False} if embeddings == "off" else {"enabled": True, "provider": embeddings}
        config = config_from_dict(
            {
                "storage": storage,
                "content_sources": [{"name": "bench", "base_path": str(folder)}],
                "processing": {"jobs": jobs, "mode": mode},
                "embedding": embedding,
            }
        )
        server = BackendCpu(urlsplit(storage["uri"]).path.lstrip("/")) if backend == "postgresql" else None
        own_before, children_before = cpu_seconds()
        summary = ingest_documents(config)
        own_after, children_after = cpu_seconds()
        server_seconds = server.total() if server else None
        if summary.failed:
            raise SystemExit(f"benchmark documents failed: {summary.failures[:3]}")
        stored = measures()
        per_doc = 1000 / max(summary.processed, 1)
        return {
            "backend": backend,
            "mode": mode,
            "embeddings": embeddings,
            "units_embedded": summary.units_embedded,
            "semantic_edges": summary.semantic_edges_changed,
            "jobs": effective_jobs(config),
            "docs": summary.processed,
            "seconds": round(summary.seconds, 3),
            "docs_per_s": round(summary.processed / summary.seconds, 1),
            "mb_per_s": round(summary.bytes_processed / summary.seconds / 1e6, 2),
            "bytes_per_source_byte": round(stored["bytes_stored"] / summary.bytes_processed, 2),
            "durability": stored["durability"],
            # CPU milliseconds per document: this process (driver + writer thread; the parsing too
            # with jobs=1), the worker processes, and the database backends (PostgreSQL, local).
            "cpu_ms_per_doc": {
                "main": round((own_after - own_before) * per_doc, 2),
                "workers": round((children_after - children_before) * per_doc, 2),
                "database": round(server_seconds * per_doc, 2) if server_seconds is not None else None,
            },
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
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append",
                        help="repeatable; default: sqlite")
    parser.add_argument("--database-url", default=os.environ.get("GO_DOC_GO_DATABASE_URL")
                        or "postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL server for --backend postgresql (a fresh database is made on it)")
    parser.add_argument("--mode", choices=("single", "distributed"), action="append",
                        help="repeatable; default: single (distributed stores into PostgreSQL)")
    parser.add_argument("--embeddings", choices=("off", "model2vec", "onnx"), action="append",
                        help="repeatable; default: off")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pipeline-only", action="store_true",
                        help="also measure fetch+parse+relate+encode on all cores without the store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir)
        size = generate(folder, args.docs, args.format)
        results = [
            measure(folder, jobs, backend, args.database_url, mode, embeddings)
            for jobs in (args.jobs or [1, 0])
            for mode in (args.mode or ["single"])
            for backend in (args.backend or ["sqlite"] if mode == "single" else ["postgresql"])
            for embeddings in (args.embeddings or ["off"])
        ]
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
        vectors = f" embeddings={run['embeddings']} ({run['units_embedded']} units, {run['semantic_edges']} edges)"
        print(f"  {run['mode']:<11} {run['backend']:<10} jobs={run['jobs']}{vectors}: {run['docs_per_s']:>8,.0f} docs/s  {run['mb_per_s']:>6.2f} MB/s  "
              f"({run['seconds']} s)  {run['bytes_per_source_byte']:.2f} bytes stored per source byte  "
              f"[{run['durability']}]  CPU ms/doc {run['cpu_ms_per_doc']}")


if __name__ == "__main__":
    sys.exit(main())
