-- go-doc-go work queue schema (PostgreSQL). This file is the truth: a test
-- proves that applying every file in migrations/ yields exactly this schema.
-- All times are timestamptz and come from the database clock (now()).

CREATE TABLE schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per run (= config hash). The leader lease lives here too: a holder,
-- a term that only ever grows (the fencing token) and an expiry.
CREATE TABLE processing_runs (
    run_id              text PRIMARY KEY,
    config_hash         text NOT NULL,
    config_snapshot     jsonb NOT NULL DEFAULT '{}'::jsonb,
    status              text NOT NULL DEFAULT 'active'
        CONSTRAINT processing_runs_status_check
        CHECK (status IN ('active', 'post_processing', 'completed', 'failed', 'abandoned')),
    pass_number         integer NOT NULL DEFAULT 1,
    discovery_done_at   timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    pass_started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    completed_at        timestamptz,
    leader_id           text,
    leader_term         bigint NOT NULL DEFAULT 0,
    leader_expires_at   timestamptz,
    -- The discovery lease: who queues the documents of the current pass, until when.
    discovery_holder    text,
    discovery_expires_at timestamptz,
    -- Sources whose listing in this pass was incomplete: their documents are not removed.
    incomplete_sources  jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- What discovery saw (documents listed, paths skipped with their reasons, a bounded sample).
    discovery_stats     jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- What the pass's post-processing steps changed, by step name.
    post_processing     jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Every claim draws a fresh token from here: it is the lease's identity.
CREATE SEQUENCE document_lease_token_seq;

-- One row per (run, source, document). States: pending (claimable now),
-- scheduled (added with a delay) and retry (waiting for its backoff) until
-- scheduled_for, when a claim promotes them to pending; processing (leased);
-- completed; dead_letter.
CREATE TABLE document_queue (
    queue_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              text NOT NULL REFERENCES processing_runs (run_id) ON DELETE CASCADE,
    source_name         text NOT NULL,
    doc_id              text NOT NULL,
    -- The source's own name for the document (relative path or URL): what a worker fetches.
    doc_path            text,
    pass_number         integer NOT NULL DEFAULT 1,
    state               text NOT NULL DEFAULT 'pending'
        CONSTRAINT document_queue_state_check
        CHECK (state IN ('pending', 'scheduled', 'processing', 'retry', 'completed', 'dead_letter')),
    priority            integer NOT NULL DEFAULT 0,
    link_depth          integer NOT NULL DEFAULT 0,
    parent_doc_id       text,
    scheduled_for       timestamptz NOT NULL DEFAULT now(),
    attempts            integer NOT NULL DEFAULT 0,
    failure_count       integer NOT NULL DEFAULT 0,
    crash_count         integer NOT NULL DEFAULT 0,
    lease_token         bigint,
    lease_expires_at    timestamptz,
    worker_id           text,
    claimed_at          timestamptz,
    completed_at        timestamptz,
    content_hash        text,
    last_error          text,
    error_stage         text,
    error_history       jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- Time budget of the current attempt (work_queue.attempt_timeout); leases never outlive it.
    attempt_deadline    timestamptz,
    -- Client id of the last claim, fail or release: a retried request recognises its own effect.
    request_id          bigint,
    -- The failure's exception class and the traceback of an unexpected error.
    error_type          text,
    last_traceback      text,
    -- What a completion did: processed, unchanged, or vanished (gone from its source when claimed).
    outcome             text
        CONSTRAINT document_queue_outcome_check CHECK (outcome IN ('processed', 'unchanged', 'vanished')),
    -- What a completion embedded: retrieval units embedded anew, and units whose stored vector was reused.
    units_embedded      integer,
    units_reused        integer,
    CONSTRAINT document_queue_identity_key UNIQUE (run_id, source_name, doc_id)
) WITH (
    -- Every claim leaves a dead entry at the head of the claim index; vacuum early and often.
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_vacuum_insert_scale_factor = 0.05,
    autovacuum_vacuum_cost_delay = 0,
    -- Truncating the heap takes an ACCESS EXCLUSIVE lock that would stall every claim.
    vacuum_truncate = false
);

-- Serves exactly the claim order; holds only claimable rows (due ones: rows
-- waiting for scheduled_for are elsewhere), so no claim walks over waiting rows.
CREATE INDEX document_queue_claim_idx
    ON document_queue (run_id, priority DESC, link_depth, queue_id)
    WHERE state = 'pending';

-- Rows waiting for scheduled_for, in due order: the promotion to pending reads
-- only the due head, and the next due time is its first entry.
CREATE INDEX document_queue_waiting_idx
    ON document_queue (run_id, scheduled_for)
    WHERE state IN ('retry', 'scheduled');

-- Serves the reclaim of expired leases; holds only leased rows.
CREATE INDEX document_queue_lease_idx
    ON document_queue (run_id, lease_expires_at)
    WHERE state = 'processing';

-- Dead letters of a run in the order they died: --list, growth, --purge by age.
CREATE INDEX document_queue_dead_letter_idx
    ON document_queue (run_id, updated_at)
    WHERE state = 'dead_letter';

-- No (run_id, state) index on purpose: with stale statistics for a new run the
-- planner preferred it for the claim and sorted every pending row (O(queue) per
-- claim). Run counts use the identity index's run_id prefix instead.

-- One row per worker process registration (a session). Its counters are
-- totals folded in by the worker's own liveness heartbeat from run_worker_counts.
CREATE TABLE run_workers (
    session_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              text NOT NULL REFERENCES processing_runs (run_id) ON DELETE CASCADE,
    worker_id           text NOT NULL,
    host                text NOT NULL,
    pid                 integer NOT NULL,
    status              text NOT NULL DEFAULT 'running'
        CONSTRAINT run_workers_status_check
        CHECK (status IN ('running', 'stopped', 'lost', 'replaced')),
    registered_at       timestamptz NOT NULL DEFAULT now(),
    heartbeat_at        timestamptz NOT NULL DEFAULT now(),
    stopped_at          timestamptz,
    claimed_count       bigint NOT NULL DEFAULT 0,
    completed_count     bigint NOT NULL DEFAULT 0,
    failed_count        bigint NOT NULL DEFAULT 0
);

CREATE INDEX run_workers_run_idx ON run_workers (run_id, worker_id);

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

-- Which document linked to which (discovered links).
CREATE TABLE document_dependencies (
    run_id              text NOT NULL REFERENCES processing_runs (run_id) ON DELETE CASCADE,
    source_name         text NOT NULL,
    from_doc_id         text NOT NULL,
    to_doc_id           text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, source_name, from_doc_id, to_doc_id)
);

-- Rows per (run, pass, state), kept exact by statement triggers on document_queue:
-- each statement that changes rows inserts its net change here (insert-only,
-- in the statement's own transaction: no shared row is updated per document).
CREATE TABLE run_state_deltas (
    run_id              text NOT NULL,
    pass_number         integer NOT NULL,
    state               text NOT NULL,
    n                   bigint NOT NULL,
    at                  timestamptz NOT NULL DEFAULT now()
) WITH (autovacuum_vacuum_scale_factor = 0.05, vacuum_truncate = false);

CREATE INDEX run_state_deltas_run_idx ON run_state_deltas (run_id);

-- The deltas folded by minute (a monitor does it): rows that entered (added) and
-- left (removed) each state. Minutes older than the kept history are folded into
-- the '-infinity' bucket.
CREATE TABLE run_state_counts (
    run_id              text NOT NULL,
    pass_number         integer NOT NULL,
    state               text NOT NULL,
    bucket              timestamptz NOT NULL,
    added               bigint NOT NULL DEFAULT 0,
    removed             bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, pass_number, state, bucket)
);

CREATE FUNCTION document_queue_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_state_deltas (run_id, pass_number, state, n)
    SELECT run_id, pass_number, state, count(*) FROM new_rows GROUP BY run_id, pass_number, state;
    RETURN NULL;
END
$$;

CREATE FUNCTION document_queue_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_state_deltas (run_id, pass_number, state, n)
    SELECT run_id, pass_number, state, sum(n)
      FROM (SELECT run_id, pass_number, state, 1 AS n FROM new_rows
            UNION ALL
            SELECT run_id, pass_number, state, -1 AS n FROM old_rows) AS moved
     GROUP BY run_id, pass_number, state
    HAVING sum(n) <> 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION document_queue_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_state_deltas (run_id, pass_number, state, n)
    SELECT run_id, pass_number, state, -count(*) FROM old_rows GROUP BY run_id, pass_number, state;
    RETURN NULL;
END
$$;

CREATE FUNCTION document_queue_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM run_state_deltas;
    DELETE FROM run_state_counts;
    RETURN NULL;
END
$$;

CREATE TRIGGER document_queue_count_insert AFTER INSERT ON document_queue
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION document_queue_count_insert();
CREATE TRIGGER document_queue_count_update AFTER UPDATE ON document_queue
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION document_queue_count_update();
CREATE TRIGGER document_queue_count_delete AFTER DELETE ON document_queue
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION document_queue_count_delete();
CREATE TRIGGER document_queue_count_truncate AFTER TRUNCATE ON document_queue
    FOR EACH STATEMENT EXECUTE FUNCTION document_queue_count_truncate();
