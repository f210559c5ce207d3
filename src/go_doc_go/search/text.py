"""Query words and snippets: the text side of search, the same for both engines.

Query words are what both full-text indexes tokenize alike: runs of letters and
digits, lower-cased. Common English words are dropped when others remain (the
words are OR-ed, as a user's paraphrase rarely has all of them; a "the" would
match everything). A snippet is the window of an element's text around its
first match, with the offsets of every match in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: At most this many words of a query are searched.
MAX_TERMS = 32
SNIPPET_CHARS = 200

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be but by can do does for from how i if in into is it its me my of on or so such "
    "that the their then there these they this to was what when where which while who why will with you your "
    "should would could we our us not no yes use using get".split()
)


def query_terms(query: str) -> list[str]:
    """The words of ``query`` to search for, in order, without repeats (stopwords dropped when others remain)."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    content = [w for w in words if w not in STOPWORDS]
    return (content or words)[:MAX_TERMS]


@dataclass(frozen=True, slots=True)
class Snippet:
    text: str
    #: ``[start, end)`` character offsets of the query words inside ``text``.
    highlights: list[tuple[int, int]]


def snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> Snippet:
    """The ``width`` characters of ``text`` around its first query word (the start if none), whitespace folded."""
    flat = " ".join(text.split())
    if not flat:
        return Snippet("", [])
    pattern = _terms_pattern(terms)
    first = pattern.search(flat) if pattern else None
    start = 0
    if first is not None and first.start() > width // 3:
        start = flat.rfind(" ", 0, first.start() - width // 3) + 1
    end = min(len(flat), start + width)
    if end < len(flat):
        cut = flat.rfind(" ", start + width // 2, end)
        end = cut if cut > start else end
    window = flat[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shown = prefix + window + suffix
    marks = [(m.start() + len(prefix), m.end() + len(prefix)) for m in pattern.finditer(window)] if pattern else []
    return Snippet(shown, marks)


def _terms_pattern(terms: list[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)
