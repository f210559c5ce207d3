"""Single-mode runs against real files and a real SQLite store."""

import os
import sqlite3
import time

import pytest

from go_doc_go import ingest_documents
from go_doc_go.config import config_from_dict
from go_doc_go.model import make_doc_id


def write(root, relative, content):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def run(root, db, **source_options):
    config = config_from_dict(
        {
            "storage": {"path": str(db)},
            "content_sources": [{"name": "docs", "base_path": str(root), **source_options}],
            "processing": {"jobs": 1},
        }
    )
    return ingest_documents(config)


def rows(db, sql, *params):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def element_ids(db):
    return rows(db, "SELECT doc_id, element_id, content_hash FROM elements ORDER BY element_id")


GUIDE = """# Guide

Intro paragraph that links to the [reference](ref.md#usage) and [home](index.md).

## Install

Install it.

## Configure

Configure it.

## Use

Use it, see [missing](gone.md) and [the web](https://example.com/page).
"""
REF = "# Reference\n\n## Usage\n\nCall it.\n"
INDEX = "# Home\n\nStart with the [guide](guide.md).\n"


@pytest.fixture()
def corpus(tmp_path):
    root = tmp_path / "docs"
    write(root, "guide.md", GUIDE)
    write(root, "ref.md", REF)
    write(root, "index.md", INDEX)
    return root, tmp_path / "store.db"


def test_first_run_stores_every_document(corpus):
    root, db = corpus
    summary = run(root, db)
    assert (summary.processed, summary.unchanged, summary.failed, summary.removed) == (3, 0, 0, 0)
    stored = rows(db, "SELECT doc_id, source, path, doc_type FROM documents ORDER BY path")
    assert stored == [
        (make_doc_id("docs", "guide.md"), "docs", "guide.md", "markdown"),
        (make_doc_id("docs", "index.md"), "docs", "index.md", "markdown"),
        (make_doc_id("docs", "ref.md"), "docs", "ref.md", "markdown"),
    ]
    fts = rows(db, "SELECT e.text FROM elements_fts JOIN elements e ON e.rowid = elements_fts.rowid "
                   "WHERE elements_fts MATCH 'configure' AND e.element_type = 'paragraph'")
    assert fts == [("Configure it.",)]


def test_second_run_is_idempotent(corpus):
    root, db = corpus
    run(root, db)
    before = element_ids(db)
    relationships_before = rows(db, "SELECT * FROM relationships ORDER BY relationship_id")
    summary = run(root, db)
    assert (summary.processed, summary.unchanged, summary.failed) == (0, 3, 0)
    assert element_ids(db) == before
    assert rows(db, "SELECT * FROM relationships ORDER BY relationship_id") == relationships_before


def test_touched_but_identical_file_is_unchanged_by_hash(corpus):
    root, db = corpus
    run(root, db)
    later = time.time() + 10
    os.utime(root / "guide.md", (later, later))
    summary = run(root, db)
    assert (summary.processed, summary.unchanged) == (0, 3)


def test_editing_one_section_reprocesses_one_document_and_keeps_other_ids(corpus):
    root, db = corpus
    run(root, db)
    guide_id = make_doc_id("docs", "guide.md")
    before = {r[1]: r[2] for r in element_ids(db) if r[0] == guide_id}
    others_before = [r for r in element_ids(db) if r[0] != guide_id]
    write(root, "guide.md", GUIDE.replace("Configure it.", "Configure it carefully, twice."))
    summary = run(root, db)
    assert (summary.processed, summary.unchanged) == (1, 2)
    after = {r[1]: r[2] for r in element_ids(db) if r[0] == guide_id}
    assert set(after) == set(before)  # same structure, same ids
    changed = {element_id for element_id in after if after[element_id] != before[element_id]}
    changed_types = rows(
        db,
        f"SELECT element_type FROM elements WHERE element_id IN ({','.join('?' * len(changed))}) ORDER BY 1",
        *changed,
    )
    # Only the edited paragraph changes: a header's text is its heading, not its section.
    assert [t for (t,) in changed_types] == ["paragraph"]
    assert [r for r in element_ids(db) if r[0] != guide_id] == others_before


def test_deleted_file_loses_its_rows(corpus):
    root, db = corpus
    run(root, db)
    ref_id = make_doc_id("docs", "ref.md")
    (root / "ref.md").unlink()
    summary = run(root, db)
    assert summary.removed == 1
    for table in ("documents", "elements", "relationships"):
        assert rows(db, f"SELECT count(*) FROM {table} WHERE doc_id = ?", ref_id) == [(0,)]
    assert rows(db, "SELECT count(*) FROM elements_fts WHERE elements_fts MATCH 'Call'") == [(0,)]


def test_links_resolve_to_root_anchor_or_stay_unresolved(corpus):
    root, db = corpus
    run(root, db)
    links = dict(
        rows(
            db,
            "SELECT r.target_reference, coalesce(t.element_type || ':' || t.text, 'NULL') "
            "FROM relationships r LEFT JOIN elements t ON t.element_id = r.target_id "
            "WHERE r.relationship_type = 'links_to' AND r.doc_id = ?",
            make_doc_id("docs", "guide.md"),
        )
    )
    assert links["ref.md#usage"] == "header:Usage"
    assert links["index.md"].startswith("root:")
    assert links["gone.md"] == "NULL"
    assert links["https://example.com/page"] == "NULL"


def test_links_into_a_document_follow_its_new_version(corpus):
    root, db = corpus
    run(root, db)
    write(root, "ref.md", "# Reference\n\nNew intro.\n\n## Setup\n\nFirst.\n\n## Usage\n\nCall it.\n")
    run(root, db)
    target = rows(
        db,
        "SELECT t.text FROM relationships r JOIN elements t ON t.element_id = r.target_id "
        "WHERE r.target_reference = 'ref.md#usage'",
    )
    assert target == [("Usage",)]


def test_links_are_followed_beyond_include_up_to_max_link_depth(tmp_path):
    root = tmp_path / "docs"
    write(root, "index.md", "# Home\n\n[a](a.md)\n")
    write(root, "a.md", "# A\n\n[b](b.md)\n")
    write(root, "b.md", "# B\n\n[c](c.md)\n")
    write(root, "c.md", "# C\n")
    db = tmp_path / "store.db"
    summary = run(root, db, include=["index.md"], max_link_depth=2)
    assert summary.processed == 3
    assert [p for (p,) in rows(db, "SELECT path FROM documents ORDER BY path")] == ["a.md", "b.md", "index.md"]
    # Unchanged documents still lead to their links, so nothing linked is removed.
    summary = run(root, db, include=["index.md"], max_link_depth=2)
    assert (summary.processed, summary.unchanged, summary.removed) == (0, 3, 0)
    summary = run(root, db, include=["index.md"], max_link_depth=0)
    assert summary.removed == 2


def test_parallel_run_matches_single_process(corpus, tmp_path):
    root, db = corpus
    run(root, db)
    parallel_db = tmp_path / "parallel.db"
    config = config_from_dict(
        {
            "storage": {"path": str(parallel_db)},
            "content_sources": [{"name": "docs", "base_path": str(root)}],
            "processing": {"jobs": 2},
        }
    )
    summary = ingest_documents(config)
    assert summary.processed == 3 and summary.jobs == 2
    assert element_ids(parallel_db) == element_ids(db)
    query = "SELECT relationship_id, source_id, relationship_type, target_id FROM relationships ORDER BY 1"
    assert rows(parallel_db, query) == rows(db, query)


BAD_INPUTS = {
    "invalid-utf8.md": b"# Title\n\n\xff\xfe bad \xc3\x28 bytes\n",
    "empty.md": b"",
    "garbage.md": bytes(range(256)) * 64,
    "deep.json": b"[" * 100_000 + b"]" * 100_000,
    "laughs.xml": b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
""",
}


def test_bad_inputs_fail_cleanly_or_parse_and_the_run_goes_on(tmp_path):
    root = tmp_path / "docs"
    for name, content in BAD_INPUTS.items():
        write(root, name, content)
    secret = write(tmp_path, "secret.txt", "TOP-SECRET-VALUE")
    write(
        root,
        "xxe.xml",
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]><r>&xxe;</r>',
    )
    paragraph = "Plain words in a long paragraph of a large text file. " * 9 + "\n\n"
    write(root, "big.txt", (paragraph * (20 * 1024 * 1024 // len(paragraph) + 1))[: 20 * 1024 * 1024])
    os.symlink(secret, root / "leak.md")
    write(root, "good.md", "# Fine\n\nStill processed.\n")
    db = tmp_path / "store.db"
    started = time.perf_counter()
    summary = run(root, db)
    elapsed = time.perf_counter() - started
    assert elapsed < 120  # a guard against hangs, not a performance assertion
    handled = summary.processed + summary.failed
    assert handled == len(BAD_INPUTS) + 3  # + xxe, big, good; leak.md is skipped
    assert [s.path for s in summary.skipped_paths] == ["leak.md"]
    for failure in summary.failures:
        assert failure.stage in {"fetch", "parse", "relate"} and failure.cause
    failed = {f.path for f in summary.failures}
    assert "good.md" not in failed and "empty.md" not in failed
    assert {"deep.json", "laughs.xml", "garbage.md"} <= failed
    assert "big.txt" not in failed  # 20 MB of ordinary text parses
    all_text = " ".join(t for (t,) in rows(db, "SELECT text FROM elements"))
    assert "TOP-SECRET-VALUE" not in all_text
    assert "lollollol" not in all_text
    assert rows(db, "SELECT count(*) FROM documents WHERE path = 'good.md'") == [(1,)]


def test_failed_document_keeps_its_previous_version(corpus):
    root, db = corpus
    run(root, db)
    write(root, "ref.md", b"\x00\x01\x02 binary now")
    summary = run(root, db)
    assert summary.failed == 1 and summary.failures[0].path == "ref.md"
    assert rows(db, "SELECT count(*) FROM elements WHERE doc_id = ?", make_doc_id("docs", "ref.md"))[0][0] > 0


def test_a_file_name_that_is_not_utf8_is_stored_losslessly_and_found_again(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    raw_root = os.fsencode(root)
    with open(os.path.join(raw_root, b"caf\xe9.md"), "wb") as handle:
        handle.write(b"# Caf\xc3\xa9\n\nA Latin-1 file name.\n")
    os.mkdir(os.path.join(raw_root, b"d\xefr"))
    with open(os.path.join(raw_root, b"d\xefr", b"inner.md"), "wb") as handle:
        handle.write(b"# Inner\n\nIn a Latin-1 folder.\n")
    write(root, "plain.md", "# Plain\n\nSee [the cafe](caf%25E9.md).\n")
    db = tmp_path / "store.db"
    summary = run(root, db)
    assert (summary.processed, summary.failed) == (3, 0), summary.failures
    assert sorted(p for (p,) in rows(db, "SELECT path FROM documents")) == ["caf%E9.md", "d%EFr/inner.md", "plain.md"]
    assert rows(db, "SELECT count(*) FROM elements WHERE text = 'In a Latin-1 folder.'") == [(1,)]
    summary = run(root, db)
    assert (summary.processed, summary.unchanged, summary.removed) == (0, 3, 0)
    # The file changes: fetch must find it again by its stored name.
    with open(os.path.join(raw_root, b"caf\xe9.md"), "wb") as handle:
        handle.write(b"# Caf\xc3\xa9\n\nEdited.\n")
    summary = run(root, db)
    assert (summary.processed, summary.failed) == (1, 0)
    assert rows(db, "SELECT count(*) FROM elements WHERE text = 'Edited.'") == [(1,)]


def test_keys_that_look_like_numbered_keys_do_not_collide(tmp_path):
    root = tmp_path / "docs"
    write(root, "dup.json", '{"a":1,"a":2,"a[1]":3}')
    write(root, "good.md", "# Good\n")
    db = tmp_path / "store.db"
    summary = run(root, db)
    assert (summary.processed, summary.failed) == (2, 0), summary.failures
    fields = rows(db, "SELECT path_segment, text FROM elements WHERE element_type = 'json_field' ORDER BY 1")
    assert fields == [("@a", "a: 1"), ("@a[1]", "a: 2"), ("@a~21]", "a[1]: 3")]


def test_a_document_the_store_refuses_is_a_store_failure_and_the_batch_commits(corpus):
    root, db = corpus
    run(root, db)
    with sqlite3.connect(db) as connection:
        connection.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON documents WHEN NEW.path = 'ref.md' "
            "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
        )
    write(root, "ref.md", REF + "\nChanged.\n")
    write(root, "index.md", INDEX + "\nChanged too.\n")
    write(root, "new.md", "# New\n")
    summary = run(root, db)
    assert (summary.processed, summary.failed) == (2, 1)
    [failure] = summary.failures
    assert (failure.path, failure.stage) == ("ref.md", "store")
    assert "refused by a trigger" in failure.cause
    assert rows(db, "SELECT count(*) FROM elements WHERE text = 'Changed too.'") == [(1,)]
    assert rows(db, "SELECT count(*) FROM elements WHERE text = 'Call it.'") == [(1,)], "old version kept"


def test_fifos_and_devices_are_reported_as_skipped(tmp_path):
    root = tmp_path / "docs"
    write(root, "good.md", "# Good\n")
    os.mkfifo(root / "pipe.md")
    summary = run(root, tmp_path / "store.db")
    assert summary.processed == 1
    assert [(s.path, s.reason) for s in summary.skipped_paths] == [("pipe.md", "not a regular file (FIFO); not read")]


def test_link_counts_are_honest(corpus):
    root, db = corpus
    write(root, "extra.md", "# Extra\n\n[no such anchor](ref.md#nowhere) and [good](ref.md#usage).\n")
    summary = run(root, db)
    # guide: ref.md#usage, index.md, gone.md; index: guide.md; extra: 2 to ref.md
    assert (summary.links_resolved, summary.links_unresolved, summary.anchors_missing) == (5, 1, 1)
    nowhere = rows(db, "SELECT json_extract(metadata, '$.anchor_found') FROM stored_relationships "
                       "WHERE target_reference = 'ref.md#nowhere'")
    assert nowhere == [(0,)]

