"""Type detection: names and extensions first, then sniffing; and what the pipeline does with a guess."""

from __future__ import annotations

import pytest

from go_doc_go.config import ContentSourceConfig, config_from_dict
from go_doc_go.model import DocumentResult
from go_doc_go.pipeline import Failed, process_document
from go_doc_go.sources.detect import TEXT_TYPES, looks_binary, sniff_type, type_from_name
from go_doc_go.sources.file import FileSource


@pytest.mark.parametrize(
    ("path", "doc_type"),
    [
        ("setup.cfg", "ini"), ("tox.ini", "ini"), ("etc/app.conf", "ini"), (".editorconfig", "ini"),
        ("pylintrc", "ini"), ("sub/.pylintrc", "ini"), (".gitconfig", "ini"),
        ("pyproject.toml", "toml"), ("Pipfile", "toml"), ("Cargo.lock", "toml"),
        ("ci.yaml", "yaml"), (".github/workflows/ci.YML", "yaml"), (".clang-format", "yaml"),
        ("Makefile", "code"), ("GNUmakefile", "code"), ("Dockerfile", "code"), ("Dockerfile.dev", "code"),
        ("conf.py", "code"), ("run.sh", "code"), ("app.js", "code"), ("app.ts", "code"), ("x.c", "code"),
        ("x.h", "code"), ("lib.rs", "code"), ("main.go", "code"), ("A.java", "code"), ("a.rb", "code"),
        (".gitignore", "text"), (".dockerignore", "text"), ("LICENSE", "text"), ("notes.rst", "text"),
        (".vscode/settings.json", "json"), ("tsconfig.jsonc", "json"), ("a.ipynb", "json"),
        ("README.MD", "markdown"), ("page.htm", "html"), ("feed.xml", "xml"), ("data.tsv", "csv"),
        ("image.png", None), ("__pycache__/makefile.cpython-311.pyc", None), ("Dockerfile.tar.gz", None), ("archive.tar.gz", None), ("noext", None), ("file.unknown", None),
    ],
)  # fmt: skip
def test_type_from_name(path, doc_type):
    assert type_from_name(path) == doc_type


def test_every_detected_type_has_a_parser():
    from go_doc_go.parsers import PARSER_MODULES

    assert TEXT_TYPES <= set(PARSER_MODULES)


@pytest.mark.parametrize(
    ("head", "doc_type"),
    [
        (b"", "text"),
        (b"plain words\n", "text"),
        (b"<?xml version='1.0'?><a/>", "xml"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><html><body/></html>", "html"),
        (b"  <!DOCTYPE html><html></html>", "html"),
        (b'{"a": 1}', "json"),
        (b"[1, 2]\n", "json"),
        (b'["a", "b"]', "json"),
        (b"[true]\n", "json"),
        (b"[settings]\nkey = value\n", "ini"),
        (b"[*.py]\nindent_size = 4\n", "ini"),
        (b"[tool.black] # comment\nline-length = 100\n", "ini"),
        (b"---\ntitle: x\n---\n# Doc\n", "markdown"),
        (b"# Title\n\nSome text with a [link](other.md).\n", "markdown"),
        (b"# just a comment\nFOO=bar\n", "text"),
        (b"# Makefile-like\nall:\n\tcc -o x x.c\n", "text"),
        (b"#!/bin/sh\necho hi\n", "code"),
        (b"%YAML 1.2\n---\na: 1\n", "yaml"),
        (b"caf\xe9 cr\xe8me\n", "text"),  # cp1252 text is text
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None),
        (bytes(range(1, 32)) * 20, None),  # control characters, no zero byte
    ],
)
def test_sniff_type(head, doc_type):
    assert sniff_type(head) == doc_type


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_utf16_and_utf32_are_text_not_binary(codec):
    assert sniff_type("plain words, caf\u00e9\n".encode(codec) * 20) == "text"
    assert sniff_type('{"a": "caf\u00e9"}'.encode(codec)) == "json"
    assert sniff_type("<?xml version='1.0'?><a/>".encode(codec)) == "xml"
    assert not looks_binary("text\n".encode(codec) * 20)
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01")


# ---------------------------------------------------------------- through the pipeline


def write(root, relative, content):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


def ingest(root) -> dict[str, DocumentResult | Failed]:
    config = config_from_dict({"content_sources": [{"name": "docs", "base_path": str(root)}]})
    source = FileSource(ContentSourceConfig(name="docs", base_path=str(root)))
    return {ref.path: process_document(source, ref, config) for ref in source.iter_documents()}


def stored(outcome) -> DocumentResult:
    assert isinstance(outcome, DocumentResult), outcome
    return outcome


def test_config_files_of_a_real_repository_are_stored(tmp_path):
    write(tmp_path, ".editorconfig", "root = true\n\n[*]\nindent_style = space\n")
    write(tmp_path, "pylintrc", "[MASTER]\nignore=CVS\n")
    write(tmp_path, "setup.cfg", "[metadata]\nname = pkg\n[options]\npackages = find:\n")
    write(tmp_path, "tox.ini", "[tox]\nenvlist = py311\n")
    write(tmp_path, "pyproject.toml", '[project]\nname = "pkg"\n')
    write(tmp_path, "Makefile", "# Build\nall:\n\tcc -o x x.c\n")
    write(tmp_path, "docs/conf.py", "# Configuration file\nproject = 'x'\n")
    write(tmp_path, ".gitignore", "*.pyc\n# comment\n")
    write(tmp_path, ".vscode/settings.json", '{\n  // editor\n  "editor.tabSize": 2,\n}\n')
    outcomes = ingest(tmp_path)
    types = {path: stored(outcome).document.doc_type for path, outcome in outcomes.items()}
    assert types == {
        ".editorconfig": "ini", "pylintrc": "ini", "setup.cfg": "ini", "tox.ini": "ini",
        "pyproject.toml": "toml", "Makefile": "code", "docs/conf.py": "code", ".gitignore": "text",
        ".vscode/settings.json": "json",
    }  # fmt: skip
    assert stored(outcomes[".vscode/settings.json"]).document.metadata == {"jsonc": True}
    makefile = stored(outcomes["Makefile"])
    assert makefile.document.metadata == {"language": "make"}
    assert makefile.elements[1].element_type == "code_block"
    editorconfig = stored(outcomes[".editorconfig"])
    assert [e.text for e in editorconfig.elements if e.element_type == "json_field"] == [
        "root: true", "*", "indent_style: space",
    ]  # fmt: skip


def test_a_sniffed_guess_that_fails_is_stored_as_text(tmp_path):
    write(tmp_path, "noext_ini", "[section\nkey = value\n")  # looks like JSON, is not
    write(tmp_path, "noext_brackets", "{ not json at all }\n\nsecond paragraph\n")
    write(tmp_path, "noext_deep", "[" * 5000 + "]" * 5000)
    write(tmp_path, "data.json", "{ not json at all }\n")  # the extension says JSON: a real failure
    outcomes = ingest(tmp_path)
    brackets = stored(outcomes["noext_brackets"])
    assert brackets.document.doc_type == "text"
    assert brackets.document.metadata["sniffed_as"] == "json"
    assert brackets.document.metadata["parse_fallback"].startswith("invalid JSON in noext_brackets: ")
    assert [e.text for e in brackets.elements[1:]] == ["{ not json at all }", "second paragraph"]
    assert stored(outcomes["noext_ini"]).document.metadata["sniffed_as"] == "json"
    deep = stored(outcomes["noext_deep"]).document.metadata
    assert deep["sniffed_as"] == "json" and "nesting too deep" in deep["parse_fallback"]
    failed = outcomes["data.json"]
    assert isinstance(failed, Failed) and failed.stage == "parse"
    assert failed.cause.startswith("invalid JSON in data.json: ")


def test_a_sniffed_guess_over_a_limit_still_fails(tmp_path):
    write(tmp_path, "noext_big", "[" + ",".join(["1"] * 100) + "]")
    config = config_from_dict(
        {"content_sources": [{"name": "docs", "base_path": str(tmp_path)}], "parsers": {"max_elements": 50}}
    )
    source = FileSource(ContentSourceConfig(name="docs", base_path=str(tmp_path)))
    [ref] = source.iter_documents()
    assert ref.sniffed and ref.doc_type == "json"
    outcome = process_document(source, ref, config)
    assert isinstance(outcome, Failed)
    assert "limit parsers.max_elements = 50" in outcome.cause


def test_name_decides_not_sniffing(tmp_path):
    write(tmp_path, "a.json", "[1]")
    write(tmp_path, "noext", "[1]")
    refs = {ref.path: ref for ref in FileSource(ContentSourceConfig(name="docs", base_path=str(tmp_path))).iter_documents()}
    assert (refs["a.json"].doc_type, refs["a.json"].sniffed) == ("json", False)
    assert (refs["noext"].doc_type, refs["noext"].sniffed) == ("json", True)


@pytest.mark.parametrize("codec", ["utf-16", "utf-32"])
def test_utf16_and_utf32_files_are_stored(tmp_path, codec):
    write(tmp_path, "notes.txt", "caf\u00e9 notes\n\nsecond\n".encode(codec))
    write(tmp_path, "noext", "caf\u00e9 plain\n".encode(codec))
    outcomes = ingest(tmp_path)
    assert [e.text for e in stored(outcomes["notes.txt"]).elements[1:]] == ["caf\u00e9 notes", "second"]
    noext = stored(outcomes["noext"])
    assert noext.document.doc_type == "text"
    assert [e.text for e in noext.elements[1:]] == ["caf\u00e9 plain"]
