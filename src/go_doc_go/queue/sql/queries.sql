-- Named queries of the work queue. Each block starts with "-- name: NAME",
-- then a one-line description comment. Only queue/repository.py uses the names.
-- Every time computation uses now(): the database clock, never the worker's.
-- A lease is identified by (queue_id, lease_token), never by queue_id alone.
-- Lease tokens come from one sequence, so a token belongs to exactly one row:
-- "queue_id = ANY(ids) AND lease_token = ANY(tokens)" matches exactly the
-- caller's pairs, even when it names one queue_id with a stale and a fresh
-- token. The queue_id condition keeps every statement a primary-key lookup
-- whatever the statistics say, and both arrays are constants PostgreSQL
-- hashes: O(K) per statement, where joining unnest(ids, tokens) was planned
-- as a nested loop (K^2).

-- name: run_ensure
-- Create the run if it does not exist and return it. DO UPDATE (a no-op) rather than DO NOTHING:
-- it returns the row even when a concurrent creator committed after this statement's snapshot.
INSERT INTO processing_runs AS r (run_id, config_hash, config_snapshot)
VALUES (%(run_id)s, %(config_hash)s, %(snapshot)s)
ON CONFLICT (run_id) DO UPDATE SET run_id = r.run_id
RETURNING run_id, config_hash, status, pass_number, discovery_done_at, leader_id, leader_term, leader_expires_at,
          discovery_holder, (xmax = 0) AS created;

-- name: run_get
-- Return one run.
SELECT run_id, config_hash, status, pass_number, discovery_done_at, leader_id, leader_term, leader_expires_at,
       discovery_holder, false AS created
  FROM processing_runs WHERE run_id = %(run_id)s;

-- name: discovery_attempt
-- Take the discovery lease of the current pass (free, expired or ours, discovery not done); with new_pass,
-- a finished run begins a new pass and the caller holds its discovery lease from the first instant.
UPDATE processing_runs
   SET pass_number = CASE WHEN status IN ('completed', 'failed', 'abandoned') THEN pass_number + 1
                          ELSE pass_number END,
       pass_started_at = CASE WHEN status IN ('completed', 'failed', 'abandoned') THEN now() ELSE pass_started_at END,
       discovery_done_at = CASE WHEN status IN ('completed', 'failed', 'abandoned') THEN NULL
                                ELSE discovery_done_at END,
       completed_at = CASE WHEN status IN ('completed', 'failed', 'abandoned') THEN NULL ELSE completed_at END,
       status = 'active',
       discovery_holder = %(holder)s,
       discovery_expires_at = now() + make_interval(secs => %(ttl)s),
       updated_at = now()
 WHERE run_id = %(run_id)s
   AND ((%(new_pass)s AND status IN ('completed', 'failed', 'abandoned'))
        OR (status = 'active' AND discovery_done_at IS NULL
            AND (discovery_holder IS NULL OR discovery_expires_at <= now() OR discovery_holder = %(holder)s)))
RETURNING pass_number;

-- name: discovery_renew
-- Extend the discovery lease, only for its holder, before expiry and while discovery is not done.
UPDATE processing_runs SET discovery_expires_at = now() + make_interval(secs => %(ttl)s)
 WHERE run_id = %(run_id)s AND discovery_holder = %(holder)s AND discovery_expires_at > now()
   AND discovery_done_at IS NULL AND status = 'active'
RETURNING discovery_expires_at;

-- name: discovery_release
-- Give the discovery lease up without finishing (another worker may take over at once).
UPDATE processing_runs SET discovery_holder = NULL, discovery_expires_at = NULL
 WHERE run_id = %(run_id)s AND discovery_holder = %(holder)s
RETURNING run_id;

-- name: run_discovery_done
-- Record that discovery queued every document of the pass, unless another holder's discovery lease is valid.
UPDATE processing_runs
   SET discovery_done_at = coalesce(discovery_done_at, now()), discovery_holder = NULL,
       discovery_expires_at = NULL, updated_at = now()
 WHERE run_id = %(run_id)s
   AND (discovery_holder IS NULL OR discovery_holder = %(holder)s OR discovery_expires_at <= now())
RETURNING discovery_done_at;

-- name: run_counts
-- Derived counters: documents per state (no hot counter row).
SELECT state, count(*) AS n FROM document_queue WHERE run_id = %(run_id)s GROUP BY state;

-- name: run_outstanding
-- Work left in the run (ready, leased, waiting, next due time) and whether more can come (status, discovery).
SELECT (SELECT count(*) FROM document_queue
         WHERE run_id = r.run_id AND state = 'pending')
     + (SELECT count(*) FROM document_queue
         WHERE run_id = r.run_id AND state IN ('retry', 'scheduled') AND scheduled_for <= now()) AS ready,
       (SELECT count(*) FROM document_queue
         WHERE run_id = r.run_id AND state = 'processing') AS processing,
       (SELECT count(*) FROM document_queue
         WHERE run_id = r.run_id AND state IN ('retry', 'scheduled') AND scheduled_for > now()) AS waiting,
       (SELECT extract(epoch FROM min(scheduled_for) - now()) FROM document_queue
         WHERE run_id = r.run_id AND state IN ('retry', 'scheduled')) AS next_due_in,
       r.status,
       r.discovery_done_at IS NOT NULL AS discovery_done,
       coalesce(r.discovery_holder IS NOT NULL AND r.discovery_expires_at > now(), false) AS discovery_held
  FROM processing_runs r WHERE r.run_id = %(run_id)s;

-- name: run_begin_post_processing
-- active -> post_processing, only for the current leader term, after discovery, with nothing left to do.
-- A run already in post_processing is taken over by a new term (its old leader died mid-way).
UPDATE processing_runs r SET status = 'post_processing', updated_at = now()
 WHERE r.run_id = %(run_id)s AND r.status IN ('active', 'post_processing') AND r.discovery_done_at IS NOT NULL
   AND r.leader_term = %(term)s AND r.leader_expires_at > now()
   AND NOT EXISTS (SELECT 1 FROM document_queue d
                    WHERE d.run_id = r.run_id AND d.state IN ('pending', 'scheduled', 'retry', 'processing'))
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
-- Register a worker session; older running or lost sessions with the same worker id are marked replaced.
WITH replaced AS (
    UPDATE run_workers SET status = 'replaced', stopped_at = coalesce(stopped_at, now())
     WHERE run_id = %(run_id)s AND worker_id = %(worker_id)s AND status IN ('running', 'lost')
)
INSERT INTO run_workers (run_id, worker_id, host, pid)
VALUES (%(run_id)s, %(worker_id)s, %(host)s, %(pid)s)
RETURNING session_id;

-- name: worker_heartbeat
-- Liveness of one session (a lost one comes back); folds its counter rows in. False if replaced or stopped.
WITH moved AS (
    DELETE FROM run_worker_counts WHERE session_id = %(session_id)s
    RETURNING claimed, completed, failed
), total AS (
    SELECT coalesce(sum(claimed), 0) AS claimed, coalesce(sum(completed), 0) AS completed,
           coalesce(sum(failed), 0) AS failed
      FROM moved
)
UPDATE run_workers w
   SET claimed_count = w.claimed_count + total.claimed,
       completed_count = w.completed_count + total.completed,
       failed_count = w.failed_count + total.failed,
       heartbeat_at = CASE WHEN w.status IN ('running', 'lost') THEN now() ELSE w.heartbeat_at END,
       stopped_at = CASE WHEN w.status IN ('running', 'lost') THEN NULL ELSE w.stopped_at END,
       status = CASE WHEN w.status = 'lost' THEN 'running' ELSE w.status END
  FROM total
 WHERE w.session_id = %(session_id)s
RETURNING w.status = 'running';

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
-- Worker sessions of a run, newest first; counters include the rows not folded in yet.
SELECT w.session_id, w.worker_id, w.host, w.pid, w.status, w.registered_at, w.heartbeat_at, w.stopped_at,
       w.claimed_count + coalesce(c.claimed, 0) AS claimed_count,
       w.completed_count + coalesce(c.completed, 0) AS completed_count,
       w.failed_count + coalesce(c.failed, 0) AS failed_count
  FROM run_workers w
  LEFT JOIN LATERAL (SELECT sum(claimed) AS claimed, sum(completed) AS completed, sum(failed) AS failed
                       FROM run_worker_counts WHERE session_id = w.session_id) c ON true
 WHERE w.run_id = %(run_id)s ORDER BY w.session_id DESC;

-- name: document_add_many
-- Bulk add (idempotent on run, source, doc_id); a re-add keeps the smaller depth; an older pass is reset.
INSERT INTO document_queue AS d
       (run_id, source_name, doc_id, doc_path, pass_number, state, link_depth, parent_doc_id, priority, scheduled_for)
SELECT %(run_id)s, t.source_name, t.doc_id, t.doc_path, r.pass_number,
       CASE WHEN t.delay > 0 THEN 'scheduled' ELSE 'pending' END,
       t.link_depth, t.parent_doc_id, t.priority, now() + make_interval(secs => t.delay)
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
       -- Reached again by a shorter path after it completed: process it again (cheap, its bytes are
       -- unchanged) so its links are followed from the smaller depth, as single mode does.
       state = CASE WHEN d.pass_number < excluded.pass_number THEN excluded.state
                    WHEN d.state = 'completed' AND excluded.link_depth < d.link_depth THEN 'pending'
                    ELSE d.state END,
       priority = CASE WHEN d.pass_number < excluded.pass_number THEN excluded.priority ELSE d.priority END,
       scheduled_for = CASE WHEN d.pass_number < excluded.pass_number THEN excluded.scheduled_for
                            ELSE d.scheduled_for END,
       attempts = CASE WHEN d.pass_number < excluded.pass_number THEN 0 ELSE d.attempts END,
       failure_count = CASE WHEN d.pass_number < excluded.pass_number THEN 0 ELSE d.failure_count END,
       crash_count = CASE WHEN d.pass_number < excluded.pass_number THEN 0 ELSE d.crash_count END,
       lease_expires_at = CASE WHEN d.pass_number < excluded.pass_number THEN NULL ELSE d.lease_expires_at END,
       attempt_deadline = CASE WHEN d.pass_number < excluded.pass_number THEN NULL ELSE d.attempt_deadline END,
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
-- Expired leases become retries due now (a crash each, or a timeout past attempt_deadline); the max_retries-th dead-letters.
WITH expired AS (
    SELECT queue_id, coalesce(attempt_deadline <= now(), false) AS timed_out,
           extract(epoch FROM attempt_deadline - claimed_at)::numeric(12, 1) AS budget
      FROM document_queue
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
       attempt_deadline = NULL,
       last_error = CASE WHEN expired.timed_out
                         THEN 'attempt timed out after ' || expired.budget || ' s (work_queue.attempt_timeout): worker '
                              || coalesce(d.worker_id, '?')
                         ELSE 'lease expired: worker ' || coalesce(d.worker_id, '?') || ' stopped renewing it' END,
       error_stage = CASE WHEN expired.timed_out THEN 'timeout' ELSE 'lease' END,
       error_type = CASE WHEN expired.timed_out THEN 'AttemptTimeout' ELSE 'LeaseExpired' END,
       last_traceback = NULL,
       error_history = d.error_history || jsonb_build_object(
           'attempt', d.attempts, 'kind', CASE WHEN expired.timed_out THEN 'timeout' ELSE 'crash' END,
           'stage', CASE WHEN expired.timed_out THEN 'timeout' ELSE 'lease' END, 'worker_id', d.worker_id,
           'error', CASE WHEN expired.timed_out THEN 'attempt timed out' ELSE 'lease expired' END, 'at', now()),
       updated_at = now()
  FROM expired
 WHERE d.queue_id = expired.queue_id
RETURNING d.queue_id, d.state;

-- name: documents_promote_due
-- Rows whose scheduled_for has come (retries, delayed adds) become pending: only due rows sit in the claim index.
UPDATE document_queue d SET state = 'pending', updated_at = now()
 WHERE d.queue_id = ANY(ARRAY(
        SELECT queue_id FROM document_queue
         WHERE run_id = %(run_id)s AND state IN ('retry', 'scheduled') AND scheduled_for <= now()
         ORDER BY scheduled_for
         LIMIT %(limit)s
           FOR UPDATE SKIP LOCKED));

-- name: document_claim
-- Claim up to K pending documents of an active run in one statement, in priority order, with a fresh lease each.
WITH picked AS (
    SELECT queue_id FROM document_queue
     WHERE run_id = %(run_id)s AND state = 'pending'
       AND EXISTS (SELECT 1 FROM processing_runs r WHERE r.run_id = %(run_id)s AND r.status = 'active')
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
           attempt_deadline = now() + make_interval(secs => %(attempt_timeout)s::float8),
           lease_expires_at = least(now() + make_interval(secs => %(claim_timeout)s),
                                    now() + make_interval(secs => %(attempt_timeout)s::float8)),
           worker_id = %(worker_id)s,
           request_id = %(request_id)s,
           claimed_at = now(),
           updated_at = now()
     WHERE d.queue_id = ANY(ARRAY(SELECT queue_id FROM picked))
    RETURNING d.queue_id, d.lease_token, d.attempts, d.source_name, d.doc_id, d.link_depth, d.parent_doc_id,
              d.priority, d.pass_number, d.failure_count, d.crash_count, d.doc_path, d.attempt_deadline
), counted AS (
    INSERT INTO run_worker_counts (session_id, claimed)
    SELECT %(session_id)s::bigint, count(*) FROM claimed
    HAVING count(*) > 0 AND %(session_id)s::bigint IS NOT NULL
)
SELECT * FROM claimed;

-- name: document_claimed_by
-- The leases a claim request committed (its reply was lost): what a retried claim returns instead of claiming again.
SELECT d.queue_id, d.lease_token, d.attempts, d.source_name, d.doc_id, d.link_depth, d.parent_doc_id,
       d.priority, d.pass_number, d.failure_count, d.crash_count, d.doc_path, d.attempt_deadline
  FROM document_queue d
 WHERE d.run_id = %(run_id)s AND d.state = 'processing' AND d.request_id = %(request_id)s;

-- name: document_heartbeat_many
-- Extend the caller's leases (never past attempt_deadline; rows locked by a transaction are skipped); report each row.
WITH mine AS (
    SELECT d.queue_id FROM document_queue d
     WHERE d.queue_id = ANY(%(queue_ids)s::bigint[])
       AND d.lease_token = ANY(%(lease_tokens)s::bigint[])
       AND coalesce(d.state, '') = 'processing'  -- opaque on purpose: primary key lookups, not the lease index
       FOR NO KEY UPDATE SKIP LOCKED
), extended AS (
    UPDATE document_queue d
       SET lease_expires_at = least(now() + make_interval(secs => %(claim_timeout)s),
                                    coalesce(d.attempt_deadline, 'infinity'))
     WHERE d.queue_id = ANY(ARRAY(SELECT queue_id FROM mine))
    RETURNING d.queue_id
)
SELECT d.queue_id, d.lease_token, d.state, d.queue_id IN (SELECT queue_id FROM extended) AS extended
  FROM document_queue d
 WHERE d.queue_id = ANY(%(queue_ids)s::bigint[]);

-- name: document_complete_many
-- Complete documents whose lease is current, keyed by (queue_id, lease_token); count them in a row of our own.
WITH done AS (
    UPDATE document_queue d
       SET completed_at = now(), lease_expires_at = NULL, attempt_deadline = NULL,
           updated_at = now(), last_error = NULL, error_stage = NULL, error_type = NULL, last_traceback = NULL,
           -- {"token": "hash"}: a jsonb object lookup is a binary search, not a scan of an array
           content_hash = coalesce(%(content_hashes)s::jsonb ->> d.lease_token::text, d.content_hash),
           outcome = %(outcomes)s::jsonb ->> d.lease_token::text,
           units_embedded = ((%(units)s::jsonb -> d.lease_token::text) ->> 0)::int,
           units_reused = ((%(units)s::jsonb -> d.lease_token::text) ->> 1)::int,
           -- A shorter path reached it while it was leased: complete it, then process it once more
           -- (its links must be followed from the smaller depth).
           state = CASE WHEN d.link_depth < coalesce((%(depths)s::jsonb ->> d.lease_token::text)::int, d.link_depth)
                        THEN 'pending' ELSE 'completed' END
     WHERE d.queue_id = ANY(%(queue_ids)s::bigint[])
       AND d.lease_token = ANY(%(lease_tokens)s::bigint[])
       AND coalesce(d.state, '') = 'processing'  -- opaque on purpose: primary key lookups, not the lease index
    RETURNING d.queue_id, d.lease_token
), counted AS (
    INSERT INTO run_worker_counts (session_id, completed)
    SELECT %(session_id)s::bigint, count(*) FROM done
    HAVING count(*) > 0 AND %(session_id)s::bigint IS NOT NULL
)
SELECT queue_id, lease_token FROM done;

-- name: document_completed_by
-- Which of these leases are completed already (a retry, or a concurrent repeat, of our own completion).
-- Run as its own statement after document_complete_many: it must see commits that statement waited for.
SELECT d.queue_id, d.lease_token FROM document_queue d
 WHERE d.queue_id = ANY(%(queue_ids)s::bigint[])
   AND d.lease_token = ANY(%(lease_tokens)s::bigint[])
   AND coalesce(d.state, '') = 'completed';

-- name: document_fail
-- Record a failure of the current lease: retry after the given delay, or dead-letter when retries are used up.
WITH failed AS (
    UPDATE document_queue
       SET failure_count = failure_count + 1,
           state = CASE WHEN %(permanent)s OR failure_count + 1 > %(max_retries)s THEN 'dead_letter' ELSE 'retry' END,
           scheduled_for = now() + make_interval(secs => %(delay)s),
           lease_expires_at = NULL,
           attempt_deadline = NULL,
           request_id = %(request_id)s,
           last_error = %(error)s,
           error_stage = %(stage)s,
           error_type = %(error_type)s,
           last_traceback = %(traceback)s,
           error_history = error_history || jsonb_build_object(
               'attempt', attempts, 'kind', 'failure', 'stage', %(stage)s::text, 'worker_id', worker_id,
               'error', %(error)s::text, 'error_type', %(error_type)s::text, 'permanent', %(permanent)s::boolean,
               'at', now()),
           updated_at = now()
     WHERE queue_id = %(queue_id)s AND lease_token = %(lease_token)s
       AND coalesce(state, '') = 'processing'  -- opaque on purpose: primary key lookup, not the lease index
    RETURNING state, scheduled_for
), counted AS (
    INSERT INTO run_worker_counts (session_id, failed)
    SELECT %(session_id)s::bigint, count(*) FROM failed
    HAVING count(*) > 0 AND %(session_id)s::bigint IS NOT NULL
)
SELECT state, scheduled_for FROM failed;

-- name: document_failed_by
-- The outcome of this failure request if it committed already (its reply was lost).
SELECT state, scheduled_for FROM document_queue
 WHERE queue_id = %(queue_id)s AND lease_token = %(lease_token)s AND request_id = %(request_id)s
   AND coalesce(state, '') <> 'processing';

-- name: document_release
-- Give leases back untouched (shutdown): claimable again at once, not counted as a crash.
UPDATE document_queue d
   SET state = 'pending', attempts = greatest(d.attempts - 1, 0), lease_expires_at = NULL, attempt_deadline = NULL,
       request_id = %(request_id)s, scheduled_for = now(), updated_at = now()
 WHERE d.queue_id = ANY(%(queue_ids)s::bigint[])
   AND d.lease_token = ANY(%(lease_tokens)s::bigint[])
   AND coalesce(d.state, '') = 'processing'  -- opaque on purpose: primary key lookups, not the lease index
RETURNING d.queue_id, d.lease_token;

-- name: document_released_by
-- Which of these leases this release request gave back already (its reply was lost).
SELECT d.queue_id, d.lease_token FROM document_queue d
 WHERE d.queue_id = ANY(%(queue_ids)s::bigint[])
   AND d.lease_token = ANY(%(lease_tokens)s::bigint[])
   AND d.request_id = %(request_id)s AND coalesce(d.state, '') <> 'processing';

-- name: document_get
-- One queue row, for inspection.
SELECT queue_id, run_id, source_name, doc_id, doc_path, pass_number, state, priority, link_depth, parent_doc_id,
       scheduled_for, attempts, failure_count, crash_count, lease_token, lease_expires_at, attempt_deadline,
       claimed_at, worker_id, request_id, last_error, error_stage, error_history, content_hash
  FROM document_queue WHERE queue_id = %(queue_id)s;

-- name: documents_dead_letter
-- Dead-lettered documents of a run.
SELECT queue_id, source_name, doc_id, attempts, failure_count, crash_count, last_error, error_stage, error_history
  FROM document_queue WHERE run_id = %(run_id)s AND state = 'dead_letter' ORDER BY queue_id;

-- name: leader_needs_election
-- Would an attempt by this holder begin a new term (lease free or expired)? Then it must wait for fenced writers.
SELECT leader_id IS NULL OR leader_expires_at IS NULL OR leader_expires_at <= now()
  FROM processing_runs WHERE run_id = %(run_id)s;

-- name: leader_election_lock
-- Try the exclusive election lock of the run (transaction scope): false while a transaction fenced by
-- leader_fence_lock is open, so no new term begins before the old term's fenced writes have ended.
SELECT pg_try_advisory_xact_lock(%(namespace)s::int, hashtext(%(run_id)s));

-- name: leader_attempt
-- Take the leader lease if it is free or expired (new term, only with may_take: the caller holds the election
-- lock); a holder re-electing itself before expiry keeps its term.
UPDATE processing_runs
   SET leader_term = CASE WHEN leader_id = %(holder)s AND leader_expires_at > now()
                          THEN leader_term ELSE leader_term + 1 END,
       leader_id = %(holder)s,
       leader_expires_at = now() + make_interval(secs => %(ttl)s)
 WHERE run_id = %(run_id)s
   AND ((leader_id = %(holder)s AND leader_expires_at > now())
        OR (%(may_take)s AND (leader_id IS NULL OR leader_expires_at IS NULL OR leader_expires_at <= now())))
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
-- Is this term still the current, unexpired leader? (a read, no fence: see leader_fence)
SELECT 1 FROM processing_runs
 WHERE run_id = %(run_id)s AND leader_term = %(term)s AND leader_expires_at > now();

-- name: leader_fence_lock
-- Shared election lock in the caller's transaction: no new term can be elected until it ends.
SELECT pg_advisory_xact_lock_shared(%(namespace)s::int, hashtext(%(run_id)s));

-- name: leader_fence_check
-- After leader_fence_lock, in its own statement (a snapshot taken after the lock): is the term current?
-- Also bounds how long an idle fenced transaction can hold the election off.
SELECT set_config('idle_in_transaction_session_timeout', %(idle_timeout_ms)s, true)
  FROM processing_runs
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

-- name: run_record_discovery
-- Discovery of the current pass finished: which sources were listed incompletely, and what it saw.
UPDATE processing_runs
   SET incomplete_sources = %(incomplete_sources)s, discovery_stats = %(stats)s, updated_at = now()
 WHERE run_id = %(run_id)s;

-- name: run_record_post_processing
-- What the post-processing steps changed; only the current leader term may write it.
UPDATE processing_runs SET post_processing = %(result)s, updated_at = now()
 WHERE run_id = %(run_id)s AND leader_term = %(term)s
RETURNING run_id;

-- name: run_pass_summary
-- The current pass of a run, document by outcome: what single mode's summary counts.
SELECT d.state, d.outcome, count(*)
  FROM document_queue d JOIN processing_runs r ON r.run_id = d.run_id AND d.pass_number = r.pass_number
 WHERE d.run_id = %(run_id)s
 GROUP BY d.state, d.outcome;

-- name: run_pass_failures
-- Documents of the current pass that failed for good (dead letters), with their last error.
SELECT d.source_name, d.doc_path, d.doc_id, d.error_stage, d.last_error, d.error_type
  FROM document_queue d JOIN processing_runs r ON r.run_id = d.run_id AND d.pass_number = r.pass_number
 WHERE d.run_id = %(run_id)s AND d.state = 'dead_letter'
 ORDER BY d.source_name, d.doc_path
 LIMIT %(limit)s;

-- name: run_pass_units
-- Retrieval units the current pass embedded anew, and reused, over its processed documents.
SELECT coalesce(sum(d.units_embedded), 0), coalesce(sum(d.units_reused), 0)
  FROM document_queue d JOIN processing_runs r ON r.run_id = d.run_id AND d.pass_number = r.pass_number
 WHERE d.run_id = %(run_id)s AND d.state = 'completed' AND d.outcome = 'processed';

-- name: run_pass_record
-- What discovery and post-processing recorded about the run's current pass.
SELECT pass_number, incomplete_sources, discovery_stats, post_processing
  FROM processing_runs WHERE run_id = %(run_id)s;

-- name: run_pass_processed
-- Documents of the current pass that were parsed and stored (not unchanged, vanished or failed).
SELECT d.doc_id
  FROM document_queue d JOIN processing_runs r ON r.run_id = d.run_id AND d.pass_number = r.pass_number
 WHERE d.run_id = %(run_id)s AND d.state = 'completed' AND d.outcome = 'processed';

-- ================================================================ operators: counts, monitor, dead letters
-- Rows per state come from run_state_counts + run_state_deltas (kept by triggers, see schema.sql):
-- a refresh never counts document_queue rows, except the few leased, expired or dead ones.

-- name: counts_compact_lock
-- One compaction at a time (transaction scope); false: another process is compacting, skip.
SELECT pg_try_advisory_xact_lock(%(key)s);

-- name: counts_fold_deltas
-- Fold every committed delta into its minute bucket (older than the kept history: the -infinity bucket).
WITH moved AS (
    DELETE FROM run_state_deltas RETURNING run_id, pass_number, state, n, at
), summed AS (
    SELECT run_id, pass_number, state,
           CASE WHEN at < now() - make_interval(mins => %(history_minutes)s) THEN '-infinity'::timestamptz
                ELSE date_trunc('minute', at) END AS bucket,
           sum(greatest(n, 0)) AS added, sum(greatest(-n, 0)) AS removed
      FROM moved GROUP BY 1, 2, 3, 4
)
INSERT INTO run_state_counts AS c (run_id, pass_number, state, bucket, added, removed)
SELECT run_id, pass_number, state, bucket, added, removed FROM summed
ON CONFLICT (run_id, pass_number, state, bucket) DO UPDATE
   SET added = c.added + excluded.added, removed = c.removed + excluded.removed
RETURNING 1;

-- name: counts_fold_history
-- Minute buckets older than the kept history move into the -infinity bucket of their run, pass and state.
WITH old AS (
    DELETE FROM run_state_counts
     WHERE bucket > '-infinity' AND bucket < now() - make_interval(mins => %(history_minutes)s)
    RETURNING run_id, pass_number, state, added, removed
), summed AS (
    SELECT run_id, pass_number, state, sum(added) AS added, sum(removed) AS removed FROM old GROUP BY 1, 2, 3
)
INSERT INTO run_state_counts AS c (run_id, pass_number, state, bucket, added, removed)
SELECT run_id, pass_number, state, '-infinity', added, removed FROM summed
ON CONFLICT (run_id, pass_number, state, bucket) DO UPDATE
   SET added = c.added + excluded.added, removed = c.removed + excluded.removed;

-- name: counts_drop_empty
-- Drop -infinity buckets that hold no rows any more (everything that entered the state left it).
DELETE FROM run_state_counts WHERE bucket = '-infinity' AND added = removed;

-- name: counts_by_state
-- Exact rows per pass and state of one run, without reading document_queue (from the count tables).
SELECT pass_number, state, sum(n)::bigint AS n
  FROM (SELECT pass_number, state, added - removed AS n FROM run_state_counts WHERE run_id = %(run_id)s
        UNION ALL
        SELECT pass_number, state, n FROM run_state_deltas WHERE run_id = %(run_id)s) AS t
 GROUP BY pass_number, state;

-- name: monitor_runs_select
-- Runs an operator view shows: the one asked for, else active ones, the config's and those changed in the window.
SELECT run_id FROM processing_runs
 WHERE (%(run_id)s::text IS NOT NULL AND run_id = %(run_id)s)
    OR (%(run_id)s::text IS NULL
        AND (status IN ('active', 'post_processing') OR run_id = %(config_run_id)s
             OR updated_at > now() - make_interval(secs => %(window)s)))
 ORDER BY updated_at DESC
 LIMIT %(limit)s;

-- name: monitor_run_latest
-- The most recently changed run (what a view shows when nothing is active).
SELECT run_id FROM processing_runs ORDER BY updated_at DESC LIMIT 1;

-- name: monitor_runs_recent
-- Recent runs with their current pass's size, finished and dead rows and running workers (--list-runs).
SELECT r.run_id, r.status, r.pass_number, r.created_at, r.pass_started_at, r.updated_at, r.completed_at,
       r.discovery_done_at IS NOT NULL AS discovery_done,
       coalesce(c.total, 0)::bigint AS total, coalesce(c.finished, 0)::bigint AS finished,
       coalesce(c.dead, 0)::bigint AS dead_letter, coalesce(w.running, 0)::bigint AS workers_running
  FROM (SELECT * FROM processing_runs ORDER BY updated_at DESC LIMIT %(limit)s) AS r
  LEFT JOIN LATERAL (
        SELECT sum(n) AS total, sum(n) FILTER (WHERE state IN ('completed', 'dead_letter')) AS finished,
               sum(n) FILTER (WHERE state = 'dead_letter') AS dead
          FROM (SELECT state, added - removed AS n FROM run_state_counts
                 WHERE run_id = r.run_id AND pass_number = r.pass_number
                UNION ALL
                SELECT state, n FROM run_state_deltas WHERE run_id = r.run_id AND pass_number = r.pass_number) AS x
       ) AS c ON true
  LEFT JOIN LATERAL (
        SELECT count(*) AS running FROM run_workers WHERE run_id = r.run_id AND status = 'running'
       ) AS w ON true
 ORDER BY r.updated_at DESC;

-- name: monitor_run
-- One run as the monitor shows it, with times computed on the database clock.
SELECT r.run_id, r.config_hash, r.status, r.pass_number, r.created_at, r.pass_started_at, r.updated_at,
       r.completed_at, r.discovery_done_at, r.discovery_holder, r.discovery_expires_at,
       coalesce(r.discovery_expires_at > now(), false) AS discovery_held,
       r.leader_id, r.leader_term, r.leader_expires_at, coalesce(r.leader_expires_at > now(), false) AS leader_valid,
       r.discovery_stats, r.incomplete_sources, r.post_processing,
       now() AS now,
       extract(epoch FROM coalesce(r.completed_at, now()) - r.pass_started_at)::float8 AS elapsed,
       date_trunc('minute', now() - make_interval(secs => %(window)s)) AS window_start,
       extract(epoch FROM now() - greatest(date_trunc('minute', now() - make_interval(secs => %(window)s)),
                                           r.pass_started_at))::float8 AS window_seconds
  FROM processing_runs r WHERE r.run_id = %(run_id)s;

-- name: monitor_run_states
-- Rows per pass and state of one run and how many entered each state since window_start (exact, from the count tables).
SELECT pass_number, state, sum(added - removed)::bigint AS n,
       coalesce(sum(added) FILTER (WHERE at >= %(window_start)s), 0)::bigint AS entered
  FROM (SELECT pass_number, state, bucket AS at, added, removed FROM run_state_counts WHERE run_id = %(run_id)s
        UNION ALL
        SELECT pass_number, state, at, greatest(n, 0), greatest(-n, 0) FROM run_state_deltas
         WHERE run_id = %(run_id)s) AS t
 GROUP BY pass_number, state;

-- name: monitor_run_history
-- Documents completed per minute in the current pass over the last minutes (the throughput sparkline).
SELECT date_trunc('minute', at) AS minute, sum(added)::bigint AS completed
  FROM (SELECT bucket AS at, added FROM run_state_counts
         WHERE run_id = %(run_id)s AND pass_number = %(pass_number)s AND state = 'completed'
           AND bucket >= date_trunc('minute', now() - make_interval(mins => %(minutes)s))
        UNION ALL
        SELECT at, greatest(n, 0) FROM run_state_deltas
         WHERE run_id = %(run_id)s AND pass_number = %(pass_number)s AND state = 'completed'
           AND at >= date_trunc('minute', now() - make_interval(mins => %(minutes)s))) AS t
 GROUP BY 1 ORDER BY 1;

-- name: monitor_workers
-- Worker sessions of a run: running and lost ones, and the others that stopped within the window, newest first.
SELECT w.session_id, w.worker_id, w.host, w.pid, w.status, w.registered_at, w.heartbeat_at, w.stopped_at,
       extract(epoch FROM now() - w.heartbeat_at)::float8 AS silent_for,
       extract(epoch FROM coalesce(w.stopped_at, now()) - w.registered_at)::float8 AS lifetime,
       (w.claimed_count + coalesce(c.claimed, 0))::bigint AS claimed,
       (w.completed_count + coalesce(c.completed, 0))::bigint AS completed,
       (w.failed_count + coalesce(c.failed, 0))::bigint AS failed
  FROM run_workers w
  LEFT JOIN LATERAL (SELECT sum(claimed) AS claimed, sum(completed) AS completed, sum(failed) AS failed
                       FROM run_worker_counts WHERE session_id = w.session_id) c ON true
 WHERE w.run_id = %(run_id)s
   AND (w.status IN ('running', 'lost') OR w.stopped_at > now() - make_interval(secs => %(window)s))
 ORDER BY w.session_id DESC
 LIMIT %(limit)s;

-- name: monitor_leases_by_worker
-- Documents each worker holds right now (leased rows only, through the lease index), expired ones apart.
SELECT worker_id, count(*)::bigint AS leased,
       count(*) FILTER (WHERE lease_expires_at < now())::bigint AS expired,
       (array_agg(coalesce(doc_path, doc_id) ORDER BY claimed_at))[1:3] AS sample
  FROM document_queue
 WHERE run_id = %(run_id)s AND state = 'processing'
 GROUP BY worker_id;

-- name: monitor_queue_health
-- Expired leases not reclaimed after the grace, the next due retry, and the longest wait at the head of
-- each claim class (priority, link depth), found by skipping through the claim index, never by scanning it.
WITH RECURSIVE priorities AS (
    SELECT (SELECT priority FROM document_queue WHERE run_id = %(run_id)s AND state = 'pending'
             ORDER BY priority DESC LIMIT 1) AS p
    UNION ALL
    SELECT (SELECT priority FROM document_queue WHERE run_id = %(run_id)s AND state = 'pending' AND priority < q.p
             ORDER BY priority DESC LIMIT 1)
      FROM priorities q WHERE q.p IS NOT NULL
), classes AS (
    SELECT q.p, (SELECT link_depth FROM document_queue WHERE run_id = %(run_id)s AND state = 'pending'
                    AND priority = q.p ORDER BY link_depth LIMIT 1) AS d
      FROM priorities q WHERE q.p IS NOT NULL
    UNION ALL
    SELECT c.p, (SELECT link_depth FROM document_queue WHERE run_id = %(run_id)s AND state = 'pending'
                    AND priority = c.p AND link_depth > c.d ORDER BY link_depth LIMIT 1)
      FROM classes c WHERE c.d IS NOT NULL
), heads AS (
    SELECT (SELECT scheduled_for FROM document_queue WHERE run_id = %(run_id)s AND state = 'pending'
               AND priority = c.p AND link_depth = c.d ORDER BY queue_id LIMIT 1) AS waiting_since
      FROM classes c WHERE c.d IS NOT NULL
)
SELECT (SELECT count(*) FROM document_queue
         WHERE run_id = %(run_id)s AND state = 'processing'
           AND lease_expires_at < now() - make_interval(secs => %(grace)s))::bigint AS expired_leases,
       (SELECT extract(epoch FROM min(scheduled_for) - now()) FROM document_queue
         WHERE run_id = %(run_id)s AND state IN ('retry', 'scheduled'))::float8 AS next_due_in,
       (SELECT extract(epoch FROM now() - min(waiting_since)) FROM heads)::float8 AS oldest_pending,
       (SELECT count(*) FROM heads)::int AS claim_classes;

-- name: monitor_tables
-- Size, live and dead rows and last (auto)vacuum of the queue's tables (pg_stat_user_tables, no scan).
SELECT s.relname::text AS name, s.n_live_tup::bigint AS live_rows, s.n_dead_tup::bigint AS dead_rows,
       pg_total_relation_size(s.relid)::bigint AS size_bytes,
       greatest(s.last_vacuum, s.last_autovacuum) AS last_vacuum,
       greatest(s.last_analyze, s.last_autoanalyze) AS last_analyze,
       (s.vacuum_count + s.autovacuum_count)::bigint AS vacuums
  FROM pg_stat_user_tables s
 WHERE s.relid IN (SELECT to_regclass(t) FROM unnest(%(tables)s::text[]) AS t)
 ORDER BY s.relname;

-- name: deadletter_list
-- Dead letters, newest first, of one run (its dead-letter index) or of every run.
SELECT queue_id, run_id, source_name, doc_id, doc_path, pass_number, attempts, failure_count, crash_count,
       error_type, error_stage, last_error, last_traceback, error_history, updated_at AS dead_since
  FROM document_queue
 WHERE state = 'dead_letter' AND (%(run_id)s::text IS NULL OR run_id = %(run_id)s)
 ORDER BY updated_at DESC, queue_id DESC
 LIMIT %(limit)s;

-- name: deadletter_export
-- Every dead letter (of one run or all), in queue order, for a streamed export.
SELECT queue_id, run_id, source_name, doc_id, doc_path, pass_number, attempts, failure_count, crash_count,
       error_type, error_stage, last_error, last_traceback, error_history, created_at, updated_at AS dead_since
  FROM document_queue
 WHERE state = 'dead_letter' AND (%(run_id)s::text IS NULL OR run_id = %(run_id)s)
 ORDER BY queue_id;

-- name: deadletter_get
-- One queue row with its run's status (what --retry reports on).
SELECT d.queue_id, d.run_id, d.source_name, d.doc_id, d.doc_path, d.state, d.error_type, d.error_stage,
       d.last_error, r.status AS run_status
  FROM document_queue d JOIN processing_runs r ON r.run_id = d.run_id
 WHERE d.queue_id = %(queue_id)s;

-- name: deadletter_count
-- How many dead letters match (one run or all; dead before a time or not): what a confirmation names.
SELECT count(*)::bigint FROM document_queue
 WHERE state = 'dead_letter' AND (%(run_id)s::text IS NULL OR run_id = %(run_id)s)
   AND updated_at < coalesce(%(before)s::timestamptz, 'infinity');

-- name: deadletter_pick
-- Lock up to limit dead letters that died before a time (one run or all), oldest first, skipping locked ones.
SELECT queue_id FROM document_queue
 WHERE state = 'dead_letter' AND (%(run_id)s::text IS NULL OR run_id = %(run_id)s)
   AND updated_at < %(before)s
 ORDER BY updated_at
 LIMIT %(limit)s
   FOR UPDATE SKIP LOCKED;

-- name: deadletter_retry
-- Dead letters become claimable in their run's current pass with a fresh retry budget (history kept, one
-- "requeued" entry added); their runs reopen (status active, post-processing to run again) and idle workers wake.
WITH docs AS (
    UPDATE document_queue d
       SET state = 'pending', scheduled_for = now(), failure_count = 0, crash_count = 0,
           pass_number = r.pass_number, lease_expires_at = NULL, attempt_deadline = NULL, updated_at = now(),
           error_history = d.error_history || jsonb_build_object('attempt', d.attempts, 'kind', 'requeued',
                                                                 'at', now())
      FROM processing_runs r
     WHERE d.queue_id = ANY(%(queue_ids)s::bigint[]) AND d.state = 'dead_letter' AND r.run_id = d.run_id
    RETURNING d.queue_id, d.run_id
), runs AS (
    SELECT DISTINCT run_id FROM docs
), reopened AS (
    UPDATE processing_runs r
       SET status = 'active', completed_at = NULL, post_processing = '{}'::jsonb, updated_at = now()
      FROM runs WHERE r.run_id = runs.run_id AND r.status <> 'active'
    RETURNING r.run_id
), woken AS (
    SELECT pg_notify('go_doc_go_queue', run_id) FROM runs
)
SELECT (SELECT count(*) FROM docs)::bigint AS retried,
       (SELECT coalesce(array_agg(run_id), '{}') FROM reopened) AS reopened,
       (SELECT count(*) FROM woken)::bigint AS notified;

-- name: deadletter_delete
-- Delete these queue rows if they are still dead letters (the purge).
DELETE FROM document_queue WHERE queue_id = ANY(%(queue_ids)s::bigint[]) AND state = 'dead_letter'
RETURNING queue_id;

-- name: deadletter_groups
-- Dead letters counted by error class, stage, source, file type and hour (UTC), and in all, in one pass.
WITH dead AS (
    SELECT coalesce(error_type, '') AS error_type, coalesce(error_stage, '') AS stage, source_name,
           coalesce(lower(substring(doc_path FROM '\.([A-Za-z0-9_+-]{1,16})(?:[?#].*)?$')), '') AS file_type,
           date_trunc('hour', updated_at AT TIME ZONE 'UTC') AS hour
      FROM document_queue
     WHERE state = 'dead_letter' AND (%(run_id)s::text IS NULL OR run_id = %(run_id)s)
)
SELECT CASE WHEN GROUPING(error_type) = 0 THEN 'error_type'
            WHEN GROUPING(stage) = 0 THEN 'stage'
            WHEN GROUPING(source_name) = 0 THEN 'source'
            WHEN GROUPING(file_type) = 0 THEN 'file_type'
            WHEN GROUPING(hour) = 0 THEN 'hour'
            ELSE 'total' END AS dimension,
       coalesce(error_type, stage, source_name, file_type, to_char(hour, 'YYYY-MM-DD"T"HH24":00Z"'), '') AS value,
       count(*)::bigint AS n
  FROM dead
 GROUP BY GROUPING SETS ((error_type), (stage), (source_name), (file_type), (hour), ())
 ORDER BY 1, 3 DESC, 2;

-- name: deadletter_top_messages
-- The most frequent failure messages (the document's own path and every number replaced), with an example.
SELECT coalesce(error_type, '') AS error_type, coalesce(error_stage, '') AS stage,
       regexp_replace(replace(left(coalesce(last_error, ''), 500), coalesce(doc_path, doc_id), '<path>'),
                      '[0-9]+', 'N', 'g') AS pattern,
       count(*)::bigint AS n, min(queue_id)::bigint AS example_queue_id,
       (array_agg(last_error ORDER BY queue_id))[1] AS example
  FROM document_queue
 WHERE state = 'dead_letter' AND (%(run_id)s::text IS NULL OR run_id = %(run_id)s)
 GROUP BY 1, 2, 3
 ORDER BY 4 DESC, 5
 LIMIT %(limit)s;

-- name: monitor_snapshot_begin
-- First statement of a monitor read: every later statement of the transaction sees the same snapshot.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;

-- name: db_now
-- The database clock (what operator views and exports are stamped with).
SELECT now();
