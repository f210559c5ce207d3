"""What the two Markdown backends (``markdown`` and ``_markdown_pyromark``) share.

Element types, the separators containers join their children's text with, the
state one document's walk keeps across the chunks an admonition splits it into,
and the rules both backends must apply identically: raw inline HTML (word
boundaries, anchors, ``<a href>`` links), attribute lists on headers, front
matter detection, the bound on text repeated by nested containers.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers._headings import Sections, Slugger
from go_doc_go.parsers.base import ElementBudget

_ROOT = ElementType.ROOT
_HEADER = ElementType.HEADER
_PARAGRAPH = ElementType.PARAGRAPH
_LIST = ElementType.LIST
_LIST_ITEM = ElementType.LIST_ITEM
_TABLE = ElementType.TABLE
_TABLE_ROW = ElementType.TABLE_ROW
_TABLE_HEADER = ElementType.TABLE_HEADER
_TABLE_CELL = ElementType.TABLE_CELL
_CODE = ElementType.CODE_BLOCK
_QUOTE = ElementType.BLOCKQUOTE
_IMAGE = ElementType.IMAGE
_HR = ElementType.HORIZONTAL_RULE
_ADMONITION = ElementType.ADMONITION
_TAB = ElementType.TAB

# Separator used to join the children's text of each container type.
_ROW_SEP = " | "
_BLOCK_SEP = "\n"

# Containers repeat their descendants' text, so nesting multiplies text size:
# the text of all containers together may be at most this many times the
# document's length (plus a constant), or the document fails.
TEXT_FACTOR = 16
TEXT_SLACK = 1_000_000


class WalkState:
    """One document's tree under construction, kept across the chunks it is parsed in.

    ``frames`` holds the open containers in the backend's own frame layout;
    ``top`` is the innermost open header section (or the root) and ``sdepth``
    its depth. ``text_left`` bounds the text repeated by nested containers.
    """

    __slots__ = ("root", "result", "links", "budget", "sections", "slugger", "frames",
                 "top", "sdepth", "first_h1", "text_left")  # fmt: skip

    def __init__(self, result: ParseResult, budget: ElementBudget, source_chars: int) -> None:
        self.root = result.root
        self.result = result
        self.links = result.links
        self.budget = budget
        self.sections = Sections(result.root)
        self.slugger = Slugger()
        self.frames: list[list[Any]] = []
        self.top: ParsedNode = result.root
        self.sdepth = 0
        self.first_h1: str | None = None
        self.text_left = TEXT_FACTOR * source_chars + TEXT_SLACK


def text_exceeded() -> ParseError:
    return ParseError(
        f"text repeated by nested containers exceeds {TEXT_FACTOR}x the document size "
        "(lower parsers.max_depth to flatten deep nesting sooner)"
    )


def add_link(state: WalkState, href: str, text: str, node: ParsedNode) -> None:
    """Report a link (counted against ``parsers.max_links``)."""
    state.budget.spend_link()
    state.links.append(ParsedLink(href, text, node))


# ------------------------------------------------------------ raw inline HTML
#
# Raw inline HTML tags add no text of their own, but they may separate words.
# Tags are markers in the text while a block is built, resolved when it ends:
# ``\0b`` a word boundary, ``\0o`` / ``\0c`` the opening / closing tag of an
# inline (phrasing) element. NUL never occurs in the text: both backends
# replace it with U+FFFD, as CommonMark says.

BOUNDARY = "\0b"
_OPEN = "\0o"
_CLOSE = "\0c"

#: Phrasing elements that style part of a word: ``wo<b>r</b>d`` is one word.
INLINE_TAGS = frozenset(
    """a abbr acronym b bdi bdo big cite data del dfn em font i ins label mark nobr q rb rp rt
    rtc ruby s small span strike strong sub sup time u wbr""".split()
)

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_ATTR = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
# A closing inline tag directly followed by an opening one (``</span><span>``): two words.
_ADJACENT = re.compile("\0c(?:\0[cb])*\0o")
_MARKUP = re.compile("\0[co]")
_BETWEEN_WORDS = re.compile(r"(?<=\w)(?:\0b)+(?=\w)")


@lru_cache(maxsize=2048)
def inline_html(raw: str) -> tuple[str, tuple[str, ...], str | None, bool]:
    """What one raw inline HTML tag means: (text, anchors, href opened, closes ``<a>``).

    ``<br>`` is a line break; the tags in ``INLINE_TAGS`` are markup within
    words; any other tag (block-level, ``<code>``, ``<kbd>``, ``<img>``,
    unknown) is a word boundary. Comments, processing instructions and
    declarations are nothing. ``id`` (and ``name`` on ``<a>``) are anchors.
    """
    match = _TAG.match(raw)
    if match is None:
        return "", (), None, False
    closing = bool(match.group(1))
    name = match.group(2).lower()
    if name == "br":
        text = "\n"
    elif name in INLINE_TAGS:
        text = _CLOSE if closing else _OPEN
    else:
        text = BOUNDARY
    if closing:
        return text, (), None, name == "a"
    attrs = tag_attributes(raw[match.end() :])
    anchors = tuple(a for a in (attrs.get("id"), attrs.get("name") if name == "a" else None) if a)
    href = attrs.get("href") if name == "a" else None
    return text, anchors, (href or None), False


def tag_attributes(rest: str) -> dict[str, str]:
    """Attributes of a tag's source after its name (first occurrence wins, values stripped)."""
    attrs: dict[str, str] = {}
    for m in _ATTR.finditer(rest.rstrip(">").rstrip("/")):
        key = m.group(1).lower()
        if key not in attrs:
            value = m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None else m.group(4)
            attrs[key] = (value or "").strip()
    return attrs


def resolve_markers(text: str) -> str:
    """Turn inline-HTML markers into text: a space where a boundary falls between two word characters."""
    if "\0" not in text:
        return text
    text = _MARKUP.sub("", _ADJACENT.sub(BOUNDARY, text))
    return _BETWEEN_WORDS.sub(" ", text).replace(BOUNDARY, "")


# ------------------------------------------------------------ header attribute lists

# Python-Markdown attr_list / kramdown / pandoc: ``## Title {#id .class key=value}``,
# optionally ``{: ...}``, at the end of the heading after whitespace.
_ATTR_LIST = re.compile(r"(?:^|[ \t]+)\{:?[ \t]*([^{}\n]*?)[ \t]*\}[ \t]*\Z")
_ATTR_ITEM = re.compile(r"""#([^\s#.{}=]+)|\.([^\s#.{}=]+)|([A-Za-z_][\w.:-]*)=(?:"([^"]*)"|'([^']*)'|([^\s"'{}]+))""")


def header_attributes(text: str) -> tuple[str, str | None, list[str], dict[str, str]] | None:
    """``(text without the list, id, classes, other attributes)``, or None when there is none.

    Every item must be ``#id``, ``.class`` or ``key=value``; anything else
    means the braces are literal text.
    """
    if not text.endswith("}") and not text.rstrip(" \t").endswith("}"):
        return None
    match = _ATTR_LIST.search(text)
    if match is None or not match.group(1):
        return None
    anchor: str | None = None
    classes: list[str] = []
    attrs: dict[str, str] = {}
    pos = 0
    body = match.group(1)
    while pos < len(body):
        if body[pos] in " \t":
            pos += 1
            continue
        item = _ATTR_ITEM.match(body, pos)
        if item is None or (item.end() < len(body) and body[item.end()] not in " \t"):
            return None
        if item.group(1):
            anchor = item.group(1)
        elif item.group(2):
            classes.append(item.group(2))
        else:
            value = next((v for v in item.group(4, 5, 6) if v is not None), "")
            attrs[item.group(3)] = value
        pos = item.end()
    return text[: match.start()].rstrip(" \t"), anchor, classes, attrs


def finish_header(node: ParsedNode, text: str, slugger: Slugger) -> str:
    """Set a header's text and anchors: attribute-list id (else GitHub slug), then HTML ids.

    Returns the header's text (its attribute list removed).
    """
    html_anchors = node.anchors if node.anchor is not None else None
    explicit: str | None = None
    if "}" in text:
        found = header_attributes(text)
        if found is not None:
            text, explicit, classes, attrs = found
            if classes:
                node.metadata["classes"] = classes
            if attrs:
                node.metadata["attributes"] = attrs
    node.text = text
    if explicit is not None:
        slugger.reserve(explicit)
        anchor: str | None = explicit
    else:
        anchor = slugger.slug(text)
    if html_anchors is None:
        node.anchor = anchor
    else:
        node.anchor = None
        node.more_anchors = None
        if anchor is not None:
            node.add_anchor(anchor)
        for extra in html_anchors:
            node.add_anchor(extra)
    return text


# ------------------------------------------------------------ front matter


def find_front_matter(src: str) -> tuple[str, int, int] | None:
    """mdit-py-plugins' front_matter rule: (content, offset after it, lines it spans).

    Lines are measured the way markdown-it's StateBlock measures them, but only
    as far as the closing marker.
    """
    length = len(src)
    find = src.find

    def line_at(start: int) -> tuple[int, int, int] | None:
        """(first non-blank offset, end offset, indent width) of the line at ``start``."""
        if start >= length:
            return None
        end = find("\n", start)
        if end < 0:
            end = length
        pos = start
        width = 0
        while pos < end:
            ch = src[pos]
            if ch != " " and ch != "\t":
                break
            width += 4 - width % 4 if ch == "\t" else 1
            pos += 1
        if pos == end == length:
            return None  # a final blank line without "\n" is no line for markdown-it
        return pos, end, width

    def skip_spaces(pos: int) -> int:
        while pos < length and src[pos] in " \t":
            pos += 1
        return pos

    first = line_at(0)
    if first is None or src[0] != "-":
        return None
    maximum = first[1]
    pos = 1
    while pos <= maximum and pos < length and src[pos] == "-":
        pos += 1
    marker_count = pos
    if marker_count < 3:
        return None
    body_start = maximum + 1  # offset of line 1
    line_start = body_start
    prev_end = maximum
    n = 0
    while True:
        n += 1
        info = line_at(line_start)
        if info is None:
            return None  # unclosed: not front matter
        start, maximum, width = info
        closed = False
        if width == 0 and src.startswith("...", start) and skip_spaces(start + 3) >= maximum:
            closed = True
        elif src[start : start + 1] == "-" and width < 4:
            pos = start + 1
            while pos < maximum and src[pos] == "-":
                pos += 1
            closed = pos - start >= marker_count and skip_spaces(pos) >= maximum
        if closed:
            content = src[body_start:prev_end] if n > 1 else ""
            after = maximum + 1 if maximum < length else length
            return content, after, n + 1
        prev_end = maximum
        line_start = maximum + 1


def normalize(text: str) -> str:
    """CommonMark's input normalization, done once for both backends: newlines and NUL."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in text:
        text = text.replace("\0", "\ufffd")
    return text
