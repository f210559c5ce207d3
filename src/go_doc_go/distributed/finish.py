"""Last man standing: once a pass has nothing left, exactly one worker finishes it.

The trigger is the queue's answer ``DRAINED`` (discovery done; nothing
pending, leased or waiting to retry). Every worker that sees it tries to win
the run's leader lease; the one that wins moves the run to
``post_processing`` (refused if work appeared meanwhile), runs the
post-processing steps of ``rules.postprocess`` — the very steps single mode
runs — with every step's transaction fenced by its term, records what they
changed, and completes the run. The lease is renewed in the background while
the steps run. If the leader dies, its lease lapses and the next worker to
try takes over (a run already in ``post_processing`` is accepted for a newer
term); the steps are idempotent, so running them again is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from go_doc_go.queue import repository
from go_doc_go.queue.connection import with_connection
from go_doc_go.queue.errors import LeaderLostError
from go_doc_go.queue.leader import LeaderLease
from go_doc_go.rules import PassContext, run_post_processing

from go_doc_go.distributed.setup import RunResources, pass_token

log = logging.getLogger("go_doc_go.distributed")


@dataclass(frozen=True)
class FinishResult:
    #: The run is completed (by us or by another worker).
    completed: bool
    #: This worker ran the post-processing steps.
    led: bool = False
    changed: dict[str, int] | None = None


def finish_pass(resources: RunResources, holder: str) -> FinishResult:
    """Try to be the one who finishes the current pass; see the module docstring."""
    coordinator = resources.coordinator
    run = coordinator.get()
    if run.status == "completed":
        return FinishResult(completed=True)
    leader = LeaderLease(resources.pool, coordinator.run_id, holder, ttl=resources.config.work_queue.leader_ttl)
    term = leader.attempt()
    if term is None:
        return FinishResult(completed=False)
    try:
        if not coordinator.begin_post_processing(term):
            return FinishResult(completed=coordinator.get().status == "completed")
        leader.start()  # renew at ttl/2 while the steps run
        changed = _run_steps(resources, leader, term)
        if coordinator.complete(term):
            log.info("run %s completed (post-processing: %s)", coordinator.run_id, changed)
            return FinishResult(completed=True, led=True, changed=changed)
        return FinishResult(completed=False, led=True, changed=changed)
    except LeaderLostError as error:
        log.warning("lost the leader lease during post-processing (%s); another worker will finish", error)
        return FinishResult(completed=False, led=True)
    finally:
        leader.stop()  # resigns: the next worker need not wait for the lease to lapse


def _run_steps(resources: RunResources, leader: LeaderLease, term: int) -> dict[str, int]:
    coordinator = resources.coordinator
    record = with_connection(resources.pool, "read pass", lambda c: repository.run_pass_record(c, run_id=coordinator.run_id))
    assert record is not None
    incomplete = set(record["incomplete_sources"] or [])
    context = PassContext(
        resources.config,
        pass_token(coordinator.run_id, record["pass_number"]),
        [name for name in resources.sources if name not in incomplete],
    )
    fence = (lambda tx: leader.fence(tx, term)) if resources.shared else None
    if fence is None and not leader.check(term):
        raise LeaderLostError(f"leader term {term} is no longer current")
    result = run_post_processing(resources.store, context, fence=fence)
    written = with_connection(
        resources.pool,
        "record post-processing",
        lambda c: repository.run_record_post_processing(c, run_id=coordinator.run_id, term=term, result=result.changed),
    )
    if not written:
        raise LeaderLostError(f"leader term {term} is no longer current")
    return result.changed
