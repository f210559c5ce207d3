"""``go-doc-go ingest``: the single-mode run, with progress and a summary."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from go_doc_go.cli.errors import EXIT_FAILED, clean_errors
from go_doc_go.cli.output import console
from go_doc_go.config import Config, ContentSourceConfig, config_from_dict, load_config, redact_uri
from go_doc_go.exceptions import ConfigError, StorageError
from go_doc_go.ingest import IngestSummary, ingest_documents
from go_doc_go.ingest import Progress as IngestProgress
from go_doc_go.sources.naming import source_name_for
from go_doc_go.storage import open_store


def sources_from_paths(
    paths: tuple[str, ...], known: dict[str, str] | None = None, name: str | None = None
) -> list[ContentSourceConfig]:
    """One file source per PATH, named after its folder.

    ``known`` maps source names to the folders they stand for in the store; a
    folder whose name is taken by another folder gets ``NAME-2`` (see
    ``sources.naming``). ``name`` (``--name``) names a single PATH explicitly.
    """
    if name is not None and len(paths) != 1:
        raise ConfigError("--name: give exactly one PATH when naming its source")
    known = known or {}
    sources: list[ContentSourceConfig] = []
    used: set[str] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise ConfigError(f"PATH {raw}: no such file or folder")
        resolved = path.resolve()
        base, include = (resolved, ["**/*"]) if resolved.is_dir() else (resolved.parent, [resolved.name])
        chosen = name or source_name_for(base.name, str(base), known, used)
        used.add(chosen)
        sources.append(ContentSourceConfig(name=chosen, base_path=str(base), include=include))
    return sources


def build_config(
    paths: tuple[str, ...], config_file: str | None, db: str | None, jobs: int | None, name: str | None = None
) -> Config:
    config = load_config(config_file) if config_file else config_from_dict({})
    if db:
        config.storage.backend = "sqlite"
        config.storage.path = db
    if paths:
        config.content_sources = sources_from_paths(paths, known_source_locations(config), name)
    elif name is not None:
        raise ConfigError("--name: only applies to a PATH argument")
    if jobs is not None:
        config.processing.jobs = jobs
    return config


def known_source_locations(config: Config) -> dict[str, str]:
    """Which folder each source name stands for in the configured store (empty if there is none yet).

    A store that cannot be opened here is left for the run itself to report.
    """
    if config.storage.backend == "sqlite" and not Path(config.storage.path).is_file():
        return {}
    try:
        store = open_store(config, read_only=True)
    except (StorageError, ConfigError):
        return {}
    try:
        return store.source_locations()
    except (StorageError, sqlite3.Error):  # a store written before sources were recorded
        return {}
    finally:
        store.close()


def store_label(config: Config) -> str:
    """Where the store is, for messages: the SQLite file, or the database URI without its password."""
    storage = config.storage
    return storage.path if storage.backend == "sqlite" else redact_uri(storage.uri or "")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML config file.")
@click.option("--db", type=click.Path(dir_okay=False), help="SQLite file to store into [default: ./go_doc_go.db].")
@click.option("--jobs", type=click.IntRange(min=0), help="Worker processes; 0 = one per core.")
@click.option("--name", help="Source name for a single PATH [default: its folder name, made unique].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@clean_errors
def ingest(
    paths: tuple[str, ...], config_file: str | None, db: str | None, jobs: int | None, name: str | None,
    as_json: bool,
) -> None:
    """Ingest documents from PATHs (or the config's content_sources) into the store.

    Unchanged documents are skipped, changed ones re-processed, vanished ones
    removed. A PATH becomes a source named after its folder; when the store
    already has that name for another folder, the new one is named NAME-2
    (use --name to choose). Exits 0 when every document succeeded, 1 when any
    failed, 2 for a usage or config error.
    """
    config = build_config(paths, config_file, db, jobs, name)
    show_progress = not as_json and sys.stderr.isatty()
    if show_progress:
        summary = _ingest_with_progress(config)
    else:
        summary = ingest_documents(config)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2, default=str))
    else:
        print_summary(summary, config, console())
    if not summary.ok:
        sys.exit(EXIT_FAILED)


def _ingest_with_progress(config: Config) -> IngestSummary:
    columns = (
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]} docs/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task("ingest", total=None, rate="-")

        def on_progress(event: IngestProgress) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{event.done / elapsed:,.0f}" if elapsed > 0 else "-"
            total = event.total if event.total_known else None
            bar.update(task, completed=event.done, total=total, rate=rate)

        return ingest_documents(config, on_progress=on_progress)


def print_summary(summary: IngestSummary, config: Config, console: Console) -> None:
    rate = summary.processed / summary.seconds if summary.seconds else 0.0
    console.print(
        f"[bold]{summary.processed}[/] processed, [bold]{summary.unchanged}[/] unchanged, "
        f"[bold]{summary.removed}[/] removed, "
        f"[bold {'red' if summary.failed else 'green'}]{summary.failed}[/] failed, "
        f"{summary.skipped} skipped "
        f"in {summary.seconds:.2f} s ({rate:,.0f} docs/s, {summary.jobs} jobs) "
        f"→ {store_label(config)}"
    )
    if summary.links_resolved or summary.links_unresolved:
        console.print(
            f"links between documents: {summary.links_resolved} resolved, "
            f"{summary.links_unresolved} to documents not stored, "
            f"{summary.anchors_missing} resolved to a document without its #anchor"
        )
    if config.embedding.enabled:
        console.print(
            f"embeddings: {summary.units_embedded} units embedded, {summary.units_reused} reused; "
            f"semantic edges: {summary.semantic_edges_changed} written or removed"
        )
    for note in summary.notes:
        console.print(f"note: {note}")
    if summary.failures:
        table = Table(title="Failed documents", title_justify="left")
        for column in ("document", "stage", "cause"):
            table.add_column(column, overflow="fold")
        for failure in summary.failures:
            table.add_row(escape(f"{failure.source}:{failure.path}"), failure.stage, escape(failure.cause))
        console.print(table)
    if summary.skipped_paths:
        table = Table(title="Skipped paths", title_justify="left")
        table.add_column("path", overflow="fold")
        table.add_column("reason")
        for skipped in summary.skipped_paths[:20]:
            table.add_row(escape(f"{skipped.source}:{skipped.path}"), escape(skipped.reason))
        if summary.skipped > 20:
            table.add_row(f"… and {summary.skipped - 20} more", "")
        console.print(table)
