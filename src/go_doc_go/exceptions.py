"""Errors raised by go-doc-go.

    GoDocGoError
    ├── ConfigError            broken or unreadable config: names the key and the problem
    ├── SourceError            a content source cannot be listed or read
    ├── DocumentError          one document failed; carries its stage, cause and kind
    │   ├── FetchError             retryable for I/O trouble, permanent for a missing file or no permission
    │   │   └── OutsideRootError       a path or symlink leads outside the configured root (permanent)
    │   ├── ParseError             permanent: the bytes will not parse any better next time
    │   │   ├── LimitExceededError     a parsers.* limit: names the key, the limit and the value
    │   │   ├── EncryptedDocumentError a password-protected PDF or Office file (permanent)
    │   │   ├── UnsafeArchiveError     a zip-based document that would inflate too far (a zip bomb)
    │   │   ├── ParseTimeoutError      parsers.timeout passed (retryable)
    │   │   └── ParserCrashedError     the isolated parser process died (retryable)
    │   ├── ElementIdCollisionError    two elements got the same id (a parser bug): relate stage
    │   └── DocumentTooLargeError
    ├── StorageError           the store cannot be opened or written
    │   └── StoreOpenError     the store cannot be opened (a usage error: wrong path, no permission)
    └── QueueError             the PostgreSQL work queue failed
        ├── LeaseLostError     the caller's lease passed to another worker
        └── MigrationError

Third-party errors are translated into these where they enter our code, so the
CLI can print one clean line for each user mistake instead of a traceback.

A document's failure has a *kind*, decided by its exception type
(``DocumentError.retryable``): retryable failures (I/O, timeouts, a crashed
parser process, the database) go to backoff in a distributed run; permanent
ones (corrupt or unsupported content, too large, permission denied) go to the
dead letter at once.
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


class DocumentError(GoDocGoError):
    """A document could not be processed."""

    stage = "process"
    #: The failure kind: a retry may succeed (True) or never will (False).
    retryable = False

    def __init__(
        self, message: str | None = None, *, stage: str | None = None, retryable: bool | None = None
    ) -> None:
        super().__init__(message)
        if stage is not None:
            self.stage = stage
        if retryable is not None:
            self.retryable = retryable


class FetchError(DocumentError):
    """The document could not be fetched."""

    stage = "fetch"
    retryable = True


class OutsideRootError(FetchError):
    """A path leads outside the source's base_path."""

    retryable = False


class ParseError(DocumentError):
    """The document could not be parsed."""

    stage = "parse"


class LimitExceededError(ParseError):
    """The document exceeds a parsers.* limit."""

    def __init__(self, key: str, limit: int | float, value: str) -> None:
        self.key, self.limit, self.value = key, limit, value
        super().__init__(f"document has {value} (limit parsers.{key} = {limit:,})")


class EncryptedDocumentError(ParseError):
    """The document is encrypted with a password; it cannot be read without one."""


class UnsafeArchiveError(ParseError):
    """A zip-based document (DOCX, PPTX, XLSX) would inflate past the safe sizes or ratios."""


class ParseTimeoutError(ParseError):
    """Parsing took longer than parsers.timeout."""

    retryable = True


class ParserCrashedError(ParseError):
    """The process parsing the document died (a native crash, or killed for memory)."""

    retryable = True


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
