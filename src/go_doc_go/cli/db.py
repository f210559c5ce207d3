"""``go-doc-go db``: database maintenance for the PostgreSQL work queue."""

from __future__ import annotations

import click
import psycopg

from go_doc_go.cli.errors import clean_errors, database_errors
from go_doc_go.exceptions import ConfigError


def resolve_url(database_url: str | None, config_file: str | None) -> str:
    """--database-url, else storage.uri of --config, else GO_DOC_GO_DATABASE_URL / the local default."""
    from go_doc_go.queue.connection import default_url

    if database_url:
        return database_url
    if config_file:
        from go_doc_go.config import load_config

        config = load_config(config_file)
        if not config.storage.uri:
            raise ConfigError(f"{config_file}: storage.uri is not set (the PostgreSQL database to migrate)")
        return config.storage.uri
    return default_url()


@click.group()
def db() -> None:
    """Manage the PostgreSQL work queue schema."""


@db.command()
@click.option("--database-url", help="PostgreSQL URL (default: $GO_DOC_GO_DATABASE_URL or local postgres).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Read storage.uri from this config.")
@clean_errors
def upgrade(database_url: str | None, config_file: str | None) -> None:
    """Apply every pending queue migration (idempotent, safe to run concurrently)."""
    from go_doc_go.queue import migrations

    url = resolve_url(database_url, config_file)
    with database_errors(url), psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        applied = migrations.apply(conn)
        present = migrations.applied_versions(conn)
    if applied:
        click.echo(f"applied migrations: {', '.join(f'{v:04d}' for v in applied)}")
    else:
        click.echo("schema up to date")
    click.echo(f"schema versions: {', '.join(f'{v:04d}' for v in present)}")
