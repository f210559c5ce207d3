-- 0003: what workers record about each document and each pass.

-- The failure's exception class and the traceback of an unexpected error
-- (last_error keeps the message, error_stage the stage).
ALTER TABLE document_queue ADD COLUMN error_type text;
ALTER TABLE document_queue ADD COLUMN last_traceback text;
-- What a completion did: processed (parsed and stored), unchanged, or vanished
-- (the document was gone from its source when claimed).
ALTER TABLE document_queue ADD COLUMN outcome text
    CONSTRAINT document_queue_outcome_check CHECK (outcome IN ('processed', 'unchanged', 'vanished'));

-- Sources whose listing in this pass was incomplete: their documents are not removed.
ALTER TABLE processing_runs ADD COLUMN incomplete_sources jsonb NOT NULL DEFAULT '[]'::jsonb;
-- What discovery saw (documents listed, paths skipped with their reasons, a bounded sample).
ALTER TABLE processing_runs ADD COLUMN discovery_stats jsonb NOT NULL DEFAULT '{}'::jsonb;
-- What the pass's post-processing steps changed, by step name.
ALTER TABLE processing_runs ADD COLUMN post_processing jsonb NOT NULL DEFAULT '{}'::jsonb;
