import go_doc_go
from go_doc_go import ingest_documents


def test_public_api_is_exactly_this():
    assert sorted(go_doc_go.__all__) == [
        "Config", "ConfigError", "GoDocGoError", "IngestSummary", "SearchResponse", "SearchResult",
        "config_from_dict", "ingest_documents", "load_config", "run_id", "search",
    ]


def test_ingest_documents_accepts_a_dict_or_a_yaml_path(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\ntext\n")
    as_dict = {"storage": {"path": str(tmp_path / "d.db")},
               "content_sources": [{"name": "docs", "base_path": str(docs)}], "processing": {"jobs": 1}}
    assert ingest_documents(as_dict).processed == 1
    config = tmp_path / "config.yaml"
    config.write_text("storage:\n  path: y.db\ncontent_sources:\n  - name: docs\n    base_path: docs\n"
                      "processing:\n  jobs: 1\n")
    summary = ingest_documents(str(config))
    assert summary.processed == 1 and (tmp_path / "y.db").is_file()


def _modules_after(statement: str) -> set[str]:
    import subprocess
    import sys

    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_package_or_the_model_stays_light():
    for statement in ("import go_doc_go", "import go_doc_go.model", "import go_doc_go.storage"):
        loaded = _modules_after(statement)
        heavy = {"go_doc_go.ingest", "go_doc_go.pipeline", "go_doc_go.parsers", "multiprocessing", "psycopg",
                 "lxml", "pyromark"} & loaded
        assert not heavy, f"{statement} loads {sorted(heavy)}"
    assert "sqlite3" not in _modules_after("import go_doc_go.model")
