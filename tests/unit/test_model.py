from go_doc_go.model import ElementType, ParsedNode, flatten, make_doc_id, make_element_id


def tree(*sections: ParsedNode) -> ParsedNode:
    root = ParsedNode(ElementType.ROOT)
    for section in sections:
        root.add(section)
    return root


def section(title: str, *paragraphs: str) -> ParsedNode:
    header = ParsedNode(ElementType.HEADER, title, metadata={"level": 1})
    for text in paragraphs:
        header.add(ParsedNode(ElementType.PARAGRAPH, text))
    return header


def full_paths(elements):
    by_id = {e.element_id: e for e in elements}
    paths = []
    for e in elements:
        segments = [e.path_segment]
        while e.parent_id is not None:
            e = by_id[e.parent_id]
            segments.append(e.path_segment)
        paths.append("/".join(reversed(segments)))
    return paths


def test_doc_id_normalizes_paths():
    assert make_doc_id("docs", "a/b.md") == make_doc_id("docs", "./a//b.md")
    assert make_doc_id("docs", "a/b.md") == make_doc_id("docs", "a\\b.md")
    assert make_doc_id("docs", "a/b.md") != make_doc_id("other", "a/b.md")


def test_flatten_orders_and_links_parents():
    elements, _ = flatten("d", tree(section("A", "a1", "a2"), section("B", "b1")))
    assert [e.element_type for e in elements] == ["root", "header", "paragraph", "paragraph", "header", "paragraph"]
    assert [e.document_position for e in elements] == list(range(6))
    paths = full_paths(elements)
    assert paths == [
        "root", "root/header[0]", "root/header[0]/paragraph[0]", "root/header[0]/paragraph[1]",
        "root/header[1]", "root/header[1]/paragraph[0]",
    ]
    assert [e.element_id for e in elements] == [make_element_id("d", p) for p in paths]
    by_path = dict(zip(paths, elements))
    assert by_path["root/header[1]/paragraph[0]"].parent_id == by_path["root/header[1]"].element_id
    assert by_path["root/header[0]/paragraph[1]"].sibling_order == 1
    assert elements[0].element_id == make_element_id("d", "root")


def test_editing_one_section_keeps_other_ids():
    before, _ = flatten("d", tree(section("A", "a1"), section("B", "b1", "b2"), section("C", "c1")))
    after, _ = flatten("d", tree(section("A", "a1", "new"), section("B", "b1", "b2"), section("C", "c1")))
    ids_before = dict(zip(full_paths(before), (e.element_id for e in before)))
    ids_after = dict(zip(full_paths(after), (e.element_id for e in after)))
    for path, element_id in ids_before.items():
        assert ids_after[path] == element_id
    changed = set(ids_after) - set(ids_before)
    assert changed == {"root/header[0]/paragraph[1]"}


def test_keyed_children_use_their_key_and_stay_unique():
    root = ParsedNode(ElementType.ROOT)
    obj = root.add(ParsedNode(ElementType.JSON_OBJECT))
    obj.add(ParsedNode(ElementType.JSON_FIELD, key="a/b"))
    obj.add(ParsedNode(ElementType.JSON_FIELD, key="x"))
    obj.add(ParsedNode(ElementType.JSON_FIELD, key="x"))
    obj.add(ParsedNode(ElementType.JSON_FIELD, key="json_field[0]"))
    obj.add(ParsedNode(ElementType.JSON_FIELD))
    elements, _ = flatten("d", root)
    paths = full_paths(elements)
    assert "root/json_object[0]/@a~1b" in paths
    assert len(set(paths)) == len(paths)
    assert len({e.element_id for e in elements}) == len(elements)


def test_flatten_survives_very_deep_trees():
    root = ParsedNode(ElementType.ROOT)
    node = root
    for _ in range(100_000):
        node = node.add(ParsedNode(ElementType.BLOCKQUOTE))
    elements, _ = flatten("d", root)
    assert len(elements) == 100_001
