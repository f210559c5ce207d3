"""``go-doc-go bench``: throughput benchmarks (commands, not timed tests)."""

from __future__ import annotations

import json
import signal
import sys

import click

from go_doc_go.cli.errors import EXIT_FAILED, clean_errors, database_errors


@click.group()
def bench() -> None:
    """Measure throughput on this machine."""


@bench.command("queue")
@click.option("--docs", type=click.IntRange(min=1), default=100_000, show_default=True, help="Documents to drain.")
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True, help="Worker processes.")
@click.option("--batch-size", type=click.IntRange(min=1), default=200, show_default=True, help="Documents per claim.")
@click.option("--database-url", help="PostgreSQL URL (default: $GO_DOC_GO_DATABASE_URL or local postgres).")
@click.option("--backlog", type=click.IntRange(min=0), default=0, show_default=True,
              help="Extra queued rows (in another scratch run) to measure claim latency against a deep queue.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@clean_errors
def queue(docs: int, workers: int, batch_size: int, database_url: str | None, backlog: int, as_json: bool) -> None:
    """Enqueue DOCS documents, drain them with WORKERS processes (no-op work, durable commits),
    report docs/s and claim latency, and verify every row was completed exactly once."""
    from go_doc_go.queue.bench import run_queue_bench
    from go_doc_go.queue.connection import default_url

    url = database_url or default_url()
    # SIGTERM ends the benchmark through its cleanup (scratch runs are deleted).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    log = (lambda _m: None) if as_json else (lambda m: click.echo(m, err=True))
    with database_errors(url):
        result = run_queue_bench(url, docs=docs, workers=workers, batch_size=batch_size, backlog=backlog, log=log)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
    else:
        click.echo(
            f"{result.docs:,} docs, {result.workers} workers, batch {result.batch_size}, "
            f"backlog {result.backlog:,}: {result.seconds:.2f} s, {result.docs_per_s:,.0f} docs/s"
        )
        click.echo(f"claim latency: p50 {result.claim_p50_ms:.2f} ms, p99 {result.claim_p99_ms:.2f} ms "
                   f"over {result.claims:,} claims")
        click.echo("verified: every document completed exactly once" if result.verified else "VERIFICATION FAILED")
    if not result.verified:
        for problem in result.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(EXIT_FAILED)
