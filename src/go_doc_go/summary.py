"""What a run reports, in either mode: ``IngestSummary`` and ``Progress``.

Plain data, so single mode (``ingest``) and distributed mode
(``distributed.local``) return the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from go_doc_go.sources import SkippedPath


@dataclass(slots=True)
class FailureRecord:
    source: str
    path: str
    doc_id: str
    stage: str
    cause: str
    #: ``retryable`` or ``permanent`` (decided by the exception type).
    kind: str = "permanent"


@dataclass(slots=True)
class IngestSummary:
    processed: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    skipped: int = 0
    #: Links between documents of a source, over the whole store after this run (``LinkCounts``).
    links_resolved: int = 0
    links_unresolved: int = 0
    anchors_missing: int = 0
    bytes_processed: int = 0
    #: Retrieval units embedded by this run, and units whose stored vector was reused (single mode).
    units_embedded: int = 0
    units_reused: int = 0
    #: Semantic edges written or removed by post-processing (single mode).
    semantic_edges_changed: int = 0
    seconds: float = 0.0
    jobs: int = 1
    failures: list[FailureRecord] = field(default_factory=list)
    skipped_paths: list[SkippedPath] = field(default_factory=list)
    #: Things the user should know that are not failures (a source that moved, say).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["docs_per_second"] = round(self.processed / self.seconds, 1) if self.seconds else 0.0
        return data


@dataclass(frozen=True, slots=True)
class Progress:
    """Sent after every finished document.

    ``total`` is exact once ``total_known``: a background count of the listing
    finished (or discovery did). Until then it is what has been discovered so far.
    """

    done: int
    total: int
    total_known: bool
    processed: int
    failed: int


ProgressCallback = Callable[[Progress], None]
