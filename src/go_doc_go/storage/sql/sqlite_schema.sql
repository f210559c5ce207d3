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

-- Every anchor of every element (a header slug, explicit ids, names inside it):
-- links with a #fragment resolve through this table. One element per anchor and
-- document: the first in document order wins.
CREATE TABLE IF NOT EXISTS element_anchors (
    doc_id     TEXT NOT NULL,
    anchor     TEXT NOT NULL,
    element_id TEXT NOT NULL,
    PRIMARY KEY (doc_id, anchor)
) WITHOUT ROWID;

-- Which folder a content source name stands for, so a second folder with the
-- same name is noticed instead of replacing the first one's documents.
CREATE TABLE IF NOT EXISTS sources (
    name       TEXT PRIMARY KEY,
    location   TEXT NOT NULL,
    first_seen TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

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

