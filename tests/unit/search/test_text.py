"""Query words and snippets."""

from go_doc_go.search.text import query_terms, snippet


def test_query_words_are_lowered_deduplicated_and_common_words_dropped_when_others_remain():
    assert query_terms("How do I install the Package, install it?") == ["install", "package"]
    assert query_terms("the and of") == ["the", "and", "of"], "only common words: keep them"
    assert query_terms("max_depth: résumé 42") == ["max", "depth", "résumé", "42"]
    assert query_terms("\"a\" OR NEAR(b)") == ["near", "b"]  # FTS syntax is just words here


def test_a_snippet_is_a_window_around_the_first_match_with_every_match_marked():
    text = "Intro words. " * 30 + "The tide gauge records the sea level; a second gauge checks it. " + "Tail. " * 40
    shown = snippet(text, ["gauge", "sea"])
    assert shown.text.startswith("…") and shown.text.endswith("…") and len(shown.text) <= 202
    marked = [shown.text[a:b] for a, b in shown.highlights]
    assert marked == ["gauge", "sea", "gauge"]
    assert snippet("gauges and gauge", ["gauge"]).highlights == [(11, 16)], "whole words only"
    assert snippet("", ["x"]).text == "" and snippet("no match here", ["x"]).text == "no match here"
