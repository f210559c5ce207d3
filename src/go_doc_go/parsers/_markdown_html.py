"""Raw HTML blocks inside Markdown: their text, links, anchors and images.

An HTML block (CommonMark's html_block) stays one ``paragraph`` element with
``{"html": True}``. Its source is parsed with lxml as a fragment, hardened as
the HTML parser is (no network, comments, processing instructions, ``script``,
``style``, ``noscript`` and ``template`` dropped, libxml2's depth limit kept)
and walked with an explicit stack:

* text: the HTML's text, whitespace collapsed (``<pre>`` kept verbatim), one
  line per block-level element or ``<br>``; tags within words follow the
  inline-HTML rule of ``_markdown_common.inline_html`` (``wo<b>r</b>d`` is
  one word, ``<code>a</code><code>b</code>`` two);
* ``<a href>``: a link of the element, its text the link's text (else an image's alt);
* ``id`` of any element and ``name`` of ``<a>``: anchors of the element;
* ``<img>``: an ``image`` child {"src", "alt"[, "title"]}, alt text kept in the text.

Nested past libxml2's limit (256), the block's text is taken with the tags
stripped instead (nothing is lost) and ``{"html_flattened": True}`` is noted.
"""

from __future__ import annotations

import html as _html
import re
from typing import Any

import lxml.etree
import lxml.html

from go_doc_go.model import ParsedNode
from go_doc_go.parsers._markdown_common import (
    _IMAGE,
    BOUNDARY,
    INLINE_TAGS,
    WalkState,
    add_link,
    resolve_markers,
)

_PARSER = lxml.html.HTMLParser(
    remove_comments=True, remove_pis=True, no_network=True, recover=True, huge_tree=False
)
_SKIP = frozenset(("script", "style", "noscript", "template", "head", "title", "meta", "link", "base"))
_BLOCK_TAGS = frozenset(
    """address article aside blockquote body caption center dd details dialog dir div dl dt
    fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li
    main menu nav ol p pre section summary table tbody td tfoot th thead tr ul""".split()
)
_LINE = "\0n"  # a line boundary while the text is built
_WS = re.compile(r"[ \t\n\r\f\v]+")
_TAGS = re.compile(r"<[^>]*>")


def html_block(source: str, node: ParsedNode, state: WalkState) -> str:
    """The text of an HTML block; its links, anchors and images go to ``node``."""
    if "<" not in source:
        return _lines(_WS.sub(" ", _html.unescape(source)))
    try:
        root = lxml.html.fragment_fromstring(source, create_parent="div", parser=_PARSER)
    except (lxml.etree.LxmlError, ValueError):
        root = None
    if root is None or any(e.type_name == "ERR_RESOURCE_LIMIT" for e in _PARSER.error_log):
        node.metadata["html_flattened"] = True
        return _lines(_WS.sub(" ", _html.unescape(_TAGS.sub(" ", source))))
    return _walk(root, node, state)


def _walk(root: Any, node: ParsedNode, state: WalkState) -> str:
    parts: list[str] = []
    pre = 0  # open <pre> elements: whitespace kept verbatim
    stack: list[tuple[Any, int]] = [(root, -1)]  # (element, -1 on enter, else where its text starts)
    while stack:
        el, start = stack.pop()
        tag = el.tag
        if start >= 0:  # leaving the element
            name = tag.lower()
            if name == "pre":
                pre -= 1
            if name == "a":
                href = (el.get("href") or "").strip()
                if href:
                    add_link(state, href, _link_text(parts[start:], el), node)
            parts.append(_mark(name, closing=True))
            _text(parts, el.tail, pre)
            continue
        if not isinstance(tag, str):  # comment or processing instruction left over
            _text(parts, el.tail, pre)
            continue
        name = tag.lower()
        if name in _SKIP:
            _text(parts, el.tail, pre)
            continue
        anchor = (el.get("id") or "").strip() or ((el.get("name") or "").strip() if name == "a" else "")
        if anchor:
            node.add_anchor(anchor)
        if name == "pre":
            pre += 1
        stack.append((el, len(parts)))
        parts.append(_mark(name, closing=False))
        if name == "img":
            _image(el, node, state, parts)
        _text(parts, el.text, pre)
        for child in reversed(el):
            stack.append((child, -1))
    return _lines("".join(parts))


def _mark(name: str, closing: bool) -> str:
    if name in _BLOCK_TAGS or name == "br":
        return _LINE
    if name in INLINE_TAGS:
        return "\0c" if closing else "\0o"
    return BOUNDARY


def _text(parts: list[str], text: str | None, pre: int) -> None:
    if text:
        parts.append(text if pre else _WS.sub(" ", text))


def _lines(raw: str) -> str:
    """Resolve the markers: one line per block, words separated where tags separate them."""
    pieces = (resolve_markers(piece).strip() for piece in raw.split(_LINE))
    return "\n".join(piece for piece in pieces if piece)


def _link_text(parts: list[str], el: Any) -> str:
    text = _WS.sub(" ", _lines("".join(parts)))
    if not text:
        img = next(el.iter("img"), None)
        if img is not None:
            text = (img.get("alt") or "").strip()
    return text


def _image(el: Any, node: ParsedNode, state: WalkState, parts: list[str]) -> None:
    alt = _WS.sub(" ", el.get("alt") or "").strip()
    meta: dict[str, Any] = {"src": (el.get("src") or "").strip(), "alt": alt}
    title = (el.get("title") or "").strip()
    if title:
        meta["title"] = title
    state.budget.spend()
    node.children.append(ParsedNode(_IMAGE, text=alt, metadata=meta, location=dict(node.location)))
    if alt:
        parts.append(alt)
        parts.append(BOUNDARY)
