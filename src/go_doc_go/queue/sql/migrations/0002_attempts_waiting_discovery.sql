-- 0002: attempt deadlines, request ids, waiting rows out of the claim index,
-- the discovery lease and per-worker counter rows.

-- Time budget of one attempt (work_queue.attempt_timeout): the heartbeat never
-- extends a lease past it, and the reclaim records its expiry as a timeout.
ALTER TABLE document_queue ADD COLUMN attempt_deadline timestamptz;
-- Client-generated id of the last claim, fail or release that changed the row:
-- a retried request (reply lost after commit) recognises its own effect.
ALTER TABLE document_queue ADD COLUMN request_id bigint;

-- 'scheduled': a document added with a delay, waiting for scheduled_for.
-- 'retry' now means "waiting to retry"; a claim promotes due rows to 'pending'.
ALTER TABLE document_queue DROP CONSTRAINT document_queue_state_check;
ALTER TABLE document_queue ADD CONSTRAINT document_queue_state_check
    CHECK (state IN ('pending', 'scheduled', 'processing', 'retry', 'completed', 'dead_letter'));

-- Rows that are not due yet leave the claim index (they were walked by every claim).
UPDATE document_queue SET state = 'scheduled' WHERE state = 'pending' AND scheduled_for > now();

DROP INDEX document_queue_claim_idx;
CREATE INDEX document_queue_claim_idx
    ON document_queue (run_id, priority DESC, link_depth, queue_id)
    WHERE state = 'pending';

CREATE INDEX document_queue_waiting_idx
    ON document_queue (run_id, scheduled_for)
    WHERE state IN ('retry', 'scheduled');

-- The discovery lease: who queues the documents of the current pass, until when.
ALTER TABLE processing_runs ADD COLUMN discovery_holder text;
ALTER TABLE processing_runs ADD COLUMN discovery_expires_at timestamptz;

-- Per-worker counters as insert-only rows (one per claim, flush or failure):
-- a document transaction that completes documents inserts a row and locks
-- nothing the liveness heartbeat needs. The heartbeat folds them into run_workers.
CREATE TABLE run_worker_counts (
    session_id          bigint NOT NULL REFERENCES run_workers (session_id) ON DELETE CASCADE,
    claimed             bigint NOT NULL DEFAULT 0,
    completed           bigint NOT NULL DEFAULT 0,
    failed              bigint NOT NULL DEFAULT 0
);

CREATE INDEX run_worker_counts_session_idx ON run_worker_counts (session_id);
