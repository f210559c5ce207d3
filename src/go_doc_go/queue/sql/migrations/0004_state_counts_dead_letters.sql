-- 0004: what operators read (monitor, deadletter) without counting the queue.

-- Dead letters of a run in the order they died: --list, growth, --purge by age.
CREATE INDEX document_queue_dead_letter_idx
    ON document_queue (run_id, updated_at)
    WHERE state = 'dead_letter';

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

-- The rows already queued. CREATE TRIGGER above locked out writers until this
-- transaction commits, so the count and the triggers see the same rows.
INSERT INTO run_state_counts (run_id, pass_number, state, bucket, added)
SELECT run_id, pass_number, state, '-infinity', count(*)
  FROM document_queue GROUP BY run_id, pass_number, state;
