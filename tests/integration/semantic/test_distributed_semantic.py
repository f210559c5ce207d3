"""Distributed post-processing gives the same semantic edges (and vectors) as single mode, pass after pass.

The same corpus, embeddings on, through single mode (SQLite) and through
``ingest_documents`` with ``processing.mode: distributed`` (PostgreSQL, local
worker processes; the last one standing runs the post-processing steps).
"""

from __future__ import annotations

import pytest

from go_doc_go import ingest_documents
from go_doc_go.config import config_from_dict, load_config
from go_doc_go.storage import open_store
from tests.helpers.corpus import change_corpus, write_corpus
from tests.helpers.stores import differences, parsed, rows, snapshot
from tests.integration.distributed.conftest import single_config, write_config

from ..conftest import create_database, drop_database

pytestmark = [pytest.mark.postgres, pytest.mark.embeddings]
pytest.importorskip("numpy")

SEMANTIC = {"cross_document_semantic": {"similarity_threshold": 0.8, "k": 3, "within_document": True}}


@pytest.fixture
def fresh_db(pg_template):
    import os
    import secrets

    name = f"gdg_sdist_{os.getpid()}_{secrets.token_hex(4)}"
    url = create_database(name, template=pg_template)
    yield url
    drop_database(name)


def stored(configuration) -> tuple[dict, list[tuple]]:
    store = open_store(configuration, read_only=True)
    try:
        semantic = rows(store, "SELECT relationship_id, doc_id, source_id, target_id, target_doc_id, metadata "
                               "FROM stored_relationships WHERE relationship_type = 'semantic_similarity'")
        vectors = rows(store, "SELECT element_id, chunk, doc_id, unit_hash, model, vector FROM embeddings")
        return snapshot(store), sorted((*r[:5], parsed(r[5])["score"]) for r in semantic), sorted(
            (*v[:5], bytes(v[5])) for v in vectors)
    finally:
        store.close()


def test_distributed_semantic_edges_equal_single_mode_pass_after_pass(tmp_path, fresh_db, static_model_cache):
    root = write_corpus(tmp_path / "corpus")
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db,
                               embedding={"enabled": True}, relationship_detection=SEMANTIC)  # fmt: skip
    single = config_from_dict(single_config(config_file, tmp_path / "single.db"))
    for change in (None, change_corpus):
        if change is not None:
            change(root)
        single_summary = ingest_documents(single)
        distributed_summary = ingest_documents(str(config_file))
        assert distributed_summary.processed == single_summary.processed
        # The summary says what was embedded and which edges changed, in either mode.
        assert single_summary.units_embedded > 0
        assert (distributed_summary.units_embedded, distributed_summary.units_reused) == (
            single_summary.units_embedded, single_summary.units_reused)
        assert distributed_summary.semantic_edges_changed == single_summary.semantic_edges_changed > 0
        single_rows, single_edges, single_vectors = stored(single)
        dist_rows, dist_edges, dist_vectors = stored(load_config(config_file))
        assert len(single_edges) > 20 and single_vectors
        assert dist_edges == single_edges
        assert dist_vectors == single_vectors
        assert differences(single_rows, dist_rows) == []
