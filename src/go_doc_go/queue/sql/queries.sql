-- Named queries of the work queue. Each block starts with "-- name: NAME",
-- then a one-line description comment. Only queue/repository.py uses the names.
-- Every time computation uses now(): the database clock, never the worker's.

-- name: run_ensure
-- Create the run if it does not exist and return it. DO UPDATE (a no-op) rather than DO NOTHING:
-- it returns the row even when a concurrent creator committed after this statement's snapshot.
INSERT INTO processing_runs AS r (run_id, config_hash, config_snapshot)
VALUES (%(run_id)s, %(config_hash)s, %(snapshot)s)
ON CONFLICT (run_id) DO UPDATE SET run_id = r.run_id
RETURNING run_id, config_hash, status, pass_number, discovery_done_at, leader_id, leader_term, leader_expires_at,
          (xmax = 0) AS created;

-- name: run_get
-- Return one run.
SELECT run_id, config_hash, status, pass_number, discovery_done_at, leader_id, leader_term, leader_expires_at,
       false AS created
  FROM processing_runs WHERE run_id = %(run_id)s;

-- name: run_start_pass
-- Begin a new pass over all documents if the run has finished (only one caller wins).
UPDATE processing_runs
   SET pass_number = pass_number + 1, status = 'active', pass_started_at = now(), updated_at = now(),
       completed_at = NULL, discovery_done_at = NULL
 WHERE run_id = %(run_id)s AND status IN ('completed', 'failed', 'abandoned')
RETURNING pass_number;

-- name: run_discovery_done
-- Record that discovery has queued every document of the current pass.
UPDATE processing_runs SET discovery_done_at = coalesce(discovery_done_at, now()), updated_at = now()
 WHERE run_id = %(run_id)s
RETURNING discovery_done_at;

-- name: run_counts
-- Derived counters: documents per state (no hot counter row).
SELECT state, count(*) AS n FROM document_queue WHERE run_id = %(run_id)s GROUP BY state;

-- name: run_outstanding
-- Work left in the run: claimable now, leased, waiting to retry, and when the next retry is due (partial indexes only).
SELECT (SELECT count(*) FROM document_queue
         WHERE run_id = %(run_id)s AND state IN ('pending', 'retry') AND scheduled_for <= now()) AS ready,
       (SELECT count(*) FROM document_queue
         WHERE run_id = %(run_id)s AND state = 'processing') AS processing,
       (SELECT count(*) FROM document_queue
         WHERE run_id = %(run_id)s AND state IN ('pending', 'retry') AND scheduled_for > now()) AS waiting,
       (SELECT extract(epoch FROM min(scheduled_for) - now()) FROM document_queue
         WHERE run_id = %(run_id)s AND state IN ('pending', 'retry')) AS next_due_in;

-- name: run_begin_post_processing
-- active -> post_processing, only for the current leader term, after discovery, with nothing left to do.
UPDATE processing_runs r SET status = 'post_processing', updated_at = now()
 WHERE r.run_id = %(run_id)s AND r.status = 'active' AND r.discovery_done_at IS NOT NULL
   AND r.leader_term = %(term)s AND r.leader_expires_at > now()
   AND NOT EXISTS (SELECT 1 FROM document_queue d
                    WHERE d.run_id = r.run_id AND d.state IN ('pending', 'retry', 'processing'))
RETURNING r.status;

-- name: run_complete
-- post_processing -> completed, only for the current leader term.
UPDATE processing_runs SET status = 'completed', completed_at = now(), updated_at = now()
 WHERE run_id = %(run_id)s AND status = 'post_processing'
   AND leader_term = %(term)s AND leader_expires_at > now()
RETURNING status;

-- name: run_set_status
-- Move a run to failed or abandoned (or back to active) from one of the given states.
UPDATE processing_runs SET status = %(status)s, updated_at = now(),
       completed_at = CASE WHEN %(status)s IN ('failed', 'abandoned') THEN now() ELSE NULL END
 WHERE run_id = %(run_id)s AND status = ANY(%(from_states)s)
RETURNING status;

-- name: worker_register
-- Register a worker session; older running sessions with the same worker id are marked replaced.
WITH replaced AS (
    UPDATE run_workers SET status = 'replaced', stopped_at = now()
     WHERE run_id = %(run_id)s AND worker_id = %(worker_id)s AND status = 'running'
)
INSERT INTO run_workers (run_id, worker_id, host, pid)
VALUES (%(run_id)s, %(worker_id)s, %(host)s, %(pid)s)
RETURNING session_id;

-- name: worker_heartbeat
-- Liveness heartbeat of one worker session; returns nothing if the session was replaced or stopped.
UPDATE run_workers SET heartbeat_at = now()
 WHERE session_id = %(session_id)s AND status = 'running'
RETURNING session_id;

-- name: worker_deregister
-- End a worker session.
UPDATE run_workers SET status = %(status)s, stopped_at = now()
 WHERE session_id = %(session_id)s AND status = 'running'
RETURNING session_id;

-- name: workers_mark_lost
-- Mark sessions whose heartbeat is older than the stale threshold as lost.
UPDATE run_workers SET status = 'lost', stopped_at = now()
 WHERE run_id = %(run_id)s AND status = 'running'
   AND heartbeat_at < now() - make_interval(secs => %(stale_threshold)s)
RETURNING session_id, worker_id;

-- name: worker_list
-- Worker sessions of a run, newest first.
SELECT session_id, worker_id, host, pid, status, registered_at, heartbeat_at, stopped_at,
       claimed_count, completed_count, failed_count
  FROM run_workers WHERE run_id = %(run_id)s ORDER BY session_id DESC;

-- name: document_add_many
-- Bulk add (idempotent on run, source, doc_id); a re-add keeps the smaller depth; an older pass is reset.
INSERT INTO document_queue AS d
       (run_id, source_name, doc_id, doc_path, pass_number, link_depth, parent_doc_id, priority, scheduled_for)
SELECT %(run_id)s, t.source_name, t.doc_id, t.doc_path, r.pass_number, t.link_depth, t.parent_doc_id, t.priority,
       now() + make_interval(secs => t.delay)
  FROM (SELECT pass_number FROM processing_runs WHERE run_id = %(run_id)s) AS r,
       unnest(%(source_names)s::text[], %(doc_ids)s::text[], %(doc_paths)s::text[], %(link_depths)s::int[],
              %(parent_doc_ids)s::text[], %(priorities)s::int[], %(delays)s::float8[])
       AS t(source_name, doc_id, doc_path, link_depth, parent_doc_id, priority, delay)
ON CONFLICT (run_id, source_name, doc_id) DO UPDATE
   SET doc_path = coalesce(excluded.doc_path, d.doc_path),
       link_depth = CASE WHEN d.pass_number < excluded.pass_number THEN excluded.link_depth
                         ELSE least(d.link_depth, excluded.link_depth) END,
       parent_doc_id = CASE WHEN d.pass_number < excluded.pass_number OR excluded.link_depth < d.link_depth
                            THEN excluded.parent_doc_id ELSE d.parent_doc_id END,
       pass_number = excluded.pass_number,
       state = CASE WHEN d.pass_number < excluded.pass_number THEN 'pending' ELSE d.state END,
       priority = CASE WHEN d.pass_number < excluded.pass_number THEN excluded.priority ELSE d.priority END,
       scheduled_for = CASE WHEN d.pass_number < excluded.pass_number THEN excluded.scheduled_for
                            ELSE d.scheduled_for END,
       attempts = CASE WHEN d.pass_number < excluded.pass_number THEN 0 ELSE d.attempts END,
       failure_count = CASE WHEN d.pass_number < excluded.pass_number THEN 0 ELSE d.failure_count END,
       crash_count = CASE WHEN d.pass_number < excluded.pass_number THEN 0 ELSE d.crash_count END,
       lease_expires_at = CASE WHEN d.pass_number < excluded.pass_number THEN NULL ELSE d.lease_expires_at END,
       updated_at = now()
 WHERE d.pass_number < excluded.pass_number OR excluded.link_depth < d.link_depth
RETURNING d.queue_id, (xmax = 0) AS inserted;

-- name: dependency_add_many
-- Record which document linked to which (idempotent).
INSERT INTO document_dependencies (run_id, source_name, from_doc_id, to_doc_id)
SELECT %(run_id)s, t.source_name, t.from_doc_id, t.to_doc_id
  FROM unnest(%(source_names)s::text[], %(from_doc_ids)s::text[], %(to_doc_ids)s::text[])
       AS t(source_name, from_doc_id, to_doc_id)
ON CONFLICT DO NOTHING;

-- name: queue_notify
-- Wake idle workers of the run (once per batch; delivered at commit).
SELECT pg_notify('go_doc_go_queue', %(run_id)s);

-- name: documents_reclaim_expired
-- Expired leases become retries (a crash each); the max_retries-th crash dead-letters the document.
WITH expired AS (
    SELECT queue_id FROM document_queue
     WHERE run_id = %(run_id)s AND state = 'processing' AND lease_expires_at < now()
     ORDER BY lease_expires_at
     LIMIT %(limit)s
       FOR UPDATE SKIP LOCKED
)
UPDATE document_queue d
   SET crash_count = d.crash_count + 1,
       state = CASE WHEN d.crash_count + 1 >= %(max_retries)s THEN 'dead_letter' ELSE 'retry' END,
       scheduled_for = now(),
       lease_expires_at = NULL,
       last_error = 'lease expired: worker ' || coalesce(d.worker_id, '?') || ' stopped renewing it',
       error_stage = 'lease',
       error_history = d.error_history || jsonb_build_object(
           'attempt', d.attempts, 'kind', 'crash', 'stage', 'lease', 'worker_id', d.worker_id,
           'error', 'lease expired', 'at', now()),
       updated_at = now()
  FROM expired
 WHERE d.queue_id = expired.queue_id
RETURNING d.queue_id, d.state;

-- name: document_claim
-- Claim up to K claimable documents in one statement, in priority order, with a fresh lease each.
WITH picked AS (
    SELECT queue_id FROM document_queue
     WHERE run_id = %(run_id)s AND state IN ('pending', 'retry') AND scheduled_for <= now()
     ORDER BY priority DESC, link_depth, queue_id
     LIMIT %(limit)s
       FOR UPDATE SKIP LOCKED
), claimed AS (
    -- "= ANY(ARRAY(...))" makes this K primary-key lookups whatever the statistics say
    -- (a join with picked was once planned as a scan of the whole table).
    UPDATE document_queue d
       SET state = 'processing',
           attempts = d.attempts + 1,
           lease_token = nextval('document_lease_token_seq'),
           lease_expires_at = now() + make_interval(secs => %(claim_timeout)s),
           worker_id = %(worker_id)s,
           claimed_at = now(),
           updated_at = now()
     WHERE d.queue_id = ANY(ARRAY(SELECT queue_id FROM picked))
    RETURNING d.queue_id, d.lease_token, d.attempts, d.source_name, d.doc_id, d.link_depth, d.parent_doc_id,
              d.priority, d.pass_number, d.failure_count, d.crash_count, d.doc_path
), counted AS (
    UPDATE run_workers SET claimed_count = claimed_count + (SELECT count(*) FROM claimed)
     WHERE session_id = %(session_id)s
)
SELECT * FROM claimed;

-- name: document_heartbeat_many
-- Extend the leases the caller still holds; returns the ones that are still its own.
UPDATE document_queue d
   SET lease_expires_at = now() + make_interval(secs => %(claim_timeout)s)
 WHERE d.queue_id = ANY(%(queue_ids)s::bigint[])
   AND d.lease_token = (%(lease_tokens)s::bigint[])[array_position(%(queue_ids)s::bigint[], d.queue_id)]
   AND coalesce(d.state, '') = 'processing'  -- opaque on purpose: primary key lookups, not the lease index
RETURNING d.queue_id;

-- name: document_complete_many
-- Complete documents whose lease token is current (a repeat of our own completion also counts); bump our counter.
-- Single-table statements keyed by "queue_id = ANY(...)": primary-key lookups whatever the statistics say.
WITH done AS (
    UPDATE document_queue d
       SET state = 'completed', completed_at = now(), lease_expires_at = NULL, updated_at = now(),
           content_hash = coalesce(
               (%(content_hashes)s::text[])[array_position(%(queue_ids)s::bigint[], d.queue_id)], d.content_hash),
           last_error = NULL, error_stage = NULL
     WHERE d.queue_id = ANY(%(queue_ids)s::bigint[])
       AND d.lease_token = (%(lease_tokens)s::bigint[])[array_position(%(queue_ids)s::bigint[], d.queue_id)]
       AND coalesce(d.state, '') = 'processing'  -- opaque on purpose: primary key lookups, not the lease index
    RETURNING d.queue_id
), counted AS (
    UPDATE run_workers SET completed_count = completed_count + (SELECT count(*) FROM done)
     WHERE session_id = %(session_id)s
)
SELECT queue_id FROM done
UNION ALL
SELECT d.queue_id FROM document_queue d
 WHERE d.queue_id = ANY(%(queue_ids)s::bigint[])
   AND d.lease_token = (%(lease_tokens)s::bigint[])[array_position(%(queue_ids)s::bigint[], d.queue_id)]
   AND d.state = 'completed';

-- name: document_fail
-- Record a failure of the current lease: retry after the given delay, or dead-letter when retries are used up.
UPDATE document_queue
   SET failure_count = failure_count + 1,
       state = CASE WHEN %(permanent)s OR failure_count + 1 > %(max_retries)s THEN 'dead_letter' ELSE 'retry' END,
       scheduled_for = now() + make_interval(secs => %(delay)s),
       lease_expires_at = NULL,
       last_error = %(error)s,
       error_stage = %(stage)s,
       error_history = error_history || jsonb_build_object(
           'attempt', attempts, 'kind', 'failure', 'stage', %(stage)s::text, 'worker_id', worker_id,
           'error', %(error)s::text, 'at', now()),
       updated_at = now()
 WHERE queue_id = %(queue_id)s AND lease_token = %(lease_token)s
   AND coalesce(state, '') = 'processing'  -- opaque on purpose: primary key lookup, not the lease index
RETURNING state, scheduled_for;

-- name: worker_count_failures
-- Per-worker counter for failures (the worker's own row).
UPDATE run_workers SET failed_count = failed_count + %(n)s WHERE session_id = %(session_id)s;

-- name: document_release
-- Give a lease back untouched (shutdown): the document is claimable again at once, not counted as a crash.
UPDATE document_queue d
   SET state = CASE WHEN d.failure_count > 0 OR d.crash_count > 0 THEN 'retry' ELSE 'pending' END,
       attempts = greatest(d.attempts - 1, 0), lease_expires_at = NULL, scheduled_for = now(), updated_at = now()
 WHERE d.queue_id = ANY(%(queue_ids)s::bigint[])
   AND d.lease_token = (%(lease_tokens)s::bigint[])[array_position(%(queue_ids)s::bigint[], d.queue_id)]
   AND coalesce(d.state, '') = 'processing'  -- opaque on purpose: primary key lookups, not the lease index
RETURNING d.queue_id;

-- name: document_retry_dead_letter
-- Make a dead-lettered document claimable again (fresh retry budget) and reopen its run.
WITH doc AS (
    UPDATE document_queue
       SET state = 'retry', scheduled_for = now(), failure_count = 0, crash_count = 0, updated_at = now()
     WHERE queue_id = %(queue_id)s AND state = 'dead_letter'
    RETURNING run_id
), reopened AS (
    UPDATE processing_runs r SET status = 'active', completed_at = NULL, updated_at = now()
      FROM doc WHERE r.run_id = doc.run_id AND r.status <> 'active'
    RETURNING r.run_id
)
SELECT run_id FROM doc;

-- name: document_get
-- One queue row, for inspection.
SELECT queue_id, run_id, source_name, doc_id, doc_path, pass_number, state, priority, link_depth, parent_doc_id,
       scheduled_for, attempts, failure_count, crash_count, lease_token, lease_expires_at, worker_id,
       last_error, error_stage, error_history, content_hash
  FROM document_queue WHERE queue_id = %(queue_id)s;

-- name: documents_dead_letter
-- Dead-lettered documents of a run.
SELECT queue_id, source_name, doc_id, attempts, failure_count, crash_count, last_error, error_stage, error_history
  FROM document_queue WHERE run_id = %(run_id)s AND state = 'dead_letter' ORDER BY queue_id;

-- name: leader_attempt
-- Take the leader lease if it is free or expired (new term); a holder re-electing itself keeps its term.
UPDATE processing_runs
   SET leader_term = CASE WHEN leader_id = %(holder)s AND leader_expires_at > now()
                          THEN leader_term ELSE leader_term + 1 END,
       leader_id = %(holder)s,
       leader_expires_at = now() + make_interval(secs => %(ttl)s)
 WHERE run_id = %(run_id)s
   AND (leader_id IS NULL OR leader_expires_at IS NULL OR leader_expires_at <= now() OR leader_id = %(holder)s)
RETURNING leader_term, leader_expires_at;

-- name: leader_renew
-- Extend the lease, only for the same holder and term while it has not expired.
UPDATE processing_runs SET leader_expires_at = now() + make_interval(secs => %(ttl)s)
 WHERE run_id = %(run_id)s AND leader_id = %(holder)s AND leader_term = %(term)s AND leader_expires_at > now()
RETURNING leader_term, leader_expires_at;

-- name: leader_resign
-- Release the lease at once (the term stays, so the next leader gets a higher one).
UPDATE processing_runs SET leader_id = NULL, leader_expires_at = NULL
 WHERE run_id = %(run_id)s AND leader_id = %(holder)s AND leader_term = %(term)s
RETURNING leader_term;

-- name: leader_check
-- Is this term still the current, unexpired leader? (fencing check)
SELECT 1 FROM processing_runs
 WHERE run_id = %(run_id)s AND leader_term = %(term)s AND leader_expires_at > now();

-- name: queue_dead_tuples
-- Dead row versions and rows changed since the last ANALYZE in document_queue, to decide on maintenance.
SELECT coalesce(n_dead_tup, 0), coalesce(n_mod_since_analyze, 0), coalesce(n_live_tup, 0)
  FROM pg_stat_user_tables WHERE relid = 'document_queue'::regclass;

-- name: queue_vacuum_lock
-- Only one process vacuums the queue at a time (session-level advisory lock, released after).
SELECT pg_try_advisory_lock(%(key)s);

-- name: queue_vacuum_unlock
-- Release the vacuum lock.
SELECT pg_advisory_unlock(%(key)s);

-- name: queue_vacuum
-- Remove dead rows (above all the dead entries at the head of the claim index) and refresh statistics.
VACUUM (SKIP_LOCKED, TRUNCATE false, ANALYZE) document_queue;
