from __future__ import annotations

import time

import pytest

from go_doc_go.exceptions import LimitExceededError
from go_doc_go.model import ElementType, flatten
from go_doc_go.parsers import get_parser
from go_doc_go.parsers.yaml import parse
from tests.unit.parsers.trees import by_path, parse_data


def run(data: bytes | str, path: str = "config.yaml", **limits: int):
    return parse_data(parse, data, path, **limits)


COMPOSE = """version: "3"
x-defaults: &defaults
  restart: always
  image: app:1
services:
  web:
    <<: *defaults
    ports: ["80:80"]
  worker:
    <<: *defaults
    command: run
1: one
~: nothing
2001-12-14: date key
"""


def test_registered():
    assert get_parser("yaml") is parse


def test_mappings_sequences_and_merge_keys():
    result = run(COMPOSE)
    paths = by_path(result)
    web = "root/json_object[0]/@services/json_object[0]/@web/json_object[0]"
    assert paths[f"{web}/@restart"].text == "restart: always"  # the merge key is expanded
    assert paths[f"{web}/@restart"].location == {"json_pointer": "/services/web/restart"}
    assert paths[f"{web}/@ports/json_array[0]/json_item[0]"].text == "80:80"
    worker = "root/json_object[0]/@services/json_object[0]/@worker/json_object[0]"
    assert paths[f"{worker}/@image"].text == "image: app:1"
    assert paths["root/json_object[0]/@1"].text == "1: one"
    assert paths["root/json_object[0]/@null"].metadata == {"key": "null", "value": "nothing", "value_type": "string"}
    assert paths["root/json_object[0]/@2001-12-14"].text == "2001-12-14: date key"
    assert result.metadata == {}


def test_several_documents():
    result = run("kind: A\nname: first\n---\nkind: B\n---\n- 1\n")
    tops = result.root.children
    assert [t.element_type for t in tops] == [ElementType.JSON_OBJECT, ElementType.JSON_OBJECT, ElementType.JSON_ARRAY]
    assert [t.location for t in tops] == [{"document": i, "json_pointer": ""} for i in range(3)]
    assert result.title == "first"
    paths = by_path(result)
    assert paths["root/json_object[1]/@kind"].location == {"document": 1, "json_pointer": "/kind"}
    single = by_path(run("kind: A\nname: first\n"))
    assert single["root/json_object[0]/@kind"].location == {"json_pointer": "/kind"}
    # Adding a document does not change the ids of the first.
    assert single["root/json_object[0]/@kind"].element_id == paths["root/json_object[0]/@kind"].element_id


def test_scalar_document_and_empty_stream():
    [item] = run("just text\n").root.children
    assert item.text == "just text" and item.location == {"json_pointer": ""}
    [comment] = run("# only a comment\n").root.children  # the stream holds no value, its comment is kept
    assert (comment.element_type, comment.text) == ("comment", "only a comment")


def test_alias_bomb_falls_back_to_text_quickly():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    result = run("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 1
    assert "aliases expand to" in result.metadata["parse_fallback"]
    assert "parsers.max_elements (500,000)" in result.metadata["parse_fallback"]
    assert all(c.element_type is ElementType.PARAGRAPH for c in result.root.children)


def test_recursive_alias_falls_back_to_text():
    result = run("a: &a [1, *a]\n")
    assert result.metadata["parse_fallback"] == "YAML has a recursive alias (a node that contains itself)"


def test_small_aliases_are_expanded():
    result = run("a: &a {k: 1}\nb: *a\nc: [*a, *a]\n")
    elements, _ = flatten("doc", result.root)
    assert sum(e.text == "k: 1" for e in elements) == 4


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("a: [1\n", "invalid YAML: did not find expected ',' or ']' at line 2"),
        ("a: 1\n b: 2\n", "invalid YAML: mapping values are not allowed in this context at line 2"),
        ("? [a, b]\n: 1\n", "invalid YAML: found unhashable key at line 1"),
        ("[" * 2000 + "]" * 2000, "invalid YAML: exceeded maximum nesting depth at line 1"),
    ],
)
def test_invalid_yaml_falls_back_to_text(data, reason):
    result = run(data)
    assert result.metadata["parse_fallback"].startswith(reason)
    assert result.root.children[0].element_type is ElementType.PARAGRAPH


def test_unknown_tags_give_the_plain_value_and_run_nothing():
    data = (
        "emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "boom: !!python/object/apply:os.system [echo hacked]\n"
        "ref: !Ref MyBucket\n"
        "obj: !!python/object:collections.OrderedDict {a: 1}\n"
    )
    result = run(data, "mkdocs.yml")
    assert "parse_fallback" not in result.metadata
    paths = by_path(result)
    assert paths["root/json_object[0]/@emoji_index"].text == "emoji_index: material.extensions.emoji.twemoji"
    assert paths["root/json_object[0]/@boom/json_array[0]/json_item[0]"].text == "echo hacked"
    assert paths["root/json_object[0]/@ref"].text == "ref: MyBucket"
    assert paths["root/json_object[0]/@obj/json_object[0]/@a"].text == "a: 1"


def test_depth_is_flattened_with_exact_pointers():
    result = run("a:\n  b:\n    c:\n      d: deep\n", max_depth=2)
    assert result.metadata == {"flattened_at_depth": 2}
    paths = by_path(result)
    assert paths["root/json_object[0]/@a/json_object[0]/@d"].location == {"json_pointer": "/a/b/c/d"}


def test_big_document_without_aliases_hits_the_budget():
    with pytest.raises(LimitExceededError, match=r"limit parsers.max_elements = 50\)"):
        run("".join(f"k{i}: {i}\n" for i in range(100)), max_elements=50)


def test_comments_are_kept_as_comment_elements():
    from go_doc_go.model import flatten

    elements, _ = flatten("d", run(b"# the site's navigation\nnav:\n  - index.md  # inline stays out\n").root)
    assert [e.text for e in elements if e.element_type == "comment"] == ["the site's navigation"]
