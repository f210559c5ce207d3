"""Helpers the parser tests share: run a parser on text, look elements up by structural path."""

from __future__ import annotations

from collections.abc import Callable

from go_doc_go.config import ParsersConfig
from go_doc_go.model import ParseResult, flatten
from go_doc_go.parsers.base import ParseInput


def parse_data(parse: Callable[[ParseInput], ParseResult], data: bytes | str, path: str, **limits: int) -> ParseResult:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return parse(ParseInput(data, path, ParsersConfig(**limits)))


def full_paths(elements) -> list[str]:
    """Each element's structural path, rebuilt from parent ids and path segments."""
    by_id: dict[str, str] = {}
    out: list[str] = []
    for e in elements:
        path = e.path_segment if e.parent_id is None else f"{by_id[e.parent_id]}/{e.path_segment}"
        by_id[e.element_id] = path
        out.append(path)
    return out


def by_path(result: ParseResult) -> dict:
    elements, _ = flatten("doc", result.root)
    return dict(zip(full_paths(elements), elements, strict=True))


def types(node) -> list[str]:
    return [str(c.element_type) for c in node.children]
