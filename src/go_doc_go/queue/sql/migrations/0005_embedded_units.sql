-- 0005: what a completion embedded (embedding.enabled): retrieval units embedded anew,
-- and units whose stored vector was reused. The pass summary sums them.
ALTER TABLE document_queue ADD COLUMN units_embedded integer;
ALTER TABLE document_queue ADD COLUMN units_reused integer;
