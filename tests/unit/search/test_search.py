"""Search on a small fixed corpus (tests/data/search): hybrid ranking, full text alone, filters, related.

Marked ``embeddings``: the corpus is ingested with the default (static) model.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import go_doc_go
from go_doc_go import ingest_documents, search
from go_doc_go.config import config_from_dict

pytestmark = pytest.mark.embeddings
pytest.importorskip("numpy")

CORPUS = Path(__file__).resolve().parents[2] / "data" / "search"


def corpus_config(db: Path, *, embeddings: bool = True) -> dict:
    return {
        "storage": {"path": str(db)},
        "content_sources": [{"name": "kitchen", "base_path": str(CORPUS / "kitchen")},
                            {"name": "sea", "base_path": str(CORPUS / "sea")}],
        "embedding": {"enabled": embeddings},
        "relationship_detection": {"cross_document_semantic": {"similarity_threshold": 0.5, "k": 2}},
        "processing": {"jobs": 1},
    }  # fmt: skip


@pytest.fixture(scope="module")
def store_config(tmp_path_factory, static_model_cache) -> dict:
    db = tmp_path_factory.mktemp("search") / "store.db"
    config = corpus_config(db)
    summary = ingest_documents(config)
    assert summary.processed == 5 and not summary.failures
    return config


#: Paraphrases: the expected document shares no word, or hardly any, with the query.
PARAPHRASES = [
    ("measuring the height of the sea", "tides.md"),
    ("how warm should the oven be", "cakes.md"),
    ("trimming flowers", "roses.md"),
    ("setting up the software in a virtualenv", "install.md"),
    ("tying up a yacht", "boats.md"),
]


@pytest.mark.parametrize(("query", "expected"), PARAPHRASES)
def test_hybrid_search_ranks_the_paraphrased_document_first(store_config, query, expected):
    response = search(query, store_config, limit=3)
    assert response.mode == "hybrid" and response.model
    assert response.results[0].path == expected, [r.path for r in response.results]
    assert [r.rank for r in response.results] == [1, 2, 3]
    assert response.results[0].score >= response.results[1].score


def test_vectors_find_what_shares_no_word_and_full_text_finds_the_exact_words(store_config):
    assert search("pastry dessert", store_config, mode="full_text").results == []
    assert search("pastry dessert", store_config, mode="vector").results[0].path == "cakes.md"
    exact = search("secateurs", store_config, mode="full_text").results
    assert [r.path for r in exact] == ["roses.md"]
    hit = exact[0]
    assert hit.header_path == ["Roses", "Pruning"] and hit.element_type == "header"
    assert "secateurs" in hit.snippet and [hit.snippet[a:b] for a, b in hit.highlights] == ["secateurs"]
    assert hit.full_text_rank == 1 and hit.vector_rank is None


def test_a_hybrid_result_carries_document_header_path_snippet_and_both_ranks(store_config):
    [first, *_] = search("tide gauge sea level", store_config, limit=5).results
    assert (first.source, first.path, first.title) == ("sea", "tides.md", "Tides")
    assert first.full_text_rank == 1 and first.vector_rank is not None and first.similarity is not None
    assert "sea level" in first.snippet


def test_filters_keep_one_source_or_one_element_type(store_config):
    sea = search("harbor water", store_config, limit=10, source="sea").results
    assert sea and {r.source for r in sea} == {"sea"}
    tables = search("cupcakes temperature minutes", store_config, element_type="table").results
    assert tables and {r.element_type for r in tables} == {"table"} and tables[0].path == "cakes.md"
    code = search("pip install", store_config, element_type="code_block").results
    assert [r.path for r in code] == ["install.md"] and "pip install" in code[0].snippet


def test_related_gives_semantic_neighbours_and_links(store_config):
    [tides] = [r for r in search("spring neap tides", store_config, limit=3, related=True).results
               if r.path == "tides.md"]  # fmt: skip
    kinds = {(item.relationship_type, item.path) for item in tides.related}
    assert ("links_to", "boats.md") in kinds, "the link of the spring tides section"
    semantic = [item for item in tides.related if item.relationship_type == "semantic_similarity"]
    assert semantic and all(item.path != "tides.md" and item.score >= 0.5 for item in semantic)


def test_without_embeddings_search_is_full_text_and_says_so(tmp_path):
    config = corpus_config(tmp_path / "plain.db", embeddings=False)
    ingest_documents(config)
    response = search("sea level", config)
    assert response.mode == "full_text" and response.model is None
    assert response.results[0].path == "tides.md"
    assert any("no vectors" in note for note in response.notes)
    with pytest.raises(ValueError, match="vector search needs embeddings"):
        search("sea level", config, mode="vector")


def test_a_store_embedded_earlier_is_searched_with_its_own_model_given_only_the_file(store_config):
    response = search("trimming flowers", db=store_config["storage"]["path"])
    assert response.mode == "hybrid" and response.results[0].path == "roses.md"


def test_go_doc_go_search_is_callable_however_it_was_imported(store_config):
    code = ("import go_doc_go.search.engine, go_doc_go, sys; "
            f"r = go_doc_go.search('trimming flowers', db={store_config['storage']['path']!r}); "
            "print(r.results[0].path)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "roses.md"
    assert callable(go_doc_go.search)
