"""Fixtures every test folder may use.

``static_model_cache``: the default embedding model (the static model distilled
from MiniLM) is built once per machine into the normal cache folder
(``GO_DOC_GO_CACHE``, else ``$XDG_CACHE_HOME/go-doc-go``, else
``~/.cache/go-doc-go``), under a file lock, so parallel test workers build it
once between them and later runs find it. Tests that embed depend on it (and
are marked ``embeddings``); their subprocesses inherit the same environment,
so they find the same folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def static_model_cache() -> Path:
    pytest.importorskip("numpy")
    pytest.importorskip("tokenizers")
    pytest.importorskip("onnxruntime")
    from go_doc_go.config import EmbeddingConfig
    from go_doc_go.embeddings.base import prepare_provider
    from go_doc_go.embeddings.models import cache_dir

    prepare_provider(EmbeddingConfig(enabled=True))  # distils the first time (about 45 s of CPU), else a stat
    return cache_dir()
