"""Document type detection: the extension first, then a look at the content."""

from __future__ import annotations

import posixpath

EXTENSIONS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".mkd": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".txt": "text",
    ".text": "text",
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".xml": "xml",
}

TEXT_TYPES = frozenset(EXTENSIONS.values())


def type_from_extension(path: str) -> str | None:
    return EXTENSIONS.get(posixpath.splitext(path)[1].lower())


def sniff_type(head: bytes) -> str | None:
    """Guess from the first bytes; None means binary or unknown (not ingested)."""
    if not head:
        return "text"
    if b"\x00" in head:
        return None
    sample = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sample.startswith(b"<?xml"):
        return "html" if b"<html" in sample[:1024] else "xml"
    if sample.startswith((b"<!doctype html", b"<html")):
        return "html"
    if sample.startswith((b"{", b"[")):
        return "json"
    if sample.startswith(b"---\n") or sample.startswith(b"# "):
        return "markdown"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 4:
            return None
    return "text"


def looks_binary(head: bytes) -> bool:
    return b"\x00" in head
