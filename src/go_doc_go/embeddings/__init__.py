"""Embeddings: providers behind one protocol, retrieval units, vector search helpers.

Importing this package loads no numerical library: numpy, onnxruntime,
tokenizers or torch load only when a provider is built (``get_provider``).
"""

from go_doc_go.embeddings.base import (
    DEFAULT_PROVIDER,
    PROVIDERS,
    EmbeddingError,
    EmbeddingProvider,
    MissingDependencyError,
    get_provider,
)

__all__ = [
    "DEFAULT_PROVIDER",
    "PROVIDERS",
    "EmbeddingError",
    "EmbeddingProvider",
    "MissingDependencyError",
    "get_provider",
]
