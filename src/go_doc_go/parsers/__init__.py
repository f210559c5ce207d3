"""Parsers, one module per format, chosen by document type through one registry.

``parse_document`` is what the pipeline calls: the parser of the type, and
for a type that was only sniffed from the content, plain text when that
parser fails (``metadata["sniffed_as"]`` and ``metadata["parse_fallback"]``
say so). A limit error is never turned into a fallback: it fails the document.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from go_doc_go.exceptions import LimitExceededError, ParseError
from go_doc_go.model import ParseResult
from go_doc_go.parsers.base import ParseInput

Parser = Callable[[ParseInput], ParseResult]

# Modules are imported on first use, so a worker only loads the parsers it needs.
PARSER_MODULES: dict[str, str] = {
    "markdown": "go_doc_go.parsers.markdown",
    "html": "go_doc_go.parsers.html",
    "text": "go_doc_go.parsers.text",
    "csv": "go_doc_go.parsers.csv",
    "json": "go_doc_go.parsers.json",
    "xml": "go_doc_go.parsers.xml",
    "yaml": "go_doc_go.parsers.yaml",
    "toml": "go_doc_go.parsers.toml",
    "ini": "go_doc_go.parsers.ini",
    "code": "go_doc_go.parsers.code",
    # Binary formats; their libraries come with the ``formats`` extra (see sources.detect).
    "pdf": "go_doc_go.parsers.pdf",
    "docx": "go_doc_go.parsers.docx",
    "pptx": "go_doc_go.parsers.pptx",
    "xlsx": "go_doc_go.parsers.xlsx",
}

_loaded: dict[str, Parser] = {}


def get_parser(doc_type: str) -> Parser:
    parser = _loaded.get(doc_type)
    if parser is None:
        module = PARSER_MODULES.get(doc_type)
        if module is None:
            raise ParseError(f"no parser for document type {doc_type!r}")
        parser = _loaded[doc_type] = import_module(module).parse
    return parser


def parse_document(doc_type: str, doc: ParseInput, *, sniffed: bool = False) -> tuple[str, ParseResult]:
    """``(type stored, result)``: the type's parser, or text when a sniffed guess fails to parse."""
    parser = get_parser(doc_type)
    if not sniffed or doc_type == "text":
        return doc_type, parser(doc)
    try:
        return doc_type, parser(doc)
    except LimitExceededError:
        raise
    except ParseError as error:
        from go_doc_go.parsers.text import as_fallback

        return "text", as_fallback(doc, str(error), sniffed_as=doc_type)


__all__ = ["PARSER_MODULES", "ParseInput", "Parser", "get_parser", "parse_document"]
