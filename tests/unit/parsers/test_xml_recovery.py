"""XML recovery: feeds with HTML entities, ill-formed markup, content outside one root; still no entities, DTDs or network."""

from __future__ import annotations

import time

import pytest

from go_doc_go.exceptions import ParseError
from go_doc_go.model import flatten
from go_doc_go.parsers.xml import parse
from tests.unit.parsers.trees import full_paths, parse_data


def run(data: bytes | str, **limits: int):
    return parse_data(parse, data, "doc.xml", **limits)


def everything(result) -> str:
    elements, _ = flatten("doc", result.root)
    return "".join(e.text for e in elements) + "".join(str(e.metadata) for e in elements) + str(result.metadata)


FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Caf&eacute; news</title>
<item><title>Cr&egrave;me br&ucirc;l&eacute;e&nbsp;&amp;&nbsp;more</title>
<description>Pr&acirc;t &mdash; &lt;b&gt; &#233; &#x263A; &hellip;</description></item>
</channel></rss>
"""


def test_feed_with_html_entities_is_repaired():
    result = run(FEED)
    assert result.title == "Café news"
    item = result.root.children[0].children[0].children[1]
    assert [c.text for c in item.children] == ["Crème brûlée\xa0&\xa0more", "Prât — <b> é ☺ …"]
    assert result.metadata["recovered"] is True
    assert result.metadata["recovery"] == "repaired"
    assert result.metadata["first_error"] == {"message": "Entity 'eacute' not defined", "line": 3}


def test_entity_repairs_leave_cdata_comments_and_declared_entities_alone():
    data = (
        '<!DOCTYPE r [<!ENTITY eacute "declared">]>'
        "<r a='&nbsp;x'>&eacute; &nbsp; &AMP; &QUOT; &unknown; <![CDATA[&nbsp; & <raw>]]><!-- &nbsp; --></r>"
    )
    result = run(data)
    [r] = result.root.children
    assert r.text == '&eacute; \xa0 & " &unknown; &nbsp; & <raw>'
    assert r.metadata["attributes"] == {"a": "\xa0x"}
    assert "declared" not in everything(result)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("<a>AT&T &amp; Q & A</a>", "AT&T & Q & A"),
        ("<a>1 < 2 <= 3</a>", "1 < 2 <= 3"),
        ("<a>x &nbsp y</a>", "x &nbsp y"),
        ("<a>form\x0cfeed\x01 bell</a>", "form feed\ufffd bell"),
        ("<a>&#0; &#65; &#x110000;</a>", "\ufffd A \ufffd"),
        ("<a href='x?a=1&b=2'>t</a>", "t"),
    ],
)
def test_stray_markup_characters_are_kept_literally(data, text):
    result = run(data)
    assert result.root.children[0].text == text
    assert result.metadata["recovery"] == "repaired"


def test_unclosed_and_mismatched_tags_are_recovered():
    result = run("<doc>\n<p>one <b>bold</p>\n<p>two</doc>")
    doc = result.root.children[0]
    assert doc.text == "one bold\ntwo"
    assert result.metadata["recovered"] is True
    assert result.metadata["recovery"] == "recover"
    assert result.metadata["first_error"] == {"message": "Opening and ending tag mismatch: b line 2 and p", "line": 2}


def test_content_outside_one_root_is_a_fragment():
    result = run('<?xml version="1.0"?>\n<a>x</a>\n<b href="l.xml">y</b>\ntrailing words\n<a>z</a>')
    elements, _ = flatten("doc", result.root)
    assert [(p, e.text, e.location.get("xpath")) for p, e in zip(full_paths(elements), elements, strict=True)] == [
        ("root", "", "/"),
        ("root/xml_element[0]", "x", "/a[1]"),
        ("root/xml_element[0]/xml_text[0]", "x", "/a[1]"),
        ("root/xml_element[1]", "y", "/b"),
        ("root/xml_element[1]/xml_text[0]", "y", "/b"),
        ("root/xml_text[0]", "trailing words", "/"),
        ("root/xml_element[2]", "z", "/a[2]"),
        ("root/xml_element[2]/xml_text[0]", "z", "/a[2]"),
    ]
    assert [link.href for link in result.links] == ["l.xml"]
    assert result.metadata["root_tag"] == "a"
    assert result.metadata["first_error"]["message"] == "Extra content at the end of the document"


def test_plain_text_in_an_xml_file_keeps_its_text():
    result = run("just some words, not XML at all")
    assert [c.text for c in result.root.children] == ["just some words, not XML at all"]
    assert result.metadata["recovered"] is True


def test_recovered_attributes_count_as_content():
    result = run("<a x='1' x='2'/>")
    assert result.root.children[0].metadata["attributes"]["x"] == "1"
    assert result.metadata["first_error"]["message"] == "Attribute x redefined"


def test_well_formed_documents_are_not_marked():
    result = run('<?xml version="1.0"?><r>fine &amp; dandy</r>')
    assert "recovered" not in result.metadata


def test_undeclared_html_entities_of_an_unread_dtd_become_characters():
    data = (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">'
        '<html xmlns="http://www.w3.org/1999/xhtml"><p>a&nbsp;b &eacute; &custom;</p></html>'
    )
    result = run(data)
    assert result.root.children[0].text == "a\xa0b é &custom;"
    assert "recovered" not in result.metadata


BILLION_LAUGHS_BROKEN = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&nbsp; AT&T <b>&lol9;</lolz>
"""


def test_billion_laughs_on_the_recovery_path_does_not_expand():
    start = time.perf_counter()
    try:
        result = run(BILLION_LAUGHS_BROKEN)
    except ParseError as error:
        assert "lollol" not in str(error)
    else:
        assert "lollol" not in everything(result)
        assert len(everything(result)) < 10_000
    assert time.perf_counter() - start < 2


def test_xxe_on_the_recovery_path_never_reads_the_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a9c")
    uri = secret.resolve().as_uri()
    documents = [
        # Each is broken too (an HTML entity, a bare &, an unclosed tag), so recovery runs.
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "{uri}">]><r>&nbsp; &xxe; after</r>',
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{uri}"> %p;]><r>AT&T</r>',
        f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{uri}"><r><b>x</r>',
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "{uri}">]><r a="&xxe;"><b>x</r>',
        f'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{uri}" parse="text"/>&eacute;</r>',
    ]
    for data in documents:
        try:
            result = run(data)
        except ParseError as error:
            assert "TOP-SECRET" not in str(error)
            continue
        assert result.metadata["recovered"] is True
        assert "TOP-SECRET" not in everything(result)


def test_a_broken_declaration_does_not_cost_the_document():
    # libxml2's recover mode gives up on the whole document for these.
    for declaration in ('<?xml version="1.0" encoding="utf-8"? >', '<?xml vers\x00ion="1.0"?>', "<?xml?>"):
        result = run(declaration + "\n<r>\n<p>kept</p></r>")
        assert result.root.children[0].text == "kept", declaration
        assert result.root.children[0].children[0].location["line_start"] == 3
        assert result.metadata["recovered"] is True
