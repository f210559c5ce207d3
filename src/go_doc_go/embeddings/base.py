"""The embedding provider protocol, the registry that picks one from the config, and shared helpers.

A provider turns texts into unit-length float32 vectors. Everything else in the
semantic layer (units, storage, search, semantic edges) depends only on this
protocol, so a local model and an HTTP server are interchangeable.

Providers are imported on first use: the core install has no numpy, torch or
onnxruntime, and a provider whose dependency is missing raises
``MissingDependencyError`` with the ``pip install`` line that brings it in,
instead of an ImportError traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from go_doc_go.config import DEFAULT_EMBEDDING_PROVIDER, vector_model
from go_doc_go.exceptions import GoDocGoError

if TYPE_CHECKING:
    import numpy as np

    from go_doc_go.config import EmbeddingConfig

#: What ``embedding: {enabled: true}`` uses when no provider is named (``config.DEFAULT_EMBEDDING_PROVIDER``):
#: the static model, the only one fast enough for ingest at 100+ documents a second on 2 cores.
DEFAULT_PROVIDER = DEFAULT_EMBEDDING_PROVIDER

__all__ = ["DEFAULT_PROVIDER", "PROVIDERS", "EmbeddingError", "EmbeddingProvider", "MissingDependencyError",
           "get_provider", "prepare_provider", "vector_model"]  # fmt: skip

#: Provider name -> "module:class". Modules are imported only when chosen.
PROVIDERS: dict[str, str] = {
    "onnx": "go_doc_go.embeddings.onnx:OnnxProvider",
    "sentence-transformers": "go_doc_go.embeddings.st:SentenceTransformerProvider",
    "model2vec": "go_doc_go.embeddings.static:StaticProvider",
    "openai": "go_doc_go.embeddings.http:OpenAIProvider",
}

#: Characters per token assumed when a window in tokens is turned into characters
#: (English prose is ~4, code ~3; the tokenizer truncates whatever is left over).
CHARS_PER_TOKEN = 4

INSTALL_HINT = "pip install 'go-doc-go[embeddings]'"


class EmbeddingError(GoDocGoError):
    """An embedding provider could not be built or could not embed (bad model, server error...)."""


class MissingDependencyError(EmbeddingError):
    """A provider needs a package that is not installed; the message says how to install it."""


@runtime_checkable
class EmbeddingProvider(Protocol):
    """What the rest of go-doc-go needs of an embedding model.

    ``model`` names the vectors (stored with them: vectors of different models
    are never compared). ``max_tokens`` is the model's input window;
    ``window_chars`` the same window in characters, which the unit builder
    uses so that units never depend on a tokenizer.
    """

    name: str
    model: str
    dimensions: int
    max_tokens: int
    #: How many texts this instance has embedded (re-embedding is counted with it).
    texts_embedded: int

    @property
    def window_chars(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An ``(len(texts), dimensions)`` float32 array, each row of unit L2 norm (zero text: zero row)."""
        ...


def require(module: str, provider: str, extra: str = "embeddings") -> Any:
    """Import ``module`` or raise ``MissingDependencyError`` naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingDependencyError(
            f"embedding provider {provider!r} needs the Python package {module.split('.')[0]!r}, "
            f"which is not installed ({error}); install it with: pip install 'go-doc-go[{extra}]'"
        ) from None


def normalize(vectors: Any) -> np.ndarray:
    """Rows scaled to unit L2 norm as float32; an all-zero row stays zero (no NaN)."""
    np = require("numpy", "any")
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2:
        raise EmbeddingError(f"expected a 2-D array of vectors, got shape {array.shape}")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    return np.ascontiguousarray(array / norms, dtype=np.float32)


def batches(texts: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """Consecutive slices of at most ``size`` texts (the provider's ``batch_size``)."""
    for start in range(0, len(texts), max(1, size)):
        yield texts[start : start + size]


def check_dimensions(provider: str, model: str, native: int, requested: int | None) -> int:
    """The dimensions to report: the model's own, or ``requested`` if the model has exactly that.

    Local models have one output size; a mismatch is a config error caught
    before anything is embedded (vectors of the wrong size would be useless).
    """
    if requested is not None and requested != native:
        raise EmbeddingError(
            f"embedding.dimensions = {requested}, but model {model!r} of provider {provider!r} "
            f"gives {native}-dimensional vectors"
        )
    return native


def empty(dimensions: int) -> np.ndarray:
    np = require("numpy", "any")
    return np.zeros((0, dimensions), dtype=np.float32)


def _provider_module(name: str) -> tuple[Any, str]:
    target = PROVIDERS.get(name)
    if target is None:
        known = ", ".join(sorted(PROVIDERS))
        raise EmbeddingError(f"embedding.provider: unknown provider {name!r} (known: {known})")
    module_name, _, class_name = target.partition(":")
    return importlib.import_module(module_name), class_name


def get_provider(config: EmbeddingConfig, *, threads: int = 0) -> EmbeddingProvider:
    """Build the provider the config names (``embedding.provider``, default ``DEFAULT_PROVIDER``).

    ``threads`` caps the provider's own threads where it has any (0: its default);
    a parser child, one per core, passes 1.
    """
    module, class_name = _provider_module(config.provider or DEFAULT_PROVIDER)
    return getattr(module, class_name).from_config(config, threads=threads)


def prepare_provider(config: EmbeddingConfig) -> None:
    """What must hold before parser children embed: packages installed, one-time model files built.

    A provider module may define ``prepare(config)`` (the static model builds its
    table there, once, under a file lock); otherwise the provider is built once
    here, which checks its packages, files and settings.
    """
    module, _ = _provider_module(config.provider or DEFAULT_PROVIDER)
    prepare = getattr(module, "prepare", None)
    if prepare is not None:
        prepare(config)
    else:
        get_provider(config, threads=1)
