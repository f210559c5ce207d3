"""``go-doc-go deadletter`` (also ``python -m go_doc_go.cli.deadletter``): the dead letter queue.

Exactly one action: ``--list [--details] [--run-id ID] [--limit N]``,
``--analyze [--run-id ID]``, ``--retry QUEUE_ID``, ``--retry-run RUN_ID``
(asks first; ``--yes`` skips), ``--purge DAYS [--run-id ID]`` (asks first;
``--yes``) and ``--export FILE [--run-id ID]`` (JSON, ``go-doc-go.deadletter/1``;
``-`` for stdout). Exit codes: 0 done (also when there was nothing to do),
1 a failure (database unreachable, the row is not a dead letter, confirmation
declined), 2 a usage or config error (unknown queue id or run). The work is
``queue.deadletter``; this module only presents it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import click
from psycopg import Connection
from rich.columns import Columns
from rich.table import Table
from rich.text import Text

from go_doc_go.cli.errors import EXIT_FAILED, EXIT_USAGE, clean_errors, database_errors
from go_doc_go.cli.monitor_view import clock
from go_doc_go.cli.opsconfig import OpsTarget, resolve
from go_doc_go.cli.output import console
from go_doc_go.queue import deadletter as dl
from go_doc_go.queue import repository
from go_doc_go.queue.monitoring import check_schema, connect

PREVIEW = 100


def _usage(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_FAILED)


def _open(target: OpsTarget) -> Connection:
    conn = connect(target.url, application_name="go-doc-go-deadletter")
    try:
        check_schema(conn, target.url)
    except BaseException:
        conn.close()
        raise
    return conn


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    try:
        if click.confirm(question, default=False, err=True):
            return
    except click.Abort:
        click.echo("", err=True)
    _fail("not confirmed: nothing changed (pass --yes to skip the question)")


@click.command("deadletter", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--list", "do_list", is_flag=True, help="Dead letters, newest first.")
@click.option("--analyze", is_flag=True, help="Failures by class, stage, source, file type and hour, with hints.")
@click.option("--retry", "retry_id", type=int, metavar="QUEUE_ID", help="Make this dead letter claimable again.")
@click.option("--retry-run", metavar="RUN_ID", help="Retry every dead letter of a run (asks first).")
@click.option("--purge", type=click.FloatRange(min=0), metavar="DAYS",
              help="Delete dead letters that died more than DAYS days ago (asks first).")
@click.option("--export", "export_file", metavar="FILE", help="Write every dead letter as JSON (- for stdout).")
@click.option("--details", is_flag=True, help="With --list: attempt history and last traceback.")
@click.option("--run-id", help="Only this run (--list, --analyze, --purge, --export).")
@click.option("--limit", type=click.IntRange(min=1),
              help="--list: entries shown [default: 50]; --analyze: top messages [default: 10].")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (--retry-run, --purge).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="Config file [default: $GO_DOC_GO_CONFIG, else ./config.yaml].")
@click.option("--database-url", help="Queue database [default: the config's work_queue.uri, else storage.uri].")
@clean_errors
def deadletter(
    do_list: bool, analyze: bool, retry_id: int | None, retry_run: str | None, purge: float | None,
    export_file: str | None, details: bool, run_id: str | None, limit: int | None, yes: bool,
    config_file: str | None, database_url: str | None,
) -> None:
    """Inspect, analyze, retry, purge and export dead-lettered documents."""
    chosen = [name for name, on in (("--list", do_list), ("--analyze", analyze), ("--retry", retry_id is not None),
                                    ("--retry-run", retry_run), ("--purge", purge is not None),
                                    ("--export", export_file)) if on]
    if len(chosen) != 1:
        _usage("give exactly one of --list, --analyze, --retry, --retry-run, --purge, --export"
               + (f" (not {' and '.join(chosen)})" if chosen else ""))
    action = chosen[0]
    if details and action != "--list":
        _usage("--details goes with --list")
    if run_id is not None and action in ("--retry", "--retry-run"):
        _usage(f"--run-id does not go with {action}")
    if yes and action not in ("--retry-run", "--purge"):
        _usage("--yes goes with --retry-run or --purge")
    target = resolve(config_file, database_url)
    with database_errors(target.url):
        conn = _open(target)
        try:
            if do_list:
                _list(conn, run_id, limit or 50, details)
            elif analyze:
                _analyze(conn, run_id, limit or 10)
            elif retry_id is not None:
                _retry(conn, retry_id)
            elif retry_run is not None:
                _retry_run(conn, retry_run, yes, target)
            elif purge is not None:
                _purge(conn, purge, run_id, yes, target)
            else:
                assert export_file is not None
                _export(conn, export_file, run_id)
        finally:
            conn.close()


def _require_run(conn: Connection, run_id: str | None) -> None:
    if run_id is not None and repository.run_get(conn, run_id=run_id) is None:
        _usage(f"no run {run_id} (see go-doc-go monitor --list-runs)")


def _short(text: str | None, width: int = PREVIEW) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# ---------------------------------------------------------------- --list


def _list(conn: Connection, run_id: str | None, limit: int, details: bool) -> None:
    _require_run(conn, run_id)
    total = dl.count(conn, run_id=run_id)
    entries = dl.list_dead_letters(conn, run_id=run_id, limit=limit)
    out = console()
    scope = f"run {run_id}" if run_id else "all runs"
    if not entries:
        out.print(f"no dead letters ({scope})")
        return
    out.print(f"{total:,} dead letter{'s' if total != 1 else ''} ({scope}); "
              f"{'showing the newest ' + format(len(entries), ',') if len(entries) < total else 'newest first'}")
    if details:
        for entry in entries:
            _print_details(entry)
        return
    _print_entries(entries)


def _print_entries(entries: list[dl.DeadLetter]) -> None:
    """One line per dead letter (id, document, stage, class, attempts, time), its message indented below."""
    out = console()
    several_runs = len({e.run_id for e in entries}) > 1
    rows = [(str(e.queue_id), *([e.run_id] if several_runs else []), e.document, e.stage or "-",
             e.error_type or "-", str(e.attempts), clock(e.dead_since)[:16]) for e in entries]
    header = ("queue id", *(["run"] if several_runs else []), "document", "stage", "error class", "attempts",
              "dead since (UTC)")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    right = {0, len(header) - 2}  # queue id and attempts line up on the right

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    if not several_runs:
        out.print(f"run {entries[0].run_id}:", markup=False)
    out.print(line(header), style="bold", markup=False, highlight=False)
    indent = " " * (widths[0] + 2)
    for entry, row in zip(entries, rows):
        out.print(line(row).rstrip(), markup=False, highlight=False)
        room = max(out.width - len(indent), 40)
        out.print(indent + _short(entry.error, room), markup=False,
                  highlight=False, overflow="ellipsis", no_wrap=True)
    out.print("full messages, history and traceback: --details", style="dim")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else ('es' if word.endswith('sh') else 's')}"


def _step(step: dict) -> str:
    """One attempt of the history: when, what, where, who, why."""
    at = step.get("at")
    try:
        when = clock(datetime.fromisoformat(at)) if isinstance(at, str) else "?"
    except ValueError:
        when = str(at)
    words = [f"attempt {step.get('attempt', '?')}", when, str(step.get("kind", "?"))]
    words += [str(step[key]) for key in ("stage", "worker_id", "error_type") if step.get(key)]
    if step.get("permanent"):
        words.append("(permanent)")
    error = step.get("error")
    return " ".join(words) + (f": {_short(error, 160)}" if error else "")


def _print_details(entry: dl.DeadLetter) -> None:
    out = console()
    head = Text()
    head.append(f"#{entry.queue_id} ", style="bold")
    head.append(f"{entry.document}  run {entry.run_id} pass {entry.pass_number}  ")
    head.append(f"{entry.stage or '-'} {entry.error_type or '-'}", style="red")
    head.append(f"  dead since {clock(entry.dead_since)} UTC")
    out.print(head)
    out.print(f"  error: {entry.error or '-'}", markup=False)
    out.print(f"  hint: {entry.hint}", markup=False)
    out.print(f"  attempts: {entry.attempts} ({_plural(entry.failure_count, 'failure')}, "
              f"{_plural(entry.crash_count, 'crash')} since the last retry)")
    out.print("  history:")
    for i, step in enumerate(entry.history, 1):
        out.print(f"    {i}. {_step(step)}", markup=False, highlight=False)
    if entry.traceback:
        out.print("  traceback:")
        for line in entry.traceback.rstrip().splitlines():
            out.print(f"    {line}", markup=False, highlight=False)
    out.print("")


# ---------------------------------------------------------------- --analyze

_TITLES = {"error_type": "error class", "stage": "stage", "source": "source", "file_type": "file type",
           "hour": "hour (UTC)"}


def _analyze(conn: Connection, run_id: str | None, top: int) -> None:
    _require_run(conn, run_id)
    analysis = dl.analyze(conn, run_id=run_id, top=top)
    out = console()
    scope = f"run {run_id}" if run_id else "all runs"
    if analysis.total == 0:
        out.print(f"no dead letters ({scope})")
        return
    out.print(f"[bold]{analysis.total:,}[/] dead letters ({scope})")
    tables = []
    for dimension, title in _TITLES.items():
        table = Table(title=f"by {title}", title_justify="left")
        table.add_column(title, no_wrap=True)
        table.add_column("count", justify="right")
        for value, n in analysis.groups.get(dimension, [])[:12]:
            table.add_row(value or "(none)", f"{n:,}")
        tables.append(table)
    out.print(Columns(tables, padding=(0, 3)))
    messages = Table(title="top messages (the document's path as <path>, numbers as N)", title_justify="left")
    for name in ("count", "error class", "stage", "message", "example"):
        messages.add_column(name, overflow="fold", justify="right" if name == "count" else "left")
    for p in analysis.top_messages:
        messages.add_row(f"{p.count:,}", p.error_type or "-", p.stage or "-", _short(p.pattern, 160),
                         f"#{p.example_queue_id}")
    out.print(messages)
    out.print("[bold]what to do[/]")
    for hint, kind, n in analysis.hints:
        out.print(f"  {n:>8,}  {kind}: {hint}", markup=False)


# ---------------------------------------------------------------- --retry, --retry-run


def _reopened_note(reopened: list[str]) -> None:
    for run in reopened:
        click.echo(f"run {run} reopened (status active again): its post-processing runs again once the retried "
                   "documents are done")


def _retry(conn: Connection, queue_id: int) -> None:
    row = dl.lookup(conn, queue_id)
    if row is None:
        _usage(f"no queue row {queue_id} (see --list)")
    assert row is not None
    where = f"{row['source_name']}:{row['doc_path'] or row['doc_id']}"
    if row["state"] != "dead_letter":
        _fail(f"queue id {queue_id} ({where}) is not a dead letter (state: {row['state']})")
    result = dl.retry(conn, queue_id)
    if not result.retried:
        _fail(f"queue id {queue_id} ({where}) left the dead letter queue meanwhile; nothing changed")
    click.echo(f"queue id {queue_id} ({where}) is claimable again in run {row['run_id']}")
    _reopened_note(result.reopened)
    click.echo("a running worker of the run claims it; if none runs, start one with the run's config")


def _retry_run(conn: Connection, run_id: str, yes: bool, target: OpsTarget) -> None:
    _require_run(conn, run_id)
    n = dl.count(conn, run_id=run_id)
    if n == 0:
        click.echo(f"no dead letters in run {run_id}")
        return
    _confirm(f"Retry {n:,} dead-lettered document{'s' if n != 1 else ''} of run {run_id} in "
             f"{target.shown_url}?", yes)
    result = dl.retry_run(conn, run_id)
    click.echo(f"{result.retried:,} document{'s' if result.retried != 1 else ''} of run {run_id} "
               "claimable again")
    _reopened_note(result.reopened)


# ---------------------------------------------------------------- --purge


def _purge(conn: Connection, days: float, run_id: str | None, yes: bool, target: OpsTarget) -> None:
    _require_run(conn, run_id)
    scope = f"run {run_id}" if run_id else "all runs"
    age = f"{days:g} day{'s' if days != 1 else ''}"
    n = dl.count(conn, run_id=run_id, older_than_days=days)
    if n == 0:
        click.echo(f"no dead letters older than {age} ({scope})")
        return
    _confirm(f"Delete {n:,} dead letter{'s' if n != 1 else ''} that died more than {age} ago ({scope}) from "
             f"{target.shown_url}? This cannot be undone.", yes)
    deleted = dl.purge(conn, days=days, run_id=run_id)
    click.echo(f"deleted {deleted:,} dead letter{'s' if deleted != 1 else ''} older than {age} ({scope})")


# ---------------------------------------------------------------- --export


def _export(conn: Connection, file: str, run_id: str | None) -> None:
    _require_run(conn, run_id)
    if file == "-":
        dl.export(conn, sys.stdout, run_id=run_id)
        return
    path = Path(file)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.resolve().parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            written = dl.export(conn, handle, run_id=run_id)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {written:,} dead letter{'s' if written != 1 else ''} to {file}")


def main() -> None:
    deadletter()


if __name__ == "__main__":
    main()
