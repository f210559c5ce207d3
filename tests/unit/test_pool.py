"""The document pool: results in order, children recycled, and hostile parsers cost one document.

The hostile cases run the real CLI in a subprocess whose parser registry a
``sitecustomize`` module extends with a parser that hangs inside C code, kills
its own process, or eats memory. The pool's children (fresh interpreters)
import it too, exactly as they would import a misbehaving native library.
"""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from go_doc_go.config import config_from_dict
from go_doc_go.pool import DocumentPool, Processed, Task
from go_doc_go.sources.file import FileSource

HOSTILE_PARSER = '''
import os
import re
import signal

from go_doc_go.parsers import text


def parse(doc):
    body = doc.data
    if b"HANG" in body:
        re.match(r"(a+)+$", "a" * 64 + "b")  # catastrophic backtracking: C code, holds the GIL
    if b"CRASH" in body:
        os.kill(os.getpid(), signal.SIGSEGV)
    if b"EAT" in body:
        hoard = bytearray(3 * 1024 ** 3)
        return hoard
    return text.parse(doc)
'''

SITECUSTOMIZE = '''
import os
if os.environ.get("GDG_HOSTILE_PARSER"):
    import go_doc_go.parsers
    go_doc_go.parsers.PARSER_MODULES["text"] = "hostile_parser"

    # Rows too big to pickle within the memory limit (as an 11 MB CSV's 1.1M elements are
    # beside a loaded embedding model): the child's send raises MemoryError for "unsendable*".
    from multiprocessing import connection

    real_send = connection.Connection.send

    def send(self, obj):
        rows = getattr(obj, "rows", None)
        if rows is not None and obj.ref.path.startswith("unsendable"):
            raise MemoryError
        return real_send(self, obj)

    connection.Connection.send = send
'''


def _hostile_run(tmp_path, names, *, embeddings=False, timeout=3, jobs=1):
    """Ingest the named hostile documents beside six fine ones through the real CLI; its JSON summary."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "hostile_parser.py").write_text(HOSTILE_PARSER)
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in names:
        (docs / f"{name}.txt").write_text(name.upper())
    for i in range(6):
        (docs / f"fine{i}.txt").write_text(f"fine document {i}")
    config = tmp_path / "config.yaml"
    config.write_text(textwrap.dedent(f"""\
        storage: {{path: {tmp_path / 's.db'}}}
        content_sources: [{{name: docs, base_path: {docs}}}]
        parsers: {{timeout: {timeout}, max_memory_mb: 1024}}
        embedding: {{enabled: {str(embeddings).lower()}}}
        processing: {{jobs: {jobs}}}
    """))
    env = {**os.environ, "GDG_HOSTILE_PARSER": "1",
           "PYTHONPATH": os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "go_doc_go.cli.main", "ingest", "--config", str(config), "--json"],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)


def test_hostile_parsers_cost_one_document_each(tmp_path):
    started = time.monotonic()
    summary = _hostile_run(tmp_path, ["hang", "crash", "eat"], jobs=2)
    elapsed = time.monotonic() - started
    assert summary["processed"] == 6
    failures = {f["path"]: f for f in summary["failures"]}
    assert set(failures) == {"hang.txt", "crash.txt", "eat.txt"}
    assert "parsers.timeout (3 s)" in failures["hang.txt"]["cause"]
    assert failures["hang.txt"]["kind"] == "retryable"
    assert "SIGSEGV" in failures["crash.txt"]["cause"] and failures["crash.txt"]["kind"] == "retryable"
    assert "parsers.max_memory_mb (1024)" in failures["eat.txt"]["cause"]
    assert all(f["stage"] == "parse" for f in failures.values())
    assert elapsed < 120, "a guard against a hang, not a benchmark"


@pytest.mark.parametrize("embeddings", [False, pytest.param(True, marks=pytest.mark.embeddings)])
def test_rows_too_big_to_send_cost_that_document_only(tmp_path, embeddings, request):
    if embeddings:
        request.getfixturevalue("static_model_cache")
    summary = _hostile_run(tmp_path, ["unsendable"], embeddings=embeddings)
    assert summary["processed"] == 6
    [failure] = summary["failures"]
    assert failure["path"] == "unsendable.txt" and failure["stage"] == "parse"
    assert "parsers.max_memory_mb (1024)" in failure["cause"] and failure["kind"] == "permanent"


def test_results_come_back_in_order_and_children_are_recycled(tmp_path):
    for i in range(7):
        (tmp_path / f"d{i}.md").write_text(f"# Doc {i}\n\nText {i}.\n")
    config = config_from_dict({"content_sources": [{"name": "s", "base_path": str(tmp_path)}],
                               "parsers": {"recycle_after": 2}})
    source = FileSource(config.content_sources[0])
    pids = set()
    with DocumentPool(config, 1) as pool:
        first = pool.submit([Task(source.ref_for(f"d{i}.md")) for i in range(3)]).result(timeout=60)
        assert [r.ref.path for r in first] == ["d0.md", "d1.md", "d2.md"]
        assert all(isinstance(r, Processed) for r in first)
        for i in range(3, 7):
            pids.update(c.process.pid for c in pool._children)
            [result] = pool.submit([Task(source.ref_for(f"d{i}.md"))]).result(timeout=60)
            assert result.rows.elements[1][7] == f"Doc {i}"
    assert len(pids) >= 2, "a child is replaced after recycle_after documents"


def test_a_script_without_a_main_guard_runs_once(tmp_path):
    """Children are fresh interpreters: they never import the caller's __main__ again."""
    (tmp_path / "docs").mkdir()
    for i in range(4):
        (tmp_path / "docs" / f"d{i}.md").write_text(f"# Doc {i}\n")
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(f"""\
        print("SCRIPT RAN", flush=True)
        from go_doc_go import ingest_documents
        summary = ingest_documents({{"storage": {{"path": "{tmp_path / 's.db'}"}},
                                    "content_sources": [{{"name": "docs", "base_path": "{tmp_path / 'docs'}"}}],
                                    "processing": {{"jobs": 2}}}})
        print("processed", summary.processed, flush=True)
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("SCRIPT RAN") == 1
    assert "processed 4" in result.stdout
    piped = subprocess.run([sys.executable, "-"], input=script.read_text(), capture_output=True, text=True,
                           timeout=120)
    assert "processed 0" in piped.stdout and piped.stdout.count("SCRIPT RAN") == 1, piped.stderr[-2000:]


@pytest.mark.embeddings
def test_with_embeddings_a_crash_in_a_batch_costs_the_crashing_document_only(tmp_path, static_model_cache):
    """Documents of a dispatch are embedded together; after a loss they are retried one by one (solo)."""
    summary = _hostile_run(tmp_path, ["crash"], embeddings=True)
    assert summary["processed"] == 6 and summary["units_embedded"] == 6
    [failure] = summary["failures"]
    assert failure["path"] == "crash.txt" and "SIGSEGV" in failure["cause"]


@pytest.mark.embeddings
@pytest.mark.slow
def test_with_embeddings_a_hang_in_a_batch_costs_the_hanging_document_only(tmp_path, static_model_cache):
    summary = _hostile_run(tmp_path, ["hang"], embeddings=True, timeout=2)
    assert summary["processed"] == 6
    [failure] = summary["failures"]
    assert failure["path"] == "hang.txt" and "parsers.timeout (2 s)" in failure["cause"]
