"""Vectors and semantic edges on SQLite, PostgreSQL without pgvector, and PostgreSQL with pgvector (pgserver)."""

from __future__ import annotations

import json
import logging
import random

import psycopg
import pytest

from go_doc_go.config import config_from_dict
from go_doc_go.rules import PassContext, run_post_processing
from tests.helpers.stores import rows as query
from tests.helpers.vectors import MODEL, expected_edges, unit, vector_document

pytestmark = pytest.mark.postgres
np = pytest.importorskip("numpy")


def semantic_config(k=3, threshold=0.2):
    return config_from_dict({"embedding": {"enabled": True},
                             "relationship_detection": {"cross_document_semantic": {"k": k,
                                                                                     "similarity_threshold": threshold}}})


def documents(seed=5, count=25, dims=16):
    rng = random.Random(seed)
    return [vector_document(f"d{n:02d}.md", [(f"S{n}.{i}", [[rng.gauss(0, 1) for _ in range(dims)]
                                                            for _ in range(rng.randint(1, 2))])
                                             for i in range(rng.randint(1, 3))])
            for n in range(count)]  # fmt: skip


def write(store, docs):
    with store.transaction() as tx:
        assert store.write_documents(tx, docs, pass_token="p") == []


def edges(store):
    found = query(store, "SELECT source_id, target_id, metadata FROM stored_relationships "
                         "WHERE relationship_type = 'semantic_similarity'")
    return {(s, t, (json.loads(m) if isinstance(m, str) else m)["score"]) for s, t, m in found}


def test_vectors_round_trip_with_the_same_bytes(open_store, engine):
    store = open_store(embedding_model=MODEL)
    docs = documents()
    write(store, docs)
    written = {(e, c): bytes(v) for rows in docs for e, c, _, _, _, _, _, v in rows.embeddings}
    blocks = list(store.vector_blocks(MODEL, block_rows=7))
    assert len(blocks) > 1, "read in blocks"
    read = {(e, c): v.astype("<f4").tobytes() for b in blocks for e, c, v in zip(b.element_ids, b.chunks, b.matrix)}
    assert read == written
    first = docs[3]
    assert store.unit_vectors(first.doc_id, MODEL) == {h: v for _, _, _, _, h, _, _, v in first.embeddings}
    assert store.unit_vectors(first.doc_id, "another/model") == {}
    assert len(store.vectors_of(MODEL, doc_ids=[first.doc_id])) == len(first.embeddings)
    assert store.vector_models() == [(MODEL, 16, len(written))]
    with store.transaction() as tx:
        store.delete_documents(tx, [first.doc_id])
    assert store.unit_vectors(first.doc_id, MODEL) == {}


def test_semantic_edges_are_the_brute_force_ones_on_every_engine_and_after_changes(open_store, engine):
    store = open_store(embedding_model=MODEL)
    docs = documents()
    write(store, docs)
    run_post_processing(store, PassContext(semantic_config(), "p", []))
    assert edges(store) == expected_edges(docs, 3, 0.2)
    changed = documents(seed=6, count=4)  # d00..d03 get new vectors
    write(store, changed)
    with store.transaction() as tx:
        store.delete_documents(tx, [docs[10].doc_id])
    now = changed + docs[4:10] + docs[11:]
    run_post_processing(store, PassContext(semantic_config(), "p", []))
    assert edges(store) == expected_edges(now, 3, 0.2)


def test_without_pgvector_a_warning_names_what_to_install_and_nothing_is_created(system_pg_url, caplog):
    from go_doc_go.storage import postgresql

    postgresql._warned.clear()
    with caplog.at_level(logging.WARNING, logger="go_doc_go.storage"):
        store = postgresql.PostgreSQLStore(system_pg_url, embedding_model=MODEL)
    try:
        assert store.vector_search == "numpy"
        assert store.nearest(MODEL, np.zeros((1, 4), dtype=np.float32), 3) is None, "callers scan instead"
        [message] = [r.getMessage() for r in caplog.records]
        assert "no pgvector" in message and "install pgvector" in message and "numpy" in message
        assert store.setting("vector_search") is None
        assert query(store, "SELECT count(*) FROM pg_extension WHERE extname = 'vector'") == [(0,)]
    finally:
        store.close()


def test_pgvector_is_set_up_at_open_once_and_vectors_written_before_are_copied(pgvector_url):
    from go_doc_go.storage.postgresql import PostgreSQLStore

    plain = PostgreSQLStore(pgvector_url)  # no embedding model: nothing is set up
    assert plain.vector_search == "numpy"
    docs = documents(count=6)
    write(plain, docs)
    plain.close()
    store = PostgreSQLStore(pgvector_url, embedding_model=MODEL)
    try:
        assert store.vector_search == "pgvector" and store.setting("vector_search") == "pgvector"
        assert query(store, "SELECT count(*) FROM embeddings WHERE embedding IS NULL") == [(0,)]
        same = query(store, "SELECT count(*) FROM embeddings WHERE vector_dims(embedding) = dimensions")
        assert same == [(sum(len(d.embeddings) for d in docs),)]
        again = PostgreSQLStore(pgvector_url, embedding_model=MODEL)
        assert again.vector_search == "pgvector"
        again.close()
        reader = PostgreSQLStore(pgvector_url, read_only=True)
        assert reader.vector_search == "pgvector", "a reader finds the recorded setting"
        reader.close()
    finally:
        store.close()


def test_the_hnsw_index_is_built_by_post_processing_and_answers_nearest(pgvector_url):
    from go_doc_go.storage.postgresql import Q, PostgreSQLStore

    store = PostgreSQLStore(pgvector_url, embedding_model=MODEL)
    try:
        docs = documents(count=20)
        write(store, docs)
        result = run_post_processing(store, PassContext(semantic_config(), "p", []))
        assert result.changed["index_vectors"] == 1
        assert run_post_processing(store, PassContext(semantic_config(), "p", [])).changed["index_vectors"] == 0
        query_vector = np.asarray([unit([1.0] * 16)], dtype=np.float32)
        sql = Q["vector_nearest"].replace("{dims}", "16")
        params = {"model": MODEL, "exclude": None, "source": None, "type": None,
                  "query": "[" + ",".join(["0.25"] * 16) + "]", "limit": 5}  # fmt: skip
        with psycopg.connect(pgvector_url) as conn:
            conn.execute("SET enable_seqscan = off")
            plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + sql, params))
        assert "embeddings_hnsw_16" in plan
        [found] = store.nearest(MODEL, query_vector, 5)
        every = {(e, c): v for b in store.vector_blocks(MODEL) for e, c, v in zip(b.element_ids, b.chunks, b.matrix)}
        exact = sorted(every, key=lambda key: -float(every[key] @ query_vector[0]))[:5]
        assert [(e, c) for e, c, _ in found] == exact, "on a small set the index finds the exact neighbours"
        [excluded] = store.nearest(MODEL, query_vector, 5, exclude_docs=[found[0][2]])
        assert found[0][2] not in {d for _, _, d in excluded}
    finally:
        store.close()
