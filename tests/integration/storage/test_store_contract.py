"""The Store protocol's contract, run against both engines (SQLite file, PostgreSQL schema).

Every test here must pass on both: same rows, same refusals, same link
resolution, same read-only behaviour. What only one engine has (FTS5 or
tsvector, how a write is made to fail) goes through the small helpers below.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from go_doc_go.exceptions import StorageError
from go_doc_go.model import Document, DocumentResult, ElementType, ParsedNode, Relationship, flatten, make_doc_id
from go_doc_go.storage import LinkCounts, StoredState, Touch
from go_doc_go.storage.rows import encode_document
from tests.helpers.stores import parsed, rows, snapshot


def result(path: str, *paragraphs: str, source: str = "s") -> DocumentResult:
    """root > header "Title" (#title) > one paragraph per text; a link from the last element to other.md#title."""
    doc_id = make_doc_id(source, path)
    root = ParsedNode(ElementType.ROOT)
    header = root.add(ParsedNode(ElementType.HEADER, "Title", metadata={"level": 1}, anchor="title"))
    for text in paragraphs:
        header.add(ParsedNode(ElementType.PARAGRAPH, text, location={"line_start": 3, "line_end": 3}))
    elements, _ = flatten(doc_id, root)
    link = Relationship("r-" + path, doc_id, elements[-1].element_id, "links_to", None,
                        target_reference="other.md#title", target_doc_id=make_doc_id(source, "other.md"),
                        target_anchor="title", metadata={"text": "other"}, target_path="other.md")
    document = Document(doc_id, source, path, "markdown", "h" + path, 10, 1, "Title", {"tags": ["a"]})
    return DocumentResult(document, elements, [link], [])


def resolve(store: Any) -> LinkCounts:
    with store.transaction() as tx:
        store.resolve_pending_links(tx)
    return store.link_counts()


def fts_count(store: Any, word: str) -> int:
    if store.engine == "sqlite":
        return rows(store, "SELECT count(*) FROM elements_fts WHERE elements_fts MATCH ?", word)[0][0]
    return rows(store, "SELECT count(*) FROM elements WHERE text_search @@ to_tsquery('simple', ?)", word)[0][0]


def refuse_writes(store: Any, refuse: bool) -> None:
    """Make every write of the store's session fail inside the database (or stop doing so)."""
    if store.engine == "sqlite":
        store.db.execute(f"PRAGMA query_only = {'ON' if refuse else 'OFF'}")
    else:
        store.conn.execute(f"SET default_transaction_read_only = {'on' if refuse else 'off'}")


def texts(store: Any, doc_id: str | None = None) -> list[str]:
    if doc_id is None:
        return [t for (t,) in rows(store, "SELECT text FROM elements ORDER BY doc_id, document_position")]
    return [t for (t,) in rows(store, "SELECT text FROM elements WHERE doc_id = ? ORDER BY document_position", doc_id)]


def test_structural_edges_are_derived(store):
    r = result("a.md", "one", "two", "three")
    store.store_documents([r])
    root, header, p1, p2, p3 = (e.element_id for e in r.elements)
    edges = set(rows(store, "SELECT source_id, relationship_type, target_id FROM relationships "
                            "WHERE doc_id = ? AND relationship_type <> 'links_to'", r.document.doc_id))
    assert edges == {
        (root, "contains", header), (header, "contained_by", root),
        (header, "contains", p1), (header, "contains", p2), (header, "contains", p3),
        (p1, "contained_by", header), (p2, "contained_by", header), (p3, "contained_by", header),
        (p1, "next_sibling", p2), (p2, "next_sibling", p3),
        (p2, "previous_sibling", p1), (p3, "previous_sibling", p2),
    }
    ids = {t for (t,) in rows(store, "SELECT relationship_id FROM relationships WHERE source_id = ?", p2)}
    assert ids == {f"contained_by:{p2}:{header}", f"next_sibling:{p2}:{p3}", f"previous_sibling:{p2}:{p1}"}
    structural = rows(store, "SELECT metadata FROM relationships WHERE relationship_type <> 'links_to'")
    assert {parsed(m) == {} for (m,) in structural} == {True}


def test_structural_edges_can_be_turned_off(open_store):
    store = open_store(structural=False)
    store.store_documents([result("a.md", "one", "two")])
    assert {t for (t,) in rows(store, "SELECT DISTINCT relationship_type FROM relationships")} == {"links_to"}
    reopened = open_store()  # None keeps the store's choice
    assert {t for (t,) in rows(reopened, "SELECT DISTINCT relationship_type FROM relationships")} == {"links_to"}
    on_again = open_store(structural=True)
    assert "contains" in {t for (t,) in rows(on_again, "SELECT DISTINCT relationship_type FROM relationships")}


def test_replace_removes_old_rows_and_full_text(store):
    store.store_documents([result("a.md", "alpha words", "beta words")])
    store.store_documents([result("a.md", "gamma words")])
    assert texts(store, make_doc_id("s", "a.md")) == ["", "Title", "gamma words"]
    assert fts_count(store, "alpha") == 0
    assert fts_count(store, "gamma") == 1
    assert rows(store, "SELECT count(*) FROM stored_relationships") == [(1,)]
    assert store.counts() == (1, 3, 1)


def test_rows_come_back_as_they_went_in(store):
    r = result("a.md", "one")
    store.store_documents([r], pass_token="p1")
    (doc,) = store.find_document("a.md")
    assert (doc.doc_id, doc.source, doc.path, doc.doc_type, doc.title, doc.content_hash, doc.size) == (
        r.document.doc_id, "s", "a.md", "markdown", "Title", "ha.md", 10)
    assert doc.metadata == {"tags": ["a"]} and doc.element_count == 3
    elements = list(store.elements_of(doc.doc_id))
    assert [e["element_id"] for e in elements] == [e.element_id for e in r.elements]
    assert elements[2]["location"] == {"line_start": 3, "line_end": 3}
    assert elements[1]["metadata"] == {"level": 1} and elements[1]["anchor"] == "title"
    assert store.children_counts(doc.doc_id) == {r.elements[0].element_id: 1, r.elements[1].element_id: 1}
    assert store.link_targets(doc.doc_id) == ["other.md"]
    assert store.document_states([doc.doc_id, "missing"]) == {doc.doc_id: StoredState("ha.md", 10, 1)}


def test_a_document_the_store_refuses_costs_only_that_document(store):
    good = result("good.md", "fine")
    colliding = result("bad.md", "x")
    colliding.elements.append(colliding.elements[0])  # duplicate element_id violates the unique index
    unencodable = result("worse.md", "y")
    unencodable.document.path = "caf\udce9.md"  # a lone surrogate: not UTF-8, no engine can store it
    oversized = result("huge.md", "z")
    oversized.document.size = 2**64  # no 64-bit integer column holds it
    also_good = result("fine.md", "also fine")
    refused = store.store_documents([good, colliding, unencodable, oversized, also_good])
    assert [(f.doc_id, f.cause.split(":")[0]) for f in refused] == [
        (colliding.document.doc_id, "IntegrityError"),
        (unencodable.document.doc_id, "UnicodeEncodeError"),
        (oversized.document.doc_id, "DataError" if store.engine == "postgresql" else "OverflowError"),
    ]
    assert sorted(p for (p,) in rows(store, "SELECT path FROM documents")) == ["fine.md", "good.md"]
    assert rows(store, "SELECT count(DISTINCT doc_id) FROM elements") == [(2,)]
    assert fts_count(store, "fine") == 2
    with store.transaction() as tx:
        assert store.resolve_pending_links(tx) == 2, "only the stored documents wait for resolution"


def test_a_refused_rewrite_keeps_the_previous_version(store):
    store.store_documents([result("a.md", "first version"), result("b.md", "b first")])
    again = result("a.md", "second version")
    again.elements.append(again.elements[-1])
    failures = store.store_documents([again, result("b.md", "b second")])
    assert [f.doc_id for f in failures] == [again.document.doc_id]
    assert texts(store, make_doc_id("s", "a.md")) == ["", "Title", "first version"]
    assert texts(store, make_doc_id("s", "b.md")) == ["", "Title", "b second"]


def test_the_same_document_twice_in_a_batch_keeps_the_last(store):
    failures = store.store_documents([result("a.md", "first"), result("a.md", "second")])
    assert failures == []
    assert texts(store) == ["", "Title", "second"]


def test_nul_characters_are_replaced_before_any_engine_sees_them(store):
    r = result("a.md", "before\x00after")
    r.elements[1].metadata = {"key\x00": "va\x00lue"}
    r.document.title = "T\x00"
    failures = store.store_documents([r])
    assert failures == []
    assert texts(store)[2] == "before\ufffdafter"
    (doc,) = store.find_document("a.md")
    assert doc.title == "T\ufffd" and doc.metadata["nul_characters_replaced"] == 4
    assert list(store.elements_of(doc.doc_id))[1]["metadata"] == {"key\ufffd": "va\ufffdlue"}


def test_long_anchors_and_paths_are_stored(store):
    """Longer than a PostgreSQL btree entry (~2.7 kB): a setext header over a long paragraph has such a slug."""
    anchor = "-".join(f"w{i}" for i in range(3000))
    target = result("other.md", "body")
    target.elements[2].anchors = (anchor,)
    folders = "/".join(hashlib.sha256(str(i).encode()).hexdigest()[:12] for i in range(300))  # incompressible
    source = result(folders + "/a.md", "see")
    link = source.relationships[0]
    link.target_anchor = anchor
    assert store.store_documents([target, source]) == []
    assert resolve(store) == LinkCounts(resolved=2, unresolved=0, anchor_missing=0)
    found = rows(store, "SELECT target_id FROM stored_relationships WHERE doc_id = ?", source.document.doc_id)
    assert found == [(target.elements[2].element_id,)]
    assert [d.doc_id for d in store.find_document(source.document.path)] == [source.document.doc_id]


def test_links_resolve_when_target_arrives(store):
    store.store_documents([result("a.md", "see other")])
    assert resolve(store) == LinkCounts(resolved=0, unresolved=1, anchor_missing=0)
    assert rows(store, "SELECT target_id FROM stored_relationships") == [(None,)]
    other = result("other.md", "target")
    store.store_documents([other])
    assert resolve(store) == LinkCounts(resolved=2, unresolved=0, anchor_missing=0)
    header_id = other.elements[1].element_id
    a_id = make_doc_id("s", "a.md")
    assert rows(store, "SELECT target_id FROM stored_relationships WHERE doc_id = ?", a_id) == [(header_id,)]
    with store.transaction() as tx:
        assert store.delete_documents(tx, [other.document.doc_id]) == 1
    assert store.link_counts() == LinkCounts(resolved=0, unresolved=1, anchor_missing=0)


def test_links_resolve_through_any_anchor_and_say_when_it_is_missing(store):
    target = result("other.md", "body")
    target.elements[2].anchors = ("first-id", "second-name")
    source = result("a.md", "see")
    link = source.relationships[0]
    source.relationships.extend(
        Relationship(f"r{i}", link.doc_id, link.source_id, "links_to", None, target_reference=f"other.md#{a}",
                     target_doc_id=link.target_doc_id, target_anchor=a, metadata={"text": a})
        for i, a in enumerate(["second-name", "nowhere"])
    )
    store.store_documents([target, source])
    assert resolve(store) == LinkCounts(resolved=4, unresolved=0, anchor_missing=1)
    found = {
        anchor: (kind, text, parsed(metadata).get("anchor_found", "found"))
        for anchor, kind, text, metadata in rows(
            store, "SELECT r.target_anchor, e.element_type, e.text, r.metadata FROM stored_relationships r "
            "JOIN elements e ON e.element_id = r.target_id WHERE r.doc_id = ?", source.document.doc_id)
    }
    assert found == {"title": ("header", "Title", "found"), "second-name": ("paragraph", "body", "found"),
                     "nowhere": ("root", "", False)}
    target.elements[0].anchors = ("nowhere",)  # the anchor appears: the fallback is undone
    store.store_documents([target])
    assert resolve(store).anchor_missing == 0
    metadata = rows(store, "SELECT metadata FROM stored_relationships WHERE target_anchor = 'nowhere'")
    assert parsed(metadata[0][0]) == {"text": "nowhere"}


def test_duplicate_anchors_in_a_document_keep_the_first(store):
    doc = result("a.md", "one", "two")
    doc.elements[2].anchors = ("same",)
    doc.elements[3].anchors = ("same",)
    assert store.store_documents([doc]) == []
    assert rows(store, "SELECT element_id FROM element_anchors WHERE anchor = 'same'") == [(doc.elements[2].element_id,)]


def test_read_only_open_runs_no_ddl_and_cannot_write(open_store):
    admin = open_store()
    with admin.transaction() as tx:
        tx.execute("DROP VIEW relationships")
    reader = open_store(read_only=True)
    assert reader.find_document("a.md") == []
    with pytest.raises(StorageError):
        reader.store_documents([result("a.md", "x")])
    assert rows(admin, "SELECT count(*) FROM documents") == [(0,)]
    relationships_view = (
        "SELECT count(*) FROM sqlite_master WHERE name = 'relationships'" if admin.engine == "sqlite"
        else "SELECT count(*) FROM pg_class WHERE relname = 'relationships' AND pg_table_is_visible(oid)"
    )
    assert rows(admin, relationships_view) == [(0,)]


def test_sources_remember_their_folder(store):
    assert store.source_locations() == {}
    with store.transaction() as tx:
        store.record_source(tx, "docs", "/a/docs")
        store.record_source(tx, "docs-2", "/b/docs")
        store.record_source(tx, "docs", "/c/docs")
    assert store.source_locations() == {"docs": "/c/docs", "docs-2": "/b/docs"}


def test_delete_and_find(store):
    store.store_documents([result("a.md", "x"), result("b/c.md", "y")])
    assert [d.path for d in store.find_document("b/c.md")] == ["b/c.md"]
    assert [d.path for d in store.find_document("s:a.md")] == ["a.md"]
    assert [d.path for d in store.find_document(make_doc_id("s", "a.md"))] == ["a.md"]
    with store.transaction() as tx:
        assert store.delete_documents(tx, [make_doc_id("s", "a.md"), make_doc_id("s", "a.md")]) == 1
    assert store.find_document("a.md") == []
    assert store.counts() == (1, 3, 1)
    assert rows(store, "SELECT count(*) FROM element_anchors") == [(1,)]


def test_passes_remove_what_they_did_not_see(store):
    store.store_documents([result("a.md", "x"), result("b.md", "y"), result("c.md", "z")], pass_token="one")
    store.store_documents([result("d.md", "w", source="other")], pass_token="one")
    a, b, c = (make_doc_id("s", p) for p in ("a.md", "b.md", "c.md"))
    with store.transaction() as tx:
        store.mark_seen(tx, [a], "two")
        store.write_documents(tx, [encode_document(result("b.md", "y2"))], pass_token="two")
        store.touch_documents(tx, [Touch(a, 11, 99)])
    with store.transaction() as tx:
        assert store.delete_unseen(tx, "s", "two") == 1
    assert sorted(d.path for d in (*store.find_document("a.md"), *store.find_document("b.md"))) == ["a.md", "b.md"]
    assert store.find_document("c.md") == []
    assert store.document_states([a])[a] == StoredState("ha.md", 11, 99)
    assert store.find_document("d.md") != [], "another source is not touched"
    assert rows(store, "SELECT count(*) FROM elements WHERE doc_id = ?", c) == [(0,)]


def test_elements_stream_and_can_stop_early(store):
    r = result("a.md", *(f"paragraph {i}" for i in range(1200)))
    store.store_documents([r])
    stream = store.elements_of(r.document.doc_id)
    first = [next(stream) for _ in range(3)]
    assert [e["document_position"] for e in first] == [0, 1, 2]
    stream.close()
    assert store.counts() == (1, 1202, 1), "the store is usable after an abandoned stream"
    assert sum(1 for _ in store.elements_of(r.document.doc_id)) == 1202


def test_write_failure_is_a_storage_error_and_leaves_nothing(store):
    refuse_writes(store, True)  # every write now fails inside the database
    with pytest.raises(StorageError, match="cannot write to the"):
        store.store_documents([result("a.md", "x")])
    refuse_writes(store, False)
    assert store.counts() == (0, 0, 0)
    assert store.store_documents([result("a.md", "x")]) == []


def test_an_exception_in_the_callers_transaction_rolls_everything_back(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            store.write_documents(tx, [encode_document(result("a.md", "x"))], pass_token="p")
            raise RuntimeError("the caller failed after writing")
    assert store.counts() == (0, 0, 0)
    assert snapshot(store)["documents"] == []


def test_a_stream_of_elements_lets_other_calls_run_and_keeps_its_snapshot(open_store):
    store, writer = open_store(), open_store()
    r = result("a.md", *(f"paragraph {i}" for i in range(1500)))
    store.store_documents([r])
    stream = store.elements_of(r.document.doc_id)
    assert next(stream)["document_position"] == 0
    assert store.counts() == (1, 1502, 1), "another call on the same store while the stream is open"
    assert store.children_counts(r.document.doc_id)[r.elements[1].element_id] == 1500
    writer.store_documents([result("a.md", "replaced")])
    rest = list(stream)
    assert len(rest) == 1501 and rest[-1]["text"] == "paragraph 1499", "the stream's own snapshot"
    assert texts(store) == ["", "Title", "replaced"]
