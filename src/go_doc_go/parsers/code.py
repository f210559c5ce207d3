"""Source code and build files: one ``code_block`` per blank-line separated block.

Code is its own document type (``code``) so it can be told apart from prose,
and is read like text: the blocks are the runs of non-blank lines (functions,
classes, rule groups usually), each with its 1-based line range, verbatim.
The language comes from the file name (``LANGUAGES``, ``NAMES``) and is in
``metadata["language"]`` of the document and of every block. No syntax is
parsed, so code never fails to parse (only the element budget can stop it).
"""

from __future__ import annotations

import posixpath

from go_doc_go.model import ElementType, ParseResult
from go_doc_go.parsers.base import ParseInput, guarded
from go_doc_go.parsers.text import blocks

#: Extension -> language. ``sources.detect`` maps each of these to ``code``.
LANGUAGES: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python", ".pyx": "cython",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".ksh": "shell", ".fish": "fish",
    ".ps1": "powershell", ".bat": "batch", ".cmd": "batch",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".hh": "cpp", ".hxx": "cpp", ".m": "objective-c", ".mm": "objective-cpp",
    ".cs": "csharp", ".fs": "fsharp", ".vb": "vbnet",
    ".rs": "rust", ".go": "go", ".java": "java", ".kt": "kotlin", ".kts": "kotlin",
    ".scala": "scala", ".groovy": "groovy", ".gradle": "groovy", ".clj": "clojure",
    ".rb": "ruby", ".php": "php", ".pl": "perl", ".pm": "perl", ".lua": "lua",
    ".r": "r", ".jl": "julia", ".swift": "swift", ".dart": "dart", ".zig": "zig",
    ".hs": "haskell", ".ml": "ocaml", ".mli": "ocaml", ".ex": "elixir", ".exs": "elixir",
    ".erl": "erlang", ".el": "emacs-lisp", ".lisp": "lisp", ".scm": "scheme", ".vim": "vim",
    ".sql": "sql", ".css": "css", ".scss": "scss", ".sass": "sass", ".less": "less",
    ".vue": "vue", ".svelte": "svelte", ".tf": "terraform", ".hcl": "hcl",
    ".proto": "protobuf", ".graphql": "graphql", ".gql": "graphql",
    ".cmake": "cmake", ".mk": "make", ".dockerfile": "dockerfile", ".nix": "nix",
    ".asm": "assembly", ".s": "assembly",
}  # fmt: skip

#: Lower-cased file name -> language, for build files without an extension.
NAMES: dict[str, str] = {
    "makefile": "make", "gnumakefile": "make", "justfile": "just",
    "dockerfile": "dockerfile", "containerfile": "dockerfile",
    "jenkinsfile": "groovy", "vagrantfile": "ruby", "gemfile": "ruby", "rakefile": "ruby",
    "podfile": "ruby", "brewfile": "ruby", "cmakelists.txt": "cmake",
}  # fmt: skip

#: Name prefixes: ``Dockerfile.dev``, ``Makefile.am``.
PREFIXES: dict[str, str] = {"dockerfile.": "dockerfile", "makefile.": "make", "containerfile.": "dockerfile"}


def language_of(path: str) -> str | None:
    name = posixpath.basename(path).lower()
    if name in NAMES:
        return NAMES[name]
    for prefix, language in PREFIXES.items():
        if name.startswith(prefix):
            return language
    return LANGUAGES.get(posixpath.splitext(name)[1])


def parse(doc: ParseInput) -> ParseResult:
    return guarded("code", _parse, doc)


def _parse(doc: ParseInput) -> ParseResult:
    language = language_of(doc.path)
    meta = {"language": language} if language else None
    result = ParseResult(root=blocks(doc, ElementType.CODE_BLOCK, meta))
    if language:
        result.metadata["language"] = language
    return result
