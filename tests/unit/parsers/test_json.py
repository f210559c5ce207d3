from __future__ import annotations

import time

import pytest

from go_doc_go.exceptions import LimitExceededError, ParseError
from go_doc_go.model import ElementType, flatten
from go_doc_go.parsers import get_parser
from go_doc_go.parsers.json import nesting_depth, parse, strip_jsonc
from tests.unit.parsers.trees import by_path, parse_data


def run(data: bytes | str, **limits: int):
    return parse_data(parse, data, "doc.json", **limits)


def test_registered():
    try:
        parser = get_parser("json")
    except ImportError as exc:  # another format's module is not there yet
        pytest.skip(f"parser registry incomplete: {exc}")
    assert parser is parse


def test_object_tree():
    result = run('{"title": "Guide", "count": 3, "tags": ["a", "b"], "meta": {"ok": true, "x": null}}')
    root = result.root
    assert root.location == {"json_pointer": ""}
    [obj] = root.children
    assert obj.element_type is ElementType.JSON_OBJECT
    assert obj.text == "title, count, tags, meta"
    assert obj.location == {"json_pointer": ""}
    title, count, tags, meta = obj.children
    assert all(f.element_type is ElementType.JSON_FIELD for f in obj.children)
    assert [f.key for f in obj.children] == ["title", "count", "tags", "meta"]
    assert title.text == "title: Guide"
    assert title.metadata == {"key": "title", "value": "Guide", "value_type": "string"}
    assert title.location == {"json_pointer": "/title"}
    assert title.children == []
    assert count.text == "count: 3"
    assert count.metadata["value"] == 3 and count.metadata["value_type"] == "number"

    assert tags.text == "tags"
    [array] = tags.children
    assert array.element_type is ElementType.JSON_ARRAY
    assert array.location == {"json_pointer": "/tags"}
    assert [i.element_type for i in array.children] == [ElementType.JSON_ITEM] * 2
    assert [i.text for i in array.children] == ["a", "b"]
    assert [i.key for i in array.children] == [None, None]
    assert array.children[1].location == {"json_pointer": "/tags/1"}

    [inner] = meta.children
    ok, x = inner.children
    assert ok.text == "ok: true" and ok.metadata["value"] is True
    assert ok.metadata["value_type"] == "boolean"
    assert x.text == "x: null" and x.metadata["value_type"] == "null"
    assert x.location == {"json_pointer": "/meta/x"}

    assert result.title == "Guide"
    paths = by_path(result)
    assert "root/json_object[0]/@tags/json_array[0]/json_item[1]" in paths
    assert "root/json_object[0]/@meta/json_object[0]/@ok" in paths


def test_field_ids_follow_keys_not_order():
    first = by_path(run('{"alpha": 1, "beta": {"c": 2}}'))
    second = by_path(run('{"beta": {"c": 2}, "alpha": 1}'))
    for path in ("root/json_object[0]/@alpha", "root/json_object[0]/@beta/json_object[0]/@c"):
        assert first[path].element_id == second[path].element_id
        assert first[path].text == second[path].text


def test_array_top_level_and_nested_arrays():
    result = run('[1, [2, 3], {"k": "v"}]')
    [array] = result.root.children
    assert array.element_type is ElementType.JSON_ARRAY
    one, nested, obj = array.children
    assert one.text == "1"
    assert nested.text == "" and nested.children[0].element_type is ElementType.JSON_ARRAY
    assert [i.text for i in nested.children[0].children] == ["2", "3"]
    assert nested.children[0].children[1].location == {"json_pointer": "/1/1"}
    field = obj.children[0].children[0]
    assert field.text == "k: v" and field.location == {"json_pointer": "/2/k"}
    assert result.title is None


@pytest.mark.parametrize(
    ("data", "text", "value", "value_type"),
    [
        ('"hello"', "hello", "hello", "string"),
        ("42", "42", 42, "number"),
        ("-1.5", "-1.5", -1.5, "number"),
        ("true", "true", True, "boolean"),
        ("null", "null", None, "null"),
        ("NaN", "NaN", "NaN", "number"),
    ],
)
def test_scalar_top_value(data, text, value, value_type):
    result = run(data)
    [item] = result.root.children
    assert item.element_type is ElementType.JSON_ITEM
    assert item.text == text
    assert item.metadata == {"value": value, "value_type": value_type}
    assert item.location == {"json_pointer": ""}


def test_pointer_escaping():
    result = run('{"a/b": {"m~n": [{"": 1}]}}')
    paths = by_path(result)
    field = paths["root/json_object[0]/@a~1b/json_object[0]/@m~0n"]
    assert field.location == {"json_pointer": "/a~1b/m~0n"}
    deepest = [e for e in paths.values() if e.metadata.get("key") == ""]
    assert deepest[0].location == {"json_pointer": "/a~1b/m~0n/0/"}
    assert deepest[0].text == ": 1"


def test_duplicate_keys_are_all_kept():
    result = run('{"a": 1, "a": 2}')
    [obj] = result.root.children
    assert [f.text for f in obj.children] == ["a: 1", "a: 2"]
    paths = by_path(result)
    assert "root/json_object[0]/@a" in paths and "root/json_object[0]/@a[1]" in paths


def test_full_text_not_truncated():
    long = "x" * 50_000
    result = run('{"body": "%s"}' % long)
    assert result.root.children[0].children[0].text == "body: " + long


def test_title_from_name():
    assert run('{"name": "pkg", "version": "1"}').title == "pkg"
    assert run('{"name": "pkg", "title": "Real"}').title == "Real"
    assert run('{"title": 3}').title is None


def test_links_are_conservative():
    data = {
        "home": "https://example.com/x",
        "doc": "docs/guide.md",
        "anchor": "other.html#sec",
        "plain": "just some text.md with spaces",
        "mail": "mailto:a@b.c",
        "ftp": "ftp://host/file.txt",
        "ext_only": ".json",
        "number": 5,
        "word": "hello",
    }
    import json

    result = run(json.dumps(data))
    found = {(link.href, link.text) for link in result.links}
    assert found == {
        ("https://example.com/x", "home"),
        ("docs/guide.md", "doc"),
        ("other.html#sec", "anchor"),
    }
    for link in result.links:
        assert link.node.element_type is ElementType.JSON_FIELD
        assert link.node.metadata["value"] == link.href


def test_deep_nesting_is_parse_error_quickly():
    depth = 100_000
    for data in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        start = time.perf_counter()
        with pytest.raises(ParseError, match="nesting too deep") as caught:
            run(data)
        assert time.perf_counter() - start < 2
        assert "depth 100,000" in str(caught.value) and "recursion limit" in str(caught.value)


def test_depth_measure_ignores_brackets_in_strings():
    data = '[["[[[[", "{{{{"], {"a": "]]]]"}]'
    assert nesting_depth(data) == 2
    assert nesting_depth('"unterminated [[[') == 0


def test_nesting_beyond_max_depth_is_flattened():
    data = '{"a": {"b": [{"c": 1, "d": {"e": "deep"}}, 2], "f": 3}, "g": 4}'
    result = run(data, max_depth=2)
    assert result.metadata == {"flattened_at_depth": 2}
    paths = by_path(result)
    # Levels 1 (top object) and 2 (the object under "a") are kept ...
    kept = paths["root/json_object[0]/@a/json_object[0]"]
    assert kept.element_type == "json_object"
    # ... everything deeper is a child of that object, in document order, pointers exact.
    below = [(e.path_segment, e.text, e.location["json_pointer"]) for e in paths.values() if e.parent_id == kept.element_id]
    assert below == [
        ("@b", "b", "/a/b"),
        ("json_item[0]", "", "/a/b/0"),
        ("@c", "c: 1", "/a/b/0/c"),
        ("@d", "d", "/a/b/0/d"),
        ("@e", "e: deep", "/a/b/0/d/e"),
        ("json_item[1]", "2", "/a/b/1"),
        ("@f", "f: 3", "/a/f"),
    ]
    assert paths["root/json_object[0]/@g"].text == "g: 4"
    assert not any(e.element_type == "json_array" for e in paths.values())


def test_nesting_at_max_depth_is_kept_whole():
    data = "[" * 30 + "]" * 30
    result = run(data, max_depth=30)
    assert result.metadata == {}
    elements, _ = flatten("doc", result.root)
    assert len(elements) == 1 + 30 + 29
    assert sum(e.element_type == "json_array" for e in elements) == 30


def test_nesting_beyond_max_depth_keeps_every_value():
    depth = 500  # deeper than the default max_depth (100), shallower than the decoder's limit
    data = '{"k": ' * depth + '"bottom"' + "}" * depth
    result = run(data)
    assert result.metadata == {"flattened_at_depth": 100}
    elements, _ = flatten("doc", result.root)
    assert sum(e.element_type == "json_object" for e in elements) == 100
    assert sum(e.element_type == "json_field" for e in elements) == depth
    last = elements[-1]
    assert last.text == "k: bottom"
    assert last.location["json_pointer"] == "/k" * depth
    assert len({e.element_id for e in elements}) == len(elements)


@pytest.mark.parametrize(
    "data",
    ["{'a': 1}", "[1, 2", '{"a" 1}', "nul", "1 2", "9" * 5000, b"\xff\xfe{", "[1,,]", "{,}", "[ ,]", "[1,,]"],
)
def test_invalid_json_is_parse_error(data):
    with pytest.raises(ParseError, match="invalid JSON"):
        run(data)


def test_invalid_json_message_is_the_decoders():
    with pytest.raises(ParseError, match=r"invalid JSON in doc.json: Expecting ',' delimiter: line 3 .*with comments"):
        run('{\n  /* a\n comment */ "a": 1 "b": 2}')


def test_jsonc_comments_and_trailing_commas():
    data = """// VS Code settings
{
    /* editor */
    "editor.fontSize": 14, // trailing comment
    "files.exclude": {"**/.git": true, "**/*.pyc": true,},
    "url": "http://example.com/a//b", "glob": "/* not a comment */",
    "list": [1, 2, /* inline */ 3,],
}
"""
    result = run(data)
    assert result.metadata["jsonc"] is True
    paths = by_path(result)
    assert paths["root/json_object[0]/@editor.fontSize"].text == "editor.fontSize: 14"
    assert paths["root/json_object[0]/@url"].text == "url: http://example.com/a//b"
    assert paths["root/json_object[0]/@glob"].text == "glob: /* not a comment */"
    assert paths["root/json_object[0]/@files.exclude/json_object[0]"].text == "**/.git, **/*.pyc"
    assert [i.text for i in result.root.children[0].children[4].children[0].children] == ["1", "2", "3"]


def test_strict_json_is_not_marked_jsonc():
    assert "jsonc" not in run('{"a": "// not a comment", "b": [1, 2]}').metadata


def test_jsonc_strip_keeps_strings_and_lines():
    assert strip_jsonc('{"a,]": "//x", /* c\n d */ "b": [1,] }') == '{"a,]": "//x",  \n "b": [1] }'
    assert strip_jsonc('"esc \\" // still in string"') == '"esc \\" // still in string"'


@pytest.mark.parametrize("unit", ["/*", '"\\', "//", ",", '"', "/* */,"])
def test_jsonc_scanner_is_linear_on_hostile_input(unit):
    data = unit * (2_000_000 // len(unit))
    start = time.perf_counter()
    with pytest.raises(ParseError):
        run(data)
    assert time.perf_counter() - start < 2


def test_empty_is_root_only():
    result = run(b"  \n")
    assert result.root.children == []


def test_element_budget_names_the_limit():
    with pytest.raises(LimitExceededError, match=r"more than 50 elements \(limit parsers.max_elements = 50\)"):
        run("[" + ",".join("1" for _ in range(100)) + "]", max_elements=50)


def test_links_spend_the_link_budget():
    data = "[" + ",".join('"https://example.com/%d"' % i for i in range(20)) + "]"
    assert len(run(data, max_links=20).links) == 20
    with pytest.raises(LimitExceededError, match=r"more than 19 links \(limit parsers.max_links = 19\)"):
        run(data, max_links=19)


def test_latin1_inside_string_is_decoded_as_cp1252():
    result = run(b'{"a": "caf\xe9 \x80"}')
    assert result.root.children[0].children[0].text == "a: caf\u00e9 \u20ac"


def test_utf16_with_bom():
    result = run('{"name": "\u00e9t\u00e9"}'.encode("utf-16"))
    assert result.title == "\u00e9t\u00e9"
