"""An OpenAI-compatible HTTP provider: ``POST {base_url}/embeddings`` with the standard library.

For users with an embedding server (OpenAI, vLLM, Ollama, text-embeddings-inference,
LiteLLM...). The base URL (e.g. ``http://127.0.0.1:8000/v1``) and the API key are
read from the environment variables the config names (``embedding.base_url_env``,
``embedding.api_key_env``), so neither is ever written into the config snapshot,
a log or the queue. No dependency: ``urllib`` is enough for one JSON POST.

Requests carry ``batch_size`` texts. A 429 or 5xx answer, or a connection error,
is retried ``max_retries`` times with exponential backoff and jitter (a
``Retry-After`` header is honoured, capped at 60 s); any other error fails at
once with the server's message. Vectors come back in ``index`` order,
normalised (some servers do not normalise).
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from go_doc_go.config import DEFAULT_EMBEDDING_MODELS
from go_doc_go.embeddings.base import CHARS_PER_TOKEN, EmbeddingError, batches, empty, normalize, require

if TYPE_CHECKING:
    import numpy as np

    from go_doc_go.config import EmbeddingConfig

NAME = "openai"
DEFAULT_MODEL = DEFAULT_EMBEDDING_MODELS["openai"]
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0


class EmbeddingServerError(EmbeddingError):
    """The server refused or failed a request (after the retries, for retryable answers)."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class OpenAIProvider:
    name = NAME

    def __init__(
        self,
        base_url: str,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        batch_size: int = 64,
        dimensions: int | None = None,
        window_chars: int | None = None,
        max_tokens: int = 8191,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff_base: float = BACKOFF_BASE,
    ) -> None:
        require("numpy", NAME)
        if not base_url.startswith(("http://", "https://")):
            raise EmbeddingError(f"the embedding server's base URL must start with http:// or https://: {base_url!r}")
        self.url = base_url.rstrip("/") + "/embeddings"
        self.model = model
        self.texts_embedded = 0
        self._key = api_key
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self._requested_dimensions = dimensions
        self.dimensions = dimensions or 0  # known after the first answer when not configured
        self._window = window_chars
        self.requests = 0  # HTTP requests sent, retries included (for tests and logs)

    @classmethod
    def from_config(cls, config: EmbeddingConfig, **_: object) -> OpenAIProvider:
        base_url = os.environ.get(config.base_url_env)
        if not base_url:
            raise EmbeddingError(
                f"embedding.provider 'openai' needs the server's base URL in the environment variable "
                f"{config.base_url_env} (embedding.base_url_env), e.g. http://127.0.0.1:8000/v1"
            )
        return cls(base_url, model=config.model or DEFAULT_MODEL, api_key=os.environ.get(config.api_key_env),
                   batch_size=config.batch_size, dimensions=config.dimensions, window_chars=config.window_chars,
                   timeout=config.timeout, max_retries=config.max_retries)  # fmt: skip

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIProvider(url={self.url!r}, model={self.model!r})"

    @property
    def window_chars(self) -> int:
        return self._window or min(self.max_tokens, 512) * CHARS_PER_TOKEN

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        np = require("numpy", NAME)
        if not texts:
            return empty(self.dimensions)
        self.texts_embedded += len(texts)
        parts = [self._embed_batch(list(chunk)) for chunk in batches(texts, self.batch_size)]
        return normalize(np.concatenate(parts, axis=0))

    def _embed_batch(self, texts: list[str]) -> Any:
        np = require("numpy", NAME)
        body: dict[str, Any] = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self._requested_dimensions:
            body["dimensions"] = self._requested_dimensions
        answer = self._post(json.dumps(body).encode("utf-8"))
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list) or len(data) != len(texts):
            got = len(data) if isinstance(data, list) else "no"
            raise EmbeddingServerError(f"{self.url}: expected {len(texts)} embeddings in 'data', got {got}")
        try:
            rows = sorted(data, key=lambda item: item["index"])
            vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as error:
            raise EmbeddingServerError(f"{self.url}: malformed embeddings in the answer ({error})") from None
        if vectors.ndim != 2:
            raise EmbeddingServerError(f"{self.url}: embeddings of different lengths in one answer")
        width = vectors.shape[1]
        if self.dimensions and width != self.dimensions:
            raise EmbeddingServerError(
                f"{self.url}: model {self.model!r} returned {width}-dimensional vectors, expected {self.dimensions}"
                + (" (embedding.dimensions)" if self._requested_dimensions else "")
            )
        self.dimensions = width
        return vectors

    def _post(self, payload: bytes) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        attempt = 0
        while True:
            self.requests += 1
            request = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as error:
                detail = _error_detail(error)
                retryable = error.code in RETRY_STATUS
                failure = EmbeddingServerError(f"{self.url} answered HTTP {error.code}: {detail}",
                                               status=error.code, retryable=retryable)  # fmt: skip
                delay = _retry_after(error.headers.get("Retry-After"))
            except (urllib.error.URLError, socket.timeout, ConnectionError, TimeoutError) as error:
                reason = getattr(error, "reason", error)
                failure = EmbeddingServerError(f"cannot reach {self.url}: {reason}", retryable=True)
                delay = None
            except json.JSONDecodeError:
                raise EmbeddingServerError(f"{self.url} answered with something that is not JSON") from None
            if not failure.retryable or attempt >= self.max_retries:
                if failure.retryable:
                    failure.args = (f"{failure.args[0]} (gave up after {attempt + 1} attempts)",)
                raise failure
            time.sleep(delay if delay is not None else _backoff(attempt, self.backoff_base))
            attempt += 1


def _backoff(attempt: int, base: float) -> float:
    return min(BACKOFF_MAX, base * 2**attempt) * (0.5 + random.random() / 2)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(60.0, max(0.0, float(value)))
    except ValueError:
        return None


def _error_detail(error: urllib.error.HTTPError) -> str:
    """The server's own message (OpenAI puts it in ``error.message``), shortened."""
    try:
        raw = error.read()[:4096]
    except OSError:
        return error.reason or "no detail"
    try:
        parsed = json.loads(raw)
        message = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
        if isinstance(message, dict):
            message = message.get("message", message)
        return str(message)[:300]
    except (ValueError, AttributeError):
        return raw.decode("utf-8", "replace")[:300] or str(error.reason)
