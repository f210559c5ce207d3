-- The store's schema on SQLite. Table and column names are the same on PostgreSQL.
PRAGMA user_version = 1;

CREATE TABLE IF NOT EXISTS documents (
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
    stored_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX IF NOT EXISTS documents_source_path ON documents (source, path);

CREATE TABLE IF NOT EXISTS elements (
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
CREATE INDEX IF NOT EXISTS elements_doc_position ON elements (doc_id, document_position);
CREATE INDEX IF NOT EXISTS elements_parent ON elements (parent_id, sibling_order);
CREATE INDEX IF NOT EXISTS elements_anchor ON elements (doc_id, anchor) WHERE anchor IS NOT NULL;

-- Relationships that carry information of their own (links; later semantic
-- edges). Structural edges are derived from elements: see the view below.
CREATE TABLE IF NOT EXISTS stored_relationships (
    relationship_id   TEXT NOT NULL,
    doc_id            TEXT NOT NULL,
    source_id         TEXT NOT NULL,
    relationship_type TEXT NOT NULL,
    target_id         TEXT,
    target_reference  TEXT,
    target_doc_id     TEXT,
    target_anchor     TEXT,
    metadata          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS stored_relationships_doc ON stored_relationships (doc_id);
CREATE INDEX IF NOT EXISTS stored_relationships_source ON stored_relationships (source_id);
CREATE INDEX IF NOT EXISTS stored_relationships_target ON stored_relationships (target_id);
CREATE INDEX IF NOT EXISTS stored_relationships_target_doc ON stored_relationships (target_doc_id)
    WHERE target_doc_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS embeddings (
    element_id TEXT PRIMARY KEY,
    doc_id     TEXT NOT NULL,
    model      TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    vector     BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS embeddings_doc ON embeddings (doc_id);

-- Full-text index over element text. External content: rows are added and
-- removed explicitly with each document, so no per-row triggers slow writes.
CREATE VIRTUAL TABLE IF NOT EXISTS elements_fts USING fts5 (
    text, content = 'elements', content_rowid = 'rowid'
);

-- Every relationship: stored ones plus the derived structural edges.
DROP VIEW IF EXISTS relationships;
CREATE VIEW relationships AS
SELECT relationship_id, doc_id, source_id, relationship_type, target_id, target_reference,
       target_doc_id, target_anchor, metadata
FROM stored_relationships
UNION ALL
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
FROM elements a JOIN elements b ON b.parent_id = a.parent_id AND b.sibling_order = a.sibling_order + 1;
