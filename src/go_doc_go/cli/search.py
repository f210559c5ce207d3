"""``go-doc-go search``: hybrid search over a store, printed as text or JSON."""

from __future__ import annotations

import json
import sys

import click

from go_doc_go.cli.errors import EXIT_USAGE, clean_errors
from go_doc_go.cli.show import open_read_store
from go_doc_go.search import MODES, SearchResponse, SearchResult
from go_doc_go.search.engine import run_search


@click.command()
@click.argument("query")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="YAML config file: search the store it names (SQLite or PostgreSQL) with its embedding model.")
@click.option("--db", type=click.Path(dir_okay=False), help="SQLite store to search [default: ./go_doc_go.db].")
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=10, show_default=True, help="Results to show.")
@click.option("--source", help="Only documents of this content source.")
@click.option("--type", "element_type", help="Only elements of this type (table, code_block, header...).")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True,
              help="hybrid (full text + vectors), full_text or vector.")
@click.option("--related", is_flag=True, help="Add each result's semantic neighbours and links.")
@click.option("--json", "as_json", is_flag=True, help='Print {"results": [...]} as JSON.')
@clean_errors
def search(query: str, config_file: str | None, db: str | None, limit: int, source: str | None,
           element_type: str | None, mode: str, related: bool, as_json: bool) -> None:  # fmt: skip
    """Search the store for QUERY: full text and vectors fused (full text alone without embeddings)."""
    config, store, _ = open_read_store(config_file, db)
    try:
        try:
            response = run_search(store, config, query, limit=limit, source=source, element_type=element_type,
                                  related=related, mode=mode)  # type: ignore[arg-type]  # fmt: skip
        except ValueError as error:
            click.echo(f"error: {error}", err=True)
            raise SystemExit(EXIT_USAGE) from None
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(response.to_dict(), ensure_ascii=False, indent=2))
        return
    _print(response, color=sys.stdout.isatty())


def _print(response: SearchResponse, *, color: bool) -> None:
    for note in response.notes:
        click.echo(f"note: {note}", err=True)
    if not response.results:
        click.echo(f"no results for {response.query!r}")
        return
    for result in response.results:
        click.echo(_heading(result, color))
        click.echo("    " + _marked(result, color))
        for item in result.related or []:
            target = f"{item.path}" + (f" › {' › '.join(item.header_path)}" if item.header_path else "")
            score = f" {item.score:.3f}" if item.score is not None else ""
            click.echo(f"      {item.relationship_type}{score} → {target or item.reference or item.element_id}")
    click.echo(f"({len(response.results)} results, {response.mode}"
               + (f", {response.model}" if response.model else "") + ")")  # fmt: skip


def _heading(result: SearchResult, color: bool) -> str:
    where = f"{result.source}:{result.path}"
    trail = " › ".join(result.header_path) or (result.title or "")
    line = f"{result.rank:>2}. {where}" + (f" › {trail}" if trail else "")
    extra = f"  [{result.element_type} {result.element_id[:12]} score {result.score:.4f}]"
    return (click.style(line, bold=True) if color else line) + (click.style(extra, dim=True) if color else extra)


def _marked(result: SearchResult, color: bool) -> str:
    if not color:
        return result.snippet
    text, out, last = result.snippet, [], 0
    for start, end in result.highlights:
        out.append(text[last:start])
        out.append(click.style(text[start:end], bold=True, fg="yellow"))
        last = end
    out.append(text[last:])
    return "".join(out)
