"""The cache folder of derived model files, and ``build_once``: processes starting together build once."""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from go_doc_go.config import load_config
from go_doc_go.embeddings.models import build_once, cache_dir


def test_the_cache_folder_is_the_config_then_the_environment_then_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("GO_DOC_GO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "go-doc-go"
    monkeypatch.setenv("GO_DOC_GO_CACHE", str(tmp_path / "env"))
    assert cache_dir() == tmp_path / "env"
    assert cache_dir(str(tmp_path / "configured")) == tmp_path / "configured"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("GO_DOC_GO_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "go-doc-go"


def test_a_relative_cache_dir_in_a_config_file_is_relative_to_the_file(tmp_path):
    (tmp_path / "c.yaml").write_text("embedding:\n  enabled: true\n  cache_dir: models\n")
    assert load_config(tmp_path / "c.yaml").embedding.cache_dir == str(tmp_path / "models")


def _build_in_process(target: str, log: str, start) -> None:  # noqa: ANN001
    start.wait()

    def build(partial: Path) -> None:
        with open(log, "a") as out:
            out.write(f"{os.getpid()}\n")
        time.sleep(0.5)  # long enough for every other process to find the lock taken
        partial.write_text("model")

    build_once(Path(target), build, what="a test model")


def test_processes_starting_together_build_once_and_all_find_the_file(tmp_path):
    target, log = tmp_path / "cache" / "model.bin", tmp_path / "builds.log"
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(4)
    processes = [ctx.Process(target=_build_in_process, args=(str(target), str(log), start)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
    assert [p.exitcode for p in processes] == [0] * 4
    assert len(log.read_text().split()) == 1, "one process built it, the others waited and read it"
    assert target.read_text() == "model"
    assert not list(target.parent.glob("*.partial")), "no half-written file is left"


def test_a_failed_build_leaves_nothing_and_the_next_call_builds(tmp_path, caplog):
    target = tmp_path / "model.bin"

    def broken(partial: Path) -> None:
        partial.write_text("half")
        raise RuntimeError("out of disk")

    with pytest.raises(RuntimeError):
        build_once(target, broken, what="a test model")
    assert not target.exists() and not list(tmp_path.glob("*.partial"))
    with caplog.at_level(logging.WARNING, logger="go_doc_go.embeddings"):
        build_once(target, lambda partial: partial.write_text("whole"), what="a test model", expected="~1 s")
    assert target.read_text() == "whole"
    assert any("building a test model (once, ~1 s)" in r.getMessage() for r in caplog.records), "the cost is said"
    caplog.clear()
    build_once(target, lambda partial: partial.write_text("again"), what="a test model")
    assert target.read_text() == "whole" and not caplog.records, "built once: the second call only finds it"
