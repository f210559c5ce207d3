"""Backoff is a pure function: exponential, jittered within bounds, capped."""

from __future__ import annotations

import random

import pytest

from go_doc_go.queue import backoff


@pytest.mark.parametrize("jitter", ["equal", "full", "none"])
def test_backoff_bounds(jitter: str) -> None:
    rng = random.Random(7)
    for attempt in range(1, 15):
        ceiling = min(60.0, 2.0 * 2 ** (attempt - 1))
        for _ in range(200):
            value = backoff.delay(attempt, base=2.0, cap=60.0, rng=rng, jitter=jitter)  # type: ignore[arg-type]
            low = {"equal": ceiling / 2, "full": 0.0, "none": ceiling}[jitter]
            assert low <= value <= ceiling


def test_backoff_grows_then_caps() -> None:
    values = [backoff.delay(a, base=1.0, cap=10.0, jitter="none") for a in range(1, 7)]
    assert values == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
