"""The CLI end to end into PostgreSQL: ``ingest PATH --config pg.yaml``, ``show DOC --config pg.yaml``,
and the same store as the default SQLite run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from go_doc_go import ingest_documents
from go_doc_go.storage.postgresql import PostgreSQLStore
from go_doc_go.storage.sqlite import SQLiteStore
from tests.helpers.corpus import EXAMPLES
from tests.helpers.stores import differences, snapshot

pytestmark = pytest.mark.postgres


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "go_doc_go.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=180)  # fmt: skip


def test_ingest_and_show_with_a_postgresql_config(tmp_path, pg_schema_url):
    docs = tmp_path / "docs"
    docs.mkdir()
    for path in EXAMPLES.rglob("*"):
        if path.is_file():
            (docs / path.relative_to(EXAMPLES)).parent.mkdir(parents=True, exist_ok=True)
            (docs / path.relative_to(EXAMPLES)).write_bytes(path.read_bytes())
    config = tmp_path / "pg.yaml"
    config.write_text(f"storage:\n  backend: postgresql\n  uri: \"{pg_schema_url}\"\n", encoding="utf-8")

    first = cli("ingest", str(docs), "--config", str(config), "--jobs", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "12 processed" in first.stdout and f"→ {pg_schema_url}" in first.stdout
    again = cli("ingest", str(docs), "--config", str(config), "--jobs", "1", "--json", cwd=tmp_path)
    again = json.loads(again.stdout)
    assert (again["processed"], again["unchanged"], again["failed"]) == (0, 12, 0)
    assert not (tmp_path / "go_doc_go.db").exists(), "nothing went to SQLite"

    shown = cli("show", "guides/architecture.md", "--config", str(config), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "docs:guides/architecture.md" in shown.stdout and "code_block python" in shown.stdout
    missing = cli("show", "nope.md", "--config", str(config), cwd=tmp_path)
    assert missing.returncode == 1 and "no document 'nope.md' in postgresql://" in missing.stderr

    # What the default run (no config: ./go_doc_go.db) stores, in-process to save a subprocess.
    ingest_documents({"storage": {"path": str(tmp_path / "go_doc_go.db")},
                      "content_sources": [{"name": "docs", "base_path": str(docs.resolve())}]})
    sqlite, postgresql = SQLiteStore(tmp_path / "go_doc_go.db", read_only=True), PostgreSQLStore(pg_schema_url)
    try:
        assert differences(snapshot(sqlite), snapshot(postgresql)) == []
    finally:
        sqlite.close()
        postgresql.close()


def test_show_with_a_config_whose_database_is_unreachable_is_a_usage_error(tmp_path, pg_server):
    config = tmp_path / "pg.yaml"
    config.write_text("storage:\n  backend: postgresql\n  uri: postgresql://u:s3cret@127.0.0.1:1/x\n")
    result = cli("show", "a.md", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot open PostgreSQL store postgresql://u:***@127.0.0.1:1/x" in result.stderr
    assert "s3cret" not in result.stderr
