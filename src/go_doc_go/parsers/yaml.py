"""YAML (``.yaml``, ``.yml``), read with PyYAML's safe loader (libyaml's C loader when present).

The tree is the JSON parser's (``parsers.json.build_tree``): mappings are
``json_object``, keys ``json_field`` (non-string keys as text: ``1``,
``true``, ``null``, ISO dates), sequences ``json_array`` with ``json_item``;
location ``json_pointer``. Timestamps are ISO text (value_type ``datetime``
or ``date``), ``!!binary`` is base64 (``binary``). Depth past
``parsers.max_depth`` is flattened as for JSON.

A stream of several documents (``---``) gives one top value per document
under the root, and every location then also has ``document`` (0-based), so
the ids of the first document do not change when a second one is added.

Unknown tags (``!!python/name:x``, ``!Ref x``) give the value they tag:
nothing is imported or called. Aliases are expanded (``<<: *defaults`` merges work as users expect). Before
building, one pass over the loaded graph (each distinct node visited once)
finds recursive aliases and the size the expansion would have, so an alias
bomb costs nothing: it is stored as text, like a file the loader rejects
(syntax error, nesting past libyaml's limit), with the reason in
``metadata["parse_fallback"]``. A big document without aliases is held to
``parsers.max_elements`` like any other.
"""

from __future__ import annotations

from typing import Any

import yaml as _yaml

from go_doc_go.model import ParseResult
from go_doc_go.parsers.base import ElementBudget, ParseInput, comment_blocks, guarded, new_root
from go_doc_go.parsers.json import build_tree, title_of
from go_doc_go.parsers.text import as_fallback

_SAFE_LOADER: Any = getattr(_yaml, "CSafeLoader", _yaml.SafeLoader)


class _Loader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, reading an unknown tag as the plain value it tags.

    ``!!python/name:pkg.func`` (mkdocs.yml) or ``!Ref`` (CloudFormation) then
    give the text ``pkg.func`` instead of failing the file. Nothing is ever
    imported or called: only str, list and dict are built.
    """


_NAME_TAGS = ("tag:yaml.org,2002:python/name:", "tag:yaml.org,2002:python/module:")


def _untagged(loader: Any, node: _yaml.Node) -> Any:
    if isinstance(node, _yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, _yaml.SequenceNode):
        return loader.construct_sequence(node)
    value = loader.construct_scalar(node)
    if not value:
        # !!python/name:pkg.func carries its value in the tag.
        for prefix in _NAME_TAGS:
            if node.tag.startswith(prefix):
                return node.tag[len(prefix) :]
    return value


_Loader.add_constructor(None, _untagged)
_LOADER = _Loader


class _Recursive(Exception):
    pass


def parse(doc: ParseInput) -> ParseResult:
    return guarded("YAML", _parse, doc)


def _parse(doc: ParseInput) -> ParseResult:
    text = doc.text()
    root = new_root(format="yaml")
    root.location = {"json_pointer": ""}
    result = ParseResult(root=root)
    if not text.strip():
        return result
    try:
        documents = list(_yaml.load_all(text, Loader=_LOADER))  # noqa: S506 - a safe loader
    except _yaml.YAMLError as error:
        return as_fallback(doc, f"invalid YAML: {_describe(error)}")
    except (RecursionError, ValueError, TypeError) as error:
        return as_fallback(doc, f"YAML cannot be loaded: {type(error).__name__}: {error}")
    budget = ElementBudget(doc.limits)
    try:
        size, aliased = _expanded_size(documents)
    except _Recursive:
        return as_fallback(doc, "YAML has a recursive alias (a node that contains itself)")
    limit = doc.limits.max_elements
    if aliased and size > limit:
        return as_fallback(
            doc, f"YAML aliases expand to {size:,} elements, more than parsers.max_elements ({limit:,})"
        )
    budget.spend()
    result.title = title_of(documents[0]) if documents else None
    several = len(documents) > 1
    for index, value in enumerate(documents):
        build_tree(value, root, result, budget, {"document": index} if several else None)
    root.children.extend(comment_blocks(text, ("#",), budget))
    return budget.finish(result)


def _describe(error: _yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).split("\n", 1)[0]
    return f"{problem} at line {mark.line + 1}" if mark is not None else problem


def _expanded_size(documents: list[Any]) -> tuple[int, bool]:
    """Elements the tree would have, and whether some node is shared (an alias).

    Iterative depth-first pass over distinct containers (memoised), so it is
    linear in the loaded graph however large the expansion; a container met
    again while it is still open is a recursive alias.
    """
    sizes: dict[int, int] = {}
    open_ids: set[int] = set()
    aliased = False
    total = 0
    for top in documents:
        if not isinstance(top, (dict, list)):
            total += 1
            continue
        stack: list[tuple[Any, bool]] = [(top, False)]
        while stack:
            value, done = stack.pop()
            key = id(value)
            if done:
                open_ids.discard(key)
                members = value.values() if isinstance(value, dict) else value
                sizes[key] = 1 + sum(1 + sizes.get(id(m), 0) for m in members)
                continue
            if key in sizes:
                aliased = True
                continue
            if key in open_ids:
                raise _Recursive()
            open_ids.add(key)
            stack.append((value, True))
            members = value.values() if isinstance(value, dict) else value
            seen_here: set[int] = set()
            for member in members:
                if isinstance(member, (dict, list)):
                    if id(member) in seen_here or id(member) in sizes:
                        aliased = True
                    seen_here.add(id(member))
                    if id(member) not in sizes:
                        stack.append((member, False))
        total += sizes[id(top)]
    return total, aliased
