"""Leases are keyed by (queue_id, lease_token): one worker holding a stale and a fresh lease on one document."""

from __future__ import annotations

import pytest

from go_doc_go.exceptions import LeaseLostError

from .helpers import expire_lease, row

pytestmark = pytest.mark.postgres


def key(lease):  # type: ignore[no-untyped-def]
    return (lease.queue_id, lease.lease_token)


def stale_and_fresh(pg_url, queue):  # type: ignore[no-untyped-def]
    """The same worker claims a document, its lease expires and is reclaimed, and it claims it again."""
    queue.add(source_name="s", doc_id="twice")
    (stale,) = queue.claim(1)
    expire_lease(pg_url, stale.queue_id)
    assert queue.reclaim_expired() == [(stale.queue_id, "retry")]
    (fresh,) = queue.claim(1)
    assert fresh.queue_id == stale.queue_id and fresh.lease_token != stale.lease_token
    return stale, fresh


def test_refused_stale_completion_keeps_the_fresh_lease(pg_url, new_run) -> None:
    _, queue = new_run()
    stale, fresh = stale_and_fresh(pg_url, queue)
    assert set(queue.held) == {key(stale), key(fresh)}, "both leases are held, each under its own key"
    with pytest.raises(LeaseLostError):
        queue.complete(stale)
    assert set(queue.held) == {key(fresh)}, "only the stale lease is forgotten"
    assert not queue.heartbeat(), "the fresh lease is still extended"
    queue.complete(fresh)
    assert row(pg_url, fresh.queue_id)["state"] == "completed"


@pytest.mark.parametrize("order", ["fresh_first", "stale_first"])
def test_complete_many_with_stale_and_fresh_lease(pg_url, new_run, order) -> None:
    _, queue = new_run()
    stale, fresh = stale_and_fresh(pg_url, queue)
    batch = [fresh, stale] if order == "fresh_first" else [stale, fresh]
    result = queue.complete_many(batch)
    assert (len(result.completed), len(result.refused)) == (1, 1), "one lease completed, the other refused"
    assert (result.completed, result.refused) == ([fresh], [stale])
    state = row(pg_url, fresh.queue_id)
    assert (state["state"], state["lease_token"]) == ("completed", fresh.lease_token)
    assert queue.held == {}


def test_heartbeat_loses_only_the_stale_lease(pg_url, new_run) -> None:
    _, queue = new_run()
    stale, fresh = stale_and_fresh(pg_url, queue)
    assert len(queue.heartbeat()) == 1, "only the stale lease is lost"
    assert set(queue.held) == {key(fresh)}


def test_release_gives_back_only_the_fresh_lease(pg_url, new_run) -> None:
    _, queue = new_run()
    stale, fresh = stale_and_fresh(pg_url, queue)
    assert len(queue.release([stale, fresh])) == 1, "the stale lease was not released"
    assert row(pg_url, fresh.queue_id)["state"] == "pending"
