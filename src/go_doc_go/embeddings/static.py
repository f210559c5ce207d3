"""Static embeddings (model2vec style): one vector per vocabulary token, a text is their mean.

No transformer runs at embedding time: a text costs a tokenization and a
table look-up, so this provider embeds thousands of units a second on one
core, where a 6-layer transformer does about twenty (docs/embeddings.md).
It is the offline default (``embedding: {enabled: true}``).

Models (``embedding.model``):

* ``minilm-distilled`` (default): distilled here, once, from all-MiniLM-L6-v2
  (the int8 ONNX model the ``onnx`` provider runs) with the model2vec recipe:
  every vocabulary token is embedded in context ``[CLS] token [SEP]`` with
  mean pooling, the table is reduced to 256 dimensions by PCA, and rows are
  weighted by SIF on a Zipf estimate of token frequency (the vocabulary is in
  frequency order). The table is written to the cache folder
  (``embedding.cache_dir``, else ``GO_DOC_GO_CACHE``, else
  ``$XDG_CACHE_HOME/go-doc-go``, else ``~/.cache/go-doc-go``) by
  ``models.build_once`` (a file lock: processes starting together distil it
  once) and reused; building it takes about 45 s of CPU, announced by a log
  warning. Nothing is downloaded and nothing is vendored;
* a model2vec folder (``model.safetensors`` with an ``embeddings`` tensor and
  ``tokenizer.json``), e.g. one saved by ``model2vec``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from go_doc_go.config import DEFAULT_EMBEDDING_MODELS, EMBEDDING_MODEL_REVISIONS
from go_doc_go.embeddings.base import EmbeddingError, check_dimensions, empty, require
from go_doc_go.embeddings.models import MINILM_TOKENIZER, build_once, cache_dir, first_available

if TYPE_CHECKING:
    import numpy as np

    from go_doc_go.config import EmbeddingConfig

NAME = "model2vec"
DEFAULT_MODEL = DEFAULT_EMBEDDING_MODELS["model2vec"]
#: Bumped whenever the distillation recipe changes (it names the cached table).
#: Part of the stored model name (``config.vector_model``): a new recipe makes new vectors.
RECIPE = EMBEDDING_MODEL_REVISIONS[(NAME, DEFAULT_MODEL)]
PCA_DIMS = 256
SIF = 1e-4
#: Static models have no attention window; long texts only blur the mean, so units stay this size.
WINDOW_CHARS = 2000
MAX_TOKENS = 512


class StaticProvider:
    name = NAME

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 1024, dimensions: int | None = None,
                 window_chars: int | None = None, cache: str | None = None) -> None:  # fmt: skip
        np = require("numpy", NAME)
        tokenizers = require("tokenizers", NAME)
        self.model = model
        self.batch_size = batch_size
        self.max_tokens = MAX_TOKENS
        #: Texts embedded by this instance (tests count re-embedding with it).
        self.texts_embedded = 0
        table, tokenizer_json = _load(model, cache)
        self.table = np.ascontiguousarray(table, dtype=np.float32)
        self.tokenizer = tokenizers.Tokenizer.from_str(tokenizer_json)
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.dimensions = check_dimensions(NAME, model, int(self.table.shape[1]), dimensions)
        self._window = window_chars

    @classmethod
    def from_config(cls, config: EmbeddingConfig, **_: object) -> StaticProvider:
        return cls(config.model or DEFAULT_MODEL, batch_size=max(config.batch_size, 1),
                   dimensions=config.dimensions, window_chars=config.window_chars,
                   cache=config.cache_dir)  # fmt: skip

    @property
    def window_chars(self) -> int:
        return self._window or WINDOW_CHARS

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        np = require("numpy", NAME)
        if not texts:
            return empty(self.dimensions)
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            encodings = self.tokenizer.encode_batch(batch, add_special_tokens=False)
            for row, encoding in enumerate(encodings):
                ids = encoding.ids[: self.max_tokens * 8]
                if ids:
                    out[start + row] = self.table[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


# ---------------------------------------------------------------- loading and distilling


def prepare(config: EmbeddingConfig) -> None:
    """Before parser children start: the packages are there and the distilled table is built (once)."""
    require("numpy", NAME)
    require("tokenizers", NAME)
    model = config.model or DEFAULT_MODEL
    if model == DEFAULT_MODEL:
        tokenizer_json = first_available(MINILM_TOKENIZER, "the all-MiniLM-L6-v2 tokenizer", NAME).decode("utf-8")
        ensure_distilled(tokenizer_json, cache_dir(config.cache_dir) / "static")
    else:
        _load(model)  # a model2vec folder: check it now rather than in every child


def _load(model: str, cache: str | None = None) -> tuple[Any, str]:
    if model == DEFAULT_MODEL:
        tokenizer_json = first_available(MINILM_TOKENIZER, "the all-MiniLM-L6-v2 tokenizer", NAME).decode("utf-8")
        return distilled_table(tokenizer_json, folder=cache_dir(cache) / "static"), tokenizer_json
    folder = Path(model)
    if folder.is_dir() and (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file():
        return _read_safetensors(folder / "model.safetensors"), (folder / "tokenizer.json").read_text("utf-8")
    raise EmbeddingError(
        f"embedding.model: {model!r} is not a model of provider {NAME!r} "
        f"(known: {DEFAULT_MODEL}, or a model2vec folder with model.safetensors and tokenizer.json)"
    )


def _read_safetensors(path: Path) -> Any:
    """The first 2-D tensor of a safetensors file (model2vec's ``embeddings``), with numpy alone."""
    np = require("numpy", NAME)
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    dtypes = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}
    for name in ["embeddings", *sorted(k for k in header if k != "__metadata__")]:
        info = header.get(name)
        if not info or info.get("dtype") not in dtypes or len(info["shape"]) != 2:
            continue
        begin, end = info["data_offsets"]
        raw = data[8 + size + begin : 8 + size + end]
        return np.frombuffer(raw, dtype=dtypes[info["dtype"]]).reshape(info["shape"]).astype(np.float32)
    raise EmbeddingError(f"{path} holds no 2-D float tensor to use as a static embedding table")


def distilled_path(tokenizer_json: str, folder: Path) -> Path:
    """The cache file of the distilled table (named by the recipe, the source model and the tokenizer)."""
    from go_doc_go.embeddings.onnx import DEFAULT_MODEL as ONNX_MODEL

    key = hashlib.sha256(f"{RECIPE}\0{ONNX_MODEL}\0{tokenizer_json}".encode()).hexdigest()[:16]
    return folder / f"minilm-distilled-{key}.npy"


def ensure_distilled(tokenizer_json: str, folder: Path) -> Path:
    """The cache file of the distilled table, built now if missing (once, under a lock: ``models.build_once``)."""
    np = require("numpy", NAME)

    def build(partial: Path) -> None:
        table = distill(tokenizer_json)
        with open(partial, "wb") as out:
            np.save(out, table, allow_pickle=False)

    return build_once(distilled_path(tokenizer_json, folder), build, what="the static embedding model",
                      expected="~45 s of CPU")  # fmt: skip


def distilled_table(tokenizer_json: str, *, folder: Path | None = None) -> Any:
    """The distilled token table, from the cache or built now."""
    np = require("numpy", NAME)
    folder = folder or cache_dir() / "static"
    for attempt in range(2):
        target = ensure_distilled(tokenizer_json, folder)
        try:
            return np.load(target, allow_pickle=False)
        except (OSError, ValueError):
            if attempt:
                raise
            target.unlink(missing_ok=True)  # a damaged cache file is rebuilt
    raise AssertionError("unreachable")


def distill(tokenizer_json: str, *, threads: int = 0) -> Any:
    """Embed every vocabulary token with the ONNX MiniLM, then PCA to 256 and SIF weighting."""
    np = require("numpy", NAME)
    from go_doc_go.embeddings.onnx import OnnxProvider

    encoder = OnnxProvider(threads=threads)
    vocab: dict[str, int] = json.loads(tokenizer_json)["model"]["vocab"]
    size = max(vocab.values()) + 1
    special = {vocab.get(t) for t in ("[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]")}
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    keep = [i for t, i in sorted(vocab.items(), key=lambda kv: kv[1])
            if i not in special and not t.startswith("[unused")]  # fmt: skip
    hidden = np.zeros((size, encoder.dimensions), dtype=np.float32)
    for start in range(0, len(keep), 2048):
        ids_list = keep[start : start + 2048]
        ids = np.asarray([[cls_id, i, sep_id] for i in ids_list], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        out = encoder.session.run(None, {k: v for k, v in feed.items() if k in encoder._inputs})[0]
        hidden[ids_list] = out.mean(axis=1)
    rows = np.asarray(keep)
    table = np.zeros((size, PCA_DIMS), dtype=np.float32)
    table[rows] = _pca(hidden[rows], PCA_DIMS)
    rank = np.arange(size, dtype=np.float64) + 2  # ids are in frequency order: Zipf's law by rank
    proba = (1.0 / rank) / np.sum(1.0 / rank)
    table *= (SIF / (SIF + proba)).astype(np.float32)[:, None]
    return table


def _pca(x: Any, dims: int) -> Any:
    """Principal components by eigendecomposition of the covariance, signs fixed (deterministic)."""
    np = require("numpy", NAME)
    data = x.astype(np.float64)
    centred = data - data.mean(axis=0)
    eigvals, eigvecs = np.linalg.eigh(centred.T @ centred / max(1, len(data) - 1))
    components = eigvecs[:, ::-1][:, :dims]
    scores = centred @ components
    signs = np.sign(scores[np.argmax(np.abs(scores), axis=0), np.arange(scores.shape[1])])
    return (scores * signs).astype(np.float32)
