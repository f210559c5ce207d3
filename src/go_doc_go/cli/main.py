"""The ``go-doc-go`` console script: one click group, one module per command."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="go-doc-go")
def cli() -> None:
    """Turn collections of documents into a structured, searchable knowledge store."""


def _register() -> None:
    from go_doc_go.cli import bench, coordinator, db, deadletter, ingest, monitor, search, show, worker

    cli.add_command(ingest.ingest)
    cli.add_command(coordinator.coordinator)
    cli.add_command(worker.worker)
    cli.add_command(show.show)
    cli.add_command(search.search)
    cli.add_command(db.db)
    cli.add_command(bench.bench)
    cli.add_command(monitor.monitor)
    cli.add_command(deadletter.deadletter)


def main() -> None:
    _register()
    cli()


if __name__ == "__main__":
    main()
