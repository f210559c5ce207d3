"""Names for sources given as PATH arguments.

A source's name is part of every doc_id it produces, and a run removes the
documents of a source that its listing no longer has. Two different folders
that happen to share a basename (``/a/docs`` and ``/b/docs``) must therefore
never share a name silently: the second gets ``docs-2`` (then ``docs-3``...),
and the same folder always gets the same name again, because the store
remembers which folder each name stands for.
"""

from __future__ import annotations


def source_name_for(folder_name: str, location: str, known: dict[str, str], used: set[str]) -> str:
    """The name for ``location``: its folder name unless another folder holds it.

    ``known`` maps names to the folders they stood for in the store; ``used``
    holds the names already given in this command line.
    """
    base = folder_name or "root"
    for name, place in known.items():
        if place == location and name not in used and (name == base or _numbered(name, base)):
            return name
    candidate, n = base, 2
    while candidate in used or known.get(candidate, location) != location:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _numbered(name: str, base: str) -> bool:
    prefix, _, number = name.rpartition("-")
    return prefix == base and number.isdigit()
