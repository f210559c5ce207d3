"""The provider registry, the config keys, and the protocol as the static provider implements it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from go_doc_go.config import EmbeddingConfig, config_from_dict, run_snapshot
from go_doc_go.embeddings import DEFAULT_PROVIDER, EmbeddingError, EmbeddingProvider, MissingDependencyError
from go_doc_go.embeddings.base import check_dimensions, get_provider, require
from go_doc_go.exceptions import ConfigError


def test_enabled_alone_selects_the_offline_default():
    config = config_from_dict({"embedding": {"enabled": True}})
    assert config.embedding.provider is None and config.embedding.model is None
    assert config.embedding.batch_size == 64
    assert DEFAULT_PROVIDER == "model2vec"


def test_an_unknown_provider_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError) as error:
        config_from_dict({"embedding": {"enabled": True, "provider": "word2vec"}})
    assert "embedding.provider" in str(error.value)


def test_batch_size_and_dimensions_are_validated():
    with pytest.raises(ConfigError) as error:
        config_from_dict({"embedding": {"batch_size": 0, "dimensions": -3}})
    assert "embedding.batch_size" in str(error.value) and "embedding.dimensions" in str(error.value)


def test_a_missing_package_names_the_extra_not_an_import_traceback():
    with pytest.raises(MissingDependencyError) as error:
        require("go_doc_go_no_such_package", "onnx")
    message = str(error.value)
    assert "pip install 'go-doc-go[embeddings]'" in message and "go_doc_go_no_such_package" in message


def test_dimensions_are_checked_against_the_model():
    assert check_dimensions("onnx", "m", 384, None) == 384
    assert check_dimensions("onnx", "m", 384, 384) == 384
    with pytest.raises(EmbeddingError, match="embedding.dimensions = 256"):
        check_dimensions("onnx", "m", 384, 256)


def test_the_snapshot_holds_no_endpoint_and_no_key(monkeypatch):
    monkeypatch.setenv("GO_DOC_GO_EMBEDDING_API_KEY", "sk-secret-value")
    monkeypatch.setenv("GO_DOC_GO_EMBEDDING_BASE_URL", "http://user:pw@127.0.0.1:9/v1")
    config = config_from_dict({"embedding": {"enabled": True, "provider": "openai"}})
    text = repr(run_snapshot(config))
    assert "sk-secret-value" not in text and "pw@" not in text and "127.0.0.1" not in text


def test_importing_embeddings_loads_no_numerical_library():
    code = ("import sys, go_doc_go.embeddings, go_doc_go.embeddings.units, go_doc_go.embeddings.search; "
            "print(' '.join(sorted(sys.modules)))")  # fmt: skip
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert not {"numpy", "onnxruntime", "tokenizers", "torch"} & loaded


# ---------------------------------------------------------------- the protocol, on a real static model


@pytest.fixture
def static(tiny_static_model):
    pytest.importorskip("numpy")
    config = EmbeddingConfig(enabled=True, provider="model2vec", model=str(tiny_static_model), batch_size=2)
    return get_provider(config)


def test_static_provider_satisfies_the_protocol(static):
    import numpy as np

    assert isinstance(static, EmbeddingProvider)
    assert static.name == "model2vec" and static.dimensions == 4 and static.window_chars > 0
    vectors = static.embed(["tide gauge", "sugar cake", "harbor tide gauge", "cake"])
    assert vectors.shape == (4, 4) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    similar, unrelated = float(vectors[0] @ vectors[2]), float(vectors[0] @ vectors[1])
    assert similar > 0.9 > unrelated


def test_batching_and_repetition_do_not_change_vectors(static, tiny_static_model):
    import numpy as np

    texts = ["tide", "gauge harbor", "cake sugar sugar", "TIDE gauge", "harbor"]
    one_batch = get_provider(EmbeddingConfig(enabled=True, provider="model2vec", model=str(tiny_static_model),
                                             batch_size=1000)).embed(texts)  # fmt: skip
    assert np.array_equal(static.embed(texts), one_batch)  # batch_size 2 vs 1000
    assert np.array_equal(static.embed(texts), static.embed(texts))


def test_empty_input_and_empty_text(static):
    import numpy as np

    assert static.embed([]).shape == (0, 4)
    vectors = static.embed(["", "tide"])
    assert np.all(vectors[0] == 0) and np.isclose(np.linalg.norm(vectors[1]), 1.0)


def test_a_wrong_dimensions_setting_fails_before_embedding(tiny_static_model):
    pytest.importorskip("numpy")
    config = EmbeddingConfig(enabled=True, provider="model2vec", model=str(tiny_static_model), dimensions=384)
    with pytest.raises(EmbeddingError, match="gives 4-dimensional vectors"):
        get_provider(config)


def test_an_unknown_model_is_named(tmp_path):
    pytest.importorskip("numpy")
    pytest.importorskip("tokenizers")
    with pytest.raises(EmbeddingError, match="embedding.model"):
        get_provider(EmbeddingConfig(enabled=True, provider="model2vec", model=str(tmp_path / "nothing")))
