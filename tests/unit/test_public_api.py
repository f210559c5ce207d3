import go_doc_go
from go_doc_go import ingest_documents


def test_public_api_is_exactly_this():
    assert sorted(go_doc_go.__all__) == [
        "Config", "ConfigError", "GoDocGoError", "IngestSummary",
        "config_from_dict", "ingest_documents", "load_config", "run_id",
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
