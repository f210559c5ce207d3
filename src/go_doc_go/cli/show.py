"""``go-doc-go show``: print the stored element tree of one document, or one element's neighbourhood.

The store (``--db`` FILE, or the one ``--config`` names, SQLite or PostgreSQL)
is opened read-only, and the tree is printed as the rows arrive
(document order), one line per element, so a 100,000-element document starts
printing at once and ``| head`` stops the read. ``--depth`` and ``--limit``
cut it down.

``--neighbourhood`` takes an element id (or a unique prefix of one, as the
tree prints 12 characters) and prints what surrounds it: header path, parent,
siblings, children, links out (from anything inside it) and in, and its
semantic neighbours both ways (``search.neighbourhood``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from go_doc_go.cli.errors import EXIT_FAILED, EXIT_USAGE, clean_errors
from go_doc_go.cli.ingest import store_label
from go_doc_go.config import Config, config_from_dict, load_config
from go_doc_go.model import normalize_path
from go_doc_go.storage import FoundElement, Store, StoredDocument, open_store

if TYPE_CHECKING:
    from go_doc_go.search import Related

DEFAULT_DB = "./go_doc_go.db"

PREVIEW = 80


def preview(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
#: Attributes worth showing on an XML element's line, in this order.
KEY_ATTRIBUTES = ("id", "name", "key", "type", "href", "src", "ref", "class", "lang")


def document_key(argument: str) -> str:
    """Accept ``./a/b.md`` and ``SOURCE:./a/b.md`` as well as the stored forms."""
    source, colon, path = argument.rpartition(":")
    if colon and source and "/" not in source:
        return f"{source}:{normalize_path(path)}"
    return normalize_path(argument) if ("/" in argument or argument.startswith(".")) else argument


def _where(location: dict[str, Any]) -> str:
    if "xpath" in location:
        return location["xpath"]
    if "json_pointer" in location:
        return location["json_pointer"] or "/"
    if "row" in location:
        return f"row {location['row']}" + (f" col {location['column']}" if "column" in location else "")
    if "line_start" in location:
        return f"L{location['line_start']}-{location.get('line_end', location['line_start'])}"
    return ""


def _xml_tag(meta: dict[str, Any]) -> str:
    attributes = meta.get("attributes") or {}
    shown = [f'{k}="{attributes[k]}"' for k in KEY_ATTRIBUTES if k in attributes][:3]
    return "<" + " ".join([str(meta.get("tag", "?")), *shown]) + ">"


def label(element: dict[str, Any], color: bool) -> str:
    """One line for an element: type, what kind of it, where it is, id prefix, text preview."""
    kind = element["element_type"]
    meta = element["metadata"]
    extra = ""
    if kind == "header":
        extra = f" h{meta.get('level', '?')}"
    elif kind == "code_block" and meta.get("language"):
        extra = f" {meta['language']}"
    elif kind == "xml_element":
        extra = f" {_xml_tag(meta)}"
    elif kind in ("admonition", "tab") and (meta.get("kind") or meta.get("title")):
        extra = " " + " ".join(str(v) for v in (meta.get("kind"), meta.get("title")) if v)
    text = " ".join(element["text"].split())
    if len(text) > PREVIEW:
        text = text[: PREVIEW - 1] + "…"
    where = _where(element["location"])
    parts = [click.style(kind, fg="cyan", bold=True) if color else kind]
    parts[0] += extra
    if where:
        parts.append(click.style(where, dim=True) if color else where)
    parts.append(click.style(element["element_id"][:12], dim=True) if color else element["element_id"][:12])
    if text:
        parts.append(text)
    return " ".join(parts)


def tree_lines(
    elements: Iterator[dict[str, Any]], children: dict[str, int], *, depth: int | None, limit: int | None,
    color: bool,
) -> Iterator[str]:
    """Tree-drawn lines in document order, keeping only the open ancestors in memory.

    ``children`` maps an element id to its number of children, so the last
    child of each parent gets ``└──`` without looking ahead.
    """
    open_path: list[tuple[str, bool]] = []  # (element_id, is last child) from the root down
    shown = hidden = 0
    for element in elements:
        parent = element["parent_id"]
        while open_path and open_path[-1][0] != parent:
            open_path.pop()
        level = len(open_path)
        last = parent is None or element["sibling_order"] == children.get(parent, 0) - 1
        if depth is not None and level > depth:
            hidden += 1
            open_path.append((element["element_id"], last))  # so its own children find it
            continue
        if limit is not None and shown >= limit:
            hidden += 1
            break
        prefix = "".join("    " if is_last else "│   " for _, is_last in open_path[1:])
        branch = "" if parent is None else ("└── " if last else "├── ")
        yield prefix + branch + label(element, color)
        shown += 1
        open_path.append((element["element_id"], last))
    if hidden:
        yield f"… more elements not shown (--depth/--limit); {shown} shown"


def store_config(config_file: str | None, db: str | None) -> Config:
    """The config's store (``--config``), or the SQLite file ``--db`` (default ./go_doc_go.db), which wins."""
    config = load_config(config_file) if config_file else config_from_dict({})
    if db or not config_file:
        config.storage.backend = "sqlite"
        config.storage.path = db or DEFAULT_DB
    return config


def open_read_store(config_file: str | None, db: str | None) -> tuple[Config, Store, str]:
    """The store ``--config``/``--db`` name, open read-only, with its label; a missing SQLite file is a usage error."""
    config = store_config(config_file, db)
    where = store_label(config)
    if config.storage.backend == "sqlite" and not Path(config.storage.path).is_file():
        click.echo(f"error: no store at {where} (run go-doc-go ingest first, or pass --db or --config)", err=True)
        raise SystemExit(EXIT_USAGE)
    return config, open_store(config, read_only=True), where


@click.command()
@click.argument("document")
@click.option("--db", type=click.Path(dir_okay=False), help=f"SQLite store to read [default: {DEFAULT_DB}].")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="YAML config file: read the store it names (SQLite or PostgreSQL).")
@click.option("--depth", type=click.IntRange(min=0), help="Show elements at most this deep (root = 0).")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many elements.")
@click.option("--json", "as_json", is_flag=True, help="Print the elements as JSON lines.")
@click.option("--neighbourhood", is_flag=True,
              help="DOCUMENT is an element id (or a unique prefix): show its parent, siblings, links and "
                   "semantic neighbours.")  # fmt: skip
@clean_errors
def show(
    document: str, db: str | None, config_file: str | None, depth: int | None, limit: int | None, as_json: bool,
    neighbourhood: bool,
) -> None:
    """Print the stored element tree of DOCUMENT (a doc_id, a path, ./path or SOURCE:PATH)."""
    _, store, where = open_read_store(config_file, db)
    if neighbourhood:
        try:
            _show_neighbourhood(store, document, where, as_json=as_json, limit=limit)
        finally:
            store.close()
        return
    try:
        doc = _one_document(store, document, where)
        color = sys.stdout.isatty()
        try:
            if as_json:
                for n, element in enumerate(store.elements_of(doc.doc_id)):
                    if limit is not None and n >= limit:
                        break
                    click.echo(json.dumps(element, ensure_ascii=False))
                return
            click.echo(
                f"{doc.source}:{doc.path} ({doc.doc_type}, {doc.element_count} elements) doc_id {doc.doc_id}"
            )
            lines = tree_lines(store.elements_of(doc.doc_id), store.children_counts(doc.doc_id),
                               depth=depth, limit=limit, color=color)
            for line in lines:
                click.echo(line)
        except BrokenPipeError:  # `| head` closed the pipe: stop quietly
            sys.stdout = None  # type: ignore[assignment]  # no flush error at exit
    finally:
        store.close()


def _one_document(store: Store, argument: str, where: str) -> StoredDocument:
    matches = store.find_document(document_key(argument))
    if not matches:
        click.echo(f"error: no document {argument!r} in {where}", err=True)
        raise SystemExit(EXIT_FAILED)
    if len(matches) > 1:
        click.echo(f"error: {argument!r} matches several documents; use SOURCE:PATH or the doc_id", err=True)
        raise SystemExit(EXIT_USAGE)
    return matches[0]


def _one_element(store: Store, argument: str, where: str) -> FoundElement:
    """The element whose id is ``argument``, or the only one it is a prefix of (at least 6 characters)."""
    found = store.elements_by_id([argument])
    if argument in found:
        return found[argument]
    matches = store.element_ids_by_prefix(argument) if len(argument) >= 6 else []
    if not matches:
        click.echo(f"error: no element {argument!r} in {where} (give an element id or a prefix of 6+ characters)",
                   err=True)  # fmt: skip
        raise SystemExit(EXIT_FAILED)
    if len(matches) > 1:
        click.echo(f"error: {argument!r} is the start of several element ids; give more characters", err=True)
        raise SystemExit(EXIT_USAGE)
    return store.elements_by_id(matches)[matches[0]]


def _show_neighbourhood(store: Store, argument: str, where: str, *, as_json: bool, limit: int | None) -> None:
    from go_doc_go.search import neighbourhood

    element = _one_element(store, argument, where)
    around = neighbourhood(store, element, children=limit or 20)
    if as_json:
        click.echo(json.dumps(around.to_dict(), ensure_ascii=False, indent=2))
        return
    trail = " › ".join(around.header_path)
    click.echo(f"{element.source}:{element.path}" + (f" › {trail}" if trail else "")
               + f" ({element.element_type}) {element.element_id}")  # fmt: skip
    if element.text.strip():
        click.echo("    " + preview(element.text, 300))
    if around.parent is not None:
        click.echo(f"parent: {_brief(around.parent)}")
    for sibling in around.siblings:
        side = "previous" if sibling.sibling_order < element.sibling_order else "next"
        click.echo(f"{side} sibling: {_brief(sibling)}")
    if around.children:
        click.echo(f"children ({len(around.children)} shown):")
        for child in around.children:
            click.echo(f"    {_brief(child)}")
    for title, items in (("links out", around.links_out), ("links in", around.links_in),
                         ("semantic neighbours", around.semantic_out),
                         ("semantic neighbours (pointing here)", around.semantic_in)):  # fmt: skip
        if items:
            click.echo(f"{title}:")
            for item in items:
                click.echo("    " + _related_line(item))


def _brief(element: FoundElement) -> str:
    return f"{element.element_type} {element.element_id[:12]} {preview(element.text or '', 70)}".rstrip()


def _related_line(item: Related) -> str:
    score = f"{item.score:.3f} " if item.score is not None else ""
    if item.path is None:
        return f"{score}{item.reference or item.element_id or '?'} (not stored)"
    trail = " › ".join(item.header_path)
    head = f"{item.path}" + (f" › {trail}" if trail else "")
    return f"{score}{head} [{item.element_type} {(item.element_id or '')[:12]}] {preview(item.text, 70)}".rstrip()
