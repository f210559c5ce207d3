from __future__ import annotations

import pytest

from go_doc_go.exceptions import LimitExceededError
from go_doc_go.model import ElementType
from go_doc_go.parsers import get_parser
from go_doc_go.parsers.toml import parse
from tests.unit.parsers.trees import by_path, parse_data


def run(data: bytes | str, path: str = "pyproject.toml", **limits: int):
    return parse_data(parse, data, path, **limits)


PYPROJECT = """[project]
name = "go-doc-go"
dependencies = ["pyyaml>=6.0", "orjson"]
released = 2024-05-01
updated = 1979-05-27T07:32:00Z

[tool.pytest.ini_options]
addopts = "-m 'not slow'"
ratio = inf

[[tool.bench]]
docs = 2000
"""


def test_registered():
    assert get_parser("toml") is parse


def test_tables_arrays_and_dates():
    result = run(PYPROJECT)
    assert result.title == "go-doc-go"
    assert result.root.metadata == {"format": "toml"}
    paths = by_path(result)
    project = "root/json_object[0]/@project/json_object[0]"
    assert paths[f"{project}/@name"].text == "name: go-doc-go"
    assert paths[f"{project}/@name"].location == {"json_pointer": "/project/name"}
    deps = paths[f"{project}/@dependencies/json_array[0]/json_item[1]"]
    assert deps.text == "orjson" and deps.location == {"json_pointer": "/project/dependencies/1"}
    released = paths[f"{project}/@released"]
    assert released.metadata == {"key": "released", "value": "2024-05-01", "value_type": "date"}
    assert paths[f"{project}/@updated"].metadata["value_type"] == "datetime"
    options = "root/json_object[0]/@tool/json_object[0]/@pytest/json_object[0]/@ini_options/json_object[0]"
    assert paths[f"{options}/@ratio"].text == "ratio: Infinity"
    bench = paths["root/json_object[0]/@tool/json_object[0]/@bench/json_array[0]/json_item[0]/json_object[0]/@docs"]
    assert bench.location == {"json_pointer": "/tool/bench/0/docs"}


def test_invalid_toml_falls_back_to_text():
    result = run('[project]\nname = "unterminated\n')
    assert result.metadata["parse_fallback"].startswith("invalid TOML: ")
    assert "line 2" in result.metadata["parse_fallback"]
    assert [c.element_type for c in result.root.children] == [ElementType.PARAGRAPH]


def test_ini_style_cfg_content_in_a_toml_file_falls_back():
    result = run("[metadata]\nname = my package\n")
    assert "parse_fallback" in result.metadata
    assert result.root.children[0].text == "[metadata]\nname = my package"


def test_nesting_too_deep_for_tomllib_falls_back():
    result = run("a = " + "[" * 5000 + "]" * 5000)
    assert result.metadata["parse_fallback"] == "TOML nested too deeply for the TOML reader"


def test_depth_is_flattened():
    result = run("a = [[[[1, 2]]]]\n", max_depth=2)
    assert result.metadata == {"flattened_at_depth": 2}
    paths = by_path(result)
    assert paths["root/json_object[0]/@a/json_array[0]/json_item[4]"].location == {"json_pointer": "/a/0/0/0/1"}


def test_element_budget_names_the_limit():
    with pytest.raises(LimitExceededError, match=r"limit parsers.max_elements = 5\)"):
        run("".join(f"k{i} = {i}\n" for i in range(10)), max_elements=5)


def test_comments_are_kept_as_comment_elements():
    """tomllib drops comments; in a config file they are its documentation."""
    from go_doc_go.model import flatten

    result = run(b"# Empty configuration file used by tests\n# so they do not pick up the repo's\n\n[tool]\n"
                 b"x = 1\n# why y is pinned\ny = 2\n")
    elements, _ = flatten("d", result.root)
    comments = [(e.text, e.location) for e in elements if e.element_type == "comment"]
    assert comments == [
        ("Empty configuration file used by tests\nso they do not pick up the repo's", {"line_start": 1, "line_end": 2}),
        ("why y is pinned", {"line_start": 6, "line_end": 6}),
    ]
