"""The OpenAI-compatible provider against a real HTTP server started by the test (no client mocks)."""

from __future__ import annotations

import socket

import pytest

from go_doc_go.config import EmbeddingConfig
from go_doc_go.embeddings import EmbeddingError, get_provider

from .conftest import fake_vector

np = pytest.importorskip("numpy")


def _provider(server, monkeypatch, **settings):
    monkeypatch.setenv("GDG_TEST_EMBED_URL", server.base_url)
    monkeypatch.setenv("GDG_TEST_EMBED_KEY", "sk-test")
    config = EmbeddingConfig(enabled=True, provider="openai", base_url_env="GDG_TEST_EMBED_URL",
                             api_key_env="GDG_TEST_EMBED_KEY", **settings)  # fmt: skip
    provider = get_provider(config)
    provider.backoff_base = 0.001  # keep retry tests fast; the schedule itself is the same code
    return provider


def test_embeds_in_batches_in_order_normalised(embedding_server, monkeypatch):
    embedding_server.state.api_key = "sk-test"
    provider = _provider(embedding_server, monkeypatch, model="test-model", batch_size=3)
    texts = [f"text number {i}" for i in range(7)]
    vectors = provider.embed(texts)
    assert vectors.shape == (7, 8) and vectors.dtype == np.float32 and provider.dimensions == 8
    assert [len(b) for b in embedding_server.state.batches] == [3, 3, 1]
    expected = np.asarray([fake_vector(t) for t in texts], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(vectors, expected, atol=1e-6)  # the server answers in reverse: index order restored
    assert set(embedding_server.state.authorizations) == {"Bearer sk-test"}
    assert embedding_server.state.bodies[0]["model"] == "test-model"


def test_retries_429_and_5xx_then_succeeds(embedding_server, monkeypatch):
    embedding_server.state.failures = [429, 503, 500]
    provider = _provider(embedding_server, monkeypatch, max_retries=3)
    assert provider.embed(["a", "b"]).shape == (2, 8)
    assert embedding_server.state.requests == 4 and provider.requests == 4


def test_honours_retry_after(embedding_server, monkeypatch):
    import time

    embedding_server.state.failures = [429]
    embedding_server.state.retry_after = "0.3"
    provider = _provider(embedding_server, monkeypatch)
    start = time.perf_counter()
    provider.embed(["a"])
    assert time.perf_counter() - start >= 0.3


def test_gives_up_after_max_retries_with_the_servers_message(embedding_server, monkeypatch):
    embedding_server.state.failures = [503] * 10
    provider = _provider(embedding_server, monkeypatch, max_retries=2)
    with pytest.raises(EmbeddingError) as error:
        provider.embed(["a"])
    assert "HTTP 503" in str(error.value) and "simulated 503" in str(error.value) and "3 attempts" in str(error.value)
    assert embedding_server.state.requests == 3


def test_a_client_error_is_not_retried(embedding_server, monkeypatch):
    embedding_server.state.api_key = "sk-other"
    provider = _provider(embedding_server, monkeypatch, max_retries=5)
    with pytest.raises(EmbeddingError, match="HTTP 401: Incorrect API key provided"):
        provider.embed(["a"])
    assert embedding_server.state.requests == 1


def test_dimensions_are_sent_and_checked(embedding_server, monkeypatch):
    provider = _provider(embedding_server, monkeypatch, dimensions=16)
    with pytest.raises(EmbeddingError, match="returned 8-dimensional vectors, expected 16"):
        provider.embed(["a"])
    assert embedding_server.state.bodies[0]["dimensions"] == 16


def test_an_unreachable_server_is_a_clear_error(monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("GDG_TEST_EMBED_URL", f"http://127.0.0.1:{port}/v1")
    provider = get_provider(EmbeddingConfig(enabled=True, provider="openai", base_url_env="GDG_TEST_EMBED_URL",
                                            max_retries=1))  # fmt: skip
    provider.backoff_base = 0.001
    with pytest.raises(EmbeddingError, match=f"cannot reach http://127.0.0.1:{port}/v1/embeddings"):
        provider.embed(["a"])


def test_the_base_url_must_be_in_the_environment(monkeypatch):
    monkeypatch.delenv("GDG_TEST_EMBED_URL", raising=False)
    with pytest.raises(EmbeddingError, match="GDG_TEST_EMBED_URL"):
        get_provider(EmbeddingConfig(enabled=True, provider="openai", base_url_env="GDG_TEST_EMBED_URL"))


def test_the_key_never_shows(embedding_server, monkeypatch):
    provider = _provider(embedding_server, monkeypatch)
    assert "sk-test" not in repr(provider) and "sk-test" not in repr(vars(provider).get("url"))
