"""The hostile set: files a real docs folder can contain and the ingest must survive.

``write_hostile(folder)`` writes every case into ``folder`` and returns the
cases; ``check_hostile(db, summary, source)`` says, for each case, whether it
ended as a stored document whose marker words are in the stored element text,
or as a failure (or, for the FIFO only, a skip) reported with a cause.

Every tail or easily-lost part of a file carries a unique marker word, so a
parser that silently drops it (nesting limits, encodings, HTML blocks) is
caught. Neighbour files are ordinary documents: losing one means a hostile
file cost more than itself (a failed batch, a crashed run).

Used by ``benchmarks/realworld.py`` and ``tests/acceptance/test_realworld_slow.py``;
stdlib only, and it never imports go_doc_go.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Case:
    """One hostile file. ``path`` is relative, as file-system bytes (names need not be UTF-8)."""

    name: str  # short label for reports and test ids
    path: bytes
    # Must all be in the stored element text of this document, each as a word of its own.
    markers: tuple[str, ...] = ()
    soft_markers: tuple[str, ...] = ()  # reported, not required (e.g. accents in undeclared Latin-1)
    # Links this document must have, as (href, expectation): "doc" = resolved to the target
    # document, "anchor" = resolved to the element carrying the fragment (not the root).
    links: tuple[tuple[str, str], ...] = ()
    link_count: int | None = None  # distinct links_to rows expected from this document
    skip_ok: bool = False  # a skip with a reason is an acceptable outcome (not a document)
    neighbour: bool = False  # an ordinary file: must be stored, markers and all
    note: str = ""

    @property
    def display(self) -> str:
        return os.fsdecode(self.path)

    def path_spellings(self) -> set[str]:
        """Ways a store or a summary may spell this path (undecodable names vary)."""
        raw = self.path
        return {
            os.fsdecode(raw),  # surrogate escapes, as os.listdir gives them
            raw.decode("utf-8", "replace"),
            raw.decode("latin-1"),
            raw.decode("utf-8", "backslashreplace"),
        }


def _sql_safe(text: str) -> bool:
    """SQLite parameters must be encodable as UTF-8 (a surrogate-escaped name is not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class CaseResult:
    name: str
    path: str
    outcome: str  # stored | failed | skipped | missing
    ok: bool
    cause: str = ""
    stored_path: str | None = None
    markers_found: list[str] = field(default_factory=list)
    markers_missing: list[str] = field(default_factory=list)
    soft_missing: list[str] = field(default_factory=list)
    markers_elsewhere: list[str] = field(default_factory=list)  # found, but in another document
    links: list[dict[str, Any]] = field(default_factory=list)
    links_ok: bool = True
    link_count: int | None = None
    note: str = ""

    def verdict(self) -> str:
        if self.ok:
            return "ok" if self.links_ok else "ok, links wrong"
        if self.outcome == "stored":
            return "stored, markers lost"
        return self.outcome


# ---------------------------------------------------------------- content


def _csv_rows(rows: int, rng: random.Random) -> str:
    cities = ["Lisbon", "Porto", "Oslo", "Bergen", "Lyon", "Turin", "Graz", "Ghent", "Cork", "Brno"]
    countries = ["PT", "NO", "FR", "IT", "AT", "BE", "IE", "CZ"]
    statuses = ["open", "closed", "pending", "shipped", "returned"]
    categories = ["hardware", "software", "services", "training", "support", "licences"]
    words = "tide gauge harbour station reading level datum surge forecast archive record".split()
    out = ["id,name,email,city,country,date,amount,status,category,note\n"]
    for i in range(1, rows + 1):
        first = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)).capitalize()
        note = " ".join(rng.choice(words) for _ in range(3))
        if i == 1:
            note = "first row HOSTILECSVFIRSTROW"
        elif i == rows:
            note = "last row HOSTILECSVLASTROW"
        out.append(
            f'{i},{first} {rng.choice(cities)}son,{first.lower()}{i}@example.org,{rng.choice(cities)},'
            f"{rng.choice(countries)},2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},"
            f'{rng.randint(1, 99999) / 100:.2f},{rng.choice(statuses)},{rng.choice(categories)},"{note}"\n'
        )
    return "".join(out)


def _xml_in(encoding_label: str, marker: str) -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding_label}"?>\n'
        f"<doc>\n  <title>Grüße {marker}</title>\n"
        f"  <para>Ünïcödé straße in {encoding_label}: déjà vu.</para>\n</doc>\n"
    )


def _html(title: str, body: str) -> str:
    return f"<!doctype html>\n<html><head><title>{title}</title></head>\n<body>\n{body}\n</body></html>\n"


def _cases() -> list[tuple[Case, bytes | None]]:
    """(case, content) pairs; content None for cases written specially (FIFO)."""
    u = lambda text: text.encode("utf-8")  # noqa: E731
    cases: list[tuple[Case, bytes | None]] = []

    def add(case: Case, content: bytes | None) -> None:
        cases.append((case, content))

    # Names that are not UTF-8 (Latin-1 bytes), a file and a folder.
    add(Case("latin1-file-name", b"caf\xe9.md", ("HOSTILELATIN1FILENAME",)),
        u("# Caf\u00e9 menu\n\nA file whose name is Latin-1 bytes HOSTILELATIN1FILENAME.\n"))
    add(Case("latin1-folder-name", b"r\xe9sum\xe9/inside.md", ("HOSTILELATIN1FOLDER",)),
        u("# Inside\n\nA file in a folder whose name is Latin-1 bytes HOSTILELATIN1FOLDER.\n"))

    add(Case("duplicate-json-keys", b"dup.json", ("a[1]",),
             note="27 bytes; duplicate key and a key with brackets (ids keyed by member name)"),
        b'{"a":1,"a":2,"a[1]":3}')

    outline = ["# Outline", ""]
    outline += [f"{'  ' * level}- level {level + 1} item" for level in range(12)]
    outline += ["", "Paragraph after the outline HOSTILEOUTLINEPARA.", "", "## Tail", "",
                "Tail section text HOSTILEOUTLINETAIL.", ""]
    add(Case("md-outline-12-levels", b"outline-12.md", ("HOSTILEOUTLINEPARA", "HOSTILEOUTLINETAIL")),
        u("\n".join(outline)))

    add(Case("md-list-5000-levels", b"deep-list.md", ("HOSTILEDEEPLISTTAIL",), ("HOSTILEDEEPLISTINNER",),
             note="one line of 5,000 nested list markers; the innermost text is a soft marker"),
        u("# Deep list\n\n" + "- " * 5000 + "innermost HOSTILEDEEPLISTINNER\n\nTail paragraph HOSTILEDEEPLISTTAIL.\n"))
    add(Case("md-blockquote-5000-levels", b"deep-quote.md", ("HOSTILEDEEPQUOTETAIL",), ("HOSTILEDEEPQUOTEINNER",)),
        u("# Deep quote\n\n" + ">" * 5000 + " innermost HOSTILEDEEPQUOTEINNER\n\nTail paragraph HOSTILEDEEPQUOTETAIL.\n"))

    add(Case("html-255-divs", b"divs-255.html", ("HOSTILEDIV255INNER", "HOSTILEDIV255TAIL")),
        u(_html("Divs 255", "<div>" * 255 + "<p>Innermost HOSTILEDIV255INNER</p>" + "</div>" * 255
                + "\n<h2>Tail marker</h2><p>Tail paragraph HOSTILEDIV255TAIL.</p>")))
    add(Case("html-100000-divs", b"divs-100k.html", ("HOSTILEDIV100KTAIL",), ("HOSTILEDIV100KINNER",)),
        u(_html("Divs 100k", "<div>" * 100_000 + "<p>Innermost HOSTILEDIV100KINNER</p>" + "</div>" * 100_000
                + "\n<h2>Tail marker</h2><p>Tail paragraph HOSTILEDIV100KTAIL.</p>")))

    # Config files that start with "[" (sniffed as JSON?) and files that start with "# ".
    add(Case("ini-bracket", b"settings.ini", ("HOSTILEINI",)),
        u("[server]\nhost = localhost\nbanner = HOSTILEINI\n\n[client]\nretries = 3\n"))
    add(Case("toml-bracket", b"pyproject.toml", ("HOSTILETOML",)),
        u('[project]\nname = "demo"\ndescription = "HOSTILETOML"\n\n[tool.demo]\nlevel = 2\n'))
    add(Case("cfg-bracket", b"setup.cfg", ("HOSTILECFG",)),
        u("[metadata]\nname = demo\nsummary = HOSTILECFG\n\n[options]\nzip_safe = false\n"))
    add(Case("editorconfig-bracket", b".editorconfig", ("HOSTILEEDITORCONFIG",)),
        u("[*]\nindent_style = space\ncharset = utf-8\n\n[*.md]\nmax_line_length = off  # HOSTILEEDITORCONFIG\n"))
    add(Case("pylintrc-bracket", b".pylintrc", ("HOSTILEPYLINTRC",)),
        u("[MASTER]\njobs = 2\n\n[MESSAGES CONTROL]\ndisable = HOSTILEPYLINTRC\n"))
    add(Case("makefile-hash", b"Makefile", ("HOSTILEMAKEFILE",)),
        u("# Build the docs\n\nall: html\n\nhtml:\n\tsphinx-build -b html . _build  # HOSTILEMAKEFILE\n"))
    add(Case("confpy-hash", b"conf.py", ("HOSTILECONFPY",)),
        u("# Configuration file for the Sphinx documentation builder.\n\nproject = 'HOSTILECONFPY'\n"
          "extensions = ['sphinx.ext.autodoc']\n"))

    add(Case("jsonc-settings", b"settings.json", ("HOSTILEJSONC",),
             note="VS Code style: // comments and trailing commas"),
        u('{\n    // Editor settings\n    "editor.fontSize": 14,\n'
          '    "files.exclude": {\n        "**/.git": true,\n    },\n'
          '    /* block comment */\n    "demo.banner": "HOSTILEJSONC",\n}\n'))

    for label, codec, marker in (
        ("IBM437", "cp437", "HOSTILEXMLCPFOURTHREESEVEN"),
        ("IBM850", "cp850", "HOSTILEXMLCPEIGHTFIVEZERO"),
        ("macintosh", "mac_roman", "HOSTILEXMLMACROMAN"),
        ("IBM037", "cp037", "HOSTILEXMLEBCDIC"),
    ):
        add(Case(f"xml-{codec}", f"encoding-{codec}.xml".encode(), (marker, "Grüße")),
            _xml_in(label, marker).encode(codec))

    for codec in ("utf-16", "utf-32"):  # Python's codecs write a BOM
        tag = codec.replace("-", "").upper()
        add(Case(f"md-{codec}-bom", f"{codec}.md".encode(), (f"HOSTILE{tag}MD", "Grüße")),
            f"# {codec} Markdown\n\nGrüße from a BOM-marked file HOSTILE{tag}MD.\n".encode(codec))
        add(Case(f"html-{codec}-bom", f"{codec}.html".encode(), (f"HOSTILE{tag}HTML", "Grüße")),
            _html(f"{codec} HTML", f"<p>Grüße from a BOM-marked file HOSTILE{tag}HTML.</p>").encode(codec))

    add(Case("rss-undefined-entities", b"feed-entities.xml", ("HOSTILERSSENTITY",)),
        u('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Entities</title>\n'
          "<item><title>Caf&eacute; cr&egrave;me &acirc; la carte&nbsp;today</title>\n"
          "<description>Entity-laden feed HOSTILERSSENTITY</description></item>\n</channel></rss>\n"))
    add(Case("xml-not-well-formed", b"broken.xml", ("HOSTILEBROKENXML",)),
        u('<?xml version="1.0"?>\n<root><item>Unclosed item HOSTILEBROKENXML\n<item>second</item>\n</root>\n'))

    add(Case("csv-10mb", b"big.csv", ("HOSTILECSVFIRSTROW", "HOSTILECSVLASTROW"),
             note="100,000 rows x 10 columns"),
        u(_csv_rows(100_000, random.Random(42))))

    add(Case("md-inline-html", b"inline-html.md",
             ("linux", "win32", "darwin", "HOSTILEINLINEPARA", "HOSTILEBRONE", "HOSTILEBRTWO",
              "HOSTILEHTMLBLOCK", "HOSTILEINLINETAIL"),
             note="adjacent inline <code> and <br> must not glue words together"),
        u("# Inline HTML\n\nPlatforms <code>linux</code><code>win32</code><code>darwin</code> are supported "
          "HOSTILEINLINEPARA.\n\n| Segment | Aliases |\n| --- | --- |\n| micro | `HOSTILEBRONE`<br>`HOSTILEBRTWO` |\n\n<div><p>Block HTML paragraph HOSTILEHTMLBLOCK with <em>emphasis</em>.</p></div>\n\n"
          "After the block HOSTILEINLINETAIL.\n"))

    add(Case("md-attr-list-ids", b"attr-ids.md", ("HOSTILEATTRCUSTOM", "HOSTILEATTRSTYLED")),
        u("# Attribute lists\n\n## Custom heading {#custom-id}\n\nText HOSTILEATTRCUSTOM.\n\n"
          "## Styled heading {: #attr-id .note }\n\nText HOSTILEATTRSTYLED.\n"))
    add(Case("md-links-to-attr-ids", b"attr-links.md", ("HOSTILEATTRLINKS",),
             links=(("attr-ids.md#custom-id", "anchor"), ("attr-ids.md#attr-id", "anchor"), ("attr-ids.md", "doc"))),
        u("# Links to attribute ids\n\nSee [custom](attr-ids.md#custom-id), [styled](attr-ids.md#attr-id) "
          "and [the page](attr-ids.md) HOSTILEATTRLINKS.\n"))
    add(Case("html-nested-anchors", b"anchors.html", ("HOSTILEANCHORHTML",)),
        u(_html("Anchors", '<h2 id="own-id"><a id="inner-id"></a><a name="inner-name"></a>'
                "Heading with anchors HOSTILEANCHORHTML</h2>\n<p>Body.</p>\n"
                '<h2 id="second">Second</h2>\n<p>More.</p>')))
    add(Case("html-links-to-anchors", b"anchor-links.html", ("HOSTILEANCHORLINKS",),
             links=(("anchors.html#own-id", "anchor"), ("anchors.html#inner-id", "anchor"),
                    ("anchors.html#inner-name", "anchor"), ("anchors.html#second", "anchor"))),
        u(_html("Anchor links", '<p>Links HOSTILEANCHORLINKS: <a href="anchors.html#own-id">own</a>, '
                '<a href="anchors.html#inner-id">inner id</a>, <a href="anchors.html#inner-name">inner name</a>, '
                '<a href="anchors.html#second">second</a>.</p>')))

    add(Case("mkdocs-admonitions-tabs", b"admonitions.md",
             ("HOSTILEADMONNOTE", "HOSTILEADMONTIP", "HOSTILEADMONWARN", "HOSTILETABONE", "HOSTILETABTWO",
              "HOSTILEADMONTAIL"),
             links=(("target-a.md", "doc"), ("target-b.md", "doc"), ("target-c.md#section-c", "anchor"),
                    ("target-a.md#target-a", "anchor"), ("target-b.md#target-b", "anchor"))),
        u('# Admonitions\n\n!!! note "Note title"\n    Note body HOSTILEADMONNOTE with a [link](target-a.md).\n\n'
          "??? tip\n    Collapsed tip HOSTILEADMONTIP, see [b](target-b.md).\n\n"
          "???+ warning\n\n    Open warning HOSTILEADMONWARN, see [c](target-c.md#section-c).\n\n"
          '=== "Tab 1"\n\n    Tab one HOSTILETABONE, see [d](target-a.md#target-a).\n\n'
          '=== "Tab 2"\n\n    Tab two HOSTILETABTWO, see [e](target-b.md#target-b).\n\n'
          "Tail paragraph HOSTILEADMONTAIL.\n"))
    for letter in "abc":
        add(Case(f"link-target-{letter}", f"target-{letter}.md".encode(), (f"HOSTILETARGET{letter.upper()}",),
                 neighbour=True),
            u(f"# Target {letter.upper()}\n\nBody HOSTILETARGET{letter.upper()}.\n\n"
              f"## Section {letter.upper()}\n\nSection text.\n"))

    links = "\n\n".join(
        " ".join(f"[l{i}](target-a.md#n{i})" for i in range(block * 1000, block * 1000 + 1000))
        for block in range(200)
    )
    add(Case("md-200000-links", b"many-links.md", ("HOSTILELINKSTAIL",), link_count=200_000),
        u(f"# Many links\n\n{links}\n\nTail paragraph HOSTILELINKSTAIL.\n"))

    add(Case("latin1-text-undeclared", b"latin1.txt", ("HOSTILELATIN1TEXT",), ("Café", "crème"),
             note="Latin-1 bytes, no declaration: accents are soft markers"),
        "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e HOSTILELATIN1TEXT\n".encode("latin-1"))

    add(Case("fifo", b"pipe.md", skip_ok=True, note="a named pipe: reading it would block forever"), None)

    # Ordinary neighbours, spread over the listing order, to catch a hostile file taking others down.
    for i, where in enumerate(("", "", "aaa/", "mmm/", "zzz/", "zzz/deeper/", "", "r\u00e9sum\u00e9-utf8/")):
        for j in range(3):
            n = i * 3 + j
            add(Case(f"neighbour-{n:02d}", f"{where}neighbour-{n:02d}.md".encode(), (f"HOSTILENEIGHBOUR{n:02d}X",),
                     neighbour=True),
                u(f"# Neighbour {n}\n\nAn ordinary document HOSTILENEIGHBOUR{n:02d}X.\n\n- one\n- two\n"))
    return cases


CASES: list[Case] = [case for case, _ in _cases()]


def write_hostile(folder: str | os.PathLike[str]) -> list[Case]:
    """Write the hostile set into ``folder`` (created); returns the cases written."""
    root = os.fsencode(Path(folder))
    os.makedirs(root, exist_ok=True)
    written: list[Case] = []
    for case, content in _cases():
        target = os.path.join(root, case.path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.lexists(target):
            os.unlink(target)
        if content is None:
            os.mkfifo(target)
        else:
            with open(target, "wb") as handle:
                handle.write(content)
        written.append(case)
    return written


# ---------------------------------------------------------------- checking


def _has(db: sqlite3.Connection, doc_id: str, marker: str) -> bool:
    """The marker is in some element's text as a word of its own (not glued to a neighbour)."""
    word = re.compile(r"(?<![A-Za-z0-9])" + re.escape(marker) + r"(?![A-Za-z0-9])")
    rows = db.execute("SELECT text FROM elements WHERE doc_id = ? AND instr(text, ?) > 0", (doc_id, marker))
    return any(word.search(text) for (text,) in rows)


def _check_links(db: sqlite3.Connection, doc_id: str, case: Case) -> tuple[list[dict[str, Any]], bool]:
    results, ok = [], True
    for href, expect in case.links:
        rows = db.execute(
            "SELECT r.target_id, r.target_anchor, e.parent_id IS NULL, e.anchor FROM stored_relationships r "
            "LEFT JOIN elements e ON e.element_id = r.target_id "
            "WHERE r.doc_id = ? AND r.relationship_type = 'links_to' AND r.target_reference = ?",
            (doc_id, href),
        ).fetchall()
        if not rows:
            got = "no link stored"
        elif rows[0][0] is None:
            got = "unresolved"
        elif rows[0][2]:
            got = "root" if "#" not in href else "root fallback"
        else:
            got = f"element #{rows[0][3]}" if rows[0][3] else "element"
        fine = (expect == "doc" and got == "root") or (expect == "anchor" and got.startswith("element"))
        ok = ok and fine
        results.append({"href": href, "expect": expect, "got": got, "ok": fine})
    return results, ok


def check_hostile(
    db_path: str | os.PathLike[str] | None,
    summary: dict[str, Any] | None,
    source: str,
    cases: list[Case] | None = None,
) -> list[CaseResult]:
    """Judge every case from the store and the ingest's JSON summary (either may be missing)."""
    cases = CASES if cases is None else cases
    summary = summary or {}
    failures = [f for f in summary.get("failures", []) if f.get("source") == source]
    skips = [s for s in summary.get("skipped_paths", []) if s.get("source") == source]
    db = None
    if db_path is not None and os.path.exists(db_path):
        db = sqlite3.connect(f"file:{os.fspath(db_path)}?mode=ro", uri=True)
        db.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
    results: list[CaseResult] = []
    try:
        for case in cases:
            spellings = case.path_spellings()
            result = CaseResult(case.name, case.display, "missing", False, note=case.note)
            stored = None
            if db is not None:
                for path in filter(_sql_safe, spellings):
                    stored = db.execute(
                        "SELECT doc_id, path FROM documents WHERE source = ? AND path = ?", (source, path)
                    ).fetchone()
                    if stored:
                        break
                if stored is None and case.markers:  # the path may be spelled some other way
                    stored = db.execute(
                        "SELECT d.doc_id, d.path FROM elements e JOIN documents d ON d.doc_id = e.doc_id "
                        "WHERE d.source = ? AND instr(e.text, ?) > 0 LIMIT 1",
                        (source, case.markers[0]),
                    ).fetchone()
            failure = next((f for f in failures if f.get("path") in spellings), None)
            skip = next((s for s in skips if s.get("path") in spellings), None)
            if stored is not None:
                doc_id, result.stored_path = stored
                result.outcome = "stored"
                for marker in case.markers:
                    (result.markers_found if _has(db, doc_id, marker) else result.markers_missing).append(marker)
                result.soft_missing = [m for m in case.soft_markers if not _has(db, doc_id, m)]
                result.links, result.links_ok = _check_links(db, doc_id, case)
                if case.link_count is not None:
                    result.link_count = db.execute(
                        "SELECT count(*) FROM stored_relationships WHERE doc_id = ? AND relationship_type = 'links_to'",
                        (doc_id,),
                    ).fetchone()[0]
                result.ok = not result.markers_missing
            elif failure is not None:
                result.outcome, result.cause = "failed", f"{failure.get('stage')}: {failure.get('cause')}"
                result.ok = bool(failure.get("cause")) and not case.neighbour
            elif skip is not None:
                result.outcome, result.cause = "skipped", skip.get("reason", "")
                result.ok = case.skip_ok and bool(result.cause)
            if result.outcome != "stored" and db is not None:
                result.markers_elsewhere = [
                    m for m in case.markers
                    if db.execute("SELECT 1 FROM elements WHERE instr(text, ?) > 0 LIMIT 1", (m,)).fetchone()
                ]
            results.append(result)
    finally:
        if db is not None:
            db.close()
    return results


__all__ = ["CASES", "Case", "CaseResult", "check_hostile", "write_hostile"]
