"""``go-doc-go db upgrade`` and ``go-doc-go bench queue`` (in-process, through click)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from go_doc_go.cli.bench import bench
from go_doc_go.cli.db import db

pytestmark = pytest.mark.postgres


def test_db_upgrade_applies_then_reports_up_to_date(pg_server, tmp_path) -> None:
    from ..conftest import create_database, drop_database

    name = "gdg_cli_upgrade"
    drop_database(name)
    url = create_database(name)
    try:
        runner = CliRunner()
        first = runner.invoke(db, ["upgrade", "--database-url", url])
        assert first.exit_code == 0, first.output
        assert "applied migrations: 0001, 0002" in first.output
        config = tmp_path / "config.yaml"
        config.write_text(f"storage:\n  backend: postgresql\n  uri: {url}\n")
        again = runner.invoke(db, ["upgrade", "--config", str(config)])
        assert again.exit_code == 0 and "schema up to date" in again.output
    finally:
        drop_database(name)


def test_db_upgrade_unreachable_database_is_one_clean_line() -> None:
    result = CliRunner().invoke(db, ["upgrade", "--database-url", "postgresql://u:pw@127.0.0.1:1/x"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "pw" not in result.output
    assert result.output.startswith("error: cannot connect to postgresql://u:***@127.0.0.1:1/x")


def test_db_upgrade_key_value_dsn_error_hides_the_password() -> None:
    dsn = "host=127.0.0.1 port=1 user=app password=hunter2 sslpassword=pp dbname=x"
    result = CliRunner().invoke(db, ["upgrade", "--database-url", dsn])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "hunter2" not in result.output and "=pp " not in result.output
    assert result.output.startswith("error: cannot connect to host=127.0.0.1 port=1 user=app password=*** ")


def test_db_upgrade_config_without_uri_is_a_usage_error(tmp_path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("storage:\n  backend: sqlite\n")
    result = CliRunner().invoke(db, ["upgrade", "--config", str(config)])
    assert result.exit_code == 2 and "storage.uri" in result.output


def test_bench_queue_small_run_verifies_and_prints_json(pg_url) -> None:
    result = CliRunner().invoke(
        bench, ["queue", "--docs", "300", "--workers", "2", "--batch-size", "50", "--database-url", pg_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["docs"] == 300 and report["workers"] == 2 and report["verified"]
    assert report["docs_per_s"] > 0 and report["seconds"] > 0
