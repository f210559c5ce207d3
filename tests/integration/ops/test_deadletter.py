"""The dead letter queue, fed through the queue library by the real pipeline on real files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from go_doc_go.cli.deadletter import deadletter
from go_doc_go.queue import deadletter as dl
from go_doc_go.queue import repository
from go_doc_go.queue.records import NewDocument

from .conftest import crash_until_dead, sql, write_files

pytestmark = pytest.mark.postgres

MANY_PARAGRAPHS = "\n\n".join(f"paragraph {i}" for i in range(40))


def poison_files(root: Path) -> Path:
    return write_files(root, {
        "good.md": "# Good\n\nfine",
        "broken.json": '{"unterminated": ',
        "huge.md": MANY_PARAGRAPHS,
        "big.txt": "x" * 3000,
        "moved.md": "# will become a symlink out of the root",
        "gone.md": "# will vanish after the listing",
    })


def by_path(conn: psycopg.Connection, run_id: str) -> dict[str, dl.DeadLetter]:
    return {e.doc_path: e for e in dl.list_dead_letters(conn, run_id=run_id, limit=100)}


def test_poison_documents_land_with_their_class_stage_and_hint(make_run, pg_url, pg_conn, tmp_path) -> None:
    root = poison_files(tmp_path / "docs")
    (tmp_path / "outside.md").write_text("# outside")
    run = make_run(root, source={"max_file_size": 1024}, parsers={"max_elements": 20}, max_retries=2)
    assert run.discover() == 6
    (root / "moved.md").unlink()
    os.symlink(tmp_path / "outside.md", root / "moved.md")  # a race the listing could not see
    (root / "gone.md").unlink()
    states = run.work()
    assert states == {"good.md": "completed", "broken.json": "dead_letter", "huge.md": "dead_letter",
                      "big.txt": "dead_letter", "moved.md": "dead_letter", "gone.md": "dead_letter"}
    run.queue.add_many([NewDocument("docs", "crash", doc_path="crash.md")])
    crash_until_dead(run, pg_url, "crash.md")
    run.queue.add_many([NewDocument("docs", "hang", doc_path="hang.md")])
    crash_until_dead(run, pg_url, "hang.md", timed_out=True)

    dead = by_path(pg_conn, run.run_id)
    kinds = {path: (e.error_type, e.stage) for path, e in dead.items()}
    assert kinds == {
        "broken.json": ("ParseError", "parse"),
        "huge.md": ("LimitExceededError", "parse"),
        "big.txt": ("DocumentTooLargeError", "fetch"),
        "moved.md": ("OutsideRootError", "fetch"),
        "gone.md": ("FetchError", "fetch"),
        "crash.md": ("LeaseExpired", "lease"),
        "hang.md": ("AttemptTimeout", "timeout"),
    }
    hints = {path: e.hint for path, e in dead.items()}
    assert hints["broken.json"].startswith("fix the file")
    assert "raise parsers.max_elements" in hints["huge.md"]
    assert "max_file_size" in hints["big.txt"]
    assert "outside base_path" in hints["moved.md"]
    assert "gone from its source" in hints["gone.md"]
    assert "worker killed or out of memory" in hints["crash.md"]
    assert "work_queue.attempt_timeout" in hints["hang.md"]
    # Permanent failures die at once (one attempt); crashes after max_retries leases lost.
    assert [step["kind"] for step in dead["broken.json"].history] == ["failure"]
    assert dead["broken.json"].history[0]["permanent"] is True
    assert "limit parsers.max_elements = 20" in dead["huge.md"].error
    assert [step["kind"] for step in dead["crash.md"].history] == ["crash", "crash"]
    assert dead["crash.md"].crash_count == 2 and dead["hang.md"].history[-1]["kind"] == "timeout"


def test_a_transient_failure_succeeds_on_retry(make_run, pg_conn, tmp_path) -> None:
    run = make_run(write_files(tmp_path / "docs", {"a.md": "# A"}), max_retries=3)
    run.discover()
    [lease] = run.queue.claim(1)
    try:  # a real connection error, as a worker's store write meets it
        psycopg.connect("postgresql://nobody@127.0.0.1:1/x", connect_timeout=2)
    except psycopg.OperationalError as error:
        failed = run.queue.fail(lease, str(error), stage="store", permanent=False, error_type=type(error).__name__)
    assert failed.state == "retry"
    import time
    time.sleep(0.05)  # the backoff (at most 0.02 s here)
    assert run.work() == {"a.md": "completed"}
    row = pg_conn.execute("SELECT state, failure_count, error_history, last_error FROM document_queue "
                          "WHERE queue_id = %s", (lease.queue_id,)).fetchone()
    state, failures, history, last_error = row
    assert (state, failures, last_error) == ("completed", 1, None)
    assert [(h["kind"], h["stage"], h["error_type"], h["permanent"]) for h in history] == [
        ("failure", "store", "OperationalError", False)]
    assert dl.count(pg_conn, run_id=run.run_id) == 0


def test_retry_after_fixing_the_file_processes_it_and_completes_the_run_again(make_run, pg_url, pg_conn,
                                                                              tmp_path) -> None:
    root = write_files(tmp_path / "docs", {"good.md": "# ok", "broken.json": '{"a": '})
    run = make_run(root)
    run.discover()
    assert run.work() == {"good.md": "completed", "broken.json": "dead_letter"}
    assert run.queue.outstanding().finished and run.post_process()
    assert repository.run_get(pg_conn, run_id=run.run_id).status == "completed"
    [dead] = dl.list_dead_letters(pg_conn, run_id=run.run_id)

    (root / "broken.json").write_text('{"a": 1}')  # the operator fixes the file ...
    result = CliRunner().invoke(deadletter, ["--retry", str(dead.queue_id), "--database-url", pg_url])
    assert result.exit_code == 0, result.output  # ... and retries it
    assert f"queue id {dead.queue_id} (docs:broken.json) is claimable again" in result.output
    assert f"run {run.run_id} reopened" in result.output
    status, discovery_done_at, post_processing, completed_at = pg_conn.execute(
        "SELECT status, discovery_done_at, post_processing, completed_at FROM processing_runs WHERE run_id = %s",
        (run.run_id,)).fetchone()
    assert (status, post_processing, completed_at) == ("active", {}, None)
    assert discovery_done_at is not None  # discovery is not repeated: the pass drains once the retry is done
    row = repository.document_get(pg_conn, queue_id=dead.queue_id)
    assert (row["state"], row["failure_count"], row["crash_count"]) == ("pending", 0, 0)
    assert row["error_history"][-1]["kind"] == "requeued"

    assert not run.queue.outstanding().finished  # workers see work, not the end of the pass
    assert run.work() == {"broken.json": "completed"}
    assert run.queue.outstanding().finished
    assert run.post_process()
    assert repository.run_get(pg_conn, run_id=run.run_id).status == "completed"
    assert dl.count(pg_conn, run_id=run.run_id) == 0


def test_retry_refuses_what_is_not_a_dead_letter(make_run, pg_url, tmp_path) -> None:
    run = make_run(write_files(tmp_path / "docs", {"a.md": "# A"}))
    run.discover()
    run.work()
    [row] = sql(pg_url, "SELECT queue_id FROM document_queue WHERE run_id = %s", run.run_id)
    runner = CliRunner()
    done = runner.invoke(deadletter, ["--retry", str(row[0]), "--database-url", pg_url])
    assert done.exit_code == 1 and "is not a dead letter (state: completed)" in done.output
    missing = runner.invoke(deadletter, ["--retry", "999999999", "--database-url", pg_url])
    assert missing.exit_code == 2 and "no queue row 999999999" in missing.output


def failing_run(make_run, tmp_path: Path, n: int):  # type: ignore[no-untyped-def]
    files = {f"bad{i}.json": "{" for i in range(n)}
    run = make_run(write_files(tmp_path / f"docs-{n}", {**files, "ok.md": "# ok"}))
    run.discover()
    run.work()
    return run


def test_retry_run_asks_first_and_retries_every_dead_letter(make_run, pg_url, pg_conn, tmp_path) -> None:
    run = failing_run(make_run, tmp_path, 3)
    runner = CliRunner()
    declined = runner.invoke(deadletter, ["--retry-run", run.run_id, "--database-url", pg_url], input="n\n")
    assert declined.exit_code == 1 and "nothing changed" in declined.output
    assert "Retry 3 dead-lettered documents of run" in declined.output
    assert dl.count(pg_conn, run_id=run.run_id) == 3
    no_answer = runner.invoke(deadletter, ["--retry-run", run.run_id, "--database-url", pg_url], input="")
    assert no_answer.exit_code == 1 and dl.count(pg_conn, run_id=run.run_id) == 3
    done = runner.invoke(deadletter, ["--retry-run", run.run_id, "--yes", "--database-url", pg_url])
    assert done.exit_code == 0, done.output
    assert "3 documents of run" in done.output and dl.count(pg_conn, run_id=run.run_id) == 0
    states = run.work()  # the files are still broken: they die again, once each
    assert states == {f"bad{i}.json": "dead_letter" for i in range(3)}
    assert dl.count(pg_conn, run_id=run.run_id) == 3


def test_purge_deletes_only_dead_letters_older_than_the_days(make_run, pg_url, pg_conn, tmp_path) -> None:
    run = failing_run(make_run, tmp_path, 4)
    old = [e.queue_id for e in dl.list_dead_letters(pg_conn, run_id=run.run_id)][:3]
    sql(pg_url, "UPDATE document_queue SET updated_at = now() - interval '40 days' WHERE queue_id = ANY(%s)", old)
    runner = CliRunner()
    asked = runner.invoke(deadletter, ["--purge", "30", "--run-id", run.run_id, "--database-url", pg_url],
                          input="y\n")
    assert asked.exit_code == 0, asked.output
    assert "Delete 3 dead letters that died more than 30 days ago" in asked.output
    assert "deleted 3 dead letters older than 30 days" in asked.output
    left = [e.queue_id for e in dl.list_dead_letters(pg_conn, run_id=run.run_id)]
    assert len(left) == 1 and not set(left) & set(old)
    again = runner.invoke(deadletter, ["--purge", "30", "--yes", "--run-id", run.run_id, "--database-url", pg_url])
    assert again.exit_code == 0 and "no dead letters older than 30 days" in again.output
    # The exact counts follow deletions too.
    assert repository.counts_by_state(pg_conn, run_id=run.run_id) == {(1, "completed"): 1, (1, "dead_letter"): 1}


def test_analyze_groups_failures_and_gives_hints(make_run, pg_url, pg_conn, tmp_path) -> None:
    files = {f"bad{i}.json": "{" for i in range(3)}
    files.update({"big.txt": "x" * 3000, "sub/huge.md": MANY_PARAGRAPHS, "ok.md": "# ok"})
    run = make_run(write_files(tmp_path / "docs", files), source={"max_file_size": 1024},
                   parsers={"max_elements": 20})
    run.discover()
    run.work()
    analysis = dl.analyze(pg_conn, run_id=run.run_id)
    assert analysis.total == 5
    assert analysis.groups["error_type"] == [("ParseError", 3), ("DocumentTooLargeError", 1),
                                             ("LimitExceededError", 1)]
    assert analysis.groups["stage"] == [("parse", 4), ("fetch", 1)]
    assert analysis.groups["source"] == [("docs", 5)]
    assert analysis.groups["file_type"] == [("json", 3), ("md", 1), ("txt", 1)]
    assert [n for _, n in analysis.groups["hour"]] == [5]
    top = analysis.top_messages[0]
    assert (top.error_type, top.count) == ("ParseError", 3)
    assert top.pattern.startswith("invalid JSON in <path>: ") and "line N column N" in top.pattern
    assert top.hint.startswith("fix the file")
    hints = {hint.split(",")[0] for hint, _, _ in analysis.hints}
    assert hints >= {"fix the file (it does not parse)", "raise parsers.max_elements (or exclude such documents)"}
    shown = CliRunner().invoke(deadletter, ["--analyze", "--run-id", run.run_id, "--database-url", pg_url])
    assert shown.exit_code == 0, shown.output
    for text in ("5 dead letters", "by error class", "ParseError", "by file type", "top messages",
                 "invalid JSON in <path>", "what to do", "raise parsers.max_elements"):
        assert text in shown.output


def test_export_writes_the_documented_schema(make_run, pg_url, pg_conn, tmp_path) -> None:
    run = failing_run(make_run, tmp_path, 2)
    out = tmp_path / "dead.json"
    result = CliRunner().invoke(deadletter, ["--export", str(out), "--run-id", run.run_id, "--database-url", pg_url])
    assert result.exit_code == 0 and "wrote 2 dead letters" in result.output
    data = json.loads(out.read_text())
    assert data["schema"] == "go-doc-go.deadletter/1" and data["run_id"] == run.run_id
    assert data["count"] == len(data["entries"]) == 2 and data["generated_at"].endswith("Z")
    entry = data["entries"][0]
    assert set(entry) == {"queue_id", "run_id", "source_name", "doc_id", "doc_path", "file_type", "pass_number",
                          "error_type", "stage", "error", "traceback", "attempts", "failure_count", "crash_count",
                          "created_at", "dead_since", "hint", "history"}
    assert (entry["error_type"], entry["stage"], entry["file_type"]) == ("ParseError", "parse", "json")
    assert entry["history"][0]["kind"] == "failure" and entry["error"].startswith("invalid JSON in bad")
    listed = CliRunner().invoke(deadletter, ["--list", "--details", "--run-id", run.run_id, "--database-url", pg_url])
    assert listed.exit_code == 0
    assert "2 dead letters (run" in listed.output
    assert "history:" in listed.output and "hint: fix the file" in listed.output


def test_usage_errors_are_one_line(pg_url) -> None:
    runner = CliRunner()
    for args, text in ((["--list", "--analyze"], "give exactly one of"), ([], "give exactly one of"),
                       (["--analyze", "--details"], "--details goes with --list"),
                       (["--list", "--yes"], "--yes goes with --retry-run or --purge"),
                       (["--list", "--run-id", "nope"], "no run nope")):
        result = runner.invoke(deadletter, [*args, "--database-url", pg_url])
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("error: ") and text in result.output and len(result.output.splitlines()) == 1
