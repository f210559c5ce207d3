"""retrying(): retries connection errors only, knows its attempt number, honours a deadline, scrubs errors."""

from __future__ import annotations

import time

import psycopg
import pytest

from go_doc_go.exceptions import QueueError
from go_doc_go.queue.connection import retrying


def test_retries_connection_errors_and_tells_the_operation_which_attempt_it_is() -> None:
    seen: list[int] = []

    def operation(attempt: int) -> str:
        seen.append(attempt)
        if attempt < 3:
            raise psycopg.OperationalError("server closed the connection")
        return "ok"

    assert retrying(operation, base=0.001) == "ok"
    assert seen == [1, 2, 3]


def test_other_errors_are_not_retried() -> None:
    calls = []

    def operation(attempt: int) -> None:
        calls.append(attempt)
        raise psycopg.errors.UniqueViolation("duplicate")

    with pytest.raises(psycopg.errors.UniqueViolation):
        retrying(operation, base=0.001)
    assert calls == [1]


def test_deadline_bounds_the_retries() -> None:
    def operation(attempt: int) -> None:
        raise psycopg.OperationalError("down")

    began = time.monotonic()
    with pytest.raises(QueueError, match="failed after 1 attempt: down"):
        retrying(operation, base=0.5, deadline=time.monotonic() + 0.1)
    assert time.monotonic() - began < 0.4


def test_errors_are_scrubbed_in_the_log_and_the_raised_message(caplog) -> None:
    def operation(attempt: int) -> None:
        raise psycopg.OperationalError('connection to "postgresql://app:hunter2@db/x" failed, password=hunter2')

    with pytest.raises(QueueError) as error:
        retrying(operation, attempts=2, base=0.001, what="claim documents")
    assert "hunter2" not in str(error.value) and "hunter2" not in caplog.text
    assert "app:***@db" in str(error.value)
