"""Change detection: parse only what changed.

A document whose size and mtime match the stored ones is unchanged without
being read. Otherwise it is parsed with ``known_hash`` set to the stored
content hash, and the pipeline stops right after the fetch when the bytes hash
the same (``pipeline.Unchanged``): an unchanged file that was merely touched
costs one read, and its new mtime is remembered (``Touch``).

A ``stale`` stored document (embeddings were enabled, or the model changed,
since it was stored) is parsed again whatever its size, mtime and bytes, so
enabling embeddings on an existing store embeds every document once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from go_doc_go.sources import DocumentRef
from go_doc_go.storage import StoredState


@dataclass(frozen=True, slots=True)
class Admission:
    ref: DocumentRef
    depth: int
    #: The stored content hash, when the document is stored.
    known_hash: str | None
    #: Size and mtime match the stored ones: nothing to read or parse.
    unchanged: bool


def admit(ref: DocumentRef, depth: int, state: StoredState | None) -> Admission:
    if state is None:
        return Admission(ref, depth, None, unchanged=False)
    if state.stale:  # no known hash: the same bytes must not short-cut to Unchanged
        return Admission(ref, depth, None, unchanged=False)
    if state.size == ref.size and state.mtime_ns == ref.mtime_ns:
        return Admission(ref, depth, state.content_hash, unchanged=True)
    return Admission(ref, depth, state.content_hash, unchanged=False)


def new_pass_token() -> str:
    """A single-mode run's pass token (a distributed run uses its run id and pass number)."""
    return "single-" + secrets.token_hex(8)
