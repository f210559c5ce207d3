"""Content sources, chosen by ``type`` from the config."""

from __future__ import annotations

from go_doc_go.config import ContentSourceConfig
from go_doc_go.exceptions import ConfigError
from go_doc_go.sources.base import ContentSource, DocumentRef, FetchedDocument, SkippedPath


def open_source(config: ContentSourceConfig) -> ContentSource:
    if config.type == "file":
        from go_doc_go.sources.file import FileSource

        return FileSource(config)
    raise ConfigError(f"content_sources: unknown source type {config.type!r}")


__all__ = ["ContentSource", "DocumentRef", "FetchedDocument", "SkippedPath", "open_source"]
