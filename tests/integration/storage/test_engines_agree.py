"""Single mode into SQLite and into PostgreSQL gives the same store, row for row, run after run."""

from __future__ import annotations

from typing import Any

import pytest

from go_doc_go import ingest_documents
from go_doc_go.config import config_from_dict
from go_doc_go.storage import open_store
from tests.helpers.corpus import change_corpus, write_corpus
from tests.helpers.stores import differences, snapshot

pytestmark = pytest.mark.postgres

COUNTED = ("processed", "unchanged", "removed", "failed", "skipped", "links_resolved", "links_unresolved",
           "anchors_missing")  # fmt: skip


def config(storage: dict[str, Any], root, jobs: int):  # noqa: ANN001, ANN201
    return config_from_dict({
        "storage": storage,
        "content_sources": [{"name": "corpus", "base_path": str(root)}],
        "processing": {"jobs": jobs},
    })  # fmt: skip


def run(configuration) -> tuple[dict[str, int], dict[str, list[tuple]]]:  # noqa: ANN001
    summary = ingest_documents(configuration)
    assert summary.failures == []
    store = open_store(configuration, read_only=True)
    try:
        return {key: getattr(summary, key) for key in COUNTED}, snapshot(store)
    finally:
        store.close()


def test_sqlite_and_postgresql_stores_are_identical(tmp_path, pg_schema_url):
    root = write_corpus(tmp_path / "corpus")
    sqlite = config({"backend": "sqlite", "path": str(tmp_path / "store.db")}, root, jobs=1)
    postgresql = config({"backend": "postgresql", "uri": pg_schema_url}, root, jobs=2)

    first_sqlite, first_pg = run(sqlite), run(postgresql)
    assert differences(first_sqlite[1], first_pg[1]) == []
    assert first_sqlite[0] == first_pg[0]
    counts, shot = first_pg
    assert counts["processed"] == len(shot["documents"]) >= 25 and counts["anchors_missing"] > 0
    assert {t for (_, _, _, t, *_) in shot["relationships"]} == {
        "contains", "contained_by", "next_sibling", "previous_sibling", "links_to"}
    replaced = [d for d in shot["documents"] if "nul_characters_replaced" in d[8]]
    assert sorted(d[2] for d in replaced) == ["generated/late-nul.txt", "generated/nul.json"]
    assert max(len(anchor) for (_, anchor, _) in shot["element_anchors"]) > 3000

    change_corpus(root)
    second_sqlite, second_pg = run(sqlite), run(postgresql)
    assert differences(second_sqlite[1], second_pg[1]) == []
    assert second_sqlite[0] == second_pg[0]
    assert (second_pg[0]["processed"], second_pg[0]["removed"]) == (2, 1)
    assert second_pg[1] != first_pg[1]

    third_sqlite, third_pg = run(sqlite), run(postgresql)
    assert third_pg[0]["processed"] == third_sqlite[0]["processed"] == 0
    assert third_pg[0]["unchanged"] == len(third_pg[1]["documents"])
    assert differences(third_pg[1], second_pg[1]) == [] and differences(third_sqlite[1], second_sqlite[1]) == []
