"""Search a store: ``search(query, config, ...)``, hybrid full text + vectors (``engine``).

``go_doc_go.search`` is both this package and the public function of the same
name: importing the package (which ``go_doc_go.search.engine`` does) makes
``go_doc_go.search`` the module, so the module is made callable and calling it
is calling ``search``. ``go_doc_go.search("query")`` therefore works however
the names were imported.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

from go_doc_go.config import Config, as_config, config_from_dict
from go_doc_go.search.engine import MODES, Mode, SearchResponse, SearchResult, run_search
from go_doc_go.search.neighbourhood import Neighbourhood, Related, neighbourhood
from go_doc_go.storage import open_store

__all__ = ["MODES", "Neighbourhood", "Related", "SearchResponse", "SearchResult", "neighbourhood", "search"]


def search(
    query: str,
    config: Config | dict[str, Any] | str | os.PathLike[str] | None = None,
    *,
    db: str | os.PathLike[str] | None = None,
    limit: int = 10,
    source: str | None = None,
    element_type: str | None = None,
    related: bool = False,
    mode: Mode = "hybrid",
) -> SearchResponse:
    """Search the store of ``config`` (a Config, a dict, a YAML path; default: ``./go_doc_go.db``).

    ``db`` names a SQLite file instead. Hybrid ranking (full text + vectors, RRF)
    when the store holds vectors, full text alone otherwise; ``mode`` forces
    ``full_text`` or ``vector``. ``related`` adds each result's semantic
    neighbours and links. The store is opened read-only.
    """
    resolved = as_config(config) if config is not None else config_from_dict({})
    if db is not None:
        resolved = resolved.model_copy(deep=True)
        resolved.storage.backend = "sqlite"
        resolved.storage.path = os.fspath(db)
    store = open_store(resolved, read_only=True)
    try:
        return run_search(store, resolved, query, limit=limit, source=source, element_type=element_type,
                          related=related, mode=mode)  # fmt: skip
    finally:
        store.close()


class _CallableModule(types.ModuleType):
    """``go_doc_go.search(...)`` calls ``search`` even once the name is bound to this module."""

    def __call__(self, *args: Any, **kwargs: Any) -> SearchResponse:
        return search(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
