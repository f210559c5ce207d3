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


def test_a_second_folder_with_the_same_name_never_replaces_the_first(tmp_path):
    first, second = tmp_path / "a" / "docs", tmp_path / "b" / "docs"
    for folder, word in ((first, "alpha"), (second, "beta")):
        folder.mkdir(parents=True)
        (folder / "page.md").write_text(f"# Page\n\n{word}\n")
    db = str(tmp_path / "s.db")
    assert cli("ingest", str(first), "--db", db, cwd=tmp_path).returncode == 0
    result = cli("ingest", str(second), "--db", db, "--json", cwd=tmp_path)
    summary = json.loads(result.stdout)
    assert (summary["processed"], summary["removed"]) == (1, 0)
    shown = cli("show", "docs-2:page.md", "--db", db, cwd=tmp_path)
    assert "beta" in shown.stdout
    assert "alpha" in cli("show", "docs:page.md", "--db", db, cwd=tmp_path).stdout
    again = json.loads(cli("ingest", str(second), "--db", db, "--json", cwd=tmp_path).stdout)
    assert (again["processed"], again["unchanged"], again["removed"]) == (0, 1, 0), "same folder, same name"
    named = json.loads(cli("ingest", str(second), "--db", db, "--name", "beta", "--json", cwd=tmp_path).stdout)
    assert named["processed"] == 1
    two = cli("ingest", str(first), str(second), "--name", "x", "--db", db, cwd=tmp_path)
    assert two.returncode == 2 and "--name: give exactly one PATH" in two.stderr


AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _nobody_can_run_us() -> bool:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return False
    probe = subprocess.run([*AS_NOBODY, sys.executable, "-c", "import go_doc_go"], capture_output=True, timeout=60)
    return probe.returncode == 0


@pytest.mark.skipif(not _nobody_can_run_us(), reason="needs root, setpriv and an install that user nobody can read")
def test_an_unwritable_store_location_is_a_usage_error_that_says_permission_denied(docs, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    for folder in (tmp_path, *tmp_path.parents):
        if folder == Path("/tmp") or folder == folder.parent:
            break
        os.chmod(folder, os.stat(folder).st_mode | 0o005)  # let nobody reach the documents
    result = subprocess.run(
        [*AS_NOBODY, sys.executable, "-m", "go_doc_go.cli.main", "ingest", str(docs), "--db", str(locked / "s.db")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "permission denied" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_a_store_under_a_file_is_a_usage_error(docs, tmp_path):
    (tmp_path / "file").write_text("x")
    result = cli("ingest", str(docs), "--db", str(tmp_path / "file" / "s.db"), cwd=tmp_path)
    assert result.returncode == 2 and "is not a folder" in result.stderr


def test_output_that_is_not_a_terminal_is_not_wrapped(docs, tmp_path):
    name = "a-rather-long-file-name-" + "x" * 80 + ".json"
    (docs / name).write_text('{"unterminated": ')
    result = subprocess.run(
        [sys.executable, "-m", "go_doc_go.cli.main", "ingest", str(docs), "--db", str(tmp_path / "s.db")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if k != "COLUMNS"},
    )
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if name in line]
    assert "invalid JSON" in line, "the whole row is on one line"


def test_show_streams_with_depth_and_limit_and_names_xml_tags(docs, tmp_path):
    (docs / "feed.xml").write_text('<feed><entry id="e1" type="post"><title>One</title></entry></feed>')
    assert cli("ingest", str(docs), cwd=tmp_path).returncode == 0
    top = cli("show", "./guides/architecture.md", "--depth", "1", cwd=tmp_path)
    assert top.returncode == 0, top.stderr
    body = top.stdout.splitlines()[1:]
    assert body[0].startswith("root") and "header h1" in body[1]
    assert not any(line.startswith("    ") for line in body[:-1]), "nothing below depth 1"
    assert body[-1].startswith("… more elements not shown")
    limited = cli("show", "docs:./guides/architecture.md", "--limit", "3", cwd=tmp_path)
    assert len(limited.stdout.splitlines()) == 1 + 3 + 1
    xml = cli("show", "feed.xml", cwd=tmp_path).stdout
    assert '<entry id="e1" type="post">' in xml and "<title>" in xml
