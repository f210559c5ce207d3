"""Bytes to the text lxml parses, for the HTML and XML parsers.

Python's codecs decode, not libxml2's: libxml2 lacks cp437, mac-roman,
EBCDIC and others that Python has (see ``go_doc_go.encoding``). The parsers
hand lxml a ``str``, and lxml refuses a ``str`` whose XML declaration names an
encoding, so the declaration loses its ``encoding`` pseudo-attribute (version
and standalone stay, line numbers do not move).

Where the declared encoding comes from:

* XML: the XML declaration. A declaration written in EBCDIC (``<?xml`` is
  ``4C 6F A7 94 93`` in every EBCDIC code page) is read as cp037 to find its
  label; an EBCDIC label Python lacks (IBM-1047) falls back to cp037, and
  EBCDIC's NEL line ends (U+0085) become ``\\n``. Without a BOM, UTF-16/32 is
  recognised by how ``<?`` is written (XML 1.0 appendix F), else by its zero
  bytes.
* HTML: a ``<meta charset>`` or ``<meta http-equiv content="...; charset=">``
  in the first 2 KB, else an XML declaration. As browsers do (WHATWG
  Encoding Standard), ``iso-8859-1`` and ``us-ascii`` labels mean windows-1252.

A BOM always wins; a declared encoding Python has comes next; then UTF-8 and
detection. ``encoding_metadata`` gives what the document's metadata records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from go_doc_go.encoding import DecodedText, codec_name
from go_doc_go.parsers.base import ParseInput

#: ``<?xml`` in EBCDIC (the same bytes in cp037, cp500, cp1140, cp273, cp1047...).
EBCDIC_XML_DECL = b"\x4c\x6f\xa7\x94\x93"

#: ``<?`` in UTF-32/16 without a BOM (XML 1.0 appendix F).
_WIDE_DECL: tuple[tuple[bytes, str], ...] = (
    (b"<\x00\x00\x00?\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<\x00\x00\x00?", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)

_DECL_LABEL = re.compile(r"""^<\?xml\s[^>]*?\bencoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)""")
_DECL_LABEL_BYTES = re.compile(rb"""^\s*<\?xml\s[^>]*?\bencoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)""")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
#: A leading XML declaration (whitespace before it is tolerated and kept as newlines).
_LEADING_DECL = re.compile(r"^(\s*)(<\?xml(?=\s)[^>]*?\?>)")
_DECL_ENCODING = re.compile(r"""\s+encoding\s*=\s*(?:"[^"]*"|'[^']*')""")
#: What lxml refuses on ``str`` (its own test), for declarations too broken for the above.
_LXML_REFUSES = re.compile(r"""^(<\?xml[^>]+?)\s+encoding\s*=\s*["'][^"']*["']""")
_IBM_NUMBER = re.compile(r"^(?:ibm|cp)[-_]?0*(\d+)$")
#: Labels browsers read as windows-1252 (their codec names in Python).
_HTML_AS_CP1252 = frozenset(("iso8859-1", "ascii"))


@dataclass(frozen=True, slots=True)
class SourceText:
    text: str
    decoded: DecodedText


def label_codec(label: str | None) -> str | None:
    """Python's codec for a declared label, also for ``x-mac-...`` and ``IBM01140`` spellings."""
    if not label:
        return None
    name = codec_name(label)
    if name is not None:
        return name
    label = label.strip().lower()
    if label.startswith("x-"):
        return codec_name(label[2:])
    match = _IBM_NUMBER.match(label)
    return codec_name("cp" + match.group(1)) if match else None


def _ebcdic_codec(data: bytes) -> str | None:
    """The codec of a document whose XML declaration is EBCDIC, else None."""
    if not data.startswith(EBCDIC_XML_DECL):
        return None
    head = data[:256].decode("cp037")
    match = _DECL_LABEL.match(head)
    name = label_codec(match.group(1)) if match else None
    if name is None or not _is_ebcdic(name):
        return "cp037"  # the label is missing or Python lacks it (IBM-1047): cp037 is closest
    return name


def _is_ebcdic(codec: str) -> bool:
    try:
        return "<?xml".encode(codec) == EBCDIC_XML_DECL
    except (UnicodeError, LookupError):
        return False


def strip_declaration(text: str) -> str:
    """Drop the XML declaration's encoding (lxml refuses it on ``str``), keeping lines.

    Whitespace before the declaration (not allowed, but common) moves after
    it, so the root element stays on its line.
    """
    match = _LEADING_DECL.match(text)
    if match is not None:
        space, decl = match.group(1), match.group(2)
        text = _DECL_ENCODING.sub("", decl, count=1) + space + text[match.end() :]
    if text.startswith("<?xml"):
        text = _LXML_REFUSES.sub(r"\1", text, count=1)
    return text


def read_xml(doc: ParseInput) -> SourceText:
    """The XML document as text, decoded by its BOM, its declaration or detection."""
    data = doc.data
    ebcdic = _ebcdic_codec(data)
    if ebcdic is not None:
        decoded = doc.decoded(declared=ebcdic)
        return SourceText(strip_declaration(decoded.text.replace("\x85", "\n")), decoded)
    match = _DECL_LABEL_BYTES.match(data[:1024])
    declared = label_codec(match.group(1).decode("ascii")) if match else None
    if declared is None:
        declared = next((codec for start, codec in _WIDE_DECL if data.startswith(start)), None)
    decoded = doc.decoded(declared=declared)
    return SourceText(strip_declaration(decoded.text), decoded)


def read_html(doc: ParseInput) -> SourceText:
    """The HTML document as text: BOM, ``<meta charset>``, XML declaration, UTF-8, detection.

    The leading XML declaration of XHTML is dropped entirely (line breaks kept).
    """
    head = doc.data[:2048]
    match = _META_CHARSET.search(head) or _DECL_LABEL_BYTES.match(head)
    declared = label_codec(match.group(1).decode("ascii")) if match else None
    if declared in _HTML_AS_CP1252:
        declared = "cp1252"
    decoded = doc.decoded(declared=declared)
    text = decoded.text
    found = _LEADING_DECL.match(text)
    if found is not None:
        text = "\n" * found.group(0).count("\n") + text[found.end() :]
    return SourceText(text, decoded)


def encoding_metadata(decoded: DecodedText) -> dict[str, Any]:
    """``encoding`` when the document was not UTF-8, ``encoding_replaced`` when bytes became U+FFFD."""
    metadata: dict[str, Any] = {}
    if not decoded.is_utf8:
        metadata["encoding"] = decoded.encoding
    if decoded.replaced:
        metadata["encoding_replaced"] = True
    return metadata
