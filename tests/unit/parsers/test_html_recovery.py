"""HTML recovery: real breakage is recorded, the noise of valid HTML5 is not, nothing is dropped."""

from __future__ import annotations

from go_doc_go.model import flatten
from go_doc_go.parsers.html import parse
from tests.unit.parsers.trees import parse_data


def run(data: bytes | str, **limits: int):
    return parse_data(parse, data, "doc.html", **limits)


def texts(result) -> list[str]:
    return [e.text for e in flatten("doc", result.root)[0]][1:]


HTML5 = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Modern</title></head>
<body>
<nav><a href="/">Home</a></nav>
<main><article><header><h1>Title</h1></header>
<p>&copy; 2024 <a href="?a=1&b=2" class="x" class="y">query</a></p>
<figure><picture><source srcset="a.webp"><img src="a.png" alt="pic"></picture><figcaption>cap</figcaption></figure>
<svg xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="#icon"></use></svg>
<details><summary>More</summary><my-widget>custom</my-widget></details>
<script>document.write("</div>")</script>
</article></main><footer>foot</footer>
</body></html>
"""


def test_valid_html5_is_not_marked_recovered():
    result = run(HTML5)
    assert "recovered" not in result.metadata
    assert "first_error" not in result.metadata
    assert result.title == "Modern"
    assert "© 2024 query" in texts(result)


def test_mismatched_tags_are_recovered_and_say_so():
    result = run("<p>one <b>bold</p>\n<p>two</i></p>\n</div><p>three</p>")
    assert texts(result) == ["one bold", "two", "three"]
    assert result.metadata["recovered"] is True
    assert result.metadata["recovery"] == "libxml2"
    assert result.metadata["first_error"] == {"message": "Opening and ending tag mismatch: p and b", "line": 1}


def test_stray_end_tag_is_recorded_with_its_line():
    result = run("<p>fine</p>\n\n<p>x</span></p>")
    assert texts(result) == ["fine", "x"]
    assert result.metadata["first_error"]["line"] == 3
    assert "span" in result.metadata["first_error"]["message"]


def test_content_after_the_html_end_tag_is_kept():
    # libxml2 drops everything after </html> without a word; browsers show it.
    result = run("<html><body><p>a</p></body></HTML >\ntrailing text<p>b</p><h2>Late</h2>")
    assert texts(result) == ["a", "trailing text", "b", "Late"]
    assert result.root.children[-1].location["line_start"] == 2


def test_two_concatenated_documents_are_both_kept():
    result = run("<html><body><p>first</p></body></html>\n<html><body><p>second</p></body></html>")
    assert texts(result) == ["first", "second"]
    assert result.metadata["recovered"] is True
