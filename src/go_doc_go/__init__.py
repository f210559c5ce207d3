"""go-doc-go: turn collections of documents into a structured, searchable knowledge store.

The public names are loaded on first use, so ``import go_doc_go.model`` (what a
parser process or a worker imports first) pays for nothing it does not use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from go_doc_go.config import Config, config_from_dict, load_config, run_id
    from go_doc_go.exceptions import ConfigError, GoDocGoError
    from go_doc_go.ingest import IngestSummary, ingest_documents
    from go_doc_go.search import SearchResponse, SearchResult, search

_WHERE = {
    "Config": "go_doc_go.config",
    "config_from_dict": "go_doc_go.config",
    "load_config": "go_doc_go.config",
    "run_id": "go_doc_go.config",
    "ConfigError": "go_doc_go.exceptions",
    "GoDocGoError": "go_doc_go.exceptions",
    "IngestSummary": "go_doc_go.ingest",
    "ingest_documents": "go_doc_go.ingest",
    # go_doc_go.search is a package whose module is callable too (see go_doc_go/search/__init__.py).
    "search": "go_doc_go.search",
    "SearchResponse": "go_doc_go.search",
    "SearchResult": "go_doc_go.search",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'go_doc_go' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
