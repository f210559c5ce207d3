"""The go-doc-go CLI driven as a user would: a real subprocess, real files."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "docs"


def cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "go_doc_go.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture()
def docs(tmp_path):
    target = tmp_path / "docs"
    shutil.copytree(EXAMPLES, target)
    return target


def test_ingest_examples_then_again(docs, tmp_path):
    first = cli("ingest", str(docs), "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["processed"] == 12
    assert summary["failed"] == 0
    assert (tmp_path / "go_doc_go.db").is_file()  # the default store, in the current folder

    second = cli("ingest", str(docs), "--json", cwd=tmp_path)
    assert second.returncode == 0
    again = json.loads(second.stdout)
    assert (again["processed"], again["unchanged"]) == (0, 12)


def test_human_summary_and_failure_exit_code(docs, tmp_path):
    (docs / "broken.json").write_text('{"unterminated": ')
    result = cli("ingest", str(docs), "--db", str(tmp_path / "s.db"), cwd=tmp_path)
    assert result.returncode == 1
    assert "12 processed, 0 unchanged, 0 removed, 1 failed" in result.stdout
    assert "docs:broken.json" in result.stdout
    assert "parse" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr

    as_json = cli("ingest", str(docs), "--db", str(tmp_path / "s.db"), "--json", cwd=tmp_path)
    assert as_json.returncode == 1
    failures = json.loads(as_json.stdout)["failures"]
    assert [(f["path"], f["stage"]) for f in failures] == [("broken.json", "parse")]


def test_removed_documents_are_reported(docs, tmp_path):
    db = str(tmp_path / "s.db")
    assert cli("ingest", str(docs), "--db", db, cwd=tmp_path).returncode == 0
    (docs / "reference" / "changelog.md").unlink()
    result = cli("ingest", str(docs), "--db", db, "--json", cwd=tmp_path)
    assert json.loads(result.stdout)["removed"] == 1


def test_config_file_and_usage_errors(docs, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "storage:\n  path: ${STORE_PATH:-cfg.db}\n"
        "content_sources:\n  - name: docs\n    base_path: docs\n    include: ['**/*.md']\n    max_link_depth: 0\n"
    )
    ok = cli("ingest", "--config", str(config), "--json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["processed"] == 5
    assert (tmp_path / "cfg.db").is_file()

    config.write_text("storage:\n  backend: sqlite\n  colour: blue\n")
    bad = cli("ingest", "--config", str(config), cwd=tmp_path)
    assert bad.returncode == 2
    assert "storage.colour: unknown key" in bad.stderr
    assert "Traceback" not in bad.stderr

    missing = cli("ingest", str(tmp_path / "nope"), cwd=tmp_path)
    assert missing.returncode == 2
    assert "no such file or folder" in missing.stderr

    nothing = cli("ingest", cwd=tmp_path)
    assert nothing.returncode == 2
    assert "content_sources" in nothing.stderr


def test_show_prints_the_tree(docs, tmp_path):
    assert cli("ingest", str(docs), cwd=tmp_path).returncode == 0
    shown = cli("show", "guides/architecture.md", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "docs:guides/architecture.md" in out
    assert "header h1" in out and "header h3" in out
    assert "table_cell" in out
    assert "code_block python" in out
    as_json = cli("show", "docs:guides/architecture.md", "--json", cwd=tmp_path)
    elements = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert elements[0]["element_type"] == "root"
    assert any(e["element_type"] == "blockquote" for e in elements)

    unknown = cli("show", "nope.md", cwd=tmp_path)
    assert unknown.returncode == 1 and "no document" in unknown.stderr
    no_store = cli("show", "x", "--db", str(tmp_path / "missing.db"), cwd=tmp_path)
    assert no_store.returncode == 2 and "no store" in no_store.stderr


def test_console_script_is_installed():
    script = shutil.which("go-doc-go") or str(Path(sys.executable).parent / "go-doc-go")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("ingest", "show", "db", "bench"):
        assert command in result.stdout


def test_progress_bar_on_a_terminal(docs, tmp_path):
    """stderr on a pseudo-terminal gets a rich progress bar with docs/s and ETA."""
    import pty

    for i in range(300):
        (docs / f"gen{i:03d}.md").write_text(f"# Doc {i}\n\nSome text for document {i}.\n")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "go_doc_go.cli.main", "ingest", str(docs), "--jobs", "1"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=follower, env={**os.environ, "COLUMNS": "150"},
    )
    os.close(follower)
    captured = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        captured += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(leader)
    assert process.returncode == 0
    screen = captured.decode(errors="replace")
    assert "ingest" in screen and "docs/s" in screen and "ETA" in screen
    assert "312 processed" in stdout.decode()


def test_sigkill_mid_ingest_leaves_whole_documents_and_the_next_run_finishes(tmp_path):
    """All-or-nothing writes: after SIGKILL every stored document has all its elements."""
    import signal
    import sqlite3
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import ingest_bench

    docs = tmp_path / "docs"
    docs.mkdir()
    ingest_bench.generate(docs, 3000, "markdown")
    db = tmp_path / "s.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "go_doc_go.cli.main", "ingest", str(docs), "--db", str(db), "--jobs", "2"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    stored = 0
    deadline = time.monotonic() + 60
    while stored == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            with sqlite3.connect(db, timeout=5) as connection:
                stored = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
        except sqlite3.OperationalError:
            pass  # the store is still being created
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert 0 < stored < 3000, "killed mid-run"

    with sqlite3.connect(db) as connection:
        partial = connection.execute(
            "SELECT count(*) FROM documents d WHERE d.element_count <> "
            "(SELECT count(*) FROM elements e WHERE e.doc_id = d.doc_id)"
        ).fetchone()[0]
        orphans = connection.execute(
            "SELECT count(*) FROM elements WHERE doc_id NOT IN (SELECT doc_id FROM documents)"
        ).fetchone()[0]
    assert (partial, orphans) == (0, 0)

    again = cli("ingest", str(docs), "--db", str(db), "--json", cwd=tmp_path)
    summary = json.loads(again.stdout)
    assert again.returncode == 0
    assert summary["processed"] + summary["unchanged"] == 3000 and summary["unchanged"] > 0
