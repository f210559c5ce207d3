"""XML parser: root > xml_element tree, with xml_text nodes for character data.

Parsing is hardened: entities are not substituted, no DTD or network access,
no ``huge_tree``, comments and processing instructions dropped. libxml2 refuses
entity-amplification documents (billion laughs) outright, which becomes a
ParseError; an external entity (XXE) is never read: its reference stays in the
text as the literal ``&name;``.

Tree rules:

* each element -> ``xml_element``, metadata ``{"tag": local name,
  "namespace": uri or None, "attributes": {name: value}}`` (namespaced
  attribute names use the document's prefix, e.g. ``xlink:href``);
* character data -> ``xml_text`` children in document order: an element's
  leading text first, then each child element followed by that child's tail
  text (tail text belongs to the parent). Whitespace-only runs (indentation)
  get no node. Unexpanded entity references are kept as ``&name;`` in the
  surrounding text.

Text: an ``xml_text`` node holds its run stripped of surrounding whitespace; an
``xml_element`` holds its full text content (all descendant character data in
order, like ``itertext``), stripped. It is computed bottom-up in one pass, and
since ancestors repeat their descendants' text, the total is checked against a
cap first so a deep document cannot make the output quadratic in its size.
The root node's text is empty.

Locations: elements ``{"xpath": ..., "line_start": el.sourceline}``, the xpath
being what ``tree.getpath(el)`` returns, computed in one pass per parent;
text nodes the xpath of the element that owns them and the line of the element
they start after (their owner for leading text, the previous child for tails).

Title: the full text of the first element named ``title`` (any namespace).
Links: ``href`` and ``xlink:href`` attribute values, with the element's text.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, new_root

_XLINK = "http://www.w3.org/1999/xlink"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_LINK_ATTRIBUTES = ("href", "{%s}href" % _XLINK)
# Element texts repeat their descendants' text; allow this many characters in
# total, or this multiple of the input size, whichever is larger.
_TEXT_FLOOR = 32 * 1024 * 1024
_TEXT_FACTOR = 64


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse(doc: ParseInput) -> ParseResult:
    return guarded("XML", _parse, doc, invalid=(etree.XMLSyntaxError,))


def _load(doc: ParseInput) -> tuple[Any, bool]:
    """The root element, and whether invalid UTF-8 had to be replaced to read it."""
    try:
        return etree.fromstring(doc.data, _parser()), False
    except etree.XMLSyntaxError as first:
        try:
            doc.data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise
        if doc.data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise
        # Invalid UTF-8: read it the way text parsers do (U+FFFD) and try again.
        try:
            return etree.fromstring(doc.text().encode("utf-8"), _parser()), True
        except etree.XMLSyntaxError:
            raise first from None


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


def _parse(doc: ParseInput) -> ParseResult:
    root = new_root(format="xml")
    root.location = {"xpath": "/"}
    result = ParseResult(root=root)
    if not doc.data.strip() or not doc.text().strip():
        return result

    top, repaired = _load(doc)
    budget = ElementBudget(doc.limits)
    budget.spend(0)

    # One entry per element, in document order: its node and its content as a
    # list of text runs (str) and child element indexes (int).
    nodes: list[ParsedNode] = []
    contents: list[list[str | int]] = []
    pending_links: list[tuple[str, int]] = []
    title_index: int | None = None

    def new_element(el: Any, parent: ParsedNode, depth: int, xpath: str) -> int:
        budget.spend(depth)
        namespace, local = _split_tag(el.tag)
        attributes = _attributes(el)
        node = parent.add(
            ParsedNode(
                ElementType.XML_ELEMENT,
                metadata={"tag": local, "namespace": namespace, "attributes": attributes},
                location={"xpath": xpath, "line_start": el.sourceline},
            )
        )
        index = len(nodes)
        nodes.append(node)
        contents.append([])
        for name in _LINK_ATTRIBUTES:
            href = (el.get(name) or "").strip()
            if href:
                pending_links.append((href, index))
        return index

    def add_text(parent: ParsedNode, run: str, xpath: str, line: int | None, depth: int) -> None:
        stripped = run.strip()
        if not stripped:
            return
        budget.spend(depth)
        parent.add(
            ParsedNode(
                ElementType.XML_TEXT,
                text=stripped,
                location={"xpath": xpath, "line_start": line},
            )
        )

    stack: list[tuple[Any, int, int]] = [(top, new_element(top, root, 1, "/" + _step(top)), 1)]
    while stack:
        el, index, depth = stack.pop()
        node = nodes[index]
        if title_index is None and _split_tag(el.tag)[1] == "title":
            title_index = index
        xpath = node.location["xpath"]
        content = contents[index]
        run: list[str] = [el.text or ""]
        run_line = el.sourceline
        children: list[tuple[Any, int, int]] = []
        child_paths = _child_paths(el, xpath)
        for child in el:
            if _is_element(child):
                joined = "".join(run)
                add_text(node, joined, xpath, run_line, depth + 1)
                if joined:
                    content.append(joined)
                child_index = new_element(child, node, depth + 1, child_paths[len(children)])
                content.append(child_index)
                children.append((child, child_index, depth + 1))
                run = [child.tail or ""]
                run_line = child.sourceline
            else:
                # An unexpanded entity reference (comments and PIs were removed).
                text = child.text if isinstance(child.text, str) else ""
                run.append(text)
                run.append(child.tail or "")
        joined = "".join(run)
        add_text(node, joined, xpath, run_line, depth + 1)
        if joined:
            content.append(joined)
        stack.extend(reversed(children))

    _fill_texts(nodes, contents, len(doc.data), doc.path)

    for href, index in pending_links:
        result.links.append(ParsedLink(href=href, text=nodes[index].text, node=nodes[index]))
    if title_index is not None and nodes[title_index].text:
        result.title = nodes[title_index].text
    namespace, local = _split_tag(top.tag)
    result.metadata = {"root_tag": local, "namespace": namespace}
    if repaired:
        result.metadata["encoding_repaired"] = True
    return result


def _fill_texts(
    nodes: list[ParsedNode], contents: list[list[str | int]], input_size: int, path: str
) -> None:
    """Set each element's text to its full text content, children before parents."""
    count = len(nodes)
    lengths = [0] * count
    total = 0
    for index in range(count - 1, -1, -1):
        length = 0
        for part in contents[index]:
            length += len(part) if isinstance(part, str) else lengths[part]
        lengths[index] = length
        total += length
    cap = max(_TEXT_FLOOR, _TEXT_FACTOR * input_size)
    if total > cap:
        raise ParseError(
            f"XML {path} is too deeply nested for its text: element texts would total "
            f"{total} characters (limit {cap})"
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
