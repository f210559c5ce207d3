"""A corpus for comparing stores row for row: the bundled examples plus documents that exercise
links, anchors and the values engines disagree about if nobody takes care.

``write_corpus(root)`` writes it; ``change_corpus(root)`` makes a second run's
changes (one document edited so that links into it move, one deleted, one
added). Reused by engine-equivalence and distributed-versus-single tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "docs"
LINKED = 12


def _page(index: int) -> str:
    following = (index + 1) % LINKED
    return (
        f"# Page {index}\n\nIntro of page {index}, see [next](page{following:02d}.md#usage), "
        f"[a missing anchor](page{following:02d}.md#nowhere), [top](page{following:02d}.md), "
        f"[gone](missing{index}.md) and [outside](https://example.invalid/{index}).\n\n"
        f"## Usage\n\nUse page {index}.\n\n- item one\n- item [two](../examples/index.md)\n\n"
        f"| key | value |\n|---|---|\n| k{index} | {index * 7} |\n\n"
        "```python\nprint('hi')\n```\n\n<a id=\"extra-anchor\"></a>\n\n> quoted harmonic text\n"
    )


def write_corpus(root: Path) -> Path:
    """Write the corpus under ``root`` (created) and return it."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXAMPLES, root / "examples", dirs_exist_ok=True)
    generated = root / "generated"
    generated.mkdir(exist_ok=True)
    for index in range(LINKED):
        (generated / f"page{index:02d}.md").write_text(_page(index), encoding="utf-8")
    (generated / "anchors.html").write_text(
        "<!doctype html><html><head><title>Anchors</title></head><body>"
        "<h1 id='top'>Top</h1><p id='p1'>First <a name='inner'>inner</a> paragraph.</p>"
        "<p>To <a href='page03.md#usage'>page 3</a> and <a href='#p1'>self</a>.</p></body></html>",
        encoding="utf-8",
    )
    # Values one engine would refuse or change if the encoder did not handle them.
    (generated / "nul.json").write_text('{"key\\u0000": "va\\u0000lue", "list": [1, 2.5, true, null]}')
    (generated / "late-nul.txt").write_bytes(b"text " * 2000 + b"\n\nafter a NUL\x00byte\n")
    long_header = "This paragraph runs on and on " + " ".join(f"word{i}" for i in range(600))
    (generated / "setext.md").write_text(
        f"{long_header}\n---\n\nLink to [it](#{long_header.lower().replace(' ', '-')}).\n", encoding="utf-8"
    )
    (generated / "table.csv").write_text("name,value\nalpha,1\nbeta,2\n", encoding="utf-8")
    return root


def change_corpus(root: Path) -> None:
    """A second run's changes: page 03 loses its Usage section, page 05 is gone, a new page links to both."""
    generated = root / "generated"
    (generated / "page03.md").write_text("# Page 3 rewritten\n\nNo usage section any more.\n", encoding="utf-8")
    (generated / "page05.md").unlink()
    (generated / "new.md").write_text(
        "# New\n\n[three](page03.md#usage) and [five](page05.md) and [six](page06.md#usage).\n", encoding="utf-8"
    )
