"""Link following: which linked documents a pass also processes.

Links are resolved once, in the pipeline (``Link.target_path``); drivers only
decide whether to follow them. A link is followed when the source's
``max_link_depth`` allows one more hop, it leads to another document of the
same source that exists and is allowed, and the listing does not already
reach that document (``include`` narrower than everything). With the default
``include: ["**/*"]`` the listing reaches every document a link could, so
nothing is followed.
"""

from __future__ import annotations

from collections.abc import Iterable

from go_doc_go.config import ContentSourceConfig
from go_doc_go.sources import ContentSource, DocumentRef
from go_doc_go.sources.globs import matches_any


def link_follow_depth(source: ContentSourceConfig) -> int:
    """How many hops of links to follow from listed documents (0 when the listing covers everything)."""
    return source.max_link_depth if "**/*" not in source.include else 0


def listed(source: ContentSourceConfig, path: str) -> bool:
    """Does the listing of ``source`` reach ``path`` by itself?"""
    return matches_any(path, source.include) and not matches_any(path, source.exclude)


def follow_targets(
    source: ContentSource,
    config: ContentSourceConfig,
    from_path: str,
    target_paths: Iterable[str],
    depth: int,
) -> list[DocumentRef]:
    """The documents to process at ``depth + 1`` for a document at ``depth`` linking to ``target_paths``."""
    if depth >= link_follow_depth(config):
        return []
    refs: list[DocumentRef] = []
    seen: set[str] = set()
    for path in target_paths:
        if path == from_path or path in seen or listed(config, path):
            continue
        seen.add(path)
        ref = source.ref_for(path)
        if ref is not None:
            refs.append(ref)
    return refs
