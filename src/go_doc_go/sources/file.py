"""Documents from a folder on disk.

The walk is an explicit stack of folders, so memory grows with depth and the
widest single folder, never with the total number of files. Nothing outside
``base_path`` is read: symlinks are resolved and skipped (and reported) when
they leave the root. FIFOs, sockets and device files are never opened; they
are reported as skipped.

File names that are not valid UTF-8 (a Latin-1 ``caf\xe9.md``) are stored in a
lossless text form (``stored_path``): each byte that is not UTF-8 is written
``%XX``, and a literal ``%`` followed by two hex digits is written ``%25``.
Every other name is stored as it is. ``os_path`` turns the stored form back
into the exact name, so fetch finds the file again in either mode.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from go_doc_go.config import ContentSourceConfig
from go_doc_go.exceptions import ConfigError, DocumentTooLargeError, FetchError, OutsideRootError
from go_doc_go.model import content_hash, make_doc_id, normalize_path
from go_doc_go.sources.base import DocumentRef, FetchedDocument, OnSkip, SkippedPath
from go_doc_go.sources.detect import is_binary_name, missing_extra, sniff_type, type_from_name
from go_doc_go.sources.globs import excludes_folder, matches_any

SNIFF_BYTES = 4096

_ESCAPED = re.compile(r"%([0-9A-Fa-f]{2})")
_NEEDS_ESCAPE = re.compile(r"[\udc80-\udcff]|%(?=[0-9A-Fa-f]{2})")
_FILE_KINDS = (
    (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)  # fmt: skip


def stored_path(os_relative: str) -> str:
    """The lossless, valid-UTF-8 form of an OS path (see the module docstring)."""
    if "%" not in os_relative and os_relative.isascii():
        return os_relative
    return _NEEDS_ESCAPE.sub(lambda m: "%25" if m.group() == "%" else f"%{ord(m.group()) - 0xDC00:02X}", os_relative)


def os_path(stored: str) -> str:
    """The OS name of a stored path: ``%XX`` back to its byte, then the file system's decoding."""
    if "%" not in stored:
        return stored
    raw = bytearray()
    position = 0
    for match in _ESCAPED.finditer(stored):
        raw += stored[position : match.start()].encode("utf-8")
        raw.append(int(match.group(1), 16))
        position = match.end()
    raw += stored[position:].encode("utf-8")
    return os.fsdecode(bytes(raw))


def _file_kind(mode: int) -> str | None:
    for test, kind in _FILE_KINDS:
        if test(mode):
            return kind
    return None


class FileSource:
    def __init__(self, config: ContentSourceConfig) -> None:
        self.name = config.name
        self.config = config
        root = Path(config.base_path).expanduser()
        if not root.is_dir():
            raise ConfigError(f"content_sources[{config.name}].base_path: {root} is not a folder")
        self.root = root.resolve()

    # ------------------------------------------------------------ listing

    def iter_documents(self, on_skip: OnSkip | None = None) -> Iterator[DocumentRef]:
        include, exclude = self.config.include, self.config.exclude
        visited: set[tuple[int, int]] = set()
        stack: list[str] = [""]
        while stack:
            folder = stack.pop()
            absolute = os.path.join(self.root, folder) if folder else str(self.root)
            try:
                info = os.stat(absolute)
                if (info.st_dev, info.st_ino) in visited:
                    continue  # a symlink loop inside the root
                visited.add((info.st_dev, info.st_ino))
                with os.scandir(absolute) as entries:
                    names = sorted(entries, key=lambda e: e.name)
            except OSError as error:
                self._skip(on_skip, folder or ".", f"cannot list folder: {error.strerror}", True)
                continue
            subfolders: list[str] = []
            for entry in names:
                relative = f"{folder}/{entry.name}" if folder else entry.name
                try:
                    if entry.is_symlink() and not self._inside_root(entry.path):
                        self._skip(on_skip, relative, "symlink leads outside base_path")
                        continue
                    if entry.is_dir():
                        if not excludes_folder(relative, exclude):
                            subfolders.append(relative)
                        continue
                    if not matches_any(relative, include) or matches_any(relative, exclude):
                        continue
                    info = entry.stat()
                    if not stat.S_ISREG(info.st_mode):
                        kind = _file_kind(info.st_mode) or "special file"
                        self._skip(on_skip, relative, f"not a regular file ({kind}); not read")
                        continue
                    ref = self._ref(relative, info)
                except OSError as error:
                    self._skip(on_skip, relative, f"cannot read: {error.strerror}")
                    continue
                if ref.doc_type is None:
                    self._skip(on_skip, relative, missing_extra(relative) or "unsupported or binary file type")
                    continue
                yield ref
            stack.extend(reversed(subfolders))

    def ref_for(self, path: str) -> DocumentRef | None:
        """``path`` is a stored path (see ``stored_path``)."""
        relative = os_path(normalize_path(path))
        if not relative or relative.startswith("../") or relative == "..":
            return None
        if matches_any(relative, self.config.exclude):
            return None
        absolute = os.path.join(self.root, relative)
        if not self._inside_root(absolute):
            return None
        try:
            info = os.stat(absolute)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        ref = self._ref(relative, info)
        return ref if ref.doc_type is not None else None

    # ------------------------------------------------------------ reading

    def fetch(self, ref: DocumentRef) -> FetchedDocument:
        absolute = os.path.join(self.root, os_path(ref.path))
        if not self._inside_root(absolute):
            raise OutsideRootError(f"{ref.path} leads outside base_path")
        limit = self.config.max_file_size
        try:
            # O_NONBLOCK: a path that became a FIFO since the listing must not hang the worker.
            fd = os.open(absolute, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
            with open(fd, "rb") as handle:
                kind = _file_kind(os.fstat(fd).st_mode)
                if kind is not None:
                    raise FetchError(f"{ref.path} is not a regular file ({kind})", retryable=False)
                data = handle.read(limit + 1)
        except OSError as error:
            # A missing file or a refused permission will not change by retrying; other I/O might.
            retryable = error.errno not in (errno.ENOENT, errno.EACCES, errno.EPERM, errno.EISDIR, errno.ELOOP,
                                            errno.ENOTDIR, errno.ENAMETOOLONG)
            raise FetchError(f"cannot read {ref.path}: {error.strerror}", retryable=retryable) from None
        if len(data) > limit:
            raise DocumentTooLargeError(
                f"{ref.path} is larger than max_file_size ({limit} bytes)"
            )
        return FetchedDocument(ref=ref, data=data, content_hash=content_hash(data))

    def resolve_link(self, from_path: str, href: str) -> tuple[str, str | None] | None:
        try:
            parts = urlsplit(href)
        except ValueError:
            return None
        if parts.scheme or parts.netloc:
            return None  # external (http, mailto, ...)
        anchor = unquote(parts.fragment) or None
        if not parts.path:
            return (from_path, anchor)  # "#section" points into the same document
        target = unquote(parts.path)
        if target.startswith("/"):
            joined = target.lstrip("/")
        else:
            joined = posixpath.join(posixpath.dirname(from_path), target)
        normalized = posixpath.normpath(joined)
        if normalized.startswith("..") or normalized == ".":
            return None
        return (stored_path(normalize_path(normalized)), anchor)

    # ------------------------------------------------------------ helpers

    def _ref(self, relative: str, info: os.stat_result) -> DocumentRef:
        """``relative`` is the OS form; the ref carries the stored form."""
        # The name decides (sources.detect); only other files are sniffed.
        doc_type = type_from_name(relative)
        sniffed = doc_type is None and not is_binary_name(relative)
        if sniffed:
            doc_type = self._sniff(relative)
            sniffed = doc_type is not None
        path = stored_path(relative)
        return DocumentRef(
            source=self.name,
            path=path,
            doc_id=make_doc_id(self.name, path),
            doc_type=doc_type,
            size=info.st_size,
            mtime_ns=info.st_mtime_ns,
            sniffed=sniffed,
        )

    def _sniff(self, relative: str) -> str | None:
        try:
            with open(os.path.join(self.root, relative), "rb") as handle:
                return sniff_type(handle.read(SNIFF_BYTES))
        except OSError:
            return None

    def _inside_root(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == str(self.root) or real.startswith(str(self.root) + os.sep)

    def _skip(self, on_skip: OnSkip | None, path: str, reason: str, incomplete: bool = False) -> None:
        if on_skip is not None:
            on_skip(SkippedPath(self.name, stored_path(path), reason, incomplete))
