"""process_document on real files: outcomes, failure kinds, links resolved once."""

import os

import pytest

from go_doc_go.config import Config, ContentSourceConfig
from go_doc_go.model import DocumentResult, make_doc_id
from go_doc_go.pipeline import Failed, Unchanged, process_document
from go_doc_go.sources.file import FileSource


@pytest.fixture()
def source(tmp_path):
    (tmp_path / "a.md").write_text("# A\n\nSee [b](b.md#part) and [web](https://example.com).\n")
    (tmp_path / "b.md").write_text("# B\n\n## Part\n")
    return FileSource(ContentSourceConfig(name="s", base_path=str(tmp_path)))


def test_a_document_becomes_rows_with_links_resolved_in_the_source(source):
    ref = source.ref_for("a.md")
    result = process_document(source, ref, Config())
    assert isinstance(result, DocumentResult)
    assert [e.element_type for e in result.elements] == ["root", "header", "paragraph"]
    inner, outer = result.links
    assert (inner.target_path, inner.target_anchor, inner.target_doc_id) == ("b.md", "part", make_doc_id("s", "b.md"))
    assert outer.target_path is None and outer.target_doc_id is None
    [stored] = [r for r in result.relationships if r.target_reference == "b.md#part"]
    assert stored.target_path == "b.md" and stored.source_id == result.elements[2].element_id


def test_the_same_bytes_are_unchanged(source):
    ref = source.ref_for("a.md")
    first = process_document(source, ref, Config())
    assert isinstance(process_document(source, ref, Config(), known_hash=first.document.content_hash), Unchanged)


def test_failures_carry_stage_kind_and_type(source, tmp_path):
    gone = source.ref_for("b.md")
    os.remove(tmp_path / "b.md")
    missing = process_document(source, gone, Config())
    assert isinstance(missing, Failed)
    assert (missing.stage, missing.kind, missing.error_type) == ("fetch", "permanent", "FetchError")

    (tmp_path / "bad.json").write_text('{"open": ')
    broken = process_document(source, source.ref_for("bad.json"), Config())
    assert (broken.stage, broken.kind, broken.error_type) == ("parse", "permanent", "ParseError")
    assert "invalid JSON" in broken.cause and broken.traceback is None

    (tmp_path / "many.md").write_text("\n\n".join(f"p{i}" for i in range(50)))
    limited = process_document(source, source.ref_for("many.md"), Config.model_validate({"parsers": {"max_elements": 10}}))
    assert (limited.kind, limited.error_type) == ("permanent", "LimitExceededError")
    assert "parsers.max_elements" in limited.cause


def test_a_parser_bug_costs_one_document_and_keeps_its_traceback(source, monkeypatch):
    import go_doc_go.parsers as parsers

    def broken_parser(doc):
        raise KeyError("a bug")

    monkeypatch.setitem(parsers._loaded, "markdown", broken_parser)
    outcome = process_document(source, source.ref_for("a.md"), Config())
    assert isinstance(outcome, Failed)
    assert (outcome.stage, outcome.kind, outcome.error_type) == ("parse", "permanent", "KeyError")
    assert "broken_parser" in outcome.traceback


def test_a_path_that_became_a_folder_is_a_permanent_fetch_failure(source, tmp_path):
    ref = source.ref_for("b.md")
    os.remove(tmp_path / "b.md")
    os.mkdir(tmp_path / "b.md")
    outcome = process_document(source, ref, Config())
    assert (outcome.stage, outcome.kind, outcome.error_type) == ("fetch", "permanent", "FetchError")


def test_an_id_collision_fails_the_document_at_the_relate_stage(source, tmp_path, monkeypatch):
    import go_doc_go.model as model

    # Simulate a parser bug: the old, ambiguous escaping of keyed segments.
    monkeypatch.setattr(model, "key_segment", lambda key: "@" + key.replace("~", "~0").replace("/", "~1"))
    (tmp_path / "dup.json").write_text('{"a":1,"a":2,"a[1]":3}')
    outcome = process_document(source, source.ref_for("dup.json"), Config())
    assert isinstance(outcome, Failed)
    assert (outcome.stage, outcome.kind, outcome.error_type) == ("relate", "permanent", "ElementIdCollisionError")
    assert "@a[1]" in outcome.cause
