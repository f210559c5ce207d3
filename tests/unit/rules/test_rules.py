"""The rules both drivers share, on real files and a real SQLite store."""

import pytest

from go_doc_go.config import Config, ContentSourceConfig
from go_doc_go.model import make_doc_id
from go_doc_go.rules import PassContext, admit, follow_targets, link_follow_depth, new_pass_token, run_post_processing
from go_doc_go.sources import DocumentRef
from go_doc_go.sources.file import FileSource
from go_doc_go.storage import SQLiteStore, StoredState
from go_doc_go.storage.rows import DocumentRows


def ref(path="a.md", size=10, mtime=5):
    return DocumentRef("s", path, make_doc_id("s", path), "markdown", size, mtime)


def test_same_size_and_mtime_is_unchanged_without_a_read():
    assert admit(ref(), 0, StoredState("h", 10, 5)).unchanged
    changed = admit(ref(mtime=6), 2, StoredState("h", 10, 5))
    assert (changed.unchanged, changed.known_hash, changed.depth) == (False, "h", 2)
    new = admit(ref(), 0, None)
    assert (new.unchanged, new.known_hash) == (False, None)


def test_pass_tokens_differ():
    assert new_pass_token() != new_pass_token()


def source_in(tmp_path, **options):
    for name in ("index.md", "a.md", "b/c.md", "drafts/x.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# x\n")
    config = ContentSourceConfig(name="s", base_path=str(tmp_path), **options)
    return FileSource(config), config


def test_links_are_followed_only_outside_the_listing_and_within_depth(tmp_path):
    source, config = source_in(tmp_path, include=["index.md"], max_link_depth=2, exclude=["drafts/**"])
    assert link_follow_depth(config) == 2
    targets = ["a.md", "a.md", "index.md", "b/c.md", "missing.md", "drafts/x.md"]
    followed = follow_targets(source, config, "index.md", targets, depth=0)
    assert [r.path for r in followed] == ["a.md", "b/c.md"], "deduplicated, self/missing/excluded dropped"
    assert follow_targets(source, config, "index.md", targets, depth=2) == [], "max_link_depth reached"


def test_a_listing_of_everything_follows_nothing(tmp_path):
    source, config = source_in(tmp_path, max_link_depth=3)
    assert link_follow_depth(config) == 0
    assert follow_targets(source, config, "index.md", ["a.md"], depth=0) == []


def rows(doc_id, path):
    return DocumentRows(
        doc_id,
        (doc_id, "s", path, "markdown", None, "h", 1, 1, "{}", 1, None),
        [(f"{doc_id}-root", doc_id, "root", None, 0, 0, "root", "", "h", None, "{}", "{}")],
        [],
    )


@pytest.fixture()
def store(tmp_path):
    s = SQLiteStore(tmp_path / "s.db")
    yield s
    s.close()


def test_post_processing_removes_what_the_pass_did_not_see_in_complete_sources_only(store):
    first = new_pass_token()
    with store.transaction() as tx:
        store.write_documents(tx, [rows("d1", "a.md"), rows("d2", "b.md"), rows("d3", "c.md")], pass_token=first)
    second = new_pass_token()
    with store.transaction() as tx:
        store.mark_seen(tx, ["d1"], second)
    kept = run_post_processing(store, PassContext(Config(), second, complete_sources=[]))
    assert kept.removed == 0 and store.counts()[0] == 3, "an incomplete listing removes nothing"
    result = run_post_processing(store, PassContext(Config(), second, complete_sources=["s"]))
    assert result.removed == 2
    assert [d.doc_id for d in store.find_document("a.md")] == ["d1"]
    again = run_post_processing(store, PassContext(Config(), second, complete_sources=["s"]))
    assert again.removed == 0, "idempotent"


def test_a_fence_that_refuses_rolls_every_step_back(store):
    with store.transaction() as tx:
        store.write_documents(tx, [rows("d1", "a.md")], pass_token="old")

    def refuse(tx):
        raise PermissionError("stale leader")

    with pytest.raises(PermissionError):
        run_post_processing(store, PassContext(Config(), "new", ["s"]), fence=refuse)
    assert store.counts()[0] == 1


def test_a_link_to_a_document_that_is_gone_carries_no_anchor_verdict(tmp_path):
    """Incremental and fresh stores agree: a link whose target is not stored says nothing about its anchor."""
    from go_doc_go import ingest_documents

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\n[b](b.md#nowhere)\n")
    (docs / "b.md").write_text("# B\n")
    config = {"storage": {"path": str(tmp_path / "s.db")}, "content_sources": [{"name": "d", "base_path": str(docs)}],
              "processing": {"jobs": 1}}
    assert ingest_documents(config).anchors_missing == 1
    (docs / "b.md").unlink()
    summary = ingest_documents(config)
    assert (summary.links_unresolved, summary.anchors_missing) == (1, 0)
    store = SQLiteStore(tmp_path / "s.db", read_only=True)
    [(metadata,)] = store.db.execute("SELECT metadata FROM stored_relationships").fetchall()
    store.close()
    assert "anchor_found" not in metadata
