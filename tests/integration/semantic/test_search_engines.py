"""Search and semantic edges from a real ingest agree on SQLite, PostgreSQL, and PostgreSQL with pgvector."""

from __future__ import annotations

import pytest

from types import SimpleNamespace

from go_doc_go import ingest_documents, search
from go_doc_go.config import EmbeddingConfig, vector_model
from tests.helpers.stores import parsed
from tests.helpers.stores import rows as query
from tests.helpers.vectors import expected_edges
from tests.unit.search.test_search import CORPUS, PARAPHRASES

from .conftest import storage_section

pytestmark = [pytest.mark.postgres, pytest.mark.embeddings]
pytest.importorskip("numpy")


def corpus_config(engine: str, target: str) -> dict:
    return {
        "storage": storage_section(engine, target),
        "content_sources": [{"name": "kitchen", "base_path": str(CORPUS / "kitchen")},
                            {"name": "sea", "base_path": str(CORPUS / "sea")}],
        "embedding": {"enabled": True},
        "relationship_detection": {"cross_document_semantic": {"similarity_threshold": 0.5, "k": 2}},
        "processing": {"jobs": 1},
    }  # fmt: skip


def test_hybrid_search_and_semantic_edges_on_every_engine(engine, target, open_store, static_model_cache):
    config = corpus_config(engine, target)
    summary = ingest_documents(config)
    assert summary.processed == 5 and summary.units_embedded == 5 and not summary.failures
    for text, expected in PARAPHRASES:
        response = search(text, config, limit=3)
        assert response.mode == "hybrid" and response.results[0].path == expected, (text, response.results)
    exact = search("secateurs", config, mode="full_text").results
    assert [r.path for r in exact] == ["roses.md"] and exact[0].header_path == ["Roses", "Pruning"]
    store = open_store()
    assert store.vector_search == ("pgvector" if engine == "pgvector" else "numpy")
    found = query(store, "SELECT source_id, target_id, metadata FROM stored_relationships "
                         "WHERE relationship_type = 'semantic_similarity'")
    stored = {(s, t, parsed(m)["score"]) for s, t, m in found}
    as_rows = [SimpleNamespace(embeddings=[(e, c, d, None, None, None, len(v), v.astype("<f4").tobytes())
                                           for e, c, d, v in zip(b.element_ids, b.chunks, b.doc_ids, b.matrix)])
               for b in store.vector_blocks(vector_model(EmbeddingConfig(enabled=True)))]  # fmt: skip
    assert stored and stored == expected_edges(as_rows, 2, 0.5)
