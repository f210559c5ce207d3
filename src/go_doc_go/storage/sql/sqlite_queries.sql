-- name: document_state
-- What change detection needs about a stored document.
SELECT content_hash, size, mtime_ns FROM documents WHERE doc_id = ?

-- name: document_touch
-- An unchanged document seen with a new mtime: remember it so the next run skips the read.
UPDATE documents SET mtime_ns = ?, size = ? WHERE doc_id = ?

-- name: fts_delete_document
INSERT INTO elements_fts (elements_fts, rowid, text)
SELECT 'delete', rowid, text FROM elements WHERE doc_id = ?

-- name: elements_delete_document
DELETE FROM elements WHERE doc_id = ?

-- name: relationships_delete_document
DELETE FROM stored_relationships WHERE doc_id = ?

-- name: anchors_delete_document
DELETE FROM element_anchors WHERE doc_id = ?

-- name: anchor_insert
INSERT INTO element_anchors (doc_id, anchor, element_id) VALUES (?, ?, ?)

-- name: embeddings_delete_document
DELETE FROM embeddings WHERE doc_id = ?

-- name: document_delete
DELETE FROM documents WHERE doc_id = ?

-- name: document_upsert
INSERT INTO documents (doc_id, source, path, doc_type, title, content_hash, size, mtime_ns, metadata, element_count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (doc_id) DO UPDATE SET
    source = excluded.source, path = excluded.path, doc_type = excluded.doc_type,
    title = excluded.title, content_hash = excluded.content_hash, size = excluded.size,
    mtime_ns = excluded.mtime_ns, metadata = excluded.metadata,
    element_count = excluded.element_count,
    stored_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')

-- name: element_insert
INSERT INTO elements (element_id, doc_id, element_type, parent_id, sibling_order, document_position,
                      path_segment, text, content_hash, anchor, location, metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: fts_insert_document
INSERT INTO elements_fts (rowid, text) SELECT rowid, text FROM elements WHERE doc_id = ?

-- name: relationship_insert
INSERT INTO stored_relationships (relationship_id, doc_id, source_id, relationship_type, target_id,
                           target_reference, target_doc_id, target_anchor, metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: links_resolve
-- Point in-source links at the element holding the anchor when one matches, else at the
-- target's root; anchor_found records whether a requested #fragment was found.
UPDATE stored_relationships SET
    target_id = COALESCE(
        (SELECT a.element_id FROM element_anchors a
          WHERE a.doc_id = stored_relationships.target_doc_id AND a.anchor = stored_relationships.target_anchor),
        (SELECT e.element_id FROM elements e
          WHERE e.doc_id = stored_relationships.target_doc_id AND e.parent_id IS NULL)),
    metadata = CASE
        WHEN target_anchor IS NULL THEN metadata
        WHEN EXISTS (SELECT 1 FROM element_anchors a
                      WHERE a.doc_id = stored_relationships.target_doc_id
                        AND a.anchor = stored_relationships.target_anchor)
            THEN json_remove(metadata, '$.anchor_found')
        ELSE json_set(metadata, '$.anchor_found', json('false')) END
WHERE target_doc_id IS NOT NULL

-- name: links_count
-- Links inside a source: how many point at an element, how many at a document not stored, how many lost their #fragment.
SELECT count(*) FILTER (WHERE target_id IS NOT NULL),
       count(*) FILTER (WHERE target_id IS NULL),
       count(*) FILTER (WHERE target_id IS NOT NULL AND json_extract(metadata, '$.anchor_found') = 0)
FROM stored_relationships WHERE relationship_type = 'links_to' AND target_doc_id IS NOT NULL

-- name: source_location
SELECT location FROM sources WHERE name = ?

-- name: source_names
SELECT name, location FROM sources

-- name: source_record
-- Remember which folder a source name stands for (the latest location wins).
INSERT INTO sources (name, location) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET location = excluded.location

-- name: seen_create
CREATE TEMP TABLE IF NOT EXISTS seen_documents (doc_id TEXT PRIMARY KEY) WITHOUT ROWID

-- name: seen_clear
DELETE FROM temp.seen_documents

-- name: seen_mark
INSERT OR IGNORE INTO temp.seen_documents (doc_id) VALUES (?)

-- name: unseen_documents
-- Documents of one source that this run did not see: they vanished from the source.
SELECT doc_id FROM documents
WHERE source = ? AND doc_id NOT IN (SELECT doc_id FROM temp.seen_documents)

-- name: document_by_id_or_path
SELECT doc_id, source, path, doc_type, title, content_hash, size, metadata, element_count
FROM documents WHERE doc_id = ? OR path = ? OR (source || ':' || path) = ?
ORDER BY doc_id LIMIT 2

-- name: elements_of_document
SELECT element_id, element_type, parent_id, sibling_order, document_position, path_segment, text,
       content_hash, anchor, location, metadata
FROM elements WHERE doc_id = ? ORDER BY document_position

-- name: relationships_from_document
SELECT source_id, relationship_type, target_id, target_reference
FROM stored_relationships WHERE doc_id = ? AND relationship_type = 'links_to'

-- name: counts
SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM elements),
       (SELECT count(*) FROM stored_relationships)

-- name: element_children_counts
-- How many children each element of a document has (for a tree view cut at a depth).
SELECT parent_id, count(*) FROM elements WHERE doc_id = ? AND parent_id IS NOT NULL GROUP BY parent_id

-- name: relationships_view_with_structure
-- Every relationship: stored ones plus the structural edges, which are a pure
-- function of elements.parent_id and sibling_order and so are never written
-- row by row (4 rows per element would dominate the cost of storing a document).
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

-- name: relationships_view_links_only
-- relationship_detection.structural is off: only stored relationships.
DROP VIEW IF EXISTS relationships;
CREATE VIEW relationships AS
SELECT relationship_id, doc_id, source_id, relationship_type, target_id, target_reference,
       target_doc_id, target_anchor, metadata
FROM stored_relationships;

-- name: relationships_view_exists
SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = 'relationships'
