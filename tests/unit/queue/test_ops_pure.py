"""Pure parts of the operator tools: remediation hints, the monitoring config, alert levels, small formats."""

from __future__ import annotations

import pytest

from go_doc_go.cli.monitor_view import duration, sparkline
from go_doc_go.config import config_from_dict, run_id
from go_doc_go.exceptions import ConfigError
from go_doc_go.queue.deadletter import DEFAULT_HINT, ancestry, file_type, hint_for
from go_doc_go.queue.monitoring import MonitorSettings


@pytest.mark.parametrize(("error_type", "stage", "message", "expected"), [
    ("ParseError", "parse", "invalid JSON in a.json: Expecting value", "fix the file (it does not parse), then --retry"),
    ("LimitExceededError", "parse", "document has 9 elements (limit parsers.max_elements = 5)",
     "raise parsers.max_elements (or exclude such documents), then --retry-run"),
    ("ParseTimeoutError", "parse", "parsing took longer than parsers.timeout (60 s)",
     "raise parsers.timeout (or exclude such documents), then --retry-run"),
    ("ParserCrashedError", "parse", "the parser process died (killed by SIGKILL)",
     "the parser process died: check the worker logs and parsers.max_memory_mb, then --retry"),
    ("FetchError", "fetch", "cannot read a.md: Permission denied",
     "fix the file's permissions for the workers' user, then --retry"),
    ("FetchError", "fetch", "cannot read a.md: No such file or directory",
     "the document is gone from its source: restore it and --retry, or --purge it"),
    ("DocumentTooLargeError", "fetch", "a.md is larger than max_file_size (10 bytes)",
     "raise content_sources[].max_file_size (or exclude the file), then --retry"),
    ("LeaseExpired", "lease", "lease expired: worker w1 stopped renewing it",
     "worker killed or out of memory while holding it"),
    (None, "lease", "lease expired: worker w1 stopped renewing it", "worker killed or out of memory"),
    ("AttemptTimeout", "timeout", "attempt timed out after 30.0 s", "the attempt outlived work_queue.attempt_timeout"),
    ("OperationalError", "store", "server closed the connection", "the store refused the document"),
    # Message only where the class says nothing.
    ("PermissionError", "fetch", "[Errno 13] Permission denied: 'x'", "fix the file's permissions"),
    (None, "parse", "KeyError: 'a'", "an unexpected error: see the traceback"),
    ("SomethingElse", "embed", "HTTP 500", "embedding failed: check the embedding provider"),
    ("SomethingElse", "", "", DEFAULT_HINT),
])
def test_hint_table(error_type, stage, message, expected) -> None:
    assert hint_for(error_type, stage, message).startswith(expected)


def test_the_class_decides_before_the_message() -> None:
    # A parse failure whose message mentions permissions is still a parse failure of the file.
    assert hint_for("ParseError", "parse", "invalid XML: permission attribute").startswith("fix the file")
    assert ancestry("LimitExceededError")[:3] == ("LimitExceededError", "ParseError", "DocumentError")
    assert ancestry(None, "ValueError: bad") == ("ValueError",)
    assert ancestry("NotOurs") == ("NotOurs",)


def test_file_type_is_the_extension_of_the_last_segment() -> None:
    assert [file_type(p) for p in ("a/b.JSON", "a.b/Makefile", "x.tar.gz", "u/page.html?x=1", None, "")] == [
        "json", "", "gz", "html", "", ""]


def test_monitoring_is_worker_local_and_validated() -> None:
    plain = config_from_dict({"content_sources": [{"name": "d", "base_path": "/d"}]})
    tuned = config_from_dict({"content_sources": [{"name": "d", "base_path": "/d"}],
                              "monitoring": {"refresh_interval": 1, "alerts": {"failure_rate": 0.3}}})
    assert run_id(plain) == run_id(tuned)
    assert tuned.monitoring.alerts.failure_rate == 0.3
    with pytest.raises(ConfigError, match="alerts.window .* must not exceed history_minutes"):
        config_from_dict({"monitoring": {"history_minutes": 2, "alerts": {"window": 600}}})
    with pytest.raises(ConfigError, match=r"monitoring.alerts.failure_rate: Input should be less than or equal to 1"):
        config_from_dict({"monitoring": {"alerts": {"failure_rate": 2}}})


def test_settings_take_the_stale_threshold_from_the_heartbeat_unless_set() -> None:
    assert MonitorSettings.from_config(config_from_dict({"work_queue": {"heartbeat_interval": 10}})).worker_silent == 30
    tuned = config_from_dict({"monitoring": {"alerts": {"worker_silent": 45, "oldest_pending": None}}})
    settings = MonitorSettings.from_config(tuned)
    assert (settings.worker_silent, settings.oldest_pending) == (45, None)


def test_small_formats() -> None:
    assert sparkline([0, 2, 4, 6, 8]) == "▁▃▅▆█"
    assert sparkline([0, 0]) == "▁▁" and sparkline([1, 8])[-1] == "█" and sparkline([]) == ""
    assert [duration(s) for s in (None, 5, 65, 7260, 200000)] == ["-", "5 s", "1 min 05 s", "2 h 01 min", "2 d 7 h"]
