"""The embed step: vectors travel with a document's rows; only changed units are embedded again.

Marked ``embeddings``: the real default (static) model runs, counted through
the provider's own ``texts_embedded``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial

import pytest

from go_doc_go import ingest_documents
from go_doc_go.config import config_from_dict, vector_model
from go_doc_go.embed import Embedder
from go_doc_go.pipeline import Unchanged
from go_doc_go.pool import PARSED, Processed, Task, embed_tasks
from go_doc_go.sources import open_source
from go_doc_go.storage import open_store
from tests.helpers.stores import rows as query

pytestmark = pytest.mark.embeddings
pytest.importorskip("numpy")

SECTION = "The {topic} section explains {topic} in detail. " * 18  # ~900 characters: a section per unit


def long_document(title: str, topics: list[str]) -> str:
    """A document longer than the static model's window (2,000 characters): one unit per section."""
    body = "".join(f"## {t.title()}\n\n{SECTION.format(topic=t)}\n\n" for t in topics)
    return f"# {title}\n\nWhat {title} is about.\n\n{body}"


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "tides.md").write_text(long_document("Tides", ["harbor", "gauges", "datum"]))
    (root / "cakes.md").write_text(long_document("Cakes", ["sugar", "cream", "ovens"]))
    (root / "short.md").write_text("# Short\n\nA short note about harbor gauges.\n")
    return root


def settings(tmp_path, root, **embedding):
    return config_from_dict({
        "storage": {"path": str(tmp_path / "store.db")},
        "content_sources": [{"name": "docs", "base_path": str(root)}],
        "embedding": {"enabled": True, **embedding},
        "processing": {"jobs": 1},
    })  # fmt: skip


def stored_vectors(store):
    return dict(((e, c), (h, bytes(v))) for e, c, h, v in
                query(store, "SELECT element_id, chunk, unit_hash, vector FROM embeddings"))  # fmt: skip


def run_child(config, embedder, tasks):
    """What a parser child does with one dispatch, in this process (so the provider's counter is readable)."""
    sources = {s.name: open_source(s) for s in config.content_sources}
    sent = []
    embed_tasks(tasks, config, sources, embedder, sent.append, solo=False)
    assert sent.count(PARSED) == len(tasks)
    return [item for item in sent if not isinstance(item, str)]


def test_a_changed_document_re_embeds_only_its_changed_units_counted_on_the_provider(
    tmp_path, corpus, static_model_cache
):
    config = settings(tmp_path, corpus)
    store = open_store(config)
    embedder = Embedder(config, open_reader=partial(open_store, config, read_only=True))
    source = open_source(config.content_sources[0])
    tides = source.ref_for("tides.md")
    [first] = run_child(config, embedder, [Task(tides)])
    assert isinstance(first, Processed) and len(first.rows.embeddings) == 4  # intro + 3 sections
    assert embedder.provider.texts_embedded == 4 and (first.rows.embedded, first.rows.reused) == (4, 0)
    with store.transaction() as tx:
        store.write_documents(tx, [first.rows], pass_token="p")
    before = stored_vectors(store)

    [same] = run_child(config, embedder, [Task(tides, known_hash=first.rows.document[5])])
    assert isinstance(same, Unchanged) and embedder.provider.texts_embedded == 4, "same bytes: nothing embedded"

    path = corpus / "tides.md"
    path.write_text(path.read_text().replace("The gauges section", "The tide gauges section", 1))
    [changed] = run_child(config, embedder, [Task(source.ref_for("tides.md"), known_hash=first.rows.document[5])])
    assert embedder.provider.texts_embedded == 5, "one section changed: one text embedded"
    assert (changed.rows.embedded, changed.rows.reused) == (1, 3)
    with store.transaction() as tx:
        store.write_documents(tx, [changed.rows], pass_token="p")
    after = stored_vectors(store)
    assert len([key for key in after if after[key] == before.get(key)]) == 3, "the other units kept their vectors"
    embedder.close()
    store.close()


def test_re_ingesting_embeds_nothing_and_an_edit_re_embeds_one_unit(tmp_path, corpus, static_model_cache):
    config = settings(tmp_path, corpus)
    first = ingest_documents(config)
    assert (first.processed, first.units_embedded, first.units_reused) == (3, 9, 0)
    again = ingest_documents(config)
    assert (again.processed, again.unchanged, again.units_embedded) == (0, 3, 0)
    path = corpus / "cakes.md"
    path.write_text(path.read_text().replace("The ovens section", "The hot ovens section", 1))
    edited = ingest_documents(config)
    assert (edited.processed, edited.units_embedded, edited.units_reused) == (1, 1, 3)
    store = open_store(config, read_only=True)
    try:
        models = query(store, "SELECT DISTINCT model FROM embeddings")
        assert models == [(vector_model(config.embedding),)]
        assert query(store, "SELECT count(*) FROM embeddings") == [(9,)]
    finally:
        store.close()


def test_enabling_embeddings_or_changing_the_model_embeds_every_document_once(tmp_path, corpus, static_model_cache):
    plain = settings(tmp_path, corpus)
    plain.embedding.enabled = False
    assert ingest_documents(plain).processed == 3
    embedded = ingest_documents(settings(tmp_path, corpus))
    assert (embedded.processed, embedded.units_embedded) == (3, 9), "stale: parsed again though unchanged"
    assert ingest_documents(settings(tmp_path, corpus)).processed == 0
    wider = ingest_documents(settings(tmp_path, corpus, window_chars=4000))
    assert wider.processed == 3 and wider.units_embedded == 3, "another window is another model: whole documents"
    assert ingest_documents(settings(tmp_path, corpus, window_chars=4000)).processed == 0


def test_a_missing_extra_is_one_line_naming_it(tmp_path, corpus):
    stub = tmp_path / "stub" / "numpy"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError(\"No module named 'numpy'\")\n")
    config = tmp_path / "c.yaml"
    config.write_text(f"storage: {{path: {tmp_path / 'x.db'}}}\ncontent_sources: [{{name: d, base_path: {corpus}}}]\n"
                      "embedding: {enabled: true}\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(stub.parent), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "go_doc_go.cli.main", "ingest", "--config", str(config)],
                            capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'go-doc-go[embeddings]'" in lines[0] and "numpy" in lines[0], lines
