"""Safety checks for zip-based documents (DOCX, PPTX, XLSX), run BEFORE any part is inflated.

An Office file is a zip package. The libraries that read them (python-docx,
python-pptx, openpyxl) inflate every part they need into memory, so a hostile
package could turn 1 MB on disk into gigabytes. ``check_package`` looks only
at the zip's directory (sizes as declared there) and at the first bytes of the
XML parts, and refuses, with a named cause:

* a package that is not a zip at all: an OLE compound file holding an
  ``EncryptedPackage`` is a **password-protected** Office file
  (``EncryptedDocumentError``); any other OLE file is a legacy binary
  ``.doc``/``.xls``/``.ppt`` renamed; anything else is corrupt or truncated;
* more than ``MAX_MEMBERS`` parts, or a central directory over
  ``MAX_DIRECTORY_BYTES`` (read from the end record, before ``zipfile``
  builds one object per entry);
* a part that declares more than ``MAX_RATIO`` times its compressed size
  (past a ``RATIO_GRACE_BYTES`` grace, as Apache POI does): a zip bomb;
* parts whose declared sizes add up to more than ``parsers.max_memory_mb``
  (or ``MAX_TOTAL_BYTES`` when that limit is off): they could not be held;
* encrypted zip entries, and XML parts with a DTD (``<!DOCTYPE``): OOXML never
  has one, and a DTD is how entity expansion attacks start.

Why the declared sizes are enough: CPython's ``zipfile`` never returns more
than a member's declared ``file_size`` (a member whose data inflates further
fails its CRC check), so the directory bounds what any reader can inflate.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from go_doc_go.config import ParsersConfig
from go_doc_go.exceptions import EncryptedDocumentError, ParseError, UnsafeArchiveError

#: Most parts a package may have (real ones have tens to a few thousand).
MAX_MEMBERS = 20_000
#: Largest central directory read (an entry is ~50-100 bytes).
MAX_DIRECTORY_BYTES = 8 * 1024 * 1024
#: Most a part may declare per compressed byte; XML compresses 10-50x, deflate's maximum is ~1,030x.
MAX_RATIO = 200
#: Parts smaller than this are never refused for their ratio (tiny parts compress absurdly well).
RATIO_GRACE_BYTES = 4 * 1024 * 1024
#: Total declared size when ``parsers.max_memory_mb`` is 0 (no memory limit).
MAX_TOTAL_BYTES = 4 * 1024 ** 3
#: How far into an XML part its prolog may reach before the root element starts.
MAX_PROLOG_BYTES = 64 * 1024

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def check_package(data: bytes, path: str, label: str, limits: ParsersConfig) -> None:
    """Raise unless ``data`` is a zip package that is safe to hand to an Office library."""
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTED_PACKAGE in data:
            raise EncryptedDocumentError(
                f"{label} {path} is password-protected (an encrypted Office package); it cannot be read without the password"
            )
        raise ParseError(f"{path} is a legacy binary Office file (OLE compound document), not a {label}; not supported")
    _check_directory(data, path, label)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise ParseError(f"invalid {label} in {path}: not a readable zip package ({error}); truncated or corrupt?") from None
    with archive:
        infos = archive.infolist()
        _check_sizes(infos, path, label, limits)
        for info in infos:
            if info.filename.endswith((".xml", ".rels")) or info.filename == "[Content_Types].xml":
                _check_prolog(archive, info, path, label)


def _check_directory(data: bytes, path: str, label: str) -> None:
    """Entry count and directory size from the end record, before ``zipfile`` reads the directory."""
    end: Any = zipfile._EndRecData(io.BytesIO(data))  # type: ignore[attr-defined]  # stable since Python 2
    if end is None:
        raise ParseError(f"invalid {label} in {path}: no zip end record (truncated or not a zip package)")
    entries = end[zipfile._ECD_ENTRIES_TOTAL]  # type: ignore[attr-defined]
    size = end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    if entries > MAX_MEMBERS:
        raise UnsafeArchiveError(f"{label} {path} has {entries:,} parts (at most {MAX_MEMBERS:,} are read)")
    if size > MAX_DIRECTORY_BYTES:
        raise UnsafeArchiveError(
            f"{label} {path} has a {size:,}-byte zip directory (at most {MAX_DIRECTORY_BYTES:,} are read)"
        )


def _check_sizes(infos: list[zipfile.ZipInfo], path: str, label: str, limits: ParsersConfig) -> None:
    limit_mb = limits.max_memory_mb
    total_limit = limit_mb * 1024 * 1024 if limit_mb else MAX_TOTAL_BYTES
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise EncryptedDocumentError(f"{label} {path}: part {info.filename} is encrypted (a password-protected zip)")
        size = info.file_size
        if size > RATIO_GRACE_BYTES and size > MAX_RATIO * max(info.compress_size, 1):
            ratio = size / max(info.compress_size, 1)
            raise UnsafeArchiveError(
                f"{label} {path} looks like a zip bomb: part {info.filename} inflates {ratio:,.0f}:1 "
                f"({size:,} bytes from {info.compress_size:,}; at most {MAX_RATIO}:1 allowed)"
            )
        total += size
        if total > total_limit:
            what = f"parsers.max_memory_mb ({limit_mb})" if limit_mb else f"{MAX_TOTAL_BYTES:,} bytes"
            raise UnsafeArchiveError(
                f"{label} {path} inflates to more than {total_limit:,} bytes (more than {what} allows)"
            )


def _check_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str, label: str) -> None:
    """Refuse an XML part with a DTD; only the prolog (what precedes the root element) is inflated."""
    head = b""
    try:
        with archive.open(info) as member:
            while len(head) < MAX_PROLOG_BYTES:
                chunk = member.read(4096)
                if not chunk:
                    break
                head += chunk
                verdict = _prolog_verdict(head)
                if verdict is not None:
                    if verdict:
                        return
                    raise UnsafeArchiveError(
                        f"{label} {path}: part {info.filename} declares a DTD (<!DOCTYPE); refused (no entities, no DTDs)"
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as error:
        raise ParseError(f"invalid {label} in {path}: part {info.filename} cannot be read ({error})") from None
    if len(head) >= MAX_PROLOG_BYTES:
        raise UnsafeArchiveError(
            f"{label} {path}: part {info.filename} has no root element in its first {MAX_PROLOG_BYTES:,} bytes"
        )


def _prolog_verdict(head: bytes) -> bool | None:
    """True: the root element starts with no DTD before it; False: a DTD; None: read more."""
    text = head.replace(b"\x00", b"")  # UTF-16 parts: the ASCII markup survives
    position = 0
    while True:
        start = text.find(b"<", position)
        if start < 0 or start + 1 >= len(text):
            return None
        follower = text[start + 1 : start + 2]
        if follower == b"?":
            end = text.find(b"?>", start)
        elif text.startswith(b"<!--", start):
            end = text.find(b"-->", start)
        elif follower == b"!":
            return False if text.startswith(b"<!DOCTYPE", start) or len(text) - start >= 9 else None
        else:
            return True
        if end < 0:
            return None
        position = end + 2
