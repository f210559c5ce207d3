-- The store's schema on SQLite: the truth. Applying every file in migrations/
-- gives exactly this schema (tests/unit/storage/test_migrations.py). Table and
-- column names are the same on PostgreSQL.

CREATE TABLE store_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE documents (
    doc_id        TEXT PRIMARY KEY,
    source        TEXT NOT NULL,
    path          TEXT NOT NULL,
    doc_type      TEXT NOT NULL,
    title         TEXT,
    content_hash  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    mtime_ns      INTEGER,
    metadata      TEXT NOT NULL DEFAULT '{}',
    element_count INTEGER NOT NULL DEFAULT 0,
    stored_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- The pass (a run's token) that last saw the document in its source.
    seen_pass     TEXT,
    -- The embedding model (embeddings.base.vector_model) that embedded it; NULL: not embedded.
    embedding_model TEXT
);
CREATE UNIQUE INDEX documents_source_path ON documents (source, path);
CREATE INDEX documents_source_seen ON documents (source, seen_pass);

CREATE TABLE elements (
    element_id        TEXT NOT NULL UNIQUE,
    doc_id            TEXT NOT NULL,
    element_type      TEXT NOT NULL,
    parent_id         TEXT,
    sibling_order     INTEGER NOT NULL,
    document_position INTEGER NOT NULL,
    path_segment      TEXT NOT NULL,
    text              TEXT NOT NULL,
    content_hash      TEXT NOT NULL,
    anchor            TEXT,
    location          TEXT NOT NULL DEFAULT '{}',
    metadata          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX elements_doc_position ON elements (doc_id, document_position);
CREATE INDEX elements_parent ON elements (parent_id, sibling_order);
CREATE INDEX elements_anchor ON elements (doc_id, anchor) WHERE anchor IS NOT NULL;

-- Every anchor of every element (a header slug, explicit ids, names inside it):
-- #fragment links resolve through it. One element per anchor and document.
CREATE TABLE element_anchors (
    doc_id     TEXT NOT NULL,
    anchor     TEXT NOT NULL,
    element_id TEXT NOT NULL,
    PRIMARY KEY (doc_id, anchor)
) WITHOUT ROWID;

-- Relationships that carry information of their own (links, semantic edges).
-- Structural edges are derived from elements: see the view below.
CREATE TABLE stored_relationships (
    relationship_id   TEXT NOT NULL,
    doc_id            TEXT NOT NULL,
    source_id         TEXT NOT NULL,
    relationship_type TEXT NOT NULL,
    target_id         TEXT,
    target_reference  TEXT,
    target_doc_id     TEXT,
    target_anchor     TEXT,
    metadata          TEXT NOT NULL DEFAULT '{}',
    -- The target's path in the source, as the pipeline resolved it (link following reuses it).
    target_path       TEXT
);
CREATE INDEX stored_relationships_doc ON stored_relationships (doc_id);
CREATE INDEX stored_relationships_source ON stored_relationships (source_id);
CREATE INDEX stored_relationships_target ON stored_relationships (target_id);
CREATE INDEX stored_relationships_target_doc ON stored_relationships (target_doc_id)
    WHERE target_doc_id IS NOT NULL;

-- Documents written or removed since links were last resolved: resolution
-- (a post-processing step) costs time in proportion to what changed.
CREATE TABLE pending_links (
    doc_id TEXT PRIMARY KEY
) WITHOUT ROWID;

-- Which folder a content source name stands for.
CREATE TABLE sources (
    name       TEXT PRIMARY KEY,
    location   TEXT NOT NULL,
    first_seen TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Store-wide settings read by views (structural: '1' or '0').
CREATE TABLE store_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO store_settings (key, value) VALUES ('structural', '1');

-- One vector per retrieval unit (embeddings.units): the element it stands for (root, header or
-- table), a chunk number, the hash of the text embedded (incremental re-embedding reuses a vector
-- whose unit_hash is unchanged) and little-endian float32 bytes.
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

-- Documents written or removed since semantic edges were last computed.
CREATE TABLE semantic_pending (
    doc_id TEXT PRIMARY KEY
) WITHOUT ROWID;

-- Full-text index over element text. External content: rows are added and
-- removed explicitly with each document, so no per-row triggers slow writes.
CREATE VIRTUAL TABLE elements_fts USING fts5 (
    text, content = 'elements', content_rowid = 'rowid'
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
           c.element_id, NULL, NULL, NULL, '{}'
    FROM elements c WHERE c.parent_id IS NOT NULL
    UNION ALL
    SELECT 'contained_by:' || c.element_id || ':' || c.parent_id, c.doc_id, c.element_id, 'contained_by',
           c.parent_id, NULL, NULL, NULL, '{}'
    FROM elements c WHERE c.parent_id IS NOT NULL
    UNION ALL
    SELECT 'next_sibling:' || a.element_id || ':' || b.element_id, a.doc_id, a.element_id, 'next_sibling',
           b.element_id, NULL, NULL, NULL, '{}'
    FROM elements a JOIN elements b ON b.parent_id = a.parent_id AND b.sibling_order = a.sibling_order + 1
    UNION ALL
    SELECT 'previous_sibling:' || b.element_id || ':' || a.element_id, b.doc_id, b.element_id, 'previous_sibling',
           a.element_id, NULL, NULL, NULL, '{}'
    FROM elements a JOIN elements b ON b.parent_id = a.parent_id AND b.sibling_order = a.sibling_order + 1
) WHERE (SELECT value FROM store_settings WHERE key = 'structural') = '1';
