"""Document type detection: the extension first, then a look at the content.

Binary formats (PDF, DOCX, PPTX, XLSX) are parsed with optional libraries (the
``formats`` extra). Where a format's library is not installed, its files are
not typed (so they are skipped) and ``missing_extra`` gives the skip reason.
"""

from __future__ import annotations

import posixpath
from importlib.util import find_spec

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

#: Binary formats: extension -> type, and the module each type needs (installed by ``EXTRA``).
BINARY_EXTENSIONS = {".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx"}
BINARY_MODULES = {"pdf": "pypdfium2", "docx": "docx", "pptx": "pptx", "xlsx": "openpyxl"}
EXTRA = "formats"
_installed: dict[str, bool] = {}


def type_from_extension(path: str) -> str | None:
    extension = posixpath.splitext(path)[1].lower()
    doc_type = EXTENSIONS.get(extension)
    if doc_type is None and extension in BINARY_EXTENSIONS:
        doc_type = BINARY_EXTENSIONS[extension]
        return doc_type if installed(doc_type) else None
    return doc_type


def installed(doc_type: str) -> bool:
    """Is the library a binary type needs importable here? (Checked once per process, without importing it.)"""
    found = _installed.get(doc_type)
    if found is None:
        module = BINARY_MODULES.get(doc_type)
        found = _installed[doc_type] = module is None or find_spec(module) is not None
    return found


def missing_extra(path: str) -> str | None:
    """Why a file of a known binary format is skipped: the hint naming the extra, else None."""
    extension = posixpath.splitext(path)[1].lower()
    doc_type = BINARY_EXTENSIONS.get(extension)
    if doc_type is None or installed(doc_type):
        return None
    return f"install go-doc-go[{EXTRA}] to ingest {extension} files ({BINARY_MODULES[doc_type]} is not installed)"


def sniff_type(head: bytes) -> str | None:
    """Guess from the first bytes; None means binary or unknown (not ingested)."""
    if not head:
        return "text"
    if head.startswith(b"%PDF-"):
        return "pdf" if installed("pdf") else None
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
