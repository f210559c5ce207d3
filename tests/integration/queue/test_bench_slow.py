"""Claim latency stays flat from 10,000 to 1,000,000 queued rows (slow: run with -m slow)."""

from __future__ import annotations

import pytest

from go_doc_go.queue.bench import run_queue_bench

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_claim_latency_is_flat_from_10k_to_1m_queued_rows(pg_url) -> None:
    small = run_queue_bench(pg_url, docs=20_000, workers=4, batch_size=200, backlog=10_000)
    large = run_queue_bench(pg_url, docs=20_000, workers=4, batch_size=200, backlog=1_000_000)
    assert small.verified and large.verified, (small.problems, large.problems)
    assert large.claim_p50_ms <= 2 * small.claim_p50_ms + 5, (small, large)
