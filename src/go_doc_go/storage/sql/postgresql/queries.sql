-- Named queries of the PostgreSQL store. Only storage/postgresql.py uses the names.
-- Batches of documents go in as arrays (= ANY(%s), unnest) and COPY: one statement
-- per table and batch instead of one per row.

-- name: document_states
-- What change detection needs about stored documents (the parameter is an array of doc ids).
SELECT doc_id, content_hash, size, mtime_ns, embedding_model FROM documents WHERE doc_id = ANY(%s)

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
                       element_count, embedding_model, seen_pass)
SELECT d.doc_id, d.source, d.path, d.doc_type, d.title, d.content_hash, d.size, d.mtime_ns, d.metadata::jsonb,
       d.element_count, d.embedding_model, p.pass
FROM (SELECT %s::text AS pass) AS p,
     unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[], %s::bigint[],
            %s::text[], %s::integer[], %s::text[])
         AS d (doc_id, source, path, doc_type, title, content_hash, size, mtime_ns, metadata, element_count,
               embedding_model)
ON CONFLICT (doc_id) DO UPDATE SET
    source = excluded.source, path = excluded.path, doc_type = excluded.doc_type,
    title = excluded.title, content_hash = excluded.content_hash, size = excluded.size,
    mtime_ns = excluded.mtime_ns, metadata = excluded.metadata, element_count = excluded.element_count,
    embedding_model = excluded.embedding_model, seen_pass = excluded.seen_pass, stored_at = now()

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
WHERE target_doc_id = ANY(%s) AND relationship_type = 'links_to'
  AND (target_id IS NOT NULL OR metadata ? 'anchor_found')

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
WHERE r.target_doc_id IS NOT NULL AND r.relationship_type = 'links_to'
  AND (r.doc_id = ANY(%s) OR r.target_doc_id = ANY(%s))

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

-- ---------------------------------------------------------------- embeddings

-- name: embeddings_copy
COPY embeddings (element_id, chunk, doc_id, kind, unit_hash, model, dimensions, vector) FROM STDIN

-- name: embeddings_copy_pgvector
-- With pgvector (store setting vector_search): the same rows and the vector in pgvector's text form.
COPY embeddings (element_id, chunk, doc_id, kind, unit_hash, model, dimensions, vector, embedding) FROM STDIN

-- name: semantic_pending_add
INSERT INTO semantic_pending (doc_id) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING

-- name: unit_vectors_of_document
-- Stored vectors of one document by unit hash (a changed document reuses the unchanged ones).
SELECT unit_hash, vector FROM embeddings WHERE doc_id = %s AND model = %s

-- name: vectors_scan
-- One block of a model's vectors in key order (keyset pagination); optional source and element type filters.
SELECT v.element_id, v.chunk, v.doc_id, v.vector
FROM embeddings v JOIN documents d ON d.doc_id = v.doc_id JOIN elements e ON e.element_id = v.element_id
WHERE v.model = %(model)s AND (v.element_id, v.chunk) > (%(after)s, %(chunk)s)
  AND (%(source)s::text IS NULL OR d.source = %(source)s) AND (%(type)s::text IS NULL OR e.element_type = %(type)s)
ORDER BY v.element_id, v.chunk LIMIT %(limit)s

-- name: vectors_of_documents
SELECT element_id, chunk, doc_id, vector FROM embeddings
WHERE model = %s AND doc_id = ANY(%s) ORDER BY element_id, chunk

-- name: vectors_of_elements
SELECT element_id, chunk, doc_id, vector FROM embeddings
WHERE model = %s AND element_id = ANY(%s) ORDER BY element_id, chunk

-- name: unit_elements
SELECT DISTINCT element_id FROM embeddings WHERE element_id = ANY(%s)

-- name: vector_models
SELECT model, dimensions, count(*) FROM embeddings GROUP BY model, dimensions ORDER BY model

-- name: vector_extension_available
-- Is pgvector installed on the server (pg_available_extensions), and already created in this database?
SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector'),
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')

-- name: vector_extension_create
CREATE EXTENSION IF NOT EXISTS vector

-- name: vector_column_add
-- The pgvector copy of each stored vector (engine-private, like text_search); no typmod: one column holds
-- every size, and each HNSW index covers one size through a cast.
ALTER TABLE embeddings ADD COLUMN IF NOT EXISTS embedding vector

-- name: vector_dimensions_unindexed
-- Vector sizes in use; the store builds an HNSW index per size it has not built yet.
SELECT DISTINCT dimensions FROM embeddings ORDER BY dimensions

-- name: vector_index_create
-- {dims} is an integer the store formats in (a typmod cannot be a parameter): one HNSW index per size.
CREATE INDEX IF NOT EXISTS embeddings_hnsw_{dims} ON embeddings
USING hnsw ((embedding::vector({dims})) vector_cosine_ops) WHERE dimensions = {dims}

-- name: vector_nearest
-- The nearest units by cosine distance through the HNSW index of this size ({dims} formatted in as above).
SELECT v.element_id, v.chunk, v.doc_id
FROM embeddings v JOIN documents d ON d.doc_id = v.doc_id JOIN elements e ON e.element_id = v.element_id
WHERE v.dimensions = {dims} AND v.model = %(model)s
  AND (%(exclude)s::text IS NULL OR v.doc_id <> %(exclude)s)
  AND (%(source)s::text IS NULL OR d.source = %(source)s) AND (%(type)s::text IS NULL OR e.element_type = %(type)s)
ORDER BY v.embedding::vector({dims}) <=> %(query)s::vector({dims}) LIMIT %(limit)s

-- ---------------------------------------------------------------- semantic edges

-- name: semantic_pending_list
SELECT doc_id FROM semantic_pending ORDER BY doc_id

-- name: semantic_pending_remove
DELETE FROM semantic_pending WHERE doc_id = ANY(%s)

-- name: semantic_pending_all
INSERT INTO semantic_pending (doc_id) SELECT doc_id FROM documents ON CONFLICT DO NOTHING

-- name: semantic_sources_into
-- Elements of other documents whose semantic edges lead into the given documents (both parameters: the ids).
SELECT DISTINCT source_id FROM stored_relationships
WHERE relationship_type = 'semantic_similarity' AND target_doc_id = ANY(%s) AND NOT doc_id = ANY(%s)

-- name: semantic_delete_documents
DELETE FROM stored_relationships WHERE relationship_type = 'semantic_similarity'
  AND (doc_id = ANY(%s) OR target_doc_id = ANY(%s))

-- name: semantic_delete_sources
DELETE FROM stored_relationships WHERE relationship_type = 'semantic_similarity' AND source_id = ANY(%s)

-- name: semantic_delete_all
DELETE FROM stored_relationships WHERE relationship_type = 'semantic_similarity'

-- name: semantic_edges_from
SELECT source_id, target_id, target_doc_id, (metadata ->> 'score')::float8 FROM stored_relationships
WHERE relationship_type = 'semantic_similarity' AND source_id = ANY(%s)

-- name: relationship_insert_many
INSERT INTO stored_relationships (relationship_id, doc_id, source_id, relationship_type, target_id,
                                  target_reference, target_doc_id, target_anchor, metadata, target_path)
SELECT r.relationship_id, r.doc_id, r.source_id, r.relationship_type, r.target_id, r.target_reference,
       r.target_doc_id, r.target_anchor, r.metadata::jsonb, r.target_path
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::text[], %s::text[])
    AS r (relationship_id, doc_id, source_id, relationship_type, target_id, target_reference, target_doc_id,
          target_anchor, metadata, target_path)

-- ---------------------------------------------------------------- search and show

-- name: fts_document_frequencies
-- How many elements hold each word (for an idf weight; tsvector ranking has none of its own), and how many there are.
SELECT t.term, (SELECT count(*) FROM elements e WHERE e.text_search @@ to_tsquery('simple', t.quoted))
FROM unnest(%s::text[], %s::text[]) AS t (term, quoted)

-- name: fts_element_count
-- The number of elements, from the documents' counts (a table 70 times smaller than elements).
SELECT greatest(coalesce(sum(element_count), 0), 1)::bigint FROM documents

-- name: fts_average_length
-- Mean length of the indexed text of an element, in characters, over a sample (BM25's length normalisation).
SELECT coalesce(avg(least(length(text), 100000)), 1) FROM (SELECT text FROM elements LIMIT 5000) AS sample

-- name: fts_search
-- Elements holding any of the words, ranked by BM25 (k1 = 1.2, b = 0.75): per word, idf x tf x (k1 + 1) /
-- (tf + k1 x (1 - b + b x length / mean length)); tf is the word's number of positions in the tsvector,
-- the length that of the indexed text in characters (as FTS5 counts tokens, without unnesting them all).
SELECT e.element_id,
       (SELECT sum(t.idf * u.tf * 2.2
                   / (u.tf + 1.2 * (0.25 + 0.75 * least(length(e.text), 100000) / %(avglen)s::float8)))
          FROM (SELECT lexeme, coalesce(array_length(positions, 1), 1) AS tf FROM unnest(e.text_search)) AS u
          JOIN unnest(%(words)s::text[], %(idfs)s::float8[]) AS t (word, idf) ON t.word = u.lexeme) AS score
FROM elements e JOIN documents d ON d.doc_id = e.doc_id
WHERE e.text_search @@ to_tsquery('simple', %(query)s)
  AND (%(source)s::text IS NULL OR d.source = %(source)s) AND (%(type)s::text IS NULL OR e.element_type = %(type)s)
ORDER BY score DESC NULLS LAST, e.element_id LIMIT %(limit)s

-- name: elements_by_id
SELECT e.element_id, e.doc_id, e.element_type, e.parent_id, e.sibling_order, e.document_position, e.text,
       e.anchor, e.location, e.metadata, d.source, d.path, d.title
FROM elements e JOIN documents d ON d.doc_id = e.doc_id
WHERE e.element_id = ANY(%s)

-- name: element_children
SELECT e.element_id, e.doc_id, e.element_type, e.parent_id, e.sibling_order, e.document_position, e.text,
       e.anchor, e.location, e.metadata, d.source, d.path, d.title
FROM elements e JOIN documents d ON d.doc_id = e.doc_id
WHERE e.parent_id = %s ORDER BY e.sibling_order LIMIT %s

-- name: element_siblings
SELECT s.element_id, s.doc_id, s.element_type, s.parent_id, s.sibling_order, s.document_position, s.text,
       s.anchor, s.location, s.metadata, d.source, d.path, d.title
FROM elements e JOIN elements s ON s.parent_id = e.parent_id AND abs(s.sibling_order - e.sibling_order) = 1
JOIN documents d ON d.doc_id = s.doc_id
WHERE e.element_id = %s ORDER BY s.sibling_order

-- name: element_ids_by_prefix
SELECT element_id FROM elements WHERE element_id >= %s AND element_id < %s ORDER BY element_id LIMIT 2

-- name: relationships_from
SELECT source_id, relationship_type, target_id, target_reference, target_doc_id, metadata
FROM stored_relationships WHERE source_id = ANY(%s)
ORDER BY source_id, relationship_type, target_id

-- name: relationships_into
SELECT source_id, relationship_type, target_id, target_reference, doc_id, metadata
FROM stored_relationships WHERE target_id = ANY(%s)
ORDER BY target_id, relationship_type, source_id

-- name: subtree_ids
WITH RECURSIVE tree (element_id, depth) AS (
    SELECT element_id, 0 FROM elements WHERE element_id = %s
    UNION ALL
    SELECT e.element_id, tree.depth + 1 FROM elements e JOIN tree ON e.parent_id = tree.element_id
    WHERE tree.depth < 200
)
SELECT element_id FROM tree LIMIT %s
