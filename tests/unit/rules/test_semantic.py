"""The semantic_edges step on SQLite, with vectors of our choosing: exact, incremental, deterministic.

An oracle (``tests/helpers/vectors.expected_edges``) compares every pair in
plain Python; the step must store exactly its edges, from scratch and after
any mix of edited, removed and added documents.
"""

from __future__ import annotations

import random

import pytest

from go_doc_go.config import config_from_dict
from go_doc_go.rules import PassContext, run_post_processing
from go_doc_go.rules.semantic import SETTING
from go_doc_go.storage.sqlite import SQLiteStore
from tests.helpers.stores import rows as query
from tests.helpers.vectors import MODEL, expected_edges, vector_document

pytest.importorskip("numpy")


def config(k=3, threshold=0.3, within=False, enabled=True, embeddings=True):
    return config_from_dict({
        "embedding": {"enabled": embeddings},
        "relationship_detection": {"cross_document_semantic": {
            "enabled": enabled, "k": k, "similarity_threshold": threshold, "within_document": within}},
    })  # fmt: skip


def post_process(store, cfg):
    return run_post_processing(store, PassContext(cfg, "pass", []))


def write(store, documents):
    with store.transaction() as tx:
        assert store.write_documents(tx, documents, pass_token="pass") == []


def stored(store):
    found = query(store, "SELECT source_id, target_id, metadata, doc_id, target_doc_id FROM stored_relationships "
                         "WHERE relationship_type = 'semantic_similarity'")
    import json

    return {(s, t, json.loads(m)["score"]) for s, t, m, _, _ in found}


@pytest.fixture()
def store(tmp_path):
    s = SQLiteStore(tmp_path / "s.db", embedding_model=MODEL)
    yield s
    s.close()


def random_document(rng, n, dims=8):
    sections = [(f"S{n}-{i}", [[rng.gauss(0, 1) for _ in range(dims)] for _ in range(rng.randint(1, 2))])
                for i in range(rng.randint(1, 3))]
    return vector_document(f"doc{n:03d}.md", sections)


@pytest.mark.parametrize("within", [False, True])
def test_incremental_edges_equal_a_brute_force_from_scratch_after_every_change(store, within):
    rng = random.Random(4)
    documents = {n: random_document(rng, n) for n in range(30)}
    cfg = config(k=3, threshold=0.2, within=within)
    write(store, list(documents.values()))
    post_process(store, cfg)
    assert stored(store) == expected_edges(list(documents.values()), 3, 0.2, within=within)
    next_id = 30
    for _ in range(3):
        edited = rng.sample(sorted(documents), 3)
        removed = rng.sample(sorted(set(documents) - set(edited)), 2)
        for n in edited:
            documents[n] = random_document(rng, n)
        for n in removed:
            del documents[n]
        added = {next_id + i: random_document(rng, next_id + i) for i in range(2)}
        next_id += 2
        documents.update(added)
        write(store, [documents[n] for n in edited] + list(added.values()))
        with store.transaction() as tx:
            store.delete_documents(tx, [random_document(random.Random(0), n).doc_id for n in removed])
        post_process(store, cfg)
        assert stored(store) == expected_edges(list(documents.values()), 3, 0.2, within=within)


def test_the_threshold_is_honoured_and_same_document_pairs_are_never_cross_document_edges(store):
    a = vector_document("a.md", [("A1", [[1, 0, 0]]), ("A2", [[1, 0, 0]])])  # identical, same document
    b = vector_document("b.md", [("B1", [[0.95, 0.312, 0]])])  # cosine 0.95 with A1 and A2
    c = vector_document("c.md", [("C1", [[0.5, 0.866, 0]])])  # cosine 0.5
    write(store, [a, b, c])
    post_process(store, config(k=5, threshold=0.9))
    by_title = {e[7]: e[0] for rows in (a, b, c) for e in rows.elements if e[2] == "header"}
    edges = {(s, t) for s, t, _ in stored(store)}
    assert (by_title["A1"], by_title["A2"]) not in edges and (by_title["A2"], by_title["A1"]) not in edges
    assert (by_title["A1"], by_title["B1"]) in edges and (by_title["B1"], by_title["A1"]) in edges
    assert not any(by_title["C1"] in pair for pair in edges), "0.5 is below the threshold"
    scores = {s for _, _, s in stored(store)}
    assert all(score >= 0.9 for score in scores)


def test_ties_are_broken_by_element_id_and_scores_are_rounded(store):
    a = vector_document("a.md", [("A", [[1, 0.2, 0]])])
    twins = [vector_document(f"t{i}.md", [(f"T{i}", [[1, 0.3, 0]])]) for i in range(3)]
    write(store, [a, *twins])
    post_process(store, config(k=1, threshold=0.5))
    source = next(e[0] for e in a.elements if e[2] == "header")
    targets = sorted(next(e[0] for e in t.elements if e[2] == "header") for t in twins)
    [(_, target, score)] = [edge for edge in stored(store) if edge[0] == source]
    assert target == targets[0]
    assert score == round(score, 6)


def test_new_parameters_recompute_everything_and_turning_it_off_removes_the_edges(store):
    rng = random.Random(9)
    documents = [random_document(rng, n) for n in range(12)]
    write(store, documents)
    post_process(store, config(k=2, threshold=0.1))
    assert stored(store) == expected_edges(documents, 2, 0.1)
    post_process(store, config(k=4, threshold=0.1))  # nothing pending, but k changed
    assert stored(store) == expected_edges(documents, 4, 0.1)
    result = post_process(store, config(enabled=False))
    assert stored(store) == set() and result.changed["semantic_edges"] > 0
    assert store.setting(SETTING) == ""
    assert post_process(store, config(embeddings=False)).changed["semantic_edges"] == 0, "removed once"
    write(store, documents[:3])
    post_process(store, config(embeddings=False))
    assert query(store, "SELECT count(*) FROM semantic_pending") == [(0,)], "off, nothing waits for it"
    post_process(store, config(k=2, threshold=0.1))
    assert stored(store) == expected_edges(documents, 2, 0.1), "on again: everything recomputed"


def test_link_resolution_leaves_semantic_edges_alone(store):
    a = vector_document("a.md", [("A", [[1, 0, 0]])])
    b = vector_document("b.md", [("B", [[1, 0.1, 0]])])
    write(store, [a, b])
    post_process(store, config(k=1, threshold=0.5))
    before = stored(store)
    write(store, [b])  # b rewritten: its links, and links into it, are pending
    with store.transaction() as tx:
        store.resolve_pending_links(tx)
    into_b = {(s, t, sc) for s, t, sc in before if s.startswith(tuple(e[0] for e in a.elements))}
    assert into_b and into_b <= stored(store), "a's edge into b keeps its target until the semantic step"
    post_process(store, config(k=1, threshold=0.5))
    assert stored(store) == before
