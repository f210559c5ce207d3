import os

import pytest

from go_doc_go.config import ContentSourceConfig
from go_doc_go.exceptions import ConfigError, DocumentTooLargeError
from go_doc_go.model import make_doc_id
from go_doc_go.sources.detect import sniff_type
from go_doc_go.sources.file import FileSource
from go_doc_go.sources.globs import excludes_folder, matches


def make_source(root, **options) -> FileSource:
    return FileSource(ContentSourceConfig(name="docs", base_path=str(root), **options))


def write(root, relative, content="x"):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_globs():
    assert matches("a/b/c.md", "**/*.md")
    assert matches("c.md", "**/*.md")
    assert matches("a/b/c.md", "*.md")
    assert not matches("a/b/c.md", "a/*.md")
    assert matches("a/c.md", "a/*.md")
    assert excludes_folder("drafts", ["drafts/**"])
    assert not excludes_folder("docs", ["drafts/**"])


def test_lists_recursively_with_include_and_exclude(tmp_path):
    write(tmp_path, "a.md")
    write(tmp_path, "sub/b.html")
    write(tmp_path, "sub/deeper/c.json", "{}")
    write(tmp_path, "drafts/d.md")
    write(tmp_path, "notes.tmp")
    source = make_source(tmp_path, exclude=["drafts/**", "*.tmp"])
    refs = list(source.iter_documents())
    assert [r.path for r in refs] == ["a.md", "sub/b.html", "sub/deeper/c.json"]
    assert [r.doc_type for r in refs] == ["markdown", "html", "json"]
    assert refs[0].doc_id == make_doc_id("docs", "a.md")


def test_listing_is_a_stream(tmp_path):
    for i in range(5):
        write(tmp_path, f"f{i}.txt")
    iterator = make_source(tmp_path).iter_documents()
    assert next(iterator).path == "f0.txt"  # a generator, not a list built up front


def test_type_sniffing_and_binary_skip(tmp_path):
    write(tmp_path, "noext_json", '{"a": 1}')
    write(tmp_path, "noext_xml", "<?xml version='1.0'?><a/>")
    write(tmp_path, "noext_html", "<!DOCTYPE html><html></html>")
    write(tmp_path, "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    skipped = []
    refs = {r.path: r.doc_type for r in make_source(tmp_path).iter_documents(skipped.append)}
    assert refs == {"noext_html": "html", "noext_json": "json", "noext_xml": "xml"}
    assert [(s.path, s.reason) for s in skipped] == [("image.png", "unsupported or binary file type")]
    assert sniff_type(b"plain words\n") == "text"


def test_symlink_out_of_root_is_skipped_and_reported(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = write(outside, "secret.md", "# secret")
    root = tmp_path / "root"
    root.mkdir()
    write(root, "ok.md")
    os.symlink(secret, root / "leak.md")
    os.symlink(outside, root / "leakdir")
    os.symlink(root / "ok.md", root / "inside.md")
    skipped = []
    source = make_source(root)
    paths = [r.path for r in source.iter_documents(skipped.append)]
    assert paths == ["inside.md", "ok.md"]
    assert sorted(s.path for s in skipped) == ["leak.md", "leakdir"]
    assert all("outside base_path" in s.reason for s in skipped)
    assert source.ref_for("leak.md") is None
    assert source.ref_for("../outside/secret.md") is None


def test_symlink_loop_inside_root_terminates(tmp_path):
    write(tmp_path, "a/x.md")
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    paths = [r.path for r in make_source(tmp_path).iter_documents()]
    assert paths == ["a/x.md"]


def test_fetch_gives_hash_and_enforces_size(tmp_path):
    write(tmp_path, "a.md", "hello")
    write(tmp_path, "big.txt", "x" * 100)
    source = make_source(tmp_path, max_file_size=50)
    fetched = source.fetch(source.ref_for("a.md"))
    assert fetched.data == b"hello"
    assert len(fetched.content_hash) == 64
    with pytest.raises(DocumentTooLargeError, match="max_file_size"):
        source.fetch(source.ref_for("big.txt"))


def test_resolve_link(tmp_path):
    source = make_source(tmp_path)
    assert source.resolve_link("guides/a.md", "b.md#intro") == ("guides/b.md", "intro")
    assert source.resolve_link("guides/a.md", "../index.md") == ("index.md", None)
    assert source.resolve_link("guides/a.md", "#local") == ("guides/a.md", "local")
    assert source.resolve_link("guides/a.md", "/top%20level.md") == ("top level.md", None)
    assert source.resolve_link("guides/a.md", "https://example.com/x.md") is None
    assert source.resolve_link("guides/a.md", "mailto:x@example.com") is None
    assert source.resolve_link("a.md", "../../etc/passwd") is None


def test_missing_base_path_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"content_sources\[docs\].base_path: .* is not a folder"):
        make_source(tmp_path / "nope")
