"""Shared by the PDF, DOCX, PPTX and XLSX parsers: their optional libraries, and document metadata.

The libraries come with the ``formats`` extra (``pip install 'go-doc-go[formats]'``).
Each parser imports its library on first use through ``require``, so that a
missing one fails that document with a message naming the extra (the listing
normally skips such files before: see ``sources.detect``), and importing the
parser registry stays light.
"""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from types import ModuleType
from typing import Any

from go_doc_go.exceptions import ParseError

EXTRA = "formats"


def require(module: str, label: str) -> ModuleType:
    """Import ``module`` (the library a parser needs) or fail the document naming the extra."""
    try:
        return import_module(module)
    except ImportError as error:
        raise ParseError(
            f"{module} is not installed ({error}); install go-doc-go[{EXTRA}] to ingest {label} files"
        ) from None


def iso(value: Any) -> str | None:
    """A date as ISO 8601 text (naive datetimes are kept as they are), else None."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return None


def core_metadata(props: Any) -> dict[str, Any]:
    """The OOXML core properties (docProps/core.xml) that are set, under stable names."""
    metadata: dict[str, Any] = {}
    for key, attribute in (
        ("title", "title"), ("author", "author"), ("subject", "subject"), ("keywords", "keywords"),
        ("category", "category"), ("last_modified_by", "last_modified_by"), ("description", "comments"),
    ):  # fmt: skip
        value = getattr(props, attribute, None)
        if isinstance(value, str) and value.strip():
            metadata[key] = value.strip()
    for key, attribute in (("created", "created"), ("modified", "modified")):
        try:
            value = iso(getattr(props, attribute, None))
        except (ValueError, TypeError):  # an unparseable date in core.xml
            value = None
        if value:
            metadata[key] = value
    return metadata
