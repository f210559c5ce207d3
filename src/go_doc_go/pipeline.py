"""One function turns a document reference into a result: ``process_document``.

Single mode loops over it; a distributed worker calls it once per claim. It
never knows whether a queue exists. Every failure comes back as ``Failed`` with
the stage and the cause, so one bad document never stops a run.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from go_doc_go.config import Config
from go_doc_go.exceptions import DocumentError, ParseError
from go_doc_go.model import Document, DocumentResult, Link, flatten, make_doc_id
from go_doc_go.parsers import ParseInput, parse_document
from go_doc_go.relationships import link_relationships
from go_doc_go.sources import ContentSource, DocumentRef
from go_doc_go.sources.detect import TEXT_TYPES, looks_binary


@dataclass(frozen=True, slots=True)
class Unchanged:
    ref: DocumentRef


@dataclass(frozen=True, slots=True)
class Failed:
    ref: DocumentRef
    stage: str
    cause: str


Outcome = DocumentResult | Unchanged | Failed


class _TimedOut(BaseException):
    """BaseException so parser code that catches Exception cannot swallow it."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Bound one document's parse time where a signal timer is available.

    Only the main thread of a process can take signals; elsewhere the limit is
    not enforced and the element budget remains the guard.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise _TimedOut()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
        try:
            with _time_limit(limits.timeout):
                # A sniffed type whose parser fails is parsed as text (parsers.parse_document).
                doc_type, parsed = parse_document(
                    doc_type, ParseInput(fetched.data, ref.path, limits), sniffed=ref.sniffed
                )
        except _TimedOut:
            raise ParseError(f"parsing took longer than parsers.timeout ({limits.timeout:g} s)") from None
        except RecursionError:
            raise ParseError("document nesting is too deep to parse") from None
        except MemoryError:
            raise ParseError("document needs too much memory to parse") from None

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
    except DocumentError as error:
        return Failed(ref, error.stage, str(error))
    except Exception as error:  # a parser bug must cost one document, not the run
        return Failed(ref, stage, f"{type(error).__name__}: {error}")


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
