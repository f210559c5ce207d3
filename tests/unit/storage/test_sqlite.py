import sqlite3

import pytest

from go_doc_go.exceptions import StorageError, StoreOpenError
from go_doc_go.model import (
    Document,
    DocumentResult,
    ElementType,
    ParsedNode,
    Relationship,
    flatten,
    make_doc_id,
)
from go_doc_go.storage import LinkCounts
from go_doc_go.storage.sqlite import SQLiteStore


def result(path: str, *paragraphs: str) -> DocumentResult:
    doc_id = make_doc_id("s", path)
    root = ParsedNode(ElementType.ROOT)
    header = root.add(ParsedNode(ElementType.HEADER, "Title", metadata={"level": 1}, anchor="title"))
    for text in paragraphs:
        header.add(ParsedNode(ElementType.PARAGRAPH, text))
    elements, _ = flatten(doc_id, root)
    link = Relationship("r-" + path, doc_id, elements[-1].element_id, "links_to", None,
                        target_reference="other.md#title", target_doc_id=make_doc_id("s", "other.md"),
                        target_anchor="title")
    document = Document(doc_id, "s", path, "markdown", "h" + path, 10, 1, None, "Title")
    return DocumentResult(document, elements, [link], [])


def resolve(store):
    with store.transaction() as tx:
        store.resolve_pending_links(tx)
    return store.link_counts()


@pytest.fixture()
def store(tmp_path):
    s = SQLiteStore(tmp_path / "store.db")
    yield s
    s.close()


def test_wal_and_tables(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
    assert {"documents", "elements", "stored_relationships", "relationships", "embeddings", "elements_fts"} <= names


def test_structural_edges_are_derived(store):
    r = result("a.md", "one", "two", "three")
    store.store_documents([r])
    ids = [e.element_id for e in r.elements]
    root, header, p1, p2, p3 = ids
    edges = set(store.db.execute(
        "SELECT source_id, relationship_type, target_id FROM relationships WHERE doc_id = ? "
        "AND relationship_type != 'links_to'", (r.document.doc_id,)))
    assert edges == {
        (root, "contains", header), (header, "contained_by", root),
        (header, "contains", p1), (header, "contains", p2), (header, "contains", p3),
        (p1, "contained_by", header), (p2, "contained_by", header), (p3, "contained_by", header),
        (p1, "next_sibling", p2), (p2, "next_sibling", p3),
        (p2, "previous_sibling", p1), (p3, "previous_sibling", p2),
    }
    from_p2 = set(store.db.execute(
        "SELECT relationship_type, target_id FROM relationships WHERE source_id = ?", (p2,)))
    assert from_p2 == {("contained_by", header), ("next_sibling", p3), ("previous_sibling", p1)}


def test_structural_edges_can_be_turned_off(tmp_path):
    s = SQLiteStore(tmp_path / "x.db", structural=False)
    s.store_documents([result("a.md", "one", "two")])
    types = {t for (t,) in s.db.execute("SELECT DISTINCT relationship_type FROM relationships")}
    assert types == {"links_to"}
    s.close()
    reopened = SQLiteStore(tmp_path / "x.db")  # None keeps the file's choice
    assert {t for (t,) in reopened.db.execute("SELECT DISTINCT relationship_type FROM relationships")} == {"links_to"}
    reopened.close()


def test_replace_removes_old_rows_and_fts(store):
    store.store_documents([result("a.md", "alpha words", "beta words")])
    store.store_documents([result("a.md", "gamma words")])
    doc_id = make_doc_id("s", "a.md")
    texts = [t for (t,) in store.db.execute("SELECT text FROM elements WHERE doc_id = ? ORDER BY document_position", (doc_id,))]
    assert texts == ["", "Title", "gamma words"]
    assert store.db.execute("SELECT count(*) FROM elements_fts WHERE elements_fts MATCH 'alpha'").fetchone()[0] == 0
    assert store.db.execute("SELECT count(*) FROM elements_fts WHERE elements_fts MATCH 'gamma'").fetchone()[0] == 1
    assert store.db.execute("SELECT count(*) FROM stored_relationships").fetchone()[0] == 1


def test_a_document_the_store_refuses_costs_only_that_document(store):
    good = result("good.md", "fine")
    colliding = result("bad.md", "x")
    colliding.elements.append(colliding.elements[0])  # duplicate element_id violates the unique index
    unencodable = result("worse.md", "y")
    unencodable.document.path = "caf\udce9.md"  # a surrogate: SQLite cannot store it as UTF-8
    refused = store.store_documents([good, colliding, unencodable])
    assert [(f.doc_id, f.cause.split(":")[0]) for f in refused] == [
        (colliding.document.doc_id, "IntegrityError"), (unencodable.document.doc_id, "UnicodeEncodeError"),
    ]
    assert [p for (p,) in store.db.execute("SELECT path FROM documents")] == ["good.md"]
    assert store.db.execute("SELECT count(DISTINCT doc_id) FROM elements").fetchone()[0] == 1
    fts = store.db.execute("SELECT count(*) FROM elements_fts WHERE elements_fts MATCH 'fine'").fetchone()[0]
    assert fts == 1


def test_a_refused_rewrite_keeps_the_previous_version(store):
    store.store_documents([result("a.md", "first version")])
    again = result("a.md", "second version")
    again.elements.append(again.elements[-1])
    assert len(store.store_documents([again])) == 1
    texts = [t for (t,) in store.db.execute("SELECT text FROM elements ORDER BY document_position")]
    assert texts == ["", "Title", "first version"]


def test_links_resolve_when_target_arrives(store):
    store.store_documents([result("a.md", "see other")])
    assert resolve(store) == LinkCounts(resolved=0, unresolved=1, anchor_missing=0)
    assert store.db.execute("SELECT target_id FROM stored_relationships").fetchone()[0] is None
    other = result("other.md", "target")
    store.store_documents([other])
    assert resolve(store) == LinkCounts(resolved=2, unresolved=0, anchor_missing=0)
    header_id = other.elements[1].element_id
    assert store.db.execute("SELECT target_id FROM stored_relationships WHERE doc_id = ?",
                            (make_doc_id("s", "a.md"),)).fetchone()[0] == header_id


def test_links_resolve_through_any_anchor_and_say_when_it_is_missing(store):
    target = result("other.md", "body")
    target.elements[2].anchors = ("first-id", "second-name")
    source = result("a.md", "see")
    link = source.relationships[0]
    more = [
        Relationship(f"r{i}", link.doc_id, link.source_id, "links_to", None, target_reference=f"other.md#{a}",
                     target_doc_id=link.target_doc_id, target_anchor=a, metadata={"text": a})
        for i, a in enumerate(["second-name", "nowhere"])
    ]
    source.relationships.extend(more)
    store.store_documents([target, source])
    assert resolve(store) == LinkCounts(resolved=4, unresolved=0, anchor_missing=1)
    found = dict(store.db.execute(
        "SELECT r.target_anchor, e.element_type || ':' || e.text || ':' || coalesce(json_extract(r.metadata, "
        "'$.anchor_found'), 'found') FROM stored_relationships r JOIN elements e ON e.element_id = r.target_id "
        "WHERE r.doc_id = ?", (source.document.doc_id,)))
    assert found == {"title": "header:Title:found", "second-name": "paragraph:body:found",
                     "nowhere": "root::0"}
    # The anchor appears: the fallback is undone.
    target.elements[0].anchors = ("nowhere",)
    store.store_documents([target])
    assert resolve(store).anchor_missing == 0


def test_duplicate_anchors_in_a_document_keep_the_first(store):
    doc = result("a.md", "one", "two")
    doc.elements[2].anchors = ("same",)
    doc.elements[3].anchors = ("same",)
    assert store.store_documents([doc]) == []
    assert store.db.execute("SELECT element_id FROM element_anchors WHERE anchor = 'same'").fetchall() == [
        (doc.elements[2].element_id,)]


def test_read_only_open_runs_no_ddl_and_cannot_write(tmp_path):
    path = tmp_path / "store.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP VIEW relationships")
    reader = SQLiteStore(path, read_only=True)
    assert reader.find_document("a.md") == []
    with pytest.raises(StorageError):
        reader.store_documents([result("a.md", "x")])
    reader.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'relationships'").fetchone()[0] == 0


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
    with store.transaction() as tx:
        assert store.delete_documents(tx, [make_doc_id("s", "a.md")]) == 1
    assert store.find_document("a.md") == []
    assert store.counts() == (1, 3, 1)


def test_unwritable_location_is_a_clean_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreOpenError, match="cannot open SQLite store .*: .*file is not a folder"):
        SQLiteStore(blocker / "store.db")


def test_write_failure_is_a_storage_error_and_leaves_nothing(store):
    store.db.execute("PRAGMA query_only = ON")  # every write now fails inside SQLite
    with pytest.raises(StorageError, match="cannot write to the SQLite store"):
        store.store_documents([result("a.md", "x")])
    store.db.execute("PRAGMA query_only = OFF")
    assert store.counts() == (0, 0, 0)
