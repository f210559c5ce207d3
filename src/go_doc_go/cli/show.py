"""``go-doc-go show``: print the stored element tree of one document."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.tree import Tree

from go_doc_go.cli.errors import EXIT_FAILED, EXIT_USAGE, clean_errors
from go_doc_go.storage import SQLiteStore

PREVIEW = 80


def _label(element: dict) -> str:
    kind = element["element_type"]
    meta = element["metadata"]
    extra = ""
    if kind == "header":
        extra = f" h{meta.get('level', '?')}"
    elif kind == "code_block" and meta.get("language"):
        extra = f" {meta['language']}"
    location = element["location"]
    where = ""
    if "xpath" in location:
        where = f" [dim]{location['xpath']}[/]"
    elif "json_pointer" in location:
        where = f" [dim]{location['json_pointer'] or '/'}[/]"
    elif "row" in location:
        where = f" [dim]row {location['row']}[/]"
    elif "line_start" in location:
        where = f" [dim]L{location['line_start']}-{location.get('line_end', location['line_start'])}[/]"
    text = " ".join(element["text"].split())
    if len(text) > PREVIEW:
        text = text[: PREVIEW - 1] + "…"
    text = text.replace("[", "\\[")
    return f"[bold cyan]{kind}[/]{extra}{where} [dim]{element['element_id'][:12]}[/] {text}"


@click.command()
@click.argument("document")
@click.option("--db", type=click.Path(dir_okay=False), default="./go_doc_go.db", show_default=True,
              help="SQLite store to read.")
@click.option("--json", "as_json", is_flag=True, help="Print the elements as JSON lines.")
@clean_errors
def show(document: str, db: str, as_json: bool) -> None:
    """Print the stored element tree of DOCUMENT (a doc_id, a path, or SOURCE:PATH)."""
    if not Path(db).is_file():
        click.echo(f"error: no store at {db} (run go-doc-go ingest first, or pass --db)", err=True)
        raise SystemExit(EXIT_USAGE)
    store = SQLiteStore(db)
    try:
        matches = store.find_document(document)
        if not matches:
            click.echo(f"error: no document {document!r} in {db}", err=True)
            raise SystemExit(EXIT_FAILED)
        if len(matches) > 1:
            click.echo(f"error: {document!r} matches several documents; use SOURCE:PATH or the doc_id", err=True)
            raise SystemExit(EXIT_USAGE)
        doc = matches[0]
        elements = list(store.elements_of(doc.doc_id))
    finally:
        store.close()
    if as_json:
        for element in elements:
            click.echo(json.dumps(element, ensure_ascii=False))
        return
    title = f"[bold]{doc.source}:{doc.path}[/] ({doc.doc_type}, {doc.element_count} elements) doc_id {doc.doc_id}"
    nodes: dict[str, Tree] = {}
    tree = Tree(title)
    for element in elements:
        parent = nodes.get(element["parent_id"] or "", tree)
        nodes[element["element_id"]] = parent.add(_label(element))
    Console().print(tree)
