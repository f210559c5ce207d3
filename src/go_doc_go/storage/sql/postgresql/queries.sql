-- Named queries of the PostgreSQL store. Only storage/postgresql.py uses the names.
-- Batches of documents go in as arrays (= ANY(%s), unnest) and COPY: one statement
-- per table and batch instead of one per row.

-- name: document_states
-- What change detection needs about stored documents (the parameter is an array of doc ids).
SELECT doc_id, content_hash, size, mtime_ns FROM documents WHERE doc_id = ANY(%s)

-- name: documents_touch
-- Unchanged documents seen with a new mtime: remember it so the next run skips the read.
UPDATE documents AS d SET mtime_ns = t.mtime_ns, size = t.size
FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS t (doc_id, size, mtime_ns)
WHERE d.doc_id = t.doc_id

-- name: documents_mark_seen
-- This pass saw the documents in their source (documents not seen are removed at the end). Rows
-- already marked (written by this pass) are left alone: an update is a new row version here.
UPDATE documents SET seen_pass = %(pass)s WHERE doc_id = ANY(%(ids)s) AND seen_pass IS DISTINCT FROM %(pass)s

-- name: elements_delete_documents
DELETE FROM elements WHERE doc_id = ANY(%s)

-- name: relationships_delete_documents
DELETE FROM stored_relationships WHERE doc_id = ANY(%s)

-- name: anchors_delete_documents
DELETE FROM element_anchors WHERE doc_id = ANY(%s)

-- name: embeddings_delete_documents
DELETE FROM embeddings WHERE doc_id = ANY(%s)

-- name: documents_delete
DELETE FROM documents WHERE doc_id = ANY(%s)

-- name: documents_upsert
-- One row per document of the batch, as arrays (one per column); the first parameter is the pass.
INSERT INTO documents (doc_id, source, path, doc_type, title, content_hash, size, mtime_ns, metadata,
                       element_count, seen_pass)
SELECT d.doc_id, d.source, d.path, d.doc_type, d.title, d.content_hash, d.size, d.mtime_ns, d.metadata::jsonb,
       d.element_count, p.pass
FROM (SELECT %s::text AS pass) AS p,
     unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[], %s::bigint[],
            %s::text[], %s::integer[])
         AS d (doc_id, source, path, doc_type, title, content_hash, size, mtime_ns, metadata, element_count)
ON CONFLICT (doc_id) DO UPDATE SET
    source = excluded.source, path = excluded.path, doc_type = excluded.doc_type,
    title = excluded.title, content_hash = excluded.content_hash, size = excluded.size,
    mtime_ns = excluded.mtime_ns, metadata = excluded.metadata,
    element_count = excluded.element_count, seen_pass = excluded.seen_pass, stored_at = now()

-- name: elements_copy
-- Text-format COPY; the row tuples of storage/rows.py in this column order (text_search is generated).
COPY elements (element_id, doc_id, element_type, parent_id, sibling_order, document_position, path_segment,
               text, content_hash, anchor, location, metadata) FROM STDIN

-- name: relationships_copy
COPY stored_relationships (relationship_id, doc_id, source_id, relationship_type, target_id, target_reference,
                           target_doc_id, target_anchor, metadata, target_path) FROM STDIN

-- name: anchors_copy
COPY element_anchors (doc_id, anchor, element_id) FROM STDIN

-- name: links_pending_add
-- The documents were written: their own links and the links into them need resolving.
INSERT INTO pending_links (doc_id) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING

-- name: links_unresolve_into
-- The documents are gone: links into them point nowhere until they come back (and have no anchor to find).
UPDATE stored_relationships SET target_id = NULL, metadata = metadata - 'anchor_found'
WHERE target_doc_id = ANY(%s) AND (target_id IS NOT NULL OR metadata ? 'anchor_found')

-- name: links_pending
SELECT doc_id FROM pending_links

-- name: links_resolve
-- Resolve the links of the pending documents and the links into them (both parameters: the pending
-- doc ids): to the element holding the anchor when one matches, else the target's root (always at
-- document_position 0); anchor_found records a #fragment that matched nothing.
UPDATE stored_relationships AS r SET
    target_id = COALESCE(
        (SELECT a.element_id FROM element_anchors a
          WHERE a.doc_id = r.target_doc_id AND md5(a.anchor) = md5(r.target_anchor) AND a.anchor = r.target_anchor),
        (SELECT e.element_id FROM elements e
          WHERE e.doc_id = r.target_doc_id AND e.document_position = 0 AND e.parent_id IS NULL)),
    metadata = CASE
        WHEN r.target_anchor IS NULL THEN r.metadata
        WHEN EXISTS (SELECT 1 FROM element_anchors a
                      WHERE a.doc_id = r.target_doc_id AND md5(a.anchor) = md5(r.target_anchor)
                        AND a.anchor = r.target_anchor)
            THEN r.metadata - 'anchor_found'
        -- A target document that is not stored has no anchors to miss.
        WHEN NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = r.target_doc_id)
            THEN r.metadata - 'anchor_found'
        ELSE r.metadata || '{"anchor_found": false}'::jsonb END
WHERE r.target_doc_id IS NOT NULL AND (r.doc_id = ANY(%s) OR r.target_doc_id = ANY(%s))

-- name: links_pending_remove
-- Only the ids this resolution read: a writer may have added others since.
DELETE FROM pending_links WHERE doc_id = ANY(%s)

-- name: links_count
-- Links inside a source: how many point at an element, how many at a document not stored, how many lost their #fragment.
SELECT count(*) FILTER (WHERE target_id IS NOT NULL),
       count(*) FILTER (WHERE target_id IS NULL),
       count(*) FILTER (WHERE target_id IS NOT NULL AND metadata -> 'anchor_found' = 'false'::jsonb)
FROM stored_relationships WHERE relationship_type = 'links_to' AND target_doc_id IS NOT NULL

-- name: link_targets_of_document
-- Where a stored document's links lead inside its source (link following of unchanged documents).
SELECT DISTINCT target_path FROM stored_relationships
WHERE doc_id = %s AND relationship_type = 'links_to' AND target_path IS NOT NULL

-- name: documents_unseen
-- Documents of one source that the given pass did not see: they vanished from the source.
SELECT doc_id FROM documents WHERE source = %s AND (seen_pass IS NULL OR seen_pass <> %s)

-- name: source_names
SELECT name, location FROM sources

-- name: source_record
-- Remember which folder a source name stands for (the latest location wins).
INSERT INTO sources (name, location) VALUES (%s, %s)
ON CONFLICT (name) DO UPDATE SET location = excluded.location

-- name: setting_get
SELECT value FROM store_settings WHERE key = %s

-- name: setting_set
INSERT INTO store_settings (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value

-- name: document_by_id_or_path
SELECT doc_id, source, path, doc_type, title, content_hash, size, metadata, element_count
FROM documents WHERE doc_id = %s OR path = %s OR (source || ':' || path) = %s
ORDER BY doc_id LIMIT 2

-- name: elements_of_document
SELECT element_id, element_type, parent_id, sibling_order, document_position, path_segment, text,
       content_hash, anchor, location, metadata
FROM elements WHERE doc_id = %s ORDER BY document_position

-- name: element_children_counts
-- How many children each element of a document has (for a tree view cut at a depth).
SELECT parent_id, count(*) FROM elements WHERE doc_id = %s AND parent_id IS NOT NULL GROUP BY parent_id

-- name: counts
SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM elements),
       (SELECT count(*) FROM stored_relationships)
