"""Fixtures of the embedding tests: a real local OpenAI-compatible server, a tiny static model on disk."""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DIMENSIONS = 8


def fake_vector(text: str) -> list[float]:
    """A deterministic, unnormalised vector for ``text`` (what the test server answers)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [(b - 127.5) / 10 for b in digest[:DIMENSIONS]]


@dataclass
class ServerState:
    """What the test server does and what it saw."""

    api_key: str | None = None
    #: Statuses to answer, in order, before answering normally (e.g. [429, 503]).
    failures: list[int] = field(default_factory=list)
    retry_after: str | None = None
    batches: list[list[str]] = field(default_factory=list)
    requests: int = 0
    authorizations: list[str | None] = field(default_factory=list)
    bodies: list[dict] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    state: ServerState

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        state = self.server.state  # type: ignore[attr-defined]
        state.requests += 1
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length))
        state.authorizations.append(self.headers.get("Authorization"))
        state.bodies.append(request)
        if self.path != "/v1/embeddings":
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        if state.api_key is not None and self.headers.get("Authorization") != f"Bearer {state.api_key}":
            self._send(401, {"error": {"message": "Incorrect API key provided"}})
            return
        if state.failures:
            status = state.failures.pop(0)
            headers = {"Retry-After": state.retry_after} if state.retry_after else None
            self._send(status, {"error": {"message": f"simulated {status}"}}, headers)
            return
        texts = request["input"]
        if not isinstance(texts, list) or not texts:
            self._send(400, {"error": {"message": "'input' must be a non-empty list"}})
            return
        state.batches.append(texts)
        # Answer in reverse order: clients must sort by "index".
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(t)} for i, t in enumerate(texts)]
        self._send(200, {"object": "list", "data": data[::-1], "model": request.get("model")})


@dataclass
class RunningServer:
    base_url: str
    state: ServerState


@pytest.fixture
def embedding_server() -> Iterator[RunningServer]:
    """A real HTTP server on a free loopback port, implementing ``POST /v1/embeddings``."""
    state = ServerState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield RunningServer(f"http://127.0.0.1:{server.server_address[1]}/v1", state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def write_safetensors(path: Path, name: str, rows: list[list[float]]) -> None:
    """A minimal safetensors file holding one float32 matrix (the format is a JSON header + raw data)."""
    data = b"".join(struct.pack("<%df" % len(r), *r) for r in rows)
    header = json.dumps({name: {"dtype": "F32", "shape": [len(rows), len(rows[0])],
                                "data_offsets": [0, len(data)]}}).encode()  # fmt: skip
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


@pytest.fixture
def tiny_static_model(tmp_path: Path) -> Path:
    """A model2vec-style folder: a word-level tokenizer and a 6 x 4 embedding table."""
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {"[UNK]": 0, "tide": 1, "gauge": 2, "harbor": 3, "cake": 4, "sugar": 5}
    tokenizer = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer.normalizer = tokenizers.normalizers.Lowercase()
    folder = tmp_path / "tiny-m2v"
    folder.mkdir()
    tokenizer.save(str(folder / "tokenizer.json"))
    table = [[0, 0, 0, 0], [1, 0.2, 0, 0], [0.9, 0.3, 0, 0], [0.8, 0, 0.3, 0], [0, 0, 0.1, 1], [0, 0.1, 0, 0.9]]
    write_safetensors(folder / "model.safetensors", "embeddings", table)
    return folder
