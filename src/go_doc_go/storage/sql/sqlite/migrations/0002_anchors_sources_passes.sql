-- Several anchors per element, source locations, passes (which run saw a
-- document), links waiting for resolution, and the structural-edges setting as
-- data instead of a view rebuilt at every open.

CREATE TABLE IF NOT EXISTS store_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE element_anchors (
    doc_id     TEXT NOT NULL,
    anchor     TEXT NOT NULL,
    element_id TEXT NOT NULL,
    PRIMARY KEY (doc_id, anchor)
) WITHOUT ROWID;

INSERT OR IGNORE INTO element_anchors (doc_id, anchor, element_id)
SELECT doc_id, anchor, element_id FROM elements WHERE anchor IS NOT NULL ORDER BY doc_id, document_position;

CREATE TABLE sources (
    name       TEXT PRIMARY KEY,
    location   TEXT NOT NULL,
    first_seen TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE pending_links (
    doc_id TEXT PRIMARY KEY
) WITHOUT ROWID;

-- Every stored document waits for link resolution once, so links written by an
-- earlier version resolve through element_anchors.
INSERT INTO pending_links (doc_id) SELECT doc_id FROM documents;

CREATE TABLE store_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO store_settings (key, value)
SELECT 'structural', CASE WHEN coalesce(
    (SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'relationships'), 'contained_by')
    LIKE '%contained_by%' THEN '1' ELSE '0' END;

ALTER TABLE documents ADD COLUMN seen_pass TEXT;
CREATE INDEX documents_source_seen ON documents (source, seen_pass);

ALTER TABLE stored_relationships ADD COLUMN target_path TEXT;

DROP VIEW IF EXISTS relationships;
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
