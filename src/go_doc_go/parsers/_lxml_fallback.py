"""HTML that libxml2 cannot nest deep enough, re-read with Python's ``html.parser``.

libxml2 stops at its depth limit (2,048 open elements with ``huge_tree``) and
drops everything after it. Such pages exist: thousands of unclosed ``<div>``
or ``<font>`` tags. This module tokenizes the same text with the standard
library's ``html.parser`` (no depth limit, no recursion) and builds a plain
lxml tree the HTML parser's builder walks like libxml2's.

The tree follows the tags as written, with the implied ends browsers apply
most often: void elements (``br``, ``img``...) never open; a block start
closes an open ``p``; ``li``, ``dt``/``dd``, ``tr``, ``td``/``th`` and
``option`` close an open sibling of their kind; an end tag closes up to its
open element and is ignored when none is open. ``<title>`` goes to the head;
``script``, ``style``, ``noscript``, ``template``, comments, processing
instructions and declarations are skipped.

The tree is as deep as the tags say: the HTML parser's builder flattens
past ``parsers.max_depth`` and bounds the size of what it produces. A tag or
attribute name lxml cannot hold makes no element or attribute (its content is
kept); characters lxml cannot hold (C0 controls) become U+FFFD (form feed a
space).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from lxml import etree

_VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
_SKIPPED = frozenset(("script", "style", "noscript", "template"))
_IGNORED = frozenset(("html", "head", "body"))
# A start tag -> (open elements it closes, elements that end the search).
_CLOSES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "a": (frozenset(("a",)), frozenset(("table", "td", "th", "caption", "button"))),
    "li": (frozenset(("li",)), frozenset(("ul", "ol", "menu"))),
    "dt": (frozenset(("dt", "dd")), frozenset(("dl",))),
    "dd": (frozenset(("dt", "dd")), frozenset(("dl",))),
    "tr": (frozenset(("tr",)), frozenset(("table", "thead", "tbody", "tfoot"))),
    "td": (frozenset(("td", "th")), frozenset(("tr", "table"))),
    "th": (frozenset(("td", "th")), frozenset(("tr", "table"))),
    "option": (frozenset(("option",)), frozenset(("select",))),
}
_CLOSE_P = frozenset(
    """address article aside blockquote details dialog div dl fieldset figcaption figure footer form
    h1 h2 h3 h4 h5 h6 header hgroup hr main menu nav ol p pre section table ul""".split()
)
# An open p is only closed when no element of these sits above it (HTML's "button scope").
_P_SCOPE = frozenset("applet button caption marquee object table td template th".split())
# Implied ends look this far down the open elements at most (they almost
# always close something near the top; a bound keeps hostile input linear).
_IMPLIED_REACH = 128
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: " " if m.group(0) == "\x0c" else "\ufffd", text)


class _TreeBuilder(HTMLParser):
    """html.parser events -> an lxml ``html`` tree with ``head`` and ``body``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.html = etree.Element("html")
        self.head = etree.SubElement(self.html, "head")
        self.body = etree.SubElement(self.html, "body")
        self.stack: list[Any] = [self.body]
        self.open_count: dict[str, int] = {}
        self.unbuilt: dict[str, int] = {}
        self.pending: list[str] = []
        self.skip: str | None = None
        self.skip_depth = 0
        self.title: list[str] | None = None

    # ---------------------------------------------------------------- text

    def handle_data(self, data: str) -> None:
        if self.skip is not None:
            return
        if self.title is not None:
            self.title.append(data)
        else:
            self.pending.append(data)

    def flush(self) -> None:
        """Put the text read since the last tree change where it belongs (text or a tail)."""
        if not self.pending:
            return
        text = _clean("".join(self.pending))
        self.pending.clear()
        top = self.stack[-1]
        if len(top):
            last = top[-1]
            last.tail = (last.tail or "") + text
        else:
            top.text = (top.text or "") + text

    # ---------------------------------------------------------------- tags

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip is not None:
            self.skip_depth += tag == self.skip
            return
        if tag in _IGNORED:
            return
        if tag in _SKIPPED:
            self.skip, self.skip_depth = tag, 1
            return
        if tag == "title":
            self.title = []
            return
        self.implied_ends(tag)
        self.flush()
        try:
            el = etree.SubElement(self.stack[-1], tag)
        except ValueError:  # a tag name lxml cannot hold: no element, its content stays
            if tag not in _VOID:
                self.unbuilt[tag] = self.unbuilt.get(tag, 0) + 1
            return
        el.sourceline = self.getpos()[0]
        for name, value in attrs:
            try:
                el.set(name, _clean(value or ""))
            except ValueError:  # an attribute name lxml cannot hold
                continue
        if tag not in _VOID:
            self.stack.append(el)
            self.open_count[tag] = self.open_count.get(tag, 0) + 1

    def implied_ends(self, tag: str) -> None:
        closes = _CLOSES.get(tag)
        if closes is not None:
            self.close_open(closes[0], closes[1])
        elif tag in _CLOSE_P:
            self.close_open(frozenset(("p",)), _P_SCOPE)

    def close_open(self, names: frozenset[str], bounds: frozenset[str]) -> None:
        if not any(self.open_count.get(name) for name in names):
            return
        stack = self.stack
        for position in range(len(stack) - 1, max(0, len(stack) - 1 - _IMPLIED_REACH), -1):
            tag = stack[position].tag
            if tag in names:
                self.pop_to(position)
                return
            if tag in bounds:
                return

    def pop_to(self, position: int) -> None:
        """Close the open elements from ``position`` up."""
        self.flush()
        counts = self.open_count
        for el in self.stack[position:]:
            counts[el.tag] -= 1
        del self.stack[position:]

    def handle_endtag(self, tag: str) -> None:
        if self.skip is not None:
            if tag == self.skip:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip = None
            return
        if tag == "title" and self.title is not None:
            if self.head.find("title") is None:
                etree.SubElement(self.head, "title").text = _clean("".join(self.title))
            self.title = None
            return
        if self.unbuilt.get(tag):
            self.unbuilt[tag] -= 1
            return
        if not self.open_count.get(tag):
            return  # a stray end tag
        stack = self.stack
        for position in range(len(stack) - 1, 0, -1):
            if stack[position].tag == tag:
                self.pop_to(position)
                return

    def close(self) -> None:
        super().close()
        if self.title is not None:
            self.pending.extend(self.title)
            self.title = None
        self.flush()


def html_tree(text: str) -> Any:
    """The ``html`` root element of ``text`` as read by ``html.parser``."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.html
