"""Dead letters from real worker processes, found and repaired with the operator CLIs as a user would."""

from __future__ import annotations

import json
import sys

import pytest

from .conftest import cli, start, write_config
from .test_lifecycle import query, wait_for

pytestmark = pytest.mark.postgres

HANG = '''
import os
if os.environ.get("GDG_HANG_TXT"):
    import go_doc_go.parsers
    go_doc_go.parsers.PARSER_MODULES["text"] = "hang_parser"
'''
HANG_PARSER = '''
import re
from go_doc_go.parsers import text

def parse(doc):
    if b"HANG" in doc.data:
        re.match(r"(a+)+$", "a" * 64 + "b")  # C code that no signal interrupts
    return text.parse(doc)
'''


def test_poison_documents_land_in_the_dead_letter_queue_and_a_fixed_one_completes_the_run(tmp_path, fresh_db):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "good.md").write_text("# Good\n\nFine.\n")
    (root / "broken.json").write_text('{"unterminated": ')
    (root / "huge.md").write_text("# Huge\n\n" + "word " * 5000)
    (root / "many.md").write_text("\n\n".join(f"paragraph {i}" for i in range(300)))
    (root / "hang.txt").write_text("HANG")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(HANG)
    (hooks / "hang_parser.py").write_text(HANG_PARSER)
    sources = [{"name": "docs", "base_path": str(root), "max_file_size": 10_000}]
    config_file = write_config(tmp_path / "config.yaml", root=root, database=fresh_db, sources=sources,
                               parsers={"timeout": 2, "max_elements": 200},
                               work_queue={"max_retries": 1, "retry_backoff_base": 0.1, "retry_backoff_max": 0.2})
    env = {"PYTHONPATH": f"{hooks}:{':'.join(sys.path)}", "GDG_HANG_TXT": "1"}
    worker = start("go_doc_go.cli.worker", "--config", str(config_file), "--worker-id", "w1", "--wait", env=env,
                   stderr=open(tmp_path / "w1.log", "w"))
    wait_for(lambda: query(fresh_db, "SELECT status FROM processing_runs") == [("completed",)], timeout=180,
             what="the run completed with its dead letters")
    dead = {path: (error_type, stage, attempts) for path, error_type, stage, attempts in query(
        fresh_db, "SELECT doc_path, error_type, error_stage, attempts FROM document_queue WHERE state = 'dead_letter'")}
    assert dead == {
        "broken.json": ("ParseError", "parse", 1),  # permanent: dead at once
        "huge.md": ("DocumentTooLargeError", "fetch", 1),
        "many.md": ("LimitExceededError", "parse", 1),
        "hang.txt": ("ParseTimeoutError", "parse", 2),  # retryable: retried max_retries times
    }

    listed = cli("go_doc_go.cli.deadletter", "--list", "--details", "--config", str(config_file))
    assert listed.returncode == 0, listed.stderr
    for path in dead:
        assert path in listed.stdout
    assert "parsers.max_elements" in listed.stdout and "parsers.timeout" in listed.stdout
    analysis = cli("go_doc_go.cli.deadletter", "--analyze", "--config", str(config_file))
    assert analysis.returncode == 0 and "ParseError" in analysis.stdout and "raise parsers.timeout" in analysis.stdout

    (root / "broken.json").write_text('{"fixed": true}')
    [(queue_id,)] = query(fresh_db, "SELECT queue_id FROM document_queue WHERE doc_path = 'broken.json'")
    retried = cli("go_doc_go.cli.deadletter", "--retry", str(queue_id), "--config", str(config_file))
    assert retried.returncode == 0, retried.stderr
    wait_for(lambda: query(fresh_db, "SELECT state FROM document_queue WHERE queue_id = %s", queue_id)
             == [("completed",)], what="the retried document processed by the waiting worker")
    wait_for(lambda: query(fresh_db, "SELECT status FROM processing_runs") == [("completed",)],
             what="the run completed again")
    assert query(fresh_db, "SELECT count(*) FROM documents WHERE path = 'broken.json'") == [(1,)]
    exported = tmp_path / "dead.json"
    assert cli("go_doc_go.cli.deadletter", "--export", str(exported), "--config", str(config_file)).returncode == 0
    assert {entry["doc_path"] for entry in json.loads(exported.read_text())["entries"]} == {
        "huge.md", "many.md", "hang.txt"}
    worker.send_signal(15)
    assert worker.wait(60) == 130
