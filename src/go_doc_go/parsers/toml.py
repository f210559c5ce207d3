"""TOML (``.toml``, ``Pipfile``, ``Cargo.lock``...), read with the stdlib's ``tomllib``.

The tree is the JSON parser's (``parsers.json.build_tree``): tables are
``json_object``, keys ``json_field`` (``key`` = the key), arrays
``json_array`` with ``json_item``; location ``json_pointer``. Dates and
times are ISO text with value_type ``datetime``, ``date`` or ``time``.
Depth past ``parsers.max_depth`` is flattened as for JSON.

Title: a top-level ``title`` or ``name``, else ``[project]``, ``[package]``
or ``[tool.poetry]`` ``name`` (pyproject.toml, Cargo.toml).

A file tomllib rejects (a syntax error, nesting too deep for its recursive
parser) is stored as text, with the reason in ``metadata["parse_fallback"]``.
Limits fail the document as everywhere (``LimitExceededError``).
"""

from __future__ import annotations

import tomllib
from typing import Any

from go_doc_go.model import ParseResult
from go_doc_go.parsers.base import ElementBudget, ParseInput, comment_blocks, guarded, new_root
from go_doc_go.parsers.json import build_tree, title_of
from go_doc_go.parsers.text import as_fallback


def parse(doc: ParseInput) -> ParseResult:
    return guarded("TOML", _parse, doc)


def _parse(doc: ParseInput) -> ParseResult:
    text = doc.text()
    root = new_root(format="toml")
    root.location = {"json_pointer": ""}
    result = ParseResult(root=root)
    if not text.strip():
        return result
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return as_fallback(doc, f"invalid TOML: {error}")
    except RecursionError:
        return as_fallback(doc, "TOML nested too deeply for the TOML reader")
    budget = ElementBudget(doc.limits)
    budget.spend()
    result.title = _title(value)
    build_tree(value, root, result, budget)
    root.children.extend(comment_blocks(text, ("#",), budget))
    return budget.finish(result)


def _title(value: dict[str, Any]) -> str | None:
    found = title_of(value)
    if found:
        return found
    for table in (value.get("project"), value.get("package"), value.get("tool", {}).get("poetry")):
        if isinstance(table, dict):
            name = table.get("name")
            if isinstance(name, str) and name.strip():
                return name.strip()
    return None
