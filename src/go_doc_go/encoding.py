"""Bytes to text: the one place that decides a document's character encoding.

Order, first match wins:

1. a byte order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
2. an encoding the format declared (XML declaration, HTML ``<meta charset>``),
   passed in by the parser, when Python knows the codec;
3. UTF-16/32 without a BOM, recognised by the pattern of zero bytes (before
   UTF-8, because ASCII written in UTF-16 is also valid UTF-8, with NULs);
4. strict UTF-8 (the fast, common case);
5. charset-normalizer's best guess over a bounded sample;
6. UTF-8 with invalid bytes replaced by U+FFFD.

Python's codecs do the decoding, so encodings libxml2 lacks (cp437, cp850,
mac-roman, EBCDIC cp037/cp500...) work for every format. Nothing here fails:
the worst case is replacement characters, and ``DecodedText`` says which rule
decided so the document's metadata can record it.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

#: charset-normalizer looks at most at this many bytes (its cost grows with the sample).
DETECTION_SAMPLE = 64 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its LE BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str
    #: Python codec name, e.g. ``utf-8``, ``utf-16-le``, ``cp437``.
    encoding: str
    #: What decided it: ``bom``, ``declared``, ``utf-8``, ``zero-pattern``, ``detected`` or ``fallback``.
    source: str
    #: True when undecodable bytes were replaced by U+FFFD.
    replaced: bool = False

    @property
    def is_utf8(self) -> bool:
        return self.encoding in ("utf-8", "ascii")


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """``(codec, BOM length)`` when ``data`` starts with a byte order mark."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def codec_name(label: str | None) -> str | None:
    """Python's canonical codec name for a declared label, or None if Python has no such codec."""
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip("\"'").lower()).name
    except (LookupError, ValueError):
        return None


def zero_pattern_encoding(head: bytes) -> str | None:
    """UTF-16/32 without a BOM: text whose ASCII characters leave zero bytes at fixed offsets."""
    sample = head[:4096]
    n = len(sample) - len(sample) % 4
    if n < 8:
        return None
    sample = sample[:n]
    zeros = [sample[i::4].count(0) for i in range(4)]
    quarter = n // 4
    if zeros[1] == zeros[2] == zeros[3] == quarter and zeros[0] < quarter:
        return "utf-32-le"
    if zeros[0] == zeros[1] == zeros[2] == quarter and zeros[3] < quarter:
        return "utf-32-be"
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = n // 2
    if odd >= half * 0.9 and even < half * 0.1:
        return "utf-16-le"
    if even >= half * 0.9 and odd < half * 0.1:
        return "utf-16-be"
    return None


def looks_binary(head: bytes) -> bool:
    """Zero bytes that no text encoding explains: an image, an archive, an executable."""
    if b"\x00" not in head:
        return False
    return bom_encoding(head) is None and zero_pattern_encoding(head) is None


#: The code pages charset-normalizer may choose from: the ones documents are
#: really written in. Without this list it picks rarities (cp1006 for "ÿþ").
CANDIDATES = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp874",
    "koi8_r", "mac_roman", "cp437", "cp850", "cp932", "euc_jp", "gb18030", "big5", "euc_kr",
)  # fmt: skip


def _detect(data: bytes) -> str | None:
    """charset-normalizer's choice; among equally clean candidates, cp1252 (the common case)."""
    from charset_normalizer import from_bytes  # imported only when UTF-8 failed

    matches = list(from_bytes(data[:DETECTION_SAMPLE], cp_isolation=list(CANDIDATES)))
    if not matches:
        return None
    cleanest = min(match.chaos for match in matches)
    tied = [match.encoding for match in matches if match.chaos <= cleanest]
    return codec_name("cp1252" if "cp1252" in tied else tied[0])


def decode(data: bytes, declared: str | None = None) -> DecodedText:
    """Decode ``data`` by the rules in the module docstring; never raises."""
    found = bom_encoding(data)
    if found is not None:
        name, skip = found
        return _decode_with(data[skip:], name, "bom")
    name = codec_name(declared)
    if name is not None and name not in ("utf-8", "utf-16", "utf-32"):
        return _decode_with(data, name, "declared")
    if b"\x00" in data[:4096]:
        # ASCII text in UTF-16/32 is also valid UTF-8 (with NULs): the zero pattern decides first.
        name = zero_pattern_encoding(data)
        if name is not None:
            return _decode_with(data, name, "zero-pattern")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8", "utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(data) - 3 and error.reason == "unexpected end of data":
            # A character cut at the very end (a truncated file) is still UTF-8.
            return _decode_with(data, "utf-8", "utf-8")
    name = zero_pattern_encoding(data)
    if name is not None:
        return _decode_with(data, name, "zero-pattern")
    name = _detect(data)
    if name is not None and name != "utf-8":
        return _decode_with(data, name, "detected")
    return _decode_with(data, "utf-8", "fallback")


def _decode_with(data: bytes, name: str, source: str) -> DecodedText:
    try:
        return DecodedText(data.decode(name), name, source)
    except UnicodeDecodeError:
        return DecodedText(data.decode(name, errors="replace"), name, source, replaced=True)
    except LookupError:
        return DecodedText(data.decode("utf-8", errors="replace"), "utf-8", "fallback", replaced=True)
