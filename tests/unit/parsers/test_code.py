from __future__ import annotations

import pytest

from go_doc_go.model import ElementType, flatten
from go_doc_go.parsers import get_parser
from go_doc_go.parsers.code import LANGUAGES, NAMES, language_of, parse
from go_doc_go.sources.detect import type_from_name
from tests.unit.parsers.trees import full_paths, parse_data


def test_registered():
    assert get_parser("code") is parse


def test_blocks_with_lines_and_language():
    source = "import os\n\n\ndef main():\n    return 1\n\n    # still main\n"
    result = parse_data(parse, source, "pkg/tool.py")
    assert result.metadata == {"language": "python"}
    blocks = result.root.children
    assert [b.element_type for b in blocks] == [ElementType.CODE_BLOCK] * 3
    assert [(b.text, b.location["line_start"], b.location["line_end"]) for b in blocks] == [
        ("import os", 1, 1),
        ("def main():\n    return 1", 4, 5),
        ("    # still main", 7, 7),
    ]
    assert all(b.metadata == {"language": "python"} for b in blocks)
    elements, _ = flatten("doc", result.root)
    assert full_paths(elements)[1:] == ["root/code_block[0]", "root/code_block[1]", "root/code_block[2]"]


@pytest.mark.parametrize(
    ("path", "language"),
    [("Makefile", "make"), ("build/Dockerfile.prod", "dockerfile"), ("src/lib.RS", "rust"), ("a.unknown", None)],
)
def test_language_from_name(path, language):
    assert language_of(path) == language


def test_every_code_name_of_detection_has_a_language():
    for ext in LANGUAGES:
        assert type_from_name(f"x{ext}") == "code", ext
    for name in NAMES:
        assert type_from_name(name) == "code", name


def test_unknown_language_has_no_metadata():
    result = parse_data(parse, "x\n", "script")
    assert result.metadata == {} and result.root.children[0].metadata == {}
