-- Named queries of the SQLite store. Only storage/sqlite.py uses the names.

-- name: document_states
-- What change detection needs about stored documents (the parameter is a JSON array of doc ids).
SELECT doc_id, content_hash, size, mtime_ns, embedding_model FROM documents
WHERE doc_id IN (SELECT value FROM json_each(?))

-- name: document_touch
-- An unchanged document seen with a new mtime: remember it so the next run skips the read.
UPDATE documents SET mtime_ns = ?, size = ? WHERE doc_id = ?

-- name: document_mark_seen
-- This pass saw the document in its source (documents not seen are removed at the end).
UPDATE documents SET seen_pass = ? WHERE doc_id = ?

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
INSERT INTO documents (doc_id, source, path, doc_type, title, content_hash, size, mtime_ns, metadata,
                       element_count, embedding_model, seen_pass)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (doc_id) DO UPDATE SET
    source = excluded.source, path = excluded.path, doc_type = excluded.doc_type,
    title = excluded.title, content_hash = excluded.content_hash, size = excluded.size,
    mtime_ns = excluded.mtime_ns, metadata = excluded.metadata,
    element_count = excluded.element_count, embedding_model = excluded.embedding_model,
    seen_pass = excluded.seen_pass, stored_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')

-- name: element_insert
INSERT INTO elements (element_id, doc_id, element_type, parent_id, sibling_order, document_position,
                      path_segment, text, content_hash, anchor, location, metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: fts_insert_document
INSERT INTO elements_fts (rowid, text) SELECT rowid, text FROM elements WHERE doc_id = ?

-- name: relationship_insert
INSERT INTO stored_relationships (relationship_id, doc_id, source_id, relationship_type, target_id,
                                  target_reference, target_doc_id, target_anchor, metadata, target_path)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: links_pending_add
-- The document was written or removed: its own links and the links into it need resolving.
INSERT OR IGNORE INTO pending_links (doc_id) VALUES (?)

-- name: links_unresolve_into
-- The document is gone: links into it point nowhere until it comes back (and have no anchor to find).
UPDATE stored_relationships SET target_id = NULL, metadata = json_remove(metadata, '$.anchor_found')
WHERE target_doc_id = ? AND relationship_type = 'links_to'
  AND (target_id IS NOT NULL OR json_extract(metadata, '$.anchor_found') IS NOT NULL)

-- name: links_resolve_pending
-- Resolve the links of pending documents and the links into them: to the element holding the
-- anchor when one matches, else the target's root; anchor_found records a #fragment that matched nothing.
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
        -- A target document that is not stored has no anchors to miss.
        WHEN NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = stored_relationships.target_doc_id)
            THEN json_remove(metadata, '$.anchor_found')
        ELSE json_set(metadata, '$.anchor_found', json('false')) END
WHERE target_doc_id IS NOT NULL AND relationship_type = 'links_to'
  AND (doc_id IN (SELECT doc_id FROM pending_links) OR target_doc_id IN (SELECT doc_id FROM pending_links))

-- name: links_pending_clear
DELETE FROM pending_links

-- name: links_count
-- Links inside a source: how many point at an element, how many at a document not stored, how many lost their #fragment.
SELECT count(*) FILTER (WHERE target_id IS NOT NULL),
       count(*) FILTER (WHERE target_id IS NULL),
       count(*) FILTER (WHERE target_id IS NOT NULL AND json_extract(metadata, '$.anchor_found') = 0)
FROM stored_relationships WHERE relationship_type = 'links_to' AND target_doc_id IS NOT NULL

-- name: link_targets_of_document
-- Where a stored document's links lead inside its source (link following of unchanged documents).
SELECT DISTINCT target_path FROM stored_relationships
WHERE doc_id = ? AND relationship_type = 'links_to' AND target_path IS NOT NULL

-- name: documents_unseen
-- Documents of one source that the given pass did not see: they vanished from the source.
SELECT doc_id FROM documents WHERE source = ? AND (seen_pass IS NULL OR seen_pass <> ?)

-- name: source_names
SELECT name, location FROM sources

-- name: source_record
-- Remember which folder a source name stands for (the latest location wins).
INSERT INTO sources (name, location) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET location = excluded.location

-- name: setting_get
SELECT value FROM store_settings WHERE key = ?

-- name: setting_set
INSERT INTO store_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value

-- name: document_by_id_or_path
SELECT doc_id, source, path, doc_type, title, content_hash, size, metadata, element_count
FROM documents WHERE doc_id = ? OR path = ? OR (source || ':' || path) = ?
ORDER BY doc_id LIMIT 2

-- name: elements_of_document
SELECT element_id, element_type, parent_id, sibling_order, document_position, path_segment, text,
       content_hash, anchor, location, metadata
FROM elements WHERE doc_id = ? ORDER BY document_position

-- name: element_children_counts
-- How many children each element of a document has (for a tree view cut at a depth).
SELECT parent_id, count(*) FROM elements WHERE doc_id = ? AND parent_id IS NOT NULL GROUP BY parent_id

-- name: counts
SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM elements),
       (SELECT count(*) FROM stored_relationships)

-- ---------------------------------------------------------------- embeddings

-- name: embedding_insert
INSERT INTO embeddings (element_id, chunk, doc_id, kind, unit_hash, model, dimensions, vector)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)

-- name: unit_vectors_of_document
-- Stored vectors of one document by unit hash (a changed document reuses the unchanged ones).
SELECT unit_hash, vector FROM embeddings WHERE doc_id = ? AND model = ?

-- name: vectors_scan
-- One block of a model's vectors, in rowid order (keyset pagination); optional source and element type filters.
SELECT v.rowid, v.element_id, v.chunk, v.doc_id, v.vector
FROM embeddings v JOIN documents d ON d.doc_id = v.doc_id JOIN elements e ON e.element_id = v.element_id
WHERE v.model = ? AND v.rowid > ? AND (? IS NULL OR d.source = ?) AND (? IS NULL OR e.element_type = ?)
ORDER BY v.rowid LIMIT ?

-- name: vectors_of_documents
SELECT element_id, chunk, doc_id, vector FROM embeddings
WHERE model = ? AND doc_id IN (SELECT value FROM json_each(?)) ORDER BY element_id, chunk

-- name: vectors_of_elements
SELECT element_id, chunk, doc_id, vector FROM embeddings
WHERE model = ? AND element_id IN (SELECT value FROM json_each(?)) ORDER BY element_id, chunk

-- name: unit_elements
-- Which of the given elements have a vector (are retrieval units).
SELECT DISTINCT element_id FROM embeddings WHERE element_id IN (SELECT value FROM json_each(?))

-- name: vector_models
-- Which models the stored vectors belong to, their sizes and how many.
SELECT model, dimensions, count(*) FROM embeddings GROUP BY model, dimensions ORDER BY model

-- ---------------------------------------------------------------- semantic edges

-- name: semantic_pending_add
INSERT OR IGNORE INTO semantic_pending (doc_id) VALUES (?)

-- name: semantic_pending_list
SELECT doc_id FROM semantic_pending ORDER BY doc_id

-- name: semantic_pending_remove
DELETE FROM semantic_pending WHERE doc_id IN (SELECT value FROM json_each(?))

-- name: semantic_pending_all
-- Every stored document waits for the semantic step (its parameters changed).
INSERT OR IGNORE INTO semantic_pending (doc_id) SELECT doc_id FROM documents

-- name: semantic_sources_into
-- Elements of other documents whose semantic edges lead into the given documents.
SELECT DISTINCT source_id FROM stored_relationships
WHERE relationship_type = 'semantic_similarity' AND target_doc_id IN (SELECT value FROM json_each(?))
  AND doc_id NOT IN (SELECT value FROM json_each(?))

-- name: semantic_delete_documents
-- Semantic edges from or into the given documents.
DELETE FROM stored_relationships WHERE relationship_type = 'semantic_similarity'
  AND (doc_id IN (SELECT value FROM json_each(?)) OR target_doc_id IN (SELECT value FROM json_each(?)))

-- name: semantic_delete_sources
DELETE FROM stored_relationships
WHERE relationship_type = 'semantic_similarity' AND source_id IN (SELECT value FROM json_each(?))

-- name: semantic_delete_all
DELETE FROM stored_relationships WHERE relationship_type = 'semantic_similarity'

-- name: semantic_edges_from
SELECT source_id, target_id, target_doc_id, json_extract(metadata, '$.score') FROM stored_relationships
WHERE relationship_type = 'semantic_similarity' AND source_id IN (SELECT value FROM json_each(?))

-- ---------------------------------------------------------------- search and show

-- name: fts_search
-- Full-text matches, best first (bm25: lower is better); the query is FTS5 syntax built from words.
SELECT e.element_id, bm25(elements_fts) AS rank
FROM elements_fts JOIN elements e ON e.rowid = elements_fts.rowid JOIN documents d ON d.doc_id = e.doc_id
WHERE elements_fts MATCH ? AND (? IS NULL OR d.source = ?) AND (? IS NULL OR e.element_type = ?)
ORDER BY rank, e.element_id LIMIT ?

-- name: elements_by_id
-- Elements with their document (the parameter is a JSON array of element ids).
SELECT e.element_id, e.doc_id, e.element_type, e.parent_id, e.sibling_order, e.document_position, e.text,
       e.anchor, e.location, e.metadata, d.source, d.path, d.title
FROM elements e JOIN documents d ON d.doc_id = e.doc_id
WHERE e.element_id IN (SELECT value FROM json_each(?))

-- name: element_children
SELECT e.element_id, e.doc_id, e.element_type, e.parent_id, e.sibling_order, e.document_position, e.text,
       e.anchor, e.location, e.metadata, d.source, d.path, d.title
FROM elements e JOIN documents d ON d.doc_id = e.doc_id
WHERE e.parent_id = ? ORDER BY e.sibling_order LIMIT ?

-- name: element_siblings
-- The elements just before and after one (same parent, sibling_order ± 1).
SELECT s.element_id, s.doc_id, s.element_type, s.parent_id, s.sibling_order, s.document_position, s.text,
       s.anchor, s.location, s.metadata, d.source, d.path, d.title
FROM elements e JOIN elements s ON s.parent_id = e.parent_id AND abs(s.sibling_order - e.sibling_order) = 1
JOIN documents d ON d.doc_id = s.doc_id
WHERE e.element_id = ? ORDER BY s.sibling_order

-- name: element_ids_by_prefix
SELECT element_id FROM elements WHERE element_id >= ? AND element_id < ? ORDER BY element_id LIMIT 2

-- name: relationships_from
-- Stored relationships (links, semantic edges) leaving the given elements.
SELECT source_id, relationship_type, target_id, target_reference, target_doc_id, metadata
FROM stored_relationships WHERE source_id IN (SELECT value FROM json_each(?))
ORDER BY source_id, relationship_type, target_id

-- name: relationships_into
SELECT source_id, relationship_type, target_id, target_reference, doc_id, metadata
FROM stored_relationships WHERE target_id IN (SELECT value FROM json_each(?))
ORDER BY target_id, relationship_type, source_id

-- name: subtree_ids
-- An element and everything under it (links leaving a section come from its paragraphs).
WITH RECURSIVE tree (element_id, depth) AS (
    SELECT element_id, 0 FROM elements WHERE element_id = ?
    UNION ALL
    SELECT e.element_id, tree.depth + 1 FROM elements e JOIN tree ON e.parent_id = tree.element_id
    WHERE tree.depth < 200
)
SELECT element_id FROM tree LIMIT ?
