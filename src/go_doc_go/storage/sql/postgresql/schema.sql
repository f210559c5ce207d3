-- The store's schema on PostgreSQL: the truth. Applying every file in migrations/
-- gives exactly this schema (tests/integration/storage/test_pg_migrations.py).
-- Table and column names are those of the SQLite store; what differs is
-- engine-private: jsonb for JSON, timestamptz for times, bytea for blobs, a
-- tsvector column with a GIN index instead of FTS5, pgvector when the server has
-- it, and md5() indexes where a value may outgrow a btree entry (about 2.7 kB).
--
-- Identifier and key columns use COLLATE "C": byte order, as SQLite compares
-- text, and memcmp instead of locale rules in every index comparison.
--
-- The store may share a database with the work queue (queue/sql/schema.sql):
-- its own version table (store_migrations) and advisory lock keep them apart.

CREATE TABLE store_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
    doc_id        text COLLATE "C" PRIMARY KEY,
    source        text COLLATE "C" NOT NULL,
    path          text COLLATE "C" NOT NULL,
    doc_type      text NOT NULL,
    title         text,
    content_hash  text NOT NULL,
    size          bigint NOT NULL,
    mtime_ns      bigint,
    metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
    element_count integer NOT NULL DEFAULT 0,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    -- The pass (a run's token) that last saw the document in its source.
    seen_pass     text COLLATE "C",
    -- The embedding model (embeddings.base.vector_model) that embedded it; NULL: not embedded.
    embedding_model text
);
-- md5(path): a path may be longer than a btree entry can hold.
CREATE UNIQUE INDEX documents_source_path ON documents (source, md5(path));
CREATE INDEX documents_source_seen ON documents (source, seen_pass);

CREATE TABLE elements (
    element_id        text COLLATE "C" PRIMARY KEY,
    doc_id            text COLLATE "C" NOT NULL,
    element_type      text NOT NULL,
    parent_id         text COLLATE "C",
    sibling_order     integer NOT NULL,
    document_position integer NOT NULL,
    path_segment      text NOT NULL,
    text              text NOT NULL,
    content_hash      text NOT NULL,
    anchor            text,
    location          jsonb NOT NULL DEFAULT '{}'::jsonb,
    metadata          jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Full-text index (engine-private, like FTS5 on SQLite). A tsvector holds at
    -- most 1 MB, so the first 100,000 characters of an element are indexed; the
    -- text itself is stored whole.
    text_search       tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, left(text, 100000))) STORED
);
CREATE INDEX elements_doc_position ON elements (doc_id, document_position);
CREATE INDEX elements_parent ON elements (parent_id, sibling_order);
CREATE INDEX elements_text_search ON elements USING gin (text_search);

-- Every anchor of every element (a header slug, explicit ids, names inside it):
-- #fragment links resolve through it. One element per anchor and document.
-- An anchor can be as long as a header's text, hence md5(anchor) in the key.
CREATE TABLE element_anchors (
    doc_id     text COLLATE "C" NOT NULL,
    anchor     text NOT NULL,
    element_id text COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX element_anchors_key ON element_anchors (doc_id, md5(anchor));

-- Relationships that carry information of their own (links, semantic edges).
-- Structural edges are derived from elements: see the view below.
CREATE TABLE stored_relationships (
    relationship_id   text COLLATE "C" NOT NULL,
    doc_id            text COLLATE "C" NOT NULL,
    source_id         text COLLATE "C" NOT NULL,
    relationship_type text NOT NULL,
    target_id         text COLLATE "C",
    target_reference  text,
    target_doc_id     text COLLATE "C",
    target_anchor     text,
    metadata          jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- The target's path in the source, as the pipeline resolved it (link following reuses it).
    target_path       text
);
CREATE INDEX stored_relationships_doc ON stored_relationships (doc_id);
CREATE INDEX stored_relationships_source ON stored_relationships (source_id);
CREATE INDEX stored_relationships_target ON stored_relationships (target_id);
CREATE INDEX stored_relationships_target_doc ON stored_relationships (target_doc_id)
    WHERE target_doc_id IS NOT NULL;

-- Documents written or removed since links were last resolved: resolution
-- (a post-processing step) costs time in proportion to what changed.
CREATE TABLE pending_links (
    doc_id text COLLATE "C" PRIMARY KEY
);

-- Which folder a content source name stands for.
CREATE TABLE sources (
    name       text COLLATE "C" PRIMARY KEY,
    location   text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now()
);

-- Store-wide settings read by views (structural: '1' or '0').
CREATE TABLE store_settings (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO store_settings (key, value) VALUES ('structural', '1');

-- One vector per retrieval unit (embeddings.units): the element it stands for (root, header or
-- table), a chunk number, the hash of the text embedded (incremental re-embedding reuses a vector
-- whose unit_hash is unchanged) and little-endian float32 bytes, read by numpy. With pgvector the
-- store adds an "embedding vector" column at open and HNSW indexes per vector size
-- (see migrations/0002_embeddings_semantic.sql).
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

-- Documents written or removed since semantic edges were last computed.
CREATE TABLE semantic_pending (
    doc_id text COLLATE "C" PRIMARY KEY
);

-- Every relationship: stored ones plus the structural edges, which are a pure
-- function of elements.parent_id and sibling_order and so are never written row
-- by row; relationship_detection.structural: false (store_settings) leaves them out.
CREATE VIEW relationships AS
SELECT relationship_id, doc_id, source_id, relationship_type, target_id, target_reference,
       target_doc_id, target_anchor, metadata
FROM stored_relationships
UNION ALL
SELECT * FROM (
    SELECT 'contains:' || c.parent_id || ':' || c.element_id, c.doc_id, c.parent_id, 'contains',
           c.element_id, NULL, NULL, NULL, '{}'::jsonb
    FROM elements c WHERE c.parent_id IS NOT NULL
    UNION ALL
    SELECT 'contained_by:' || c.element_id || ':' || c.parent_id, c.doc_id, c.element_id, 'contained_by',
           c.parent_id, NULL, NULL, NULL, '{}'::jsonb
    FROM elements c WHERE c.parent_id IS NOT NULL
    UNION ALL
    SELECT 'next_sibling:' || a.element_id || ':' || b.element_id, a.doc_id, a.element_id, 'next_sibling',
           b.element_id, NULL, NULL, NULL, '{}'::jsonb
    FROM elements a JOIN elements b ON b.parent_id = a.parent_id AND b.sibling_order = a.sibling_order + 1
    UNION ALL
    SELECT 'previous_sibling:' || b.element_id || ':' || a.element_id, b.doc_id, b.element_id, 'previous_sibling',
           a.element_id, NULL, NULL, NULL, '{}'::jsonb
    FROM elements a JOIN elements b ON b.parent_id = a.parent_id AND b.sibling_order = a.sibling_order + 1
) AS structural
WHERE (SELECT value FROM store_settings WHERE key = 'structural') = '1';
