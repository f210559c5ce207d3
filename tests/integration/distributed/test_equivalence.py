"""Distributed runs (PostgreSQL, coordinator + worker processes) equal single mode (SQLite), row for row."""

from __future__ import annotations

import pytest
import yaml

from go_doc_go import ingest_documents
from go_doc_go.config import config_from_dict, load_config
from go_doc_go.storage import open_store
from tests.helpers.corpus import change_corpus, write_corpus
from tests.helpers.stores import differences, rows, snapshot

from .conftest import cli, single_config, write_config

pytestmark = pytest.mark.postgres


def stored(configuration) -> dict[str, list[tuple]]:  # noqa: ANN001
    store = open_store(configuration, read_only=True)
    try:
        return snapshot(store)
    finally:
        store.close()


def distributed_pass(config_file, workers: int = 3) -> None:  # noqa: ANN001
    coordinator = cli("go_doc_go.cli.coordinator", "--config", str(config_file))
    assert coordinator.returncode == 0, coordinator.stderr
    assert "documents queued" in coordinator.stdout and "--run-id" in coordinator.stdout
    worker = cli("go_doc_go.cli.worker", "--config", str(config_file), "--num-workers", str(workers))
    assert worker.returncode == 0, worker.stderr[-3000:]


def test_coordinator_and_three_workers_store_what_single_mode_stores_pass_after_pass(tmp_path, fresh_db):
    root = write_corpus(tmp_path / "corpus")
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db)
    single = config_from_dict(single_config(config_file, tmp_path / "single.db"))

    ingest_documents(single)
    distributed_pass(config_file)
    distributed = load_config(config_file)
    assert differences(stored(single), stored(distributed)) == []

    change_corpus(root)  # one document edited, one deleted, one added
    distributed_pass(config_file)
    fresh = config_from_dict(single_config(config_file, tmp_path / "fresh.db"))
    ingest_documents(fresh)
    assert differences(stored(fresh), stored(distributed)) == [], "the next pass equals a fresh single-mode run"
    store = open_store(distributed, read_only=True)
    try:
        outcomes = dict(rows(store, "SELECT outcome, count(*) FROM document_queue d JOIN processing_runs r "
                                    "ON r.run_id = d.run_id AND r.pass_number = d.pass_number GROUP BY outcome"))
    finally:
        store.close()
    assert outcomes["processed"] == 2, "only the edited and the added document are parsed again"
    assert outcomes["unchanged"] >= 20


def test_a_narrow_include_follows_links_to_the_same_documents(tmp_path, fresh_db):
    root = write_corpus(tmp_path / "corpus")
    sources = [{"name": "corpus", "base_path": str(root), "include": ["generated/page00.md"], "max_link_depth": 2}]
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db, sources=sources)
    single = config_from_dict(single_config(config_file, tmp_path / "single.db"))
    ingest_documents(single)
    distributed_pass(config_file)
    expected = stored(single)
    paths = {path for _, _, path, *_ in expected["documents"]}
    assert {"generated/page00.md", "generated/page01.md", "generated/page02.md", "examples/index.md"} <= paths
    assert "generated/page03.md" not in paths, "three hops away: past max_link_depth"
    assert differences(expected, stored(load_config(config_file))) == []


def test_ingest_documents_in_distributed_mode_returns_the_single_mode_summary(tmp_path, fresh_db):
    root = write_corpus(tmp_path / "corpus")
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db)
    single = ingest_documents(single_config(config_file, tmp_path / "single.db"))
    distributed = ingest_documents(str(config_file))
    fields = ("processed", "unchanged", "removed", "failed", "links_resolved", "links_unresolved", "anchors_missing")
    assert {f: getattr(distributed, f) for f in fields} == {f: getattr(single, f) for f in fields}
    again = ingest_documents(str(config_file))
    assert (again.processed, again.unchanged) == (0, single.processed)


def test_a_worker_without_a_coordinator_does_the_whole_job(tmp_path, fresh_db):
    root = write_corpus(tmp_path / "corpus")
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db)
    worker = cli("go_doc_go.cli.worker", "--config", str(config_file), "--worker-id", "worker-01")
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert "worker=worker-01" in worker.stderr and "discovering" in worker.stderr
    single = config_from_dict(single_config(config_file, tmp_path / "single.db"))
    ingest_documents(single)
    assert differences(stored(single), stored(load_config(config_file))) == []
