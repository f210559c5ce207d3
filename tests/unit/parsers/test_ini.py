from __future__ import annotations

import time

import pytest

from go_doc_go.exceptions import LimitExceededError
from go_doc_go.model import ElementType
from go_doc_go.parsers import get_parser
from go_doc_go.parsers.ini import parse
from tests.unit.parsers.trees import by_path, parse_data


def run(data: bytes | str, path: str = "setup.cfg", **limits: int):
    return parse_data(parse, data, path, **limits)


PYLINTRC = """# pylint config
[MASTER]
ignore=CVS, .git
load-plugins =
    pylint.extensions.docparams,
    pylint.extensions.mccabe

[MESSAGES CONTROL]
disable = C0111,%(not_interpolated)s
Flag-Case: Kept
; a comment
[MASTER]
jobs = 2
"""


def test_registered():
    assert get_parser("ini") is parse


def test_sections_and_keys():
    result = run(PYLINTRC, "pylintrc")
    assert result.metadata == {}
    paths = by_path(result)
    top = paths["root/json_object[0]"]
    assert top.text == "MASTER, MESSAGES CONTROL, MASTER"
    master = paths["root/json_object[0]/@MASTER"]
    assert master.element_type == "json_field" and master.text == "MASTER"
    assert master.location == {"json_pointer": "/MASTER", "line_start": 2, "line_end": 6}
    ignore = paths["root/json_object[0]/@MASTER/json_object[0]/@ignore"]
    assert ignore.text == "ignore: CVS, .git"
    assert ignore.metadata == {"key": "ignore", "value": "CVS, .git", "value_type": "string"}
    assert ignore.location == {"json_pointer": "/MASTER/ignore", "line_start": 3, "line_end": 3}
    plugins = paths["root/json_object[0]/@MASTER/json_object[0]/@load-plugins"]
    assert plugins.metadata["value"] == "pylint.extensions.docparams,\npylint.extensions.mccabe"
    assert (plugins.location["line_start"], plugins.location["line_end"]) == (4, 6)
    control = "root/json_object[0]/@MESSAGES CONTROL/json_object[0]"
    assert paths[f"{control}/@disable"].metadata["value"] == "C0111,%(not_interpolated)s"  # no interpolation
    assert paths[f"{control}/@Flag-Case"].text == "Flag-Case: Kept"  # case kept, ':' separates
    # The repeated section is kept (strict off), numbered like a repeated JSON key.
    assert paths["root/json_object[0]/@MASTER[1]/json_object[0]/@jobs"].text == "jobs: 2"


def test_keys_before_the_first_section_and_keys_without_value():
    result = run("root = true\n\n[*.{py,md}]\nindent_size = 4\n[DEFAULT]\nskip-networking\n", ".editorconfig")
    paths = by_path(result)
    assert paths["root/json_object[0]/@root"].text == "root: true"
    assert paths["root/json_object[0]/@*.{py,md}/json_object[0]/@indent_size"].location["json_pointer"] == (
        "/*.{py,md}/indent_size"
    )
    flag = paths["root/json_object[0]/@DEFAULT/json_object[0]/@skip-networking"]
    assert flag.text == "skip-networking" and flag.metadata["value"] is None
    assert flag.metadata["value_type"] == "null"


def test_pointer_escaping_and_links():
    result = run("[remote/origin~1]\nurl = https://example.com/repo.git\n")
    paths = by_path(result)
    url = paths["root/json_object[0]/@remote~1origin~01/json_object[0]/@url"]
    assert url.location["json_pointer"] == "/remote~1origin~01/url"
    assert [(link.href, link.text) for link in result.links] == [("https://example.com/repo.git", "url")]


def test_not_ini_falls_back_to_text():
    nginx = "server {\n    listen 80;\n    root /var/www;\n}\n"
    result = run(nginx, "nginx.conf")
    assert result.metadata["parse_fallback"].startswith("not INI: 2 of 2 lines")
    assert [c.element_type for c in result.root.children] == [ElementType.PARAGRAPH]
    assert result.root.children[0].text == nginx.rstrip("\n")


def test_empty_and_comment_only():
    assert run("").root.children == []
    result = run("# nothing\n; here\n")
    assert result.root.children[0].element_type is ElementType.JSON_OBJECT
    assert result.root.children[0].children == []


def test_long_whitespace_lines_are_linear():
    data = "[s]\n" + ("a" + " " * 200_000 + "b\n") * 5 + "k = v\n" * 10
    start = time.perf_counter()
    run(data)
    assert time.perf_counter() - start < 2


def test_element_budget_names_the_limit():
    with pytest.raises(LimitExceededError, match=r"limit parsers.max_elements = 10\)"):
        run("[s]\n" + "".join(f"k{i} = {i}\n" for i in range(20)), max_elements=10)


def test_comments_are_kept_as_comment_elements():
    from go_doc_go.model import flatten

    elements, _ = flatten("d", run(b"; intentionally here because black uses bugbear\n[flake8]\n# line length\nmax = 88\n").root)
    assert [e.text for e in elements if e.element_type == "comment"] == [
        "intentionally here because black uses bugbear", "line length"]
