"""XML parser: root > xml_element tree, with xml_text nodes for character data.

Reading. Python's codecs decode the bytes (BOM, the XML declaration's
encoding, EBCDIC declarations, UTF-16/32 by zero bytes, then UTF-8 and
detection: see ``_lxml_input``), and lxml parses the text. ``metadata
["encoding"]`` names the codec when it was not UTF-8.

Hardening: entities are not substituted, no DTD or network access, comments
and processing instructions dropped. ``huge_tree`` is on, so libxml2 takes
text nodes over 10 MB and nests up to 2,048 levels (256 without it); the
element budget (``parsers.max_elements``) and the text cap below are the
guards. libxml2 refuses entity amplification (billion laughs) and nesting
deeper than its limit with a resource-limit error: that document fails, and
the cause names the limit ("nests elements deeper than 2,048 levels, the most
libxml2 parses"); it is never recovered, since recovery would truncate it. An
external entity (XXE) is never read: its reference stays in the text as the
literal ``&name;``.

Recovery (the document's metadata then has ``recovered: true``, ``recovery``
and ``first_error: {"message", "line"}`` of the strict parse):

1. strict parse;
2. on failure, text repairs, then a strict parse again (``recovery:
   "repaired"``): HTML5 named entities (``&eacute;``, ``&nbsp;``, very common
   in RSS/Atom feeds) become their characters, except the five XML ones and
   entities the document declares; other undefined entity references, a bare
   ``&`` or ``<`` are escaped so they stay in the text literally; characters
   XML 1.0 forbids (C0 controls) become U+FFFD (form feed and vertical tab a
   space); a broken XML declaration is dropped. CDATA sections, comments and
   processing instructions are left alone;
3. then libxml2's recover mode (``recovery: "recover"``): unclosed and
   mismatched tags are closed where libxml2 decides. When content sits outside
   a single root (several top-level elements, text around them), the document
   is read as a fragment and those pieces are the root's children;
4. a recovered document with no text and no attribute values fails, with the
   first error as its cause.

An entity reference the document does not declare (XHTML with its DTD not
loaded) becomes its character when it is an HTML5 named entity.

Tree rules:

* each element -> ``xml_element``, metadata ``{"tag": local name,
  "namespace": uri or None, "attributes": {name: value}}`` (namespaced
  attribute names use the document's prefix, e.g. ``xlink:href``);
* character data -> ``xml_text`` children in document order: an element's
  leading text first, then each child element followed by that child's tail
  text (tail text belongs to the parent). Whitespace-only runs (indentation)
  get no node. Unexpanded entity references are kept as ``&name;`` in the
  surrounding text.
* elements deeper than ``parsers.max_depth`` make no node: their whole text
  (and their links) goes into the deepest kept element, as part of its text
  runs; ``metadata["flattened_at_depth"]`` records it.

Text: an ``xml_text`` node holds its run stripped of surrounding whitespace; an
``xml_element`` holds its full text content (all descendant character data in
order, like ``itertext``), stripped. It is computed bottom-up in one pass, and
since ancestors repeat their descendants' text (and their xpaths grow with
depth), the total is checked against a cap first so a deep document cannot
make the output quadratic in its size. The root node's text is empty.

Locations: elements ``{"xpath": ..., "line_start": el.sourceline}``, the xpath
being what ``tree.getpath(el)`` returns, computed in one pass per parent;
text nodes the xpath of the element that owns them and the line of the element
they start after (their owner for leading text, the previous child for tails).
In a fragment, top-level elements are ``/name`` (numbered among themselves).

Title: the full text of the first element named ``title`` (any namespace).
Links: ``href`` and ``xlink:href`` attribute values, with the element's text
(each spends ``parsers.max_links``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.entities import html5
from typing import Any

from lxml import etree

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers._lxml_errors import error_types, first_error, limit_hit, recovery_metadata
from go_doc_go.parsers._lxml_input import encoding_metadata, read_xml
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, new_root

_XLINK = "http://www.w3.org/1999/xlink"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_LINK_ATTRIBUTES = ("href", "{%s}href" % _XLINK)
# Element texts repeat their descendants' text; allow this many characters in
# total, or this multiple of the input size, whichever is larger.
_TEXT_FLOOR = 32 * 1024 * 1024
_TEXT_FACTOR = 64

_XML_PREDEFINED = frozenset(("amp", "lt", "gt", "quot", "apos"))
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
_REPAIRABLE = re.compile(
    r"(?P<keep><!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z))"
    r"|&(?P<name>[^\W\d][\w.:-]*);"
    r"|&\#(?P<number>[0-9]{1,10}|x[0-9A-Fa-f]{1,8});"
    r"|(?P<amp>&)"
    r"|(?P<lt><(?![^\W\d]|[:/!?]))"
    r"|(?P<control>[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff])",
    re.S,
)
# An XML declaration libxml2 accepts (its encoding was already removed, see _lxml_input).
_GOOD_DECLARATION = re.compile(r"""<\?xml\s+version\s*=\s*(["'])[0-9.]+\1(?:\s+standalone\s*=\s*(["'])(?:yes|no)\2)?\s*\?>""")
_DECLARED_ENTITY = re.compile(r"<!ENTITY\s+([^\s%]\S*)")
# Before the root element: whitespace, PIs, comments, the DOCTYPE.
_PROLOG = re.compile(r"(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)*", re.S)
_FRAGMENT = "go-doc-go-fragment"
# Strict-parse errors that mean content sits outside one root element.
_OUTSIDE_ROOT = frozenset((etree.ErrorTypes.ERR_DOCUMENT_EMPTY, etree.ErrorTypes.ERR_DOCUMENT_END))


def _parser(recover: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
        recover=recover,
        remove_comments=True,
        remove_pis=True,
    )


def parse(doc: ParseInput) -> ParseResult:
    return guarded("XML", _parse, doc, invalid=(etree.XMLSyntaxError,))


# ---------------------------------------------------------------- loading


@dataclass(slots=True)
class _Loaded:
    top: Any
    #: True when the text was wrapped in a synthetic root (content outside one root element).
    fragment: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)


def _check_limits(log: Any, path: str) -> None:
    """A resource limit truncates the document: fail it, naming the limit."""
    hit = limit_hit(log)
    if hit is None:
        return
    if hit.kind == "depth":
        raise ParseError(
            f"XML {path} nests elements deeper than {hit.limit:,} levels, "
            f"the most libxml2 parses (line {hit.line})"
        )
    raise ParseError(f"XML {path}: libxml2 refused it: {hit.message} (line {hit.line})")


def _strict(text: str, path: str) -> tuple[Any, Any]:
    """``(root element or None, error log)`` of a strict parse."""
    parser = _parser()
    try:
        return etree.fromstring(text, parser), parser.error_log
    except etree.XMLSyntaxError:
        log = parser.error_log
        _check_limits(log, path)
        return None, log


def _recovering(text: str, path: str) -> tuple[Any, Any]:
    parser = _parser(recover=True)
    try:
        top = etree.fromstring(text, parser)
    except etree.XMLSyntaxError:
        top = None
    log = parser.error_log
    _check_limits(log, path)
    return top, log


def _load(text: str, path: str) -> _Loaded:
    """Strict parse, then text repairs, then libxml2's recover mode (see the module docstring)."""
    top, log = _strict(text, path)
    if top is not None:
        return _Loaded(top)
    first = first_error(log)
    repaired = _repair(text)
    if repaired != text:
        top, _ = _strict(repaired, path)
        if top is not None:
            return _Loaded(top, metadata=recovery_metadata(first, "repaired"))
    top, log = _recovering(repaired, path)
    fragment = top is None or bool(error_types(log) & _OUTSIDE_ROOT)
    if fragment:
        top, _ = _recovering(_wrap(repaired), path)
    if top is None:
        raise _unrecoverable(path, first)
    return _Loaded(top, fragment, recovery_metadata(first, "recover"))


def _unrecoverable(path: str, first: dict[str, Any] | None) -> ParseError:
    cause = f"{first['message']} (line {first['line']})" if first else "not well-formed"
    return ParseError(f"invalid XML in {path}: {cause}; recovery found no text")


def _repair(text: str) -> str:
    """The text repairs of recovery step 2, in one pass (CDATA, comments and PIs untouched)."""
    if text.startswith("<?xml") and not _GOOD_DECLARATION.match(text):
        # A broken XML declaration stops even libxml2's recover mode: drop it (lines kept).
        end = text.find(">") + 1 or len(text)
        text = "\n" * text.count("\n", 0, end) + text[end:]
    declared = set(_DECLARED_ENTITY.findall(text)) if "<!ENTITY" in text else set()

    def repair(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is not None:
            if name in _XML_PREDEFINED or name in declared:
                return match.group(0)
            char = html5.get(name + ";")
            if char is None:
                return "&amp;" + name + ";"
            return "".join(_ESCAPES.get(c, c) for c in char)
        number = match.group("number")
        if number is not None:
            code = int(number[1:], 16) if number[0] == "x" else int(number)
            return match.group(0) if _is_xml_char(code) else "\ufffd"
        if match.group("amp") is not None:
            return "&amp;"
        if match.group("lt") is not None:
            return "&lt;"
        control = match.group("control")
        if control is not None:
            return " " if control in "\x0b\x0c" else "\ufffd"
        return match.group(0)

    return _REPAIRABLE.sub(repair, text)


def _is_xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _wrap(text: str) -> str:
    """The text with everything after its prolog inside one synthetic root element."""
    end = _PROLOG.match(text).end()  # type: ignore[union-attr]  # it matches the empty string
    return f"{text[:end]}<{_FRAGMENT}>{text[end:]}</{_FRAGMENT}>"


# ---------------------------------------------------------------- tree helpers


def _split_tag(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


def _attributes(el: Any) -> dict[str, str]:
    if not el.attrib:
        return {}
    prefixes = {uri: prefix for prefix, uri in el.nsmap.items() if prefix}
    prefixes[_XML_NS] = "xml"
    out: dict[str, str] = {}
    for name, value in el.attrib.items():
        namespace, local = _split_tag(name)
        if namespace is not None and namespace in prefixes:
            name = f"{prefixes[namespace]}:{local}"
        out[name] = value
    return out


def _is_element(node: Any) -> bool:
    return isinstance(node.tag, str)


def _step(el: Any) -> str:
    """The name part of ``getpath``'s step: ``tag``, ``prefix:tag`` or ``*``."""
    namespace, local = _split_tag(el.tag)
    if namespace is None:
        return local
    return f"{el.prefix}:{local}" if el.prefix else "*"


def _child_paths(el: Any, xpath: str) -> list[str]:
    """The xpaths of ``el``'s child elements, as ``tree.getpath`` writes them.

    ``getpath`` counts siblings for every call, which is quadratic on a wide
    element (35,000 siblings took minutes); this is one pass per parent. Rules
    (libxml2's xmlGetNodePath): ``*`` steps are numbered among all sibling
    elements, named steps among siblings with the same prefixed name; the
    ``[n]`` is left out when the step is unique.
    """
    steps: list[tuple[str, Any]] = []
    for child in el:
        if _is_element(child):
            step = _step(child)
            steps.append((step, None if step == "*" else step))
    totals: dict[Any, int] = {}
    for step, key in steps:
        if key is not None:
            totals[key] = totals.get(key, 0) + 1
    seen: dict[Any, int] = {}
    paths: list[str] = []
    for position, (step, key) in enumerate(steps):
        if key is None:
            ordinal, total = position + 1, len(steps)
        else:
            ordinal = seen.get(key, 0) + 1
            seen[key] = ordinal
            total = totals[key]
        paths.append(f"{xpath}/{step}[{ordinal}]" if total > 1 else f"{xpath}/{step}")
    return paths


class _EntityText:
    """The text of an unexpanded entity reference: an HTML5 character, or ``&name;`` as written."""

    __slots__ = ("declared",)

    def __init__(self, top: Any) -> None:
        dtd = top.getroottree().docinfo.internalDTD
        self.declared = {entity.name for entity in dtd.iterentities()} if dtd is not None else set()

    def __call__(self, node: Any) -> str:
        name = node.name
        if name not in self.declared:
            char = html5.get(name + ";")
            if char is not None:
                return char
        return node.text if isinstance(node.text, str) else ""


# ---------------------------------------------------------------- walk


class _Walk:
    """Builds the node tree with an explicit stack; one entry per kept element in ``nodes``."""

    def __init__(self, doc: ParseInput, root: ParsedNode, top: Any) -> None:
        self.budget = ElementBudget(doc.limits)
        self.budget.spend(0)
        self.root = root
        self.entity_text = _EntityText(top)
        # Per kept element, in document order: its node and its content as a
        # list of text runs (str) and child element indexes (int).
        self.nodes: list[ParsedNode] = []
        self.contents: list[list[str | int]] = []
        self.links: list[tuple[str, int]] = []
        self.xpath_chars = 0
        self.title_index: int | None = None

    def new_element(self, el: Any, parent: ParsedNode, xpath: str) -> int:
        self.budget.spend()
        namespace, local = _split_tag(el.tag)
        node = parent.add(
            ParsedNode(
                ElementType.XML_ELEMENT,
                metadata={"tag": local, "namespace": namespace, "attributes": _attributes(el)},
                location={"xpath": xpath, "line_start": el.sourceline},
            )
        )
        self.xpath_chars += len(xpath)
        index = len(self.nodes)
        self.nodes.append(node)
        self.contents.append([])
        self.collect_links(el, index)
        if self.title_index is None and local == "title":
            self.title_index = index
        return index

    def collect_links(self, el: Any, index: int) -> None:
        for name in _LINK_ATTRIBUTES:
            href = (el.get(name) or "").strip()
            if href:
                self.budget.spend_link()
                self.links.append((href, index))

    def add_text(self, parent: ParsedNode, run: str, xpath: str, line: int | None) -> None:
        stripped = run.strip()
        if not stripped:
            return
        self.budget.spend()
        parent.add(
            ParsedNode(ElementType.XML_TEXT, text=stripped, location={"xpath": xpath or "/", "line_start": line})
        )

    def flat_text(self, el: Any, index: int) -> str:
        """All character data of a flattened subtree (its links go to element ``index``)."""
        parts: list[str] = [el.text or ""]
        self.collect_links(el, index)
        stack: list[Any] = []
        for child in reversed(el):
            stack.extend((child.tail or "", child))
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            elif _is_element(item):
                self.collect_links(item, index)
                parts.append(item.text or "")
                for child in reversed(item):
                    stack.extend((child.tail or "", child))
            else:
                parts.append(self.entity_text(item))
        return "".join(parts)

    def run(self, start: Any, index: int, depth: int) -> None:
        """Walk ``start`` (already ``nodes[index]``, at ``depth``) and everything below it."""
        stack: list[tuple[Any, int, int]] = [(start, index, depth)]
        while stack:
            el, index, depth = stack.pop()
            node = self.nodes[index]
            xpath = node.location.get("xpath", "") if node is not self.root else ""
            content = self.contents[index]
            run: list[str] = [el.text or ""]
            run_line = el.sourceline
            children: list[tuple[Any, int, int]] = []
            child_paths = _child_paths(el, xpath)
            position = 0
            for child in el:
                if not _is_element(child):
                    # An unexpanded entity reference (comments and PIs were removed).
                    run.append(self.entity_text(child))
                elif not self.budget.keeps(depth + 1):
                    run.append(self.flat_text(child, index))
                    position += 1
                else:
                    joined = "".join(run)
                    self.add_text(node, joined, xpath, run_line)
                    if joined:
                        content.append(joined)
                    child_index = self.new_element(child, node, child_paths[position])
                    position += 1
                    content.append(child_index)
                    children.append((child, child_index, depth + 1))
                    run = []
                    run_line = child.sourceline
                run.append(child.tail or "")
            joined = "".join(run)
            self.add_text(node, joined, xpath, run_line)
            if joined:
                content.append(joined)
            stack.extend(reversed(children))


def _parse(doc: ParseInput) -> ParseResult:
    root = new_root(format="xml")
    root.location = {"xpath": "/"}
    result = ParseResult(root=root)
    if not doc.data.strip():
        return result
    source = read_xml(doc)
    if not source.text.strip():
        return result
    loaded = _load(source.text, doc.path)
    top = loaded.top
    walk = _Walk(doc, root, top)
    if loaded.fragment:
        # The synthetic root stands for the document root: its content is the root's.
        walk.nodes.append(root)
        walk.contents.append([])
        walk.run(top, 0, 0)
    else:
        walk.run(top, walk.new_element(top, root, "/" + _step(top)), 1)
    _fill_texts(walk.nodes, walk.contents, len(source.text), walk.xpath_chars, doc.path)
    root.text = ""
    nodes = walk.nodes
    if loaded.metadata and not _has_content(nodes, root):
        raise _unrecoverable(doc.path, loaded.metadata.get("first_error"))
    for href, index in walk.links:
        result.links.append(ParsedLink(href=href, text=nodes[index].text, node=nodes[index]))
    if walk.title_index is not None and nodes[walk.title_index].text:
        result.title = nodes[walk.title_index].text
    first = next((n for n in nodes if n is not root), None)
    result.metadata = {
        "root_tag": first.metadata["tag"] if first is not None else None,
        "namespace": first.metadata["namespace"] if first is not None else None,
        **encoding_metadata(source.decoded),
        **loaded.metadata,
    }
    return walk.budget.finish(result)


def _has_content(nodes: list[ParsedNode], root: ParsedNode) -> bool:
    """Some text or attribute value survived (a recovered document without either fails)."""
    if any(child.element_type is ElementType.XML_TEXT for child in root.children):
        return True
    return any(node.text or node.metadata.get("attributes") for node in nodes if node is not root)


def _fill_texts(
    nodes: list[ParsedNode], contents: list[list[str | int]], input_size: int, xpath_chars: int, path: str
) -> None:
    """Set each element's text to its full text content, children before parents."""
    count = len(nodes)
    lengths = [0] * count
    total = xpath_chars
    for index in range(count - 1, -1, -1):
        length = 0
        for part in contents[index]:
            length += len(part) if isinstance(part, str) else lengths[part]
        lengths[index] = length
        total += length
    cap = max(_TEXT_FLOOR, _TEXT_FACTOR * input_size)
    if total > cap:
        raise ParseError(
            f"XML {path} is too deeply nested for its text: element texts and xpaths would total "
            f"{total:,} characters (limit {cap:,})"
        )
    full: list[str | None] = [None] * count
    for index in range(count - 1, -1, -1):
        pieces: list[str] = []
        for part in contents[index]:
            if isinstance(part, str):
                pieces.append(part)
            else:
                pieces.append(full[part] or "")
                full[part] = None  # the parent holds it now; free the raw copy
        raw = "".join(pieces)
        full[index] = raw
        nodes[index].text = raw.strip()
