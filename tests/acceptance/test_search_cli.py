"""``go-doc-go search`` and ``show --neighbourhood`` driven as a user would: real subprocesses, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.embeddings
pytest.importorskip("numpy")

CORPUS = Path(__file__).resolve().parents[1] / "data" / "search"
RESULT_KEYS = {"doc_id", "path", "element_id", "element_type", "header_path", "snippet", "score"}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "go_doc_go.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory, static_model_cache) -> Path:
    folder = tmp_path_factory.mktemp("project")
    (folder / "config.yaml").write_text(
        "storage: {path: store.db}\n"
        f"content_sources: [{{name: kitchen, base_path: {CORPUS / 'kitchen'}}}, {{name: sea, base_path: {CORPUS / 'sea'}}}]\n"
        "embedding: {enabled: true}\n"
        "relationship_detection: {cross_document_semantic: {similarity_threshold: 0.5, k: 2}}\n"
    )
    result = cli("ingest", "--config", "config.yaml", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "units embedded" in result.stdout
    return folder


def test_search_json_prints_results_with_the_documented_fields(project):
    result = cli("search", "measuring the height of the sea", "--config", "config.yaml", "--json", "--limit", "3",
                 cwd=project)  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "hybrid" and len(data["results"]) == 3
    assert all(RESULT_KEYS <= set(r) for r in data["results"])
    assert data["results"][0]["path"] == "tides.md" and data["results"][0]["rank"] == 1
    with_related = json.loads(cli("search", "mooring ropes", "--db", "store.db", "--json", "--related", "--limit", "1",
                                  cwd=project).stdout)  # fmt: skip
    assert with_related["results"][0]["path"] == "boats.md"
    assert isinstance(with_related["results"][0]["related"], list)


def test_search_text_output_and_filters(project):
    result = cli("search", "oven temperature", "--db", "store.db", "--type", "table", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "kitchen:cakes.md" in result.stdout and "(1 results, hybrid" in result.stdout
    none = cli("search", "oven temperature", "--db", "store.db", "--source", "sea", "--mode", "full_text", cwd=project)
    assert none.returncode == 0 and "no results" in none.stdout


def test_search_without_a_store_is_a_usage_error(tmp_path):
    result = cli("search", "anything", cwd=tmp_path)
    assert result.returncode == 2 and "no store at ./go_doc_go.db" in result.stderr


def test_show_an_element_with_its_neighbourhood(project):
    found = json.loads(cli("search", "spring neap tides", "--db", "store.db", "--json", "--mode", "full_text",
                           cwd=project).stdout)["results"][0]  # fmt: skip
    assert found["header_path"] == ["Tides", "Spring and neap tides"]
    prefix = found["element_id"][:12]
    shown = cli("show", prefix, "--db", "store.db", "--neighbourhood", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert "sea:tides.md › Tides › Spring and neap tides (header)" in shown.stdout
    assert "parent: header" in shown.stdout and "previous sibling: header" in shown.stdout
    assert "links out:" in shown.stdout and "boats.md › Boats › Mooring" in shown.stdout
    as_json = json.loads(cli("show", found["element_id"], "--db", "store.db", "--neighbourhood", "--json",
                             cwd=project).stdout)  # fmt: skip
    assert as_json["element"]["element_id"] == found["element_id"]
    assert as_json["links_out"][0]["path"] == "boats.md"
    root = json.loads(cli("search", "spring neap tides", "--db", "store.db", "--json", "--limit", "1",
                          cwd=project).stdout)["results"][0]  # fmt: skip
    semantic = json.loads(cli("show", root["element_id"], "--db", "store.db", "--neighbourhood", "--json",
                              cwd=project).stdout)["semantic_out"]  # fmt: skip
    assert semantic and all(item["score"] >= 0.5 and item["path"] != "tides.md" for item in semantic)
    missing = cli("show", "0000000000", "--db", "store.db", "--neighbourhood", cwd=project)
    assert missing.returncode == 1 and "no element" in missing.stderr
