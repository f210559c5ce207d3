-- Vectors of retrieval units (one row per unit: the element it stands for and a chunk number),
-- the model that embedded each document (a document embedded by another model is embedded
-- again), and the documents whose semantic edges need recomputing (semantic_edges step).

-- 0001 created embeddings empty, keyed by element; nothing ever wrote it.
DROP TABLE embeddings;
CREATE TABLE embeddings (
    element_id TEXT NOT NULL,
    chunk      INTEGER NOT NULL,
    doc_id     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    unit_hash  TEXT NOT NULL,
    model      TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    vector     BLOB NOT NULL,
    PRIMARY KEY (element_id, chunk)
);
CREATE INDEX embeddings_doc ON embeddings (doc_id);

ALTER TABLE documents ADD COLUMN embedding_model TEXT;

CREATE TABLE semantic_pending (
    doc_id TEXT PRIMARY KEY
) WITHOUT ROWID;

-- Every stored document waits for the semantic step once (its vectors may come later).
INSERT INTO semantic_pending (doc_id) SELECT doc_id FROM documents;
