-- Vectors of retrieval units (one row per unit: the element it stands for and a chunk number),
-- the model that embedded each document (a document embedded by another model is embedded
-- again), and the documents whose semantic edges need recomputing (semantic_edges step).
-- Never edit this file once released: add 0003_...
--
-- pgvector is optional, so nothing here needs it. When the server has the extension, the store
-- adds it at open (postgresql.py: CREATE EXTENSION vector, an "embedding vector" column, the
-- setting vector_search = 'pgvector'); HNSW indexes are built by the index_vectors
-- post-processing step, one per vector size.

-- 0001 created embeddings empty, keyed by element; nothing ever wrote it.
DROP TABLE embeddings;
CREATE TABLE embeddings (
    element_id text COLLATE "C" NOT NULL,
    chunk      integer NOT NULL,
    doc_id     text COLLATE "C" NOT NULL,
    kind       text NOT NULL,
    unit_hash  text NOT NULL,
    model      text NOT NULL,
    dimensions integer NOT NULL,
    vector     bytea NOT NULL,
    PRIMARY KEY (element_id, chunk)
);
CREATE INDEX embeddings_doc ON embeddings (doc_id);

ALTER TABLE documents ADD COLUMN embedding_model text;

CREATE TABLE semantic_pending (
    doc_id text COLLATE "C" PRIMARY KEY
);

-- Every stored document waits for the semantic step once (its vectors may come later).
INSERT INTO semantic_pending (doc_id) SELECT doc_id FROM documents;
