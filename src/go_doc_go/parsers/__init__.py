"""Parsers, one module per format, chosen by document type through one registry."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from go_doc_go.exceptions import ParseError
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


__all__ = ["PARSER_MODULES", "ParseInput", "Parser", "get_parser"]
