"""Retrieval units: what is embedded, from real parser output."""

from __future__ import annotations

import pytest

from go_doc_go.embeddings.units import build_units
from go_doc_go.model import Element, flatten
from go_doc_go.parsers import ParseInput, get_parser


def parsed(text: str, doc_type: str = "markdown", path: str = "doc.md") -> tuple[list[Element], str | None]:
    result = get_parser(doc_type)(ParseInput(text.encode(), path))
    elements, _ = flatten("doc", result.root)
    return elements, result.title


def by_type(elements: list[Element], element_type: str) -> list[Element]:
    return [e for e in elements if e.element_type == element_type]


LONG = """# Harbor guide

Intro paragraph about the harbor service and what it predicts for every station.

## Install

""" + "Install the predictor with pip and configure the feed before the first run. " * 12 + """

### Options

| key | default | meaning |
|---|---|---|
""" + "".join(f"| option_{i} | {i} | what option {i} changes in the predictor |\n" for i in range(30)) + """

## Operate

Restart the service when the gauge goes quiet for an hour.

- check the feed
- check the archive
"""


def test_a_short_document_is_one_unit_for_its_root():
    elements, title = parsed("# Tides\n\nThe moon pulls the sea.\n\n- high\n- low\n")
    units = build_units(elements, window_chars=1000, title=title)
    assert len(units) == 1
    unit = units[0]
    assert unit.kind == "document" and unit.element_id == elements[0].element_id
    assert unit.text == "Tides\nThe moon pulls the sea.\nhigh\nlow"
    assert unit.embed_text.startswith("Tides\n")


def test_a_long_document_is_cut_into_sections_with_their_header_path():
    elements, title = parsed(LONG)
    units = build_units(elements, window_chars=600, title=title)
    headers = {e.text: e.element_id for e in by_type(elements, "header")}
    table = by_type(elements, "table")[0]
    kinds = [(u.kind, u.context) for u in units]
    assert ("root", "Harbor guide") not in kinds  # the root holds no text before the first header
    assert ("section", "Harbor guide > Operate") in kinds
    operate = next(u for u in units if u.context == "Harbor guide > Operate")
    assert operate.element_id == headers["Operate"] and "check the archive" in operate.text
    install = [u for u in units if u.element_id == headers["Install"]]
    assert len(install) >= 2 and [u.chunk for u in install] == list(range(len(install)))
    tables = [u for u in units if u.element_id == table.element_id]
    assert tables and all(u.kind == "table" and u.context == "Harbor guide > Install > Options" for u in tables)
    assert all(u.text.startswith("key | default | meaning") for u in tables)  # header row repeated per chunk
    assert all(len(u.embed_text) <= 600 for u in units)
    assert all(u.embed_text.startswith(u.context + "\n") for u in units)


def test_every_block_of_text_is_embedded_somewhere():
    elements, title = parsed(LONG)
    units = build_units(elements, window_chars=600, title=title)
    embedded = " ".join(u.text for u in units)
    for element in elements:
        if element.element_type in ("paragraph", "list_item", "table_row"):
            for word in element.text.split()[:3]:
                assert word in embedded


def test_units_are_deterministic_and_hash_the_embedded_text():
    elements, title = parsed(LONG)
    first = build_units(elements, window_chars=600, title=title)
    again = build_units(parsed(LONG)[0], window_chars=600, title=title)
    assert first == again
    assert len({u.content_hash for u in first}) == len(first)
    edited = build_units(parsed(LONG.replace("goes quiet", "stays silent"))[0], window_chars=600, title=title)
    changed = [a.element_id for a, b in zip(first, edited, strict=True) if a.content_hash != b.content_hash]
    assert changed == [next(e for e in by_type(elements, "header") if e.text == "Operate").element_id]


def test_a_section_that_fits_carries_its_subsections():
    text = "# A\n\n" + "x " * 400 + "\n\n## B\n\nshort b\n\n### C\n\nshort c\n"
    elements, title = parsed(text)
    units = build_units(elements, window_chars=500, title=title)
    b = next(e for e in by_type(elements, "header") if e.text == "B")
    assert [u for u in units if u.element_id == b.element_id][0].text == "short b\nC\nshort c"
    assert not [u for u in units if "C" in u.context.split(" > ")]


def test_summaries_are_labels_and_children_are_read(tmp_path):
    elements, _ = parsed('{"title": "Harbor", "predictor": {"horizon_hours": 72}}', "json", "s.json")
    text = build_units(elements, window_chars=1000)[0].text
    assert "title: Harbor" in text and "horizon_hours: 72" in text
    csv_elements, _ = parsed("id,name\nBOS,Boston\nSEA,Seattle\n", "csv", "s.csv")
    unit = build_units(csv_elements, window_chars=1000)[0]
    assert "BOS | Boston" in unit.text and "SEA | Seattle" in unit.text


def test_finer_granularities_give_more_units():
    elements, title = parsed(LONG)
    counts = {g: len(build_units(elements, window_chars=600, title=title, granularity=g))
              for g in ("section", "block", "element")}  # fmt: skip
    assert counts["section"] < counts["block"] < counts["element"]
    with pytest.raises(ValueError, match="granularity"):
        build_units(elements, window_chars=600, granularity="sentence")  # type: ignore[arg-type]


def test_deeply_nested_sections_cost_linear_time_and_no_recursion():
    import time

    depth = 5000
    elements = [Element("e0", "d", "root", None, 0, 0, "root", "", "", {}, {})]
    for i in range(1, depth + 1):
        parent = f"h{i - 1}" if i > 1 else "e0"
        elements.append(Element(f"h{i}", "d", "header", parent, 1, 2 * i, "header[0]", f"level {i}", "", {}, {}))
        elements.append(Element(f"p{i}", "d", "paragraph", f"h{i}", 0, 2 * i + 1, "paragraph[0]",
                                "some words " * 8, "", {}, {}))  # fmt: skip
    start = time.perf_counter()
    units = build_units(elements, window_chars=300)
    assert time.perf_counter() - start < 2.0
    assert len(units) == depth and max(len(u.embed_text) for u in units) <= 300
    assert units[-1].context.endswith("level 4999 > level 5000")


def test_section_sizes_match_their_rendering():
    from go_doc_go.embeddings.units import _render, _section_tree

    elements, title = parsed(LONG)
    root = _section_tree(elements, title, 500)
    stack = [root]
    while stack:
        section = stack.pop()
        assert section.size == len(_render(section))
        stack.extend(item for item in section.items if hasattr(item, "size"))
