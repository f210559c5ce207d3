"""Errors raised by go-doc-go.

    GoDocGoError
    ├── ConfigError            broken or unreadable config: names the key and the problem
    ├── SourceError            a content source cannot be listed or read
    │   └── OutsideRootError   a path or symlink leads outside the configured root
    ├── DocumentError          one document failed; carries its stage and cause
    │   ├── FetchError
    │   ├── ParseError
    │   │   └── LimitExceededError     a parsers.* limit: names the key, the limit and the value
    │   ├── ElementIdCollisionError    two elements got the same id (a parser bug): relate stage
    │   └── DocumentTooLargeError
    ├── StorageError           the store cannot be opened or written
    │   └── StoreOpenError     the store cannot be opened (a usage error: wrong path, no permission)
    └── QueueError             the PostgreSQL work queue failed
        ├── LeaseLostError     the caller's lease passed to another worker
        └── MigrationError

Third-party errors are translated into these where they enter our code, so the
CLI can print one clean line for each user mistake instead of a traceback.
"""

from __future__ import annotations


class GoDocGoError(Exception):
    """go-doc-go failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigError(GoDocGoError):
    """The configuration is invalid."""


class SourceError(GoDocGoError):
    """A content source could not be read."""


class OutsideRootError(SourceError):
    """A path leads outside the source's base_path."""


class DocumentError(GoDocGoError):
    """A document could not be processed."""

    stage = "process"

    def __init__(self, message: str | None = None, *, stage: str | None = None) -> None:
        super().__init__(message)
        if stage is not None:
            self.stage = stage


class FetchError(DocumentError):
    """The document could not be fetched."""

    stage = "fetch"


class ParseError(DocumentError):
    """The document could not be parsed."""

    stage = "parse"


class LimitExceededError(ParseError):
    """The document exceeds a parsers.* limit."""

    def __init__(self, key: str, limit: int | float, value: str) -> None:
        self.key, self.limit, self.value = key, limit, value
        super().__init__(f"document has {value} (limit parsers.{key} = {limit:,})")


class ElementIdCollisionError(DocumentError):
    """Two elements of the document got the same id."""

    stage = "relate"


class DocumentTooLargeError(DocumentError):
    """The document exceeds a configured size limit."""

    stage = "fetch"


class StorageError(GoDocGoError):
    """The store could not be opened or written."""


class StoreOpenError(StorageError):
    """The store could not be opened."""


class QueueError(GoDocGoError):
    """The work queue failed."""


class LeaseLostError(QueueError):
    """The lease on this document passed to another worker; the result was discarded."""


class MigrationError(QueueError):
    """The database schema could not be migrated."""
