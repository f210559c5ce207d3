"""``python -m go_doc_go.cli.coordinator`` (also ``go-doc-go coordinator``): start a pass and discover it."""

from __future__ import annotations

import sys

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from go_doc_go.cli import logs
from go_doc_go.cli.errors import clean_errors
from go_doc_go.cli.output import console
from go_doc_go.config import load_config


@click.command()
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False), help="YAML config file.")
@click.option("--wait", is_flag=True, help="Show the run's progress until it completes, then exit.")
@clean_errors
def coordinator(config_file: str, wait: bool) -> None:
    """Ensure the config's run, begin a new pass if it had completed, and queue every document.

    Exits once discovery is done; workers do the rest (--wait follows them to
    the end). Optional: workers discover by themselves when no coordinator ran.
    Running it twice is harmless.
    """
    config = load_config(config_file)
    from go_doc_go.distributed.coordinator import ProcessingCoordinator, wait_for_completion
    from go_doc_go.distributed.setup import open_run

    logs.configure(config.logging.level, "coordinator")
    out, err = console(), console(stderr=True)
    resources = open_run(config, worker_id="coordinator")
    try:
        with Progress(TextColumn("[bold]discovery"), TextColumn("{task.completed:,} documents listed"),
                      TimeElapsedColumn(), console=err, transient=True, disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("discovery", total=None)
            result = ProcessingCoordinator(config).run(
                resources=resources, on_progress=lambda found: bar.update(task, completed=found.listed)
            )
        _report(out, result)
        if wait:
            status = _follow(resources, err, wait_for_completion)
            out.print(f"run {result.run_id}: {status}")
            sys.exit(0 if status == "completed" else 1)
    finally:
        resources.close()


def _report(out, result) -> None:  # type: ignore[no-untyped-def]
    if result.state == "discovered":
        found = result.discovery
        out.print(f"run {result.run_id}, pass {result.pass_number}: {found.listed:,} documents queued "
                  f"({found.skipped:,} skipped)")
    elif result.state == "discovering":
        out.print(f"run {result.run_id}, pass {result.pass_number}: another process is discovering it")
    else:
        out.print(f"run {result.run_id}, pass {result.pass_number}: discovery was done already ({result.state})")
    out.print(f"watch it: python -m go_doc_go.cli.monitor --run-id {result.run_id} --live")


def _follow(resources, err, wait_for_completion) -> str:  # type: ignore[no-untyped-def]
    columns = (TextColumn("[bold]run"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("run", total=None, status="")

        def tick(counts: dict[str, int], status: str) -> None:
            done = counts.get("completed", 0) + counts.get("dead_letter", 0)
            bar.update(task, completed=done, total=sum(counts.values()) or None, status=status)

        return wait_for_completion(resources, on_tick=tick)


if __name__ == "__main__":
    coordinator()
