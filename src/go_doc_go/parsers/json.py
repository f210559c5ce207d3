"""JSON parser: root > the top value, objects and arrays as nested nodes.

Tree rules:

* object -> ``json_object``; each member -> ``json_field`` with ``key`` set to
  the member name, so its element id follows the name, not its position;
* array -> ``json_array``; each entry -> ``json_item`` (unkeyed: numbered);
* a scalar value lives in its field/item: text ``"name: value"`` for a field,
  ``"value"`` for an item, metadata ``{"value": v, "value_type": t}``;
* an object/array value becomes a child of its field/item.

Container text (no node repeats its subtree, so deep documents stay linear):
``json_object`` text is its member names joined by ``", "``, ``json_array``
text is empty, a field holding a container has its key as text, an item
holding a container has empty text. Sizes are in ``metadata["size"]``.

Location: ``{"json_pointer": "/a/0/b"}`` (RFC 6901, ``~`` -> ``~0``, ``/`` ->
``~1``); the root and the top value both have pointer ``""``.

Hostile input: ``json.loads``'s C decoder raises ``RecursionError`` as soon as
nesting passes the interpreter's recursion limit (~1000), which becomes a
ParseError ("nesting too deep") without building anything; shallower nesting is
held to ``parsers.max_depth`` by the element budget (level = containers
enclosing a node, the top value is level 1). Duplicate member names are all kept, in order.
"""

from __future__ import annotations

import json as _json
import math
import re
from typing import Any

from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, new_root

_LINK_EXTENSIONS = (".md", ".html", ".htm", ".json", ".xml", ".csv", ".txt")
_MAX_LINK_CHARS = 2048
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class _Members(list):  # type: ignore[type-arg]
    """An object's (name, value) pairs in document order, duplicates kept."""


def parse(doc: ParseInput) -> ParseResult:
    return guarded("JSON", _parse, doc, invalid=(ValueError,))


def _parse(doc: ParseInput) -> ParseResult:
    text = doc.text()
    root = new_root(format="json")
    root.location = {"json_pointer": ""}
    result = ParseResult(root=root)
    if not text.strip():
        return result

    # The C decoder guards its recursion: past the interpreter's recursion
    # limit it raises RecursionError at once (mapped to ParseError in parse()).
    # Shallower documents are held to parsers.max_depth by the budget below.
    value = _json.loads(text, object_pairs_hook=_Members, parse_constant=_constant)

    budget = ElementBudget(doc.limits)
    budget.spend(0)
    result.title = _title(value)
    _build(value, root, result, budget)
    return result


def _constant(name: str) -> float:
    # NaN / Infinity are not JSON; the stdlib accepts them, so do we.
    return float(name.replace("Infinity", "inf"))


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _value_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, _Members):
        return "object"
    return "array"


def _scalar(value: Any) -> tuple[str, Any]:
    """Display text and a JSON-safe metadata value for a scalar."""
    if isinstance(value, str):
        return value, value
    if isinstance(value, float) and not math.isfinite(value):
        shown = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return shown, shown
    return _json.dumps(value), value


def _looks_like_link(value: str) -> bool:
    if not value or len(value) > _MAX_LINK_CHARS or any(ch.isspace() for ch in value):
        return False
    lowered = value.lower()
    for scheme in ("http://", "https://"):
        if lowered.startswith(scheme):
            return len(value) > len(scheme)
    if _SCHEME.match(value) or value.startswith("//"):
        return False
    path = lowered.split("#", 1)[0].split("?", 1)[0]
    name = path.rsplit("/", 1)[-1]
    return any(name.endswith(ext) and len(name) > len(ext) for ext in _LINK_EXTENSIONS)


def _title(value: Any) -> str | None:
    if not isinstance(value, _Members):
        return None
    found: dict[str, str] = {}
    for name, member in value:
        if name in ("title", "name") and isinstance(member, str) and member.strip():
            found.setdefault(name, member.strip())
    return found.get("title") or found.get("name")


def _container(value: Any, pointer: str) -> ParsedNode:
    if isinstance(value, _Members):
        return ParsedNode(
            ElementType.JSON_OBJECT,
            text=", ".join(name for name, _ in value),
            metadata={"size": len(value)},
            location={"json_pointer": pointer},
        )
    return ParsedNode(
        ElementType.JSON_ARRAY,
        metadata={"size": len(value)},
        location={"json_pointer": pointer},
    )


def _build(top: Any, root: ParsedNode, result: ParseResult, budget: ElementBudget) -> None:
    # Work items: a container value to expand, the node that represents it, its
    # pointer and its nesting level (the top value is level 1).
    stack: list[tuple[Any, ParsedNode, str, int]] = []

    if isinstance(top, (_Members, list)):
        budget.spend(1)
        node = root.add(_container(top, ""))
        stack.append((top, node, "", 1))
    else:
        budget.spend(1)
        shown, meta_value = _scalar(top)
        item = root.add(
            ParsedNode(
                ElementType.JSON_ITEM,
                text=shown,
                metadata={"value": meta_value, "value_type": _value_type(top)},
                location={"json_pointer": ""},
            )
        )
        _maybe_link(top, shown, item, result)

    while stack:
        value, node, pointer, level = stack.pop()
        entries = (
            [(name, member) for name, member in value]
            if isinstance(value, _Members)
            else [(None, entry) for entry in value]
        )
        pending: list[tuple[Any, ParsedNode, str, int]] = []
        for index, (name, member) in enumerate(entries):
            child_pointer = f"{pointer}/{_escape(name) if name is not None else index}"
            child_level = level + 1
            budget.spend(child_level)
            if name is not None:
                child = ParsedNode(
                    ElementType.JSON_FIELD,
                    key=name,
                    metadata={"key": name},
                    location={"json_pointer": child_pointer},
                )
            else:
                child = ParsedNode(
                    ElementType.JSON_ITEM,
                    metadata={"index": index},
                    location={"json_pointer": child_pointer},
                )
            node.add(child)
            if isinstance(member, (_Members, list)):
                child.text = name if name is not None else ""
                child.metadata["value_type"] = _value_type(member)
                budget.spend(child_level)
                inner = child.add(_container(member, child_pointer))
                pending.append((member, inner, child_pointer, child_level))
            else:
                shown, meta_value = _scalar(member)
                child.text = f"{name}: {shown}" if name is not None else shown
                child.metadata["value"] = meta_value
                child.metadata["value_type"] = _value_type(member)
                _maybe_link(member, name if name is not None else shown, child, result)
        stack.extend(reversed(pending))


def _maybe_link(value: Any, text: str, node: ParsedNode, result: ParseResult) -> None:
    if isinstance(value, str) and _looks_like_link(value):
        result.links.append(ParsedLink(href=value, text=text, node=node))
