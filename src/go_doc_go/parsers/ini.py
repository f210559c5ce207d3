"""INI-style configuration: ``.ini``, ``.cfg``, ``.conf``, ``.editorconfig``, ``pylintrc``...

Tree (the element types of the JSON parser, so queries treat all config
formats alike): root > ``json_object`` (the file) > ``json_field`` per key
before the first section, and one ``json_field`` per section (``key`` = the
section name, text = the name) holding a ``json_object`` of that section's
keys (its metadata has ``"section": True``). A key is a ``json_field`` with text ``"key: value"`` and metadata
``{"key", "value", "value_type": "string"}``; a key without a value
(``allow_no_value``) has text ``"key"``, value None, value_type ``null``.
Location: ``json_pointer`` (``/section/key``) plus the 1-based
``line_start``/``line_end`` of the key or of the whole section.

Reading follows ``configparser`` with interpolation off and strict off,
but keeps what it would merge: keys keep their case, repeated sections and
keys are all kept in order (ids ``@name``, ``@name[1]``), and ``[DEFAULT]``
is an ordinary section. Lines starting with ``#`` or ``;`` are comments
(inline comments are part of the value, as in configparser); an indented line
continues the value above it; ``=`` or ``:``, whichever comes first,
separates key and value. It is our own linear line scanner, not
``configparser``: that one's option regex is quadratic on long runs of
spaces (an 80,000-space line took 150 s).

A file that is not INI-like (fewer than half of its lines are sections or
``key = value``, e.g. an nginx ``.conf``) is stored as text, with the reason
in ``metadata["parse_fallback"]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers.base import ElementBudget, ParseInput, comment_blocks, guarded, new_root
from go_doc_go.parsers.json import looks_like_link
from go_doc_go.parsers.text import as_fallback


@dataclass(slots=True)
class _Key:
    name: str
    value: str | None
    line_start: int
    line_end: int


@dataclass(slots=True)
class _Section:
    name: str | None  # None: the keys before the first section header
    line_start: int
    line_end: int
    keys: list[_Key] = field(default_factory=list)


def parse(doc: ParseInput) -> ParseResult:
    return guarded("INI", _parse, doc)


def _parse(doc: ParseInput) -> ParseResult:
    text = doc.text()
    root = new_root(format="ini")
    root.location = {"json_pointer": ""}
    result = ParseResult(root=root)
    if not text.strip():
        return result
    sections, structured, loose = _scan(text)
    if structured < loose:
        reason = f"not INI: {loose:,} of {structured + loose:,} lines are neither [section] nor key = value"
        return as_fallback(doc, reason)
    budget = ElementBudget(doc.limits)
    budget.spend()
    _build(sections, root, result, budget)
    root.children.extend(comment_blocks(text, ("#", ";"), budget))
    return result


def _scan(text: str) -> tuple[list[_Section], int, int]:
    """Sections with their keys, and the counts of structured and loose lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    top = _Section(None, 0, 0)
    sections = [top]
    current, key = top, None
    structured = loose = 0
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if key is not None and line[0] in " \t":
            key.value = stripped if not key.value else f"{key.value}\n{stripped}"
            key.line_end = current.line_end = number
            continue
        if stripped[0] == "[" and "]" in stripped:
            current = _Section(stripped[1 : stripped.rindex("]")].strip(), number, number)
            sections.append(current)
            key = None
            structured += 1
            continue
        separator = _separator(stripped)
        if separator < 0:
            key = _Key(stripped, None, number, number)
            loose += 1
        else:
            key = _Key(stripped[:separator].rstrip(), stripped[separator + 1 :].lstrip(), number, number)
            structured += 1
        current.keys.append(key)
        current.line_start = current.line_start or number
        current.line_end = number
    if not top.keys:
        sections.pop(0)
    return sections, structured, loose


def _separator(line: str) -> int:
    equals, colon = line.find("="), line.find(":")
    if equals < 0 or 0 <= colon < equals:
        return colon
    return equals


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _object(names: list[str], pointer: str, lines: tuple[int, int]) -> ParsedNode:
    return ParsedNode(
        ElementType.JSON_OBJECT,
        text=", ".join(names),
        metadata={"size": len(names)},
        location={"json_pointer": pointer, "line_start": lines[0], "line_end": lines[1]},
    )


def _build(sections: list[_Section], root: ParsedNode, result: ParseResult, budget: ElementBudget) -> None:
    first = sections[0].line_start if sections else 1
    last = sections[-1].line_end if sections else 1
    top_names = [k.name for s in sections if s.name is None for k in s.keys]
    top_names += [s.name for s in sections if s.name is not None]
    budget.spend()
    top = root.add(_object(top_names, "", (first, last)))
    for section in sections:
        if section.name is None:
            _add_keys(top, section.keys, "", result, budget)
            continue
        pointer = "/" + _escape(section.name)
        lines = (section.line_start, section.line_end)
        budget.spend()
        holder = top.add(
            ParsedNode(
                ElementType.JSON_FIELD,
                text=section.name,
                key=section.name,
                metadata={"key": section.name, "value_type": "object", "section": True},
                location={"json_pointer": pointer, "line_start": lines[0], "line_end": lines[1]},
            )
        )
        budget.spend()
        body = holder.add(_object([k.name for k in section.keys], pointer, lines))
        _add_keys(body, section.keys, pointer, result, budget)


def _add_keys(parent: ParsedNode, keys: list[_Key], pointer: str, result: ParseResult, budget: ElementBudget) -> None:
    for key in keys:
        budget.spend()
        metadata: dict[str, Any] = {"key": key.name, "value": key.value}
        metadata["value_type"] = "null" if key.value is None else "string"
        node = parent.add(
            ParsedNode(
                ElementType.JSON_FIELD,
                text=key.name if key.value is None else f"{key.name}: {key.value}",
                key=key.name,
                metadata=metadata,
                location={
                    "json_pointer": f"{pointer}/{_escape(key.name)}",
                    "line_start": key.line_start,
                    "line_end": key.line_end,
                },
            )
        )
        if key.value is not None and looks_like_link(key.value):
            budget.spend_link()
            result.links.append(ParsedLink(href=key.value, text=key.name, node=node))
