"""The hostile set of benchmarks/hostile.py through the CLI, as a user would run it.

Each hostile file must end as a stored document whose marker words are in the
stored element text, or as a failure reported with a cause (a skip with a
reason is accepted only for the FIFO). The run must exit 0 or 1, never crash,
and no ordinary neighbour document may be lost. No download: the set is
generated into tmp_path.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

_HOSTILE_PY = Path(__file__).resolve().parents[2] / "benchmarks" / "hostile.py"
_spec = importlib.util.spec_from_file_location("go_doc_go_bench_hostile", _HOSTILE_PY)
assert _spec is not None and _spec.loader is not None
hostile = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = hostile  # dataclasses look their module up while the class is built
_spec.loader.exec_module(hostile)

SOURCE = "hostile"
HOSTILE = [c for c in hostile.CASES if not c.neighbour]
NEIGHBOURS = [c for c in hostile.CASES if c.neighbour]
WITH_LINKS = [c for c in hostile.CASES if c.links or c.link_count is not None]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    base = tmp_path_factory.mktemp("realworld")
    folder = base / SOURCE
    hostile.write_hostile(folder)
    db = base / "store.db"
    result = subprocess.run(
        [sys.executable, "-m", "go_doc_go.cli.main", "ingest", str(folder), "--db", str(db), "--json"],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        summary = json.loads(result.stdout)
    except json.JSONDecodeError:
        summary = None
    results = {r.name: r for r in hostile.check_hostile(db, summary, SOURCE)}
    return result, summary, results


def test_run_exits_0_or_1_without_a_crash(ingested):
    result, summary, _ = ingested
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode in (0, 1), result.stderr[-3000:]
    assert summary is not None, f"no JSON summary on stdout: {result.stdout[:500]!r}"


@pytest.mark.parametrize("case", HOSTILE, ids=lambda c: c.name)
def test_hostile_file_is_stored_with_markers_or_failed_with_a_cause(ingested, case):
    _, _, results = ingested
    r = results[case.name]
    assert r.ok, (
        f"{case.display}: {r.verdict()}"
        + (f"; markers missing from the stored text: {r.markers_missing}" if r.markers_missing else "")
        + (f"; cause: {r.cause}" if r.cause else "")
        + (f"; markers found in other documents: {r.markers_elsewhere}" if r.markers_elsewhere else "")
    )


@pytest.mark.parametrize("case", NEIGHBOURS, ids=lambda c: c.name)
def test_no_neighbour_document_is_lost(ingested, case):
    _, _, results = ingested
    r = results[case.name]
    assert r.outcome == "stored" and r.ok, f"{case.display}: {r.verdict()} {r.cause}"


@pytest.mark.parametrize("case", WITH_LINKS, ids=lambda c: c.name)
def test_links_of_hostile_files_resolve(ingested, case):
    _, _, results = ingested
    r = results[case.name]
    if r.outcome == "failed":
        pytest.skip(f"{case.display} failed with a cause; its links are covered by that: {r.cause}")
    assert r.outcome == "stored", f"{case.display}: {r.verdict()}"
    bad = [f"{link['href']} -> {link['got']} (want {link['expect']})" for link in r.links if not link["ok"]]
    assert not bad, f"{case.display}: " + "; ".join(bad)
    if case.link_count is not None:
        assert r.link_count == case.link_count
