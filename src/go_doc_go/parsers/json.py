"""JSON parser, and the tree builder the TOML and YAML parsers share.

Tree rules (``build_tree``, used for JSON, TOML and YAML alike):

* object/mapping/table -> ``json_object``; each member -> ``json_field`` with
  ``key`` set to the member name, so its element id follows the name, not its
  position;
* array/sequence -> ``json_array``; each entry -> ``json_item`` (unkeyed: numbered);
* a scalar value lives in its field/item: text ``"name: value"`` for a field,
  ``"value"`` for an item, metadata ``{"value": v, "value_type": t}``
  (``t`` is ``string``, ``number``, ``boolean``, ``null``, and for TOML/YAML
  also ``datetime``, ``date``, ``time`` (ISO text) or ``binary`` (base64));
* an object/array value becomes a child of its field/item.

Container text (no node repeats its subtree, so deep documents stay linear):
``json_object`` text is its member names joined by ``", "``, ``json_array``
text is empty, a field holding a container has its key as text, an item
holding a container has empty text. Sizes are in ``metadata["size"]``.

Location: ``{"json_pointer": "/a/0/b"}`` (RFC 6901, ``~`` -> ``~0``, ``/`` ->
``~1``); the root and the top value both have pointer ``""``.

Depth: the level of a container is the number of containers enclosing it
plus one (the top value is level 1). A container past ``parsers.max_depth``
is not opened: its members and items, at any depth below, become children of
the deepest container kept, in document order, each with its exact pointer
and its full text (``metadata["flattened_at_depth"]`` on the document).

JSON specifics:

* strict ``json.loads`` first (NaN/Infinity accepted as the stdlib does,
  duplicate member names all kept, in order);
* when that fails, JSON with comments (``//``, ``/* */``) and trailing commas
  (JSONC: editor ``settings.json``, ``tsconfig.json``) is accepted: a linear,
  string-aware scanner removes them, then strict ``json.loads`` again, and the
  document gets ``metadata["jsonc"] = True``. Anything else stays a ParseError
  "invalid JSON" with the decoder's message;
* the C decoder cannot go deeper than the interpreter's recursion limit
  (about 1,000 levels). Such a document is a ParseError that names that limit
  and the document's nesting depth (measured by a linear scan, only then).

String values that look like links (``http(s)://``, or a relative path to a
document type we ingest) become links, each spending ``parsers.max_links``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json as _json
import math
import re
import sys
from itertools import accumulate
from typing import Any

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, new_root

_LINK_EXTENSIONS = (".md", ".html", ".htm", ".json", ".xml", ".csv", ".txt")
_MAX_LINK_CHARS = 2048
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_WHITESPACE = re.compile(r"\s")

# A string, even an unterminated one (it then runs to the end): one match per
# string, so scanning is linear whatever the input.
_STRING = r'"[^"\\]*(?:\\[\s\S][^"\\]*)*(?:"|\\?\Z)'
_COMMENTS = re.compile(rf"({_STRING})|//[^\n\r]*|/\*[\s\S]*?(?:\*/|\Z)")
_TRAILING_COMMA = re.compile(rf"({_STRING})|,(\s*[\]}}])")
_STRINGS = re.compile(_STRING)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


_FIELD, _ITEM = ElementType.JSON_FIELD, ElementType.JSON_ITEM


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
    value, jsonc = _loads(text, doc.path)
    budget = ElementBudget(doc.limits)
    budget.spend(0)
    result.title = title_of(value)
    build_tree(value, root, result, budget)
    if jsonc:
        result.metadata["jsonc"] = True
    return budget.finish(result)


# ---------------------------------------------------------------- decoding


def _decode(text: str) -> Any:
    return _json.loads(text, object_pairs_hook=_Members, parse_constant=_constant)


def _loads(text: str, path: str) -> tuple[Any, bool]:
    """The decoded value, and whether it needed JSONC (comments, trailing commas)."""
    try:
        try:
            return _decode(text), False
        except ValueError as error:
            stripped = strip_jsonc(text)
            if stripped == text:
                raise ParseError(f"invalid JSON in {path}: {error}") from None
            try:
                return _decode(stripped), True
            except ValueError as jsonc_error:
                # It has comments or trailing commas: the error after removing them is the one to fix.
                raise ParseError(
                    f"invalid JSON in {path}: {jsonc_error} (read as JSON with comments)"
                ) from None
    except RecursionError:
        depth = nesting_depth(text)
        limit = sys.getrecursionlimit()
        raise ParseError(
            f"JSON {path}: nesting too deep to parse: depth {depth:,}, the JSON decoder "
            f"parses fewer than {limit:,} levels (Python's recursion limit)"
        ) from None


def strip_jsonc(text: str) -> str:
    """``text`` without ``//`` and ``/* */`` comments and trailing commas.

    Linear time (every regular expression alternative consumes what it
    matches, unterminated strings and comments included) and string contents
    are never touched. A block comment becomes as many newlines as it held,
    so the decoder's line numbers stay right.
    """
    if "/" in text:
        text = _COMMENTS.sub(_keep_string_or_blank, text)
    if "," in text:
        text = _TRAILING_COMMA.sub(_keep_string_or_bracket, text)
    return text


def _keep_string_or_blank(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1)
    return " " + "\n" * match.group(0).count("\n")


def _keep_string_or_bracket(match: re.Match[str]) -> str:
    """Drop a comma before ``]``/``}`` only when it follows a value (``[,]`` stays invalid).

    The look back covers only the whitespace just before this comma, so the
    whole pass stays linear.
    """
    if match.group(1) is not None:
        return match.group(1)
    text, before = match.string, match.start() - 1
    while before >= 0 and text[before] in " \t\r\n":
        before -= 1
    if before < 0 or text[before] in "[{,":
        return match.group(0)
    return match.group(2)


def nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside strings (linear; run only when the decoder gave up)."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    steps = (1 if ch in "[{" else -1 for ch in brackets)
    return max(accumulate(steps, initial=0))


def _constant(name: str) -> float:
    # NaN / Infinity are not JSON; the stdlib accepts them, so do we.
    return float(name.replace("Infinity", "inf"))


# ---------------------------------------------------------------- values


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


_OBJECTS = (_Members, dict)
_CONTAINERS = (_Members, dict, list, tuple)


def _is_object(value: Any) -> bool:
    return isinstance(value, _OBJECTS)


def _is_container(value: Any) -> bool:
    return isinstance(value, _CONTAINERS)


def _entries(value: Any) -> list[tuple[str | None, Any]]:
    if isinstance(value, _Members):
        return value
    if isinstance(value, dict):
        return [(key_text(name), member) for name, member in value.items()]
    return [(None, entry) for entry in value]


def key_text(name: Any) -> str:
    """A member name as text: YAML keys may be numbers, booleans, dates or null."""
    if isinstance(name, str):
        return name
    shown, _ = _scalar(name)
    return shown


def _value_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    if isinstance(value, _OBJECTS):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, _dt.datetime):
        return "datetime"
    if isinstance(value, _dt.date):
        return "date"
    if isinstance(value, _dt.time):
        return "time"
    if isinstance(value, bytes):
        return "binary"
    return "string"


def _scalar(value: Any) -> tuple[str, Any]:
    """Display text and a JSON-safe metadata value for a scalar."""
    if isinstance(value, str):
        return value, value
    if isinstance(value, float) and not math.isfinite(value):
        shown = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return shown, shown
    if value is None or isinstance(value, (bool, int, float)):
        return _json.dumps(value), value
    if isinstance(value, (_dt.date, _dt.time)):
        shown = value.isoformat()
        return shown, shown
    if isinstance(value, bytes):
        shown = base64.b64encode(value).decode("ascii")
        return shown, shown
    shown = str(value)
    return shown, shown


def looks_like_link(value: str) -> bool:
    if not value or len(value) > _MAX_LINK_CHARS or ("." not in value and "://" not in value):
        return False
    if _WHITESPACE.search(value):
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


def title_of(value: Any) -> str | None:
    """A top-level ``title`` member, else ``name``, when it is non-empty text."""
    if not _is_object(value):
        return None
    found: dict[str, str] = {}
    for name, member in _entries(value):
        if name in ("title", "name") and isinstance(member, str) and member.strip():
            found.setdefault(name, member.strip())
    return found.get("title") or found.get("name")


# ---------------------------------------------------------------- tree


def _container(value: Any, pointer: str, location: dict[str, Any]) -> ParsedNode:
    if _is_object(value):
        names = [name for name, _ in _entries(value)]
        return ParsedNode(
            ElementType.JSON_OBJECT,
            text=", ".join(names),
            metadata={"size": len(names)},
            location={**location, "json_pointer": pointer},
        )
    return ParsedNode(
        ElementType.JSON_ARRAY,
        metadata={"size": len(value)},
        location={**location, "json_pointer": pointer},
    )


class _Builder:
    """Builds the nodes of one value tree; explicit stacks, no recursion on the document."""

    __slots__ = ("result", "budget", "location")

    def __init__(self, result: ParseResult, budget: ElementBudget, location: dict[str, Any]) -> None:
        self.result, self.budget, self.location = result, budget, location

    def member(self, name: str | None, index: int, value: Any, pointer: str) -> ParsedNode:
        """The field/item node of one member, with its scalar value if it has one."""
        self.budget.spend()
        location = {**self.location, "json_pointer": pointer} if self.location else {"json_pointer": pointer}
        value_type = _value_type(value)
        if value_type == "object" or value_type == "array":
            text = name if name is not None else ""
            if name is not None:
                metadata = {"key": name, "value_type": value_type}
                return ParsedNode(_FIELD, text=text, key=name, metadata=metadata, location=location)
            metadata = {"index": index, "value_type": value_type}
            return ParsedNode(_ITEM, text=text, metadata=metadata, location=location)
        shown, meta_value = (value, value) if value_type == "string" else _scalar(value)
        if name is not None:
            metadata = {"key": name, "value_type": value_type, "value": meta_value}
            node = ParsedNode(_FIELD, text=f"{name}: {shown}", key=name, metadata=metadata, location=location)
        else:
            metadata = {"index": index, "value_type": value_type, "value": meta_value}
            node = ParsedNode(_ITEM, text=shown, metadata=metadata, location=location)
        if value_type == "string" and looks_like_link(value):
            self.link(value, name if name is not None else shown, node)
        return node

    def link(self, href: str, text: str, node: ParsedNode) -> None:
        self.budget.spend_link()
        self.result.links.append(ParsedLink(href=href, text=text, node=node))

    def flatten_into(self, target: ParsedNode, value: Any, pointer: str) -> None:
        """Every member below ``value``, in document order, as children of ``target``."""
        iterators = [(iter(enumerate(_entries(value))), pointer)]
        while iterators:
            entries, base = iterators[-1]
            step = next(entries, None)
            if step is None:
                iterators.pop()
                continue
            index, (name, member) = step
            child_pointer = f"{base}/{_escape(name) if name is not None else index}"
            target.add(self.member(name, index, member, child_pointer))
            if _is_container(member):
                iterators.append((iter(enumerate(_entries(member))), child_pointer))


def build_tree(
    top: Any,
    root: ParsedNode,
    result: ParseResult,
    budget: ElementBudget,
    location: dict[str, Any] | None = None,
) -> ParsedNode:
    """Add the nodes of one decoded value under ``root`` (rules in the module docstring).

    ``top`` may hold ``_Members``/dicts, lists/tuples and scalars. ``location``
    is merged into every node's location (YAML streams add ``document``).
    Returns the node of the top value.
    """
    builder = _Builder(result, budget, location or {})
    if not isinstance(top, _CONTAINERS):
        item = builder.member(None, 0, top, "")
        del item.metadata["index"]
        return root.add(item)
    budget.spend()
    top_node = root.add(_container(top, "", builder.location))
    # Work items: a container value to expand, the node representing it, its pointer, its level.
    stack: list[tuple[Any, ParsedNode, str, int]] = [(top, top_node, "", 1)]
    while stack:
        value, node, pointer, level = stack.pop()
        pending: list[tuple[Any, ParsedNode, str, int]] = []
        for index, (name, member) in enumerate(_entries(value)):
            child_pointer = f"{pointer}/{_escape(name) if name is not None else index}"
            child = builder.member(name, index, member, child_pointer)
            node.children.append(child)
            if not isinstance(member, _CONTAINERS):
                continue
            if budget.keeps(level + 1):
                budget.spend()
                inner = child.add(_container(member, child_pointer, builder.location))
                pending.append((member, inner, child_pointer, level + 1))
            else:
                builder.flatten_into(node, member, child_pointer)
        stack.extend(reversed(pending))
    return top_node
