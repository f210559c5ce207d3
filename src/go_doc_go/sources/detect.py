"""Document type detection: the file name first, then a look at the content.

Rules, first match wins:

1. **Well-known file names** (``NAMES``, lower-cased): ``Makefile`` and
   ``Dockerfile`` are ``code``, ``.editorconfig`` and ``pylintrc`` are ``ini``,
   ``Pipfile`` is ``toml``, ``.gitignore``-style files and ``LICENSE`` are
   ``text``... Names starting with ``Dockerfile.``/``Makefile.`` are ``code``;
   any dotfile ending in ``ignore`` is ``text``.
2. **Extensions** (``EXTENSIONS``, case-insensitive): Markdown, HTML, text,
   CSV/TSV, JSON (``.jsonc``, ``.ipynb``...), XML, YAML, TOML, INI
   (``.ini``, ``.cfg``, ``.conf``, ``.properties``...) and source code
   (``code``: ``.py``, ``.sh``, ``.js``, ``.ts``, ``.c``, ``.h``, ``.rs``,
   ``.go``, ``.java``, ``.rb``... the list is ``parsers.code.LANGUAGES``).
   Known binary extensions (images, archives, executables) are not
   ingested and not read. PDF, DOCX, PPTX and XLSX (``DOCUMENT_FORMATS``)
   are parsed when their libraries are installed (the ``formats`` extra);
   without them their files are skipped, and ``missing_extra`` gives the
   skip reason that names the extra.
3. **Sniffing**, only for other files (``sniff_type`` on the first 4 KB; the
   reference is then marked ``sniffed``, and if the guessed type's parser
   fails the pipeline stores the document as text instead):

   * zero bytes no text encoding explains, or mostly control characters:
     binary, not ingested (UTF-16/32 text, with a BOM or recognised by its
     zero pattern, is decoded and sniffed like any text);
   * ``%PDF-`` -> ``pdf`` (when the extra is installed);
   * ``<?xml`` -> ``xml`` (``html`` if ``<html`` follows), ``<!doctype html``
     or ``<html`` -> ``html``;
   * ``#!`` (a script) -> ``code``; ``%YAML`` -> ``yaml``;
   * ``---`` on the first line (front matter) -> ``markdown``;
   * ``{`` -> ``json``; ``[`` -> ``ini`` when the first line is a section
     header such as ``[section]``, else ``json``;
   * ``# `` -> ``markdown`` only when Markdown follows (``## ``, a fence
     ```` ``` ````, a ``](`` link, ``**``); else a comment: ``text``;
   * anything else that is text -> ``text``.
"""

from __future__ import annotations

import posixpath
import re
from importlib.util import find_spec

from go_doc_go.encoding import bom_encoding, zero_pattern_encoding
from go_doc_go.encoding import looks_binary as _looks_binary

_CODE = (
    ".py .pyi .pyw .pyx .sh .bash .zsh .ksh .fish .ps1 .bat .cmd .js .mjs .cjs .jsx .ts .tsx .mts "
    ".cts .c .h .cc .cpp .cxx .hpp .hh .hxx .m .mm .cs .fs .vb .rs .go .java .kt .kts .scala "
    ".groovy .gradle .clj .rb .php .pl .pm .lua .r .jl .swift .dart .zig .hs .ml .mli .ex .exs "
    ".erl .el .lisp .scm .vim .sql .css .scss .sass .less .vue .svelte .tf .hcl .proto .graphql "
    ".gql .cmake .mk .dockerfile .nix .asm .s"
)
_BINARY = (
    ".png .jpg .jpeg .gif .bmp .ico .webp .tif .tiff .psd .heic .pdf .zip .gz .tgz .bz2 .xz .zst "
    ".7z .rar .tar .jar .war .whl .egg .exe .dll .so .dylib .o .a .obj .lib .class .pyc .pyo "
    ".wasm .mp3 .mp4 .m4a .wav .ogg .flac .avi .mov .mkv .webm .woff .woff2 .ttf .otf .eot "
    ".sqlite .sqlite3 .db .bin .iso .dmg .doc .docx .xls .xlsx .ppt .pptx .odt .ods .odp .npy .pkl"
)

EXTENSIONS: dict[str, str] = {
    ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown", ".mkd": "markdown",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".txt": "text", ".text": "text", ".rst": "text", ".adoc": "text", ".org": "text", ".log": "text",
    ".csv": "csv", ".tsv": "csv",
    ".json": "json", ".jsonc": "json", ".geojson": "json", ".ipynb": "json",
    ".webmanifest": "json", ".code-workspace": "json",
    ".xml": "xml", ".xsd": "xml", ".xsl": "xml", ".xslt": "xml", ".svg": "xml", ".rss": "xml",
    ".atom": "xml",
    ".yaml": "yaml", ".yml": "yaml",
    ".toml": "toml",
    ".ini": "ini", ".cfg": "ini", ".conf": "ini", ".properties": "ini", ".desktop": "ini",
    ".service": "ini",
    **dict.fromkeys(_CODE.split(), "code"),
}  # fmt: skip

BINARY_EXTENSIONS = frozenset(_BINARY.split())

#: Binary document formats with a parser: extension -> type, the module each type needs
#: (installed by ``pip install 'go-doc-go[formats]'``).
DOCUMENT_FORMATS = {".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx"}
FORMAT_MODULES = {"pdf": "pypdfium2", "docx": "docx", "pptx": "pptx", "xlsx": "openpyxl"}
EXTRA = "formats"
_installed: dict[str, bool] = {}

NAMES: dict[str, str] = {
    # code (languages in parsers.code.NAMES)
    "makefile": "code", "gnumakefile": "code", "justfile": "code", "dockerfile": "code",
    "containerfile": "code", "jenkinsfile": "code", "vagrantfile": "code", "gemfile": "code",
    "rakefile": "code", "podfile": "code", "brewfile": "code", "cmakelists.txt": "code",
    # INI-like configuration
    ".editorconfig": "ini", "pylintrc": "ini", ".pylintrc": "ini", ".flake8": "ini",
    ".coveragerc": "ini", ".pypirc": "ini", ".gitconfig": "ini", ".gitmodules": "ini",
    ".npmrc": "ini", ".env": "ini",
    # TOML / YAML / JSON by name
    "pipfile": "toml", "cargo.lock": "toml", "poetry.lock": "toml", "uv.lock": "toml",
    ".clang-format": "yaml", ".clang-tidy": "yaml", ".yamllint": "yaml",
    "pipfile.lock": "json", ".babelrc": "json",
    # plain text
    ".gitattributes": "text", "license": "text", "licence": "text", "copying": "text",
    "notice": "text", "authors": "text", "contributors": "text", "codeowners": "text",
    "manifest.in": "text", "procfile": "text",
}  # fmt: skip

_NAME_PREFIXES = (("dockerfile.", "code"), ("makefile.", "code"), ("containerfile.", "code"))

#: Every type detection can give (each has a parser; all are text formats).
TEXT_TYPES = frozenset([*EXTENSIONS.values(), *NAMES.values()])

_INI_SECTION = re.compile(r"\[[A-Za-z_.*$][^\[\]\n\"',{}]*\][ \t]*(?:[;#].*)?\r?$")
_MARKDOWN_SIGNS = ("\n## ", "\n### ", "```", "](", "**")
#: C0 control characters that do not occur in text (tab, newlines, form feed, escape do).
_CONTROL = bytes([*range(0, 8), 11, *range(14, 27), *range(28, 32)])


def type_from_name(path: str) -> str | None:
    """The type the file name says (rules 1 and 2), or None: unknown or binary."""
    name = posixpath.basename(path).lower()
    found = NAMES.get(name)
    if found is not None:
        return found
    extension = posixpath.splitext(name)[1]
    if extension in DOCUMENT_FORMATS:
        doc_type = DOCUMENT_FORMATS[extension]
        return doc_type if installed(doc_type) else None
    if extension in BINARY_EXTENSIONS:
        return None  # makefile.cpython-311.pyc is bytecode, whatever its name starts with
    for prefix, doc_type in _NAME_PREFIXES:
        if name.startswith(prefix):
            return doc_type
    if name.startswith(".") and name.endswith("ignore"):
        return "text"
    return EXTENSIONS.get(extension)


def type_from_extension(path: str) -> str | None:
    """Kept for callers of the old name: same as ``type_from_name``."""
    return type_from_name(path)


def is_binary_name(path: str) -> bool:
    """A file whose extension says it is binary: skipped without being read."""
    return posixpath.splitext(path)[1].lower() in BINARY_EXTENSIONS


def installed(doc_type: str) -> bool:
    """Is the library a document format needs importable here? (Checked once per process, without importing it.)"""
    found = _installed.get(doc_type)
    if found is None:
        module = FORMAT_MODULES.get(doc_type)
        found = _installed[doc_type] = module is None or find_spec(module) is not None
    return found


def missing_extra(path: str) -> str | None:
    """Why a file of a document format is skipped: the hint naming the extra, else None."""
    extension = posixpath.splitext(path)[1].lower()
    doc_type = DOCUMENT_FORMATS.get(extension)
    if doc_type is None or installed(doc_type):
        return None
    return f"install go-doc-go[{EXTRA}] to ingest {extension} files ({FORMAT_MODULES[doc_type]} is not installed)"


def looks_binary(head: bytes) -> bool:
    """Zero bytes that no text encoding (UTF-16/32, with or without BOM) explains."""
    return _looks_binary(head)


def _head_text(head: bytes) -> str | None:
    """The sample as text for the rules below, or None when it looks binary."""
    found = bom_encoding(head)
    codec = found[0] if found else zero_pattern_encoding(head)
    if codec is not None:
        cut = len(head) - len(head) % 4  # whole UTF-16/32 code units
        return head[:cut].decode(codec, errors="replace").lstrip("\ufeff")
    if b"\x00" in head:
        return None
    if len(head) - len(head.translate(None, _CONTROL)) > len(head) // 10:
        return None  # mostly control characters: binary without zero bytes
    # The rules only look at ASCII, so any code page will do; UTF-8 is tried for clarity.
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError:
        return head.decode("cp1252", errors="replace")


def sniff_type(head: bytes) -> str | None:
    """Guess from the first bytes (rule 3); None means binary (not ingested)."""
    if not head:
        return "text"
    if head.startswith(b"%PDF-"):
        return "pdf" if installed("pdf") else None
    text = _head_text(head)
    if text is None:
        return None
    sample = text.lstrip(" \t\r\n")
    lowered = sample[:1024].lower()
    if lowered.startswith("<?xml"):
        return "html" if "<html" in lowered else "xml"
    if lowered.startswith(("<!doctype html", "<html")):
        return "html"
    if sample.startswith("#!"):
        return "code"
    if sample.startswith("%YAML"):
        return "yaml"
    if sample.startswith(("---\n", "---\r\n")):
        return "markdown"
    if sample.startswith("{"):
        return "json"
    if sample.startswith("["):
        first_line = sample.split("\n", 1)[0]
        return "ini" if _INI_SECTION.match(first_line) and not _is_json_literal(first_line) else "json"
    if sample.startswith("# ") and any(sign in sample for sign in _MARKDOWN_SIGNS):
        return "markdown"
    return "text"


def _is_json_literal(line: str) -> bool:
    return line.strip().strip("[]").strip() in ("true", "false", "null")
