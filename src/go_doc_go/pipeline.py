"""One function turns a document reference into a result: ``process_document``.

Both drivers run it through ``go_doc_go.pool`` (child processes that hold the
per-document time and memory limits); it never knows whether a queue exists.
Every failure comes back as ``Failed`` with the stage, the cause and its kind,
so one bad document never stops a run.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from go_doc_go.config import Config
from go_doc_go.exceptions import DocumentError, LimitExceededError, ParseError
from go_doc_go.model import Document, DocumentResult, Link, flatten, make_doc_id
from go_doc_go.parsers import ParseInput, parse_document
from go_doc_go.relationships import link_relationships
from go_doc_go.sources import ContentSource, DocumentRef
from go_doc_go.encoding import looks_binary
from go_doc_go.sources.detect import TEXT_TYPES


@dataclass(frozen=True, slots=True)
class Unchanged:
    ref: DocumentRef


@dataclass(frozen=True, slots=True)
class Failed:
    """A document that could not be processed, and why.

    ``kind`` is decided by the exception type (``DocumentError.retryable``):
    ``retryable`` (I/O, timeouts, a crashed parser) or ``permanent`` (corrupt or
    unsupported content, too large, permission denied, a parser bug).
    ``error_type`` is the exception class; ``traceback`` is kept for errors we
    did not expect (bugs), where it is what a maintainer needs.
    """

    ref: DocumentRef
    stage: str
    cause: str
    kind: str = "permanent"
    error_type: str = "DocumentError"
    traceback: str | None = None

    @property
    def retryable(self) -> bool:
        return self.kind == "retryable"


def failure(ref: DocumentRef, stage: str, error: BaseException) -> Failed:
    """The ``Failed`` outcome for an exception raised while processing ``ref`` at ``stage``."""
    if isinstance(error, DocumentError):
        return Failed(ref, error.stage, str(error), "retryable" if error.retryable else "permanent",
                      type(error).__name__)
    tb = "".join(traceback.format_exception(error))
    return Failed(ref, stage, f"{type(error).__name__}: {error}", "permanent", type(error).__name__, tb)


Outcome = DocumentResult | Unchanged | Failed


def process_document(
    source: ContentSource,
    ref: DocumentRef,
    config: Config,
    *,
    known_hash: str | None = None,
) -> Outcome:
    """Fetch, parse and relate one document.

    ``known_hash`` is the stored content hash: when the fetched bytes hash to
    it, the document is ``Unchanged`` and nothing else is done.
    """
    stage = "fetch"
    try:
        fetched = source.fetch(ref)
        if known_hash is not None and fetched.content_hash == known_hash:
            return Unchanged(ref)
        stage = "parse"
        doc_type = ref.doc_type or "text"
        if doc_type in TEXT_TYPES and looks_binary(fetched.data[:8192]):
            raise ParseError(f"binary content in a file of type {doc_type}")
        limits = config.parsers
        parse_input = ParseInput(fetched.data, ref.path, limits)
        try:
            # A sniffed type whose parser fails is parsed as text (parsers.parse_document).
            doc_type, parsed = parse_document(doc_type, parse_input, sniffed=ref.sniffed)
        except RecursionError:
            raise ParseError("document nesting is too deep to parse") from None
        except MemoryError:
            raise ParseError(
                f"document needs more memory to parse than parsers.max_memory_mb ({limits.max_memory_mb}) allows"
            ) from None

        if len(parsed.links) > limits.max_links:  # parsers count as they go; this is the backstop
            raise LimitExceededError("max_links", limits.max_links, f"{len(parsed.links):,} links")
        decoding = parse_input.decoding
        if decoding is not None:
            if not decoding.is_utf8:
                parsed.metadata.setdefault("encoding", decoding.encoding)
            if decoding.replaced:
                parsed.metadata.setdefault("encoding_replaced_bytes", True)

        stage = "relate"
        elements, node_ids = flatten(ref.doc_id, parsed.root)
        links = [
            _resolve_link(source, ref, link.href, link.text, node_ids[id(link.node)])
            for link in parsed.links
        ]
        relationships = link_relationships(ref.doc_id, links) if config.relationship_detection.links else []
        document = Document(
            doc_id=ref.doc_id,
            source=ref.source,
            path=ref.path,
            doc_type=doc_type,
            content_hash=fetched.content_hash,
            size=len(fetched.data),
            mtime_ns=ref.mtime_ns,
            title=parsed.title,
            metadata=parsed.metadata,
        )
        return DocumentResult(document, elements, relationships, links)
    except Exception as error:  # a parser bug must cost one document, not the run
        return failure(ref, stage, error)


def _resolve_link(source: ContentSource, ref: DocumentRef, href: str, text: str, element_id: str) -> Link:
    target = source.resolve_link(ref.path, href)
    if target is None:
        return Link(element_id, href, text)
    path, anchor = target
    return Link(
        source_element_id=element_id,
        href=href,
        text=text,
        target_doc_id=make_doc_id(ref.source, path),
        target_path=path,
        target_anchor=anchor,
    )
