"""Stored vectors as numpy arrays, the same on both engines (imported only where vectors are read).

``embeddings.vector`` holds little-endian float32 bytes (``embeddings.search.to_blob``)
on SQLite and PostgreSQL alike, so reading a block of rows is one
``frombuffer`` over their joined bytes. With pgvector the PostgreSQL store also
writes the ``embedding vector`` column from the same bytes (``pgvector_text``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from go_doc_go.exceptions import StorageError


@dataclass(slots=True)
class VectorRows:
    """Rows of ``embeddings``: parallel lists and an ``(n, dimensions)`` float32 matrix (unit rows)."""

    element_ids: list[str]
    chunks: list[int]
    doc_ids: list[str]
    matrix: Any

    def __len__(self) -> int:
        return len(self.element_ids)

    @property
    def keys(self) -> list[tuple[str, int]]:
        return list(zip(self.element_ids, self.chunks, strict=True))


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise StorageError(
            "reading stored vectors needs numpy; install it with: pip install 'go-doc-go[embeddings]'"
        ) from None
    return numpy


def vector_rows(rows: Sequence[tuple[str, int, str, bytes]], dimensions: int | None = None) -> VectorRows:
    """``(element_id, chunk, doc_id, vector bytes)`` rows as a ``VectorRows``."""
    np = _numpy()
    if not rows:
        return VectorRows([], [], [], np.zeros((0, dimensions or 0), dtype=np.float32))
    blobs = [bytes(row[3]) for row in rows]
    width = len(blobs[0]) // 4
    if any(len(blob) != width * 4 for blob in blobs):
        raise StorageError("stored vectors of one model have different sizes")
    matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), width).astype(np.float32)
    return VectorRows([r[0] for r in rows], [int(r[1]) for r in rows], [r[2] for r in rows], matrix)


def concatenate(parts: Sequence[VectorRows]) -> VectorRows:
    np = _numpy()
    parts = [p for p in parts if len(p)]
    if not parts:
        return VectorRows([], [], [], np.zeros((0, 0), dtype=np.float32))
    return VectorRows(
        [e for p in parts for e in p.element_ids],
        [c for p in parts for c in p.chunks],
        [d for p in parts for d in p.doc_ids],
        np.concatenate([p.matrix for p in parts], axis=0),
    )


def pgvector_text(blob: bytes) -> str:
    """pgvector's text form (``[0.1,0.2,...]``) of stored float32 bytes, exact (9 significant digits)."""
    np = _numpy()
    values = np.frombuffer(blob, dtype="<f4").tolist()
    return "[" + ",".join(["%.9g"] * len(values)) % tuple(values) + "]"
