"""Real-world corpus benchmark and checker.

    python benchmarks/realworld.py [--cache DIR] [--projects a,b] [--jobs N] [--skip-download]
                                   [--keep-db] [--report FILE] [--summary FILE] [--timeout S]

1. Builds a corpus in ``--cache`` (default ``~/.cache/go-doc-go/realworld``): the
   pinned sdists below are fetched with ``pip download --no-deps --no-binary :all:``,
   extracted safely, and what a user would call "my docs folder" is copied into
   ``corpus/<project>/``: documentation trees whole, plus README/CHANGELOG, data
   and config files from the rest of the sdist.
2. Writes the hostile set (``benchmarks/hostile.py``) into ``corpus/hostile/``.
3. Ingests each project folder with ``go-doc-go ingest corpus/<project> --db X --json``
   in a subprocess, as a user would, recording exit code, wall time and peak RSS.
4. Checks the store against the sources with its own code (regular expressions
   and the standard library only; none of go-doc-go's parsers): files vs stored
   documents, failures by cause, skips by reason, files nobody accounted for,
   silent truncation, replacement characters, and links counted independently
   vs links stored and resolved.

A benchmark, not a test: it reports, it never asserts. Exit status 0 unless the
script itself could not run.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import CASES, check_hostile, write_hostile  # noqa: E402

# ---------------------------------------------------------------- the corpus

# Exact versions, so the corpus is reproducible. "trees": copied whole (images and
# all, as a user's docs folder is). Elsewhere in the sdist, files matching
# DOC_NAMES are taken. "skip": folders left out; "sample": folder -> keep every
# n-th file (sorted), to keep big test suites to a sensible share.
PROJECTS: dict[str, dict[str, Any]] = {
    "pymdown-extensions": {"req": "pymdown-extensions==13.1.2", "trees": ["docs"],
                           "why": "MkDocs docs: blocks, tabs, details, admonitions; md/html test pairs"},
    "hatch": {"req": "hatch==1.18.2", "trees": ["docs"],
              "why": "mkdocs-material docs with admonitions and content tabs"},
    "griffe": {"req": "griffe==2.4.1", "trees": ["docs", "config"],
               "why": "mkdocs-material docs; VS Code / Zed settings JSON with comments"},
    "mkdocstrings": {"req": "mkdocstrings==1.0.8", "trees": ["docs", "config"],
                     "why": "MkDocs docs, overrides HTML, editor JSON configs"},
    "black": {"req": "black==26.10.1", "trees": ["docs"], "why": "Sphinx + MyST Markdown docs"},
    "click": {"req": "click==8.5.1", "trees": ["docs"], "why": "Sphinx + MyST Markdown docs"},
    "flask": {"req": "flask==3.1.3", "trees": ["docs", "examples"],
              "why": "Sphinx reST docs, Jinja HTML templates"},
    "werkzeug": {"req": "werkzeug==3.1.9", "trees": ["docs", "examples"],
                 "why": "Sphinx reST docs, HTML templates"},
    "jinja2": {"req": "jinja2==3.1.6", "trees": ["docs"], "why": "Sphinx reST docs"},
    "sphinx": {"req": "sphinx==9.0.4", "trees": ["doc"], "skip": ["tests", "sphinx"],
               "why": "Sphinx's own docs (reST, conf.py, Makefile, CSV tables)"},
    "pytest": {"req": "pytest==9.2.0", "trees": ["doc"], "why": "large reST doc tree, CHANGELOG, ini files"},
    "docutils": {"req": "docutils==0.23", "trees": ["docs"],
                 "why": "reST docs; generated HTML/XML test outputs; test data in odd encodings"},
    "markdown": {"req": "markdown==3.11.3", "trees": ["docs"],
                 "why": "Python-Markdown docs; Markdown/HTML/text test pairs (hostile-ish syntax)"},
    "feedparser": {"req": "feedparser==6.0.14", "trees": ["docs"], "sample": {"tests/wellformed": 4},
                   "why": "real and hostile RSS/Atom/CDF test feeds (every 4th well-formed one, all ill-formed)"},
    "chardet": {"req": "chardet==5.2.0", "trees": ["docs"], "sample": {"tests": 2},
                "why": "text/HTML/XML samples in ~30 encodings (every 2nd file)"},
    "jsonschema": {"req": "jsonschema==4.26.0", "trees": ["docs"], "sample": {"json/tests": 2},
                   "why": "JSON Schema test suite: real JSON of all shapes (every 2nd test file)"},
    "xmlschema": {"req": "xmlschema==4.3.2", "trees": ["doc"], "sample": {"tests/test_cases": 2},
                  "why": "XML/XSD test cases, namespaces, encodings (every 2nd file)"},
    "csvkit": {"req": "csvkit==2.2.0", "trees": ["docs", "examples"],
               "why": "CSV examples incl. real data sets, odd dialects"},
    "agate": {"req": "agate==1.14.2", "trees": ["docs", "examples"], "why": "CSV/JSON examples, reST docs"},
}

DOC_EXTENSIONS = {
    ".md", ".markdown", ".rst", ".html", ".htm", ".txt", ".json", ".csv", ".tsv", ".xml", ".toml",
    ".cfg", ".ini", ".yaml", ".yml", ".rss", ".atom", ".rdf", ".xsd", ".svg",
}
DOC_PREFIXES = ("readme", "changelog", "changes", "history", "news", "license", "authors", "contributing")
DOC_FILES = {"conf.py", "makefile", "make.bat", "mkdocs.yml", "tox.ini", "setup.cfg"}
SKIP_DIRS = {".git", "__pycache__", "node_modules"}
TEXT_TYPES_BY_EXT = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def wanted(rel: str, spec: dict[str, Any]) -> bool:
    """Is this sdist-relative path part of what a user would point the tool at?"""
    parts = rel.split("/")
    if any(p in SKIP_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
        return False
    if any(rel == t or rel.startswith(t + "/") for t in spec.get("trees", [])):
        return True
    if any(rel.startswith(s + "/") for s in spec.get("skip", [])):
        return False
    name = parts[-1].lower()
    if name == "pkg-info":
        return False
    ext = os.path.splitext(name)[1]
    if ext in DOC_EXTENSIONS or name in DOC_FILES or name.startswith(DOC_PREFIXES):
        return True
    # config dotfiles (.editorconfig, .pylintrc, .readthedocs.yaml, .pre-commit-config.yaml...)
    return name.startswith(".") and name not in {".ds_store"} and ext not in {".py", ".png", ".jpg"}


def safe_extract(archive: Path, target: Path) -> Path:
    """Extract refusing absolute paths, ``..``, links out of the tree and special files."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                dest = (target / info.filename).resolve()
                if not str(dest).startswith(str(target.resolve()) + os.sep):
                    raise RuntimeError(f"{archive.name}: member {info.filename!r} leaves the folder")
            z.extractall(target)
    else:
        with tarfile.open(archive) as t:
            t.extractall(target, filter="data")
    tops = [p for p in target.iterdir()]
    return tops[0] if len(tops) == 1 and tops[0].is_dir() else target


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(req: str, sdists: Path) -> Path:
    name, version = req.split("==")
    norm = re.sub(r"[-_.]+", "[-_.]", name)
    pattern = re.compile(rf"^{norm}-{re.escape(version)}\.(tar\.gz|zip|tar\.bz2)$", re.I)
    found = [p for p in sdists.glob("*") if pattern.match(p.name)]
    if not found:
        log(f"  downloading {req}")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "-d", str(sdists), req],
            check=True, timeout=900,
        )
        found = [p for p in sdists.glob("*") if pattern.match(p.name)]
    if not found:
        raise RuntimeError(f"pip download {req}: no sdist appeared in {sdists}")
    return found[0]


def build_project(name: str, spec: dict[str, Any], cache: Path, skip_download: bool) -> dict[str, Any]:
    sdists, extracted, corpus = cache / "sdists", cache / "extracted", cache / "corpus" / name
    sdists.mkdir(parents=True, exist_ok=True)
    state_file = cache / "state" / f"{name}.json"
    if skip_download and state_file.exists() and corpus.is_dir():
        state = json.loads(state_file.read_text())
        if state.get("req") == spec["req"]:
            return state
    if skip_download:
        archive = next(iter(sorted(sdists.glob(f"{re.sub(r'[-_.]+', '?', spec['req'].split('==')[0])}-"
                                                f"{spec['req'].split('==')[1]}.*"))), None)
        if archive is None:
            raise RuntimeError(f"--skip-download: no cached sdist for {spec['req']} in {sdists}")
    else:
        archive = download(spec["req"], sdists)
    root = safe_extract(archive, extracted / name)
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    members: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for filename in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, filename), root).replace(os.sep, "/")
            if wanted(rel, spec) and os.path.isfile(os.path.join(dirpath, filename)):
                members.append(rel)
    for folder, every in spec.get("sample", {}).items():
        inside = [m for m in members if m.startswith(folder + "/")]
        keep = set(inside[::every])
        members = [m for m in members if not m.startswith(folder + "/") or m in keep]
    for rel in members:
        dest = corpus / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dest)
    shutil.rmtree(extracted / name)
    state = {"req": spec["req"], "sdist": archive.name, "sha256": sha256_of(archive),
             "sdist_bytes": archive.stat().st_size, "files_copied": len(members), "why": spec.get("why", "")}
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=2))
    return state


# ---------------------------------------------------------------- running go-doc-go


def go_doc_go_command() -> list[str]:
    exe = Path(sys.executable).with_name("go-doc-go")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("go-doc-go")
    return [found] if found else [sys.executable, "-m", "go_doc_go.cli.main"]


def run_ingest(folder: Path, db: Path, jobs: int | None, timeout: float, workdir: Path) -> dict[str, Any]:
    """One ``go-doc-go ingest FOLDER --db DB --json`` run; wall time and peak RSS via wait4."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    cmd = [*go_doc_go_command(), "ingest", str(folder), "--db", str(db), "--json"]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    out_path, err_path = workdir / f"{db.stem}.stdout", workdir / f"{db.stem}.stderr"
    started = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=workdir, start_new_session=True)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    stdout = out_path.read_text(errors="replace")
    stderr = err_path.read_text(errors="replace")
    try:
        summary = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        summary = None
    crashed = timed_out or proc.returncode not in (0, 1) or "Traceback" in stderr or summary is None
    last = [line for line in stderr.strip().splitlines() if line and not line.startswith(" ")]
    return {
        "command": " ".join(cmd),
        "exit_code": proc.returncode,
        "timed_out": timed_out,
        "crashed": crashed,
        "crash": (last[-1] if last else f"no JSON summary, exit {proc.returncode}") if crashed else None,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB; includes waited-for workers
        "summary": summary,
    }


# ---------------------------------------------------------------- independent reading of sources

BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
WORD = re.compile(r"[A-Za-z]{4,}")


def decode_source(data: bytes, kind: str) -> tuple[str, str]:
    """Text of the file as a careful reader would decode it, and the encoding used."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            return data.decode(codec, "replace").lstrip("\ufeff"), codec
    if data[:4] == b"\x4c\x6f\xa7\x94":  # "<?xm" in EBCDIC
        try:
            head = data[:200].decode("cp037")
            m = re.search(r"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", head)
            codec = m.group(1) if m else "cp037"
            return data.decode(codec, "replace"), codec
        except LookupError:
            return data.decode("cp037", "replace"), "cp037"
    declared = None
    if kind in ("xml", "html"):
        m = XML_DECL.match(data[:200]) or (META_CHARSET.search(data[:4096]) if kind == "html" else None)
        if m:
            declared = m.group(1).decode("ascii")
    for codec in filter(None, (declared, "utf-8")):
        try:
            return data.decode(codec), codec
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", "replace"), "cp1252?"


_FRONT_MATTER = re.compile(r"\A---\n.*?\n(---|\.\.\.)\n", re.S)
_MD_LINK_TARGET = re.compile(r"\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_MD_REF_DEF = re.compile(r"^ {0,3}\[[^\]^][^\]]*\]:\s*\S+.*$", re.M)  # not footnotes ([^1]: text)
_FENCE_INFO = re.compile(r"^([ \t>]*)(```+|~~~+)[^\n]*", re.M)  # ```toml config-example, ```{rubric} Title
_MD_REF_LABEL = re.compile(r"\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(?:https?|mailto|ftp):[^>\s]*>")
_URL = re.compile(r"(?:https?|ftp)://\S+")
_TAG = re.compile(r"<[A-Za-z/!?][^>]*>")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_DROP_BLOCKS = re.compile(r"<(script|style|noscript|template|head)\b.*?</\1\s*>", re.S | re.I)
_XML_JUNK = re.compile(r"<\?.*?\?>|<!DOCTYPE(?:[^\[>]|\[.*?\])*>|<!\[CDATA\[|\]\]>", re.S | re.I)
_XML_STD_ENTITY = re.compile(r"&(lt|gt|amp|quot|apos|#\d+|#x[0-9A-Fa-f]+);")


def visible_text(text: str, doc_type: str) -> str:
    """The words a reader sees, with markup stripped roughly (see METHOD in the report)."""
    if doc_type == "markdown":
        text = _FRONT_MATTER.sub("", text)
        text = _FENCE_INFO.sub(r"\1\2", text)
        text = _COMMENT.sub(" ", text)
        text = _MD_REF_DEF.sub(" ", text)
        text = _MD_LINK_TARGET.sub("] ", text)
        text = _MD_REF_LABEL.sub("] ", text)
        text = _AUTOLINK.sub(" ", text)
        text = _TAG.sub(" ", text)
        text = _URL.sub(" ", text)
        return html.unescape(text)
    if doc_type == "html":
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.S | re.I)
        text = _COMMENT.sub(" ", text)
        text = _DROP_BLOCKS.sub(" ", text)
        text = _TAG.sub(" ", text)
        return html.unescape(text) + (" " + html.unescape(title.group(1)) if title else "")
    if doc_type == "xml":
        text = _COMMENT.sub(" ", text)
        text = _XML_JUNK.sub(" ", text)
        text = _TAG.sub(" ", text)
        return _XML_STD_ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    if doc_type == "json":
        try:
            value = json.loads(text)
        except ValueError:
            return text
        out: list[str] = []
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                out.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, str):
                out.append(item)
        return "\n".join(out)
    return text  # text, csv


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


# ---------------------------------------------------------------- links, independently

_FENCE = re.compile(r"^( {0,3})(```+|~~~+).*?^\1\2[ \t]*$", re.S | re.M)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_MD_INLINE_LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_MD_DEF = re.compile(r"^ {0,3}\[([^\]^][^\]]*)\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_HTML_A_HREF = re.compile(r"""<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I | re.S)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_relative(href: str) -> bool:
    href = href.strip()
    return bool(href) and not (_SCHEME.match(href) or href.startswith(("#", "//")))


def hrefs_of(text: str, doc_type: str) -> list[str]:
    """Distinct relative link targets a reader would count (order kept)."""
    found: list[str] = []
    if doc_type == "markdown":
        text = _FENCE.sub(" ", _FRONT_MATTER.sub("", text))
        text = _CODE_SPAN.sub(" ", text)
        found += _MD_INLINE_LINK.findall(text)
        definitions = dict((label.lower(), target) for label, target in _MD_DEF.findall(text))
        body = _MD_DEF.sub(" ", text)
        for label, target in definitions.items():
            if re.search(r"\[" + re.escape(label) + r"\]", body, re.I):
                found.append(target)
        found += [m[0] or m[1] or m[2] for m in _HTML_A_HREF.findall(text)]
    elif doc_type == "html":
        text = _DROP_BLOCKS.sub(" ", _COMMENT.sub(" ", text))
        found += [html.unescape(m[0] or m[1] or m[2]) for m in _HTML_A_HREF.findall(text)]
    seen: dict[str, None] = {}
    for href in found:
        if is_relative(href):
            seen.setdefault(href.strip(), None)
    return list(seen)


def resolve_on_disk(project: Path, rel_file: str, href: str) -> tuple[str, str | None]:
    """(state, fragment): state is file | folder | missing | outside | bad."""
    try:
        parts = urlsplit(href)
    except ValueError:
        return "bad", None
    fragment = unquote(parts.fragment) or None
    target = unquote(parts.path)
    base = project if target.startswith("/") else (project / rel_file).parent
    candidate = os.path.normpath(os.path.join(base, target.lstrip("/")))
    if not (candidate == str(project) or candidate.startswith(str(project) + os.sep)):
        return "outside", fragment
    if os.path.isfile(candidate):
        return "file", fragment
    if os.path.isdir(candidate):
        return "folder", fragment
    return "missing", fragment


def _slug(text: str) -> str:
    text = re.sub(r"\{[:#][^}]*\}\s*$", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_in(path: str, doc_type: str, cache: dict[str, set[str]]) -> set[str]:
    """Anchors a reader can see in a file: ids, names, attr-list ids, heading slugs."""
    if path in cache:
        return cache[path]
    found: set[str] = set()
    try:
        text, _ = decode_source(open(path, "rb").read(4_000_000), doc_type)
    except OSError:
        text = ""
    found.update(m[0] or m[1] for m in re.findall(r"""\b(?:id|name)\s*=\s*(?:"([^"]+)"|'([^']+)')""", text))
    if doc_type == "markdown":
        found.update(re.findall(r"\{[:\s]*#([\w\-.:]+)", text))
        found.update(_slug(h) for h in re.findall(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", text, re.M))
    elif doc_type == "html":
        found.update(_slug(re.sub(r"<[^>]+>", "", h)) for h in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", text, re.S | re.I))
    cache[path] = found
    return found


# ---------------------------------------------------------------- checking one project


def cause_pattern(cause: str, path: str) -> str:
    text = cause.replace(path, "<path>") if path else cause
    text = re.sub(r"'[^']{0,80}'", "'…'", text)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:140]


def ext_of(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    ext = os.path.splitext(name)[1].lower()
    return ext if ext and len(ext) <= 10 else "(none)"


def os_form(stored: str) -> str:
    """The file-system name of a stored path, by the README's rule (written here from the rule, not imported):
    ``%XX`` is the byte XX (a byte that is not UTF-8, or an escaped ``%``); everything else is UTF-8."""
    raw = re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), stored.encode("utf-8", "surrogateescape"))
    return os.fsdecode(raw)


def walk_files(folder: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Regular files (relative str paths, undecodable bytes kept as surrogates) and special files."""
    files: list[str] = []
    special: list[tuple[str, str]] = []
    root = os.fsencode(folder)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.fsdecode(os.path.relpath(full, root)).replace(os.sep, "/")
            mode = os.lstat(full).st_mode
            if stat.S_ISREG(mode):
                files.append(rel)
            else:
                special.append((rel, "fifo" if stat.S_ISFIFO(mode) else "symlink" if stat.S_ISLNK(mode) else "special"))
    return files, special


def check_project(name: str, folder: Path, db_path: Path, run: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    files, special = walk_files(folder)
    summary = run.get("summary") or {}
    failures = {os_form(f["path"]): f for f in summary.get("failures", []) if f.get("source") == name}
    skipped = {os_form(s["path"]): s for s in summary.get("skipped_paths", []) if s.get("source") == name}
    stored: dict[str, tuple[str, str]] = {}
    db = None
    if db_path.exists():
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        db.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
        try:
            for doc_id, path, doc_type in db.execute("SELECT doc_id, path, doc_type FROM documents WHERE source = ?", (name,)):
                stored[os_form(path)] = (doc_id, doc_type)
        except sqlite3.DatabaseError as error:
            run.setdefault("store_error", str(error))
    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    unaccounted: list[str] = []
    for rel in files:
        bucket = per_type[ext_of(rel)]
        bucket["files"] += 1
        if rel in stored:
            bucket["stored"] += 1
        elif rel in failures:
            bucket["failed"] += 1
        elif rel in skipped:
            bucket["skipped"] += 1
        elif summary and summary.get("skipped", 0) > len(summary.get("skipped_paths", [])):
            bucket["skipped_or_unknown"] += 1  # the summary lists at most 1000 skips
        else:
            bucket["unaccounted"] += 1
            unaccounted.append(rel)
    for rel, kind in special:
        if rel not in failures and rel not in skipped:
            unaccounted.append(f"{rel} ({kind})")
    result: dict[str, Any] = {
        "files": len(files),
        "special_files": [f"{r} ({k})" for r, k in special],
        "stored": sum(1 for r in files if r in stored),
        "failed": len(failures),
        "skipped": summary.get("skipped", len(skipped)),
        "per_type": {k: dict(v) for k, v in sorted(per_type.items())},
        "unaccounted": unaccounted,
        "failures": list(failures.values()),
        "skipped_paths": list(skipped.values()),
    }
    result["stored_pct"] = round(100 * result["stored"] / result["files"], 1) if files else 0.0
    if db is not None:
        try:
            result["truncation"], result["replacement"] = check_text(db, folder, stored, args)
            result["links"] = check_links(db, folder, stored, name)
        except sqlite3.DatabaseError as error:
            result["store_error"] = str(error)
        db.close()
    return result


def check_text(db: sqlite3.Connection, folder: Path, stored: dict[str, tuple[str, str]],
               args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    checked, flagged, replaced = 0, [], []
    for rel, (doc_id, doc_type) in sorted(stored.items()):
        path = os.path.join(os.fsencode(folder), os.fsencode(rel))
        try:
            data = open(path, "rb").read()
        except OSError:
            continue
        source_text, codec = decode_source(data, doc_type)
        visible = visible_text(source_text, doc_type)
        ordered = words(visible)
        source_words = set(ordered)
        if not source_words:
            continue
        checked += 1
        stored_words: set[str] = set()
        meta_words: set[str] = set()
        has_fffd = False
        for text, metadata in db.execute("SELECT text, metadata FROM elements WHERE doc_id = ?", (doc_id,)):
            if text:
                stored_words.update(words(text))
                has_fffd = has_fffd or "\ufffd" in text
            if metadata and metadata != "{}":
                meta_words.update(words(metadata))
        title = db.execute("SELECT title, metadata FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if title:
            meta_words.update(words(title[0] or ""))
            meta_words.update(words(title[1] or ""))
        if has_fffd and "\ufffd" not in source_text:
            replaced.append({"path": rel, "source_encoding": codec})
        missing = source_words - stored_words - meta_words
        ratio = len(missing) / len(source_words)
        if ratio > args.trunc_ratio and len(missing) >= args.trunc_min:
            first_seen = {w: i for i, w in reversed(list(enumerate(ordered)))}
            tail = list(dict.fromkeys(reversed(ordered)))[:5]
            tail_lost = sum(1 for w in tail if w in missing)
            flagged.append({
                "path": rel, "doc_type": doc_type, "source_words": len(source_words), "missing": len(missing),
                "missing_pct": round(100 * ratio, 1), "tail_lost": f"{tail_lost}/{len(tail)}",
                "examples": sorted(missing, key=first_seen.__getitem__)[:12],
                "encoding": codec,
            })
    flagged.sort(key=lambda f: (-f["missing_pct"], -f["missing"]))
    return ({"checked": checked, "flagged": len(flagged), "docs": flagged},
            {"count": len(replaced), "docs": replaced})


def check_links(db: sqlite3.Connection, folder: Path, stored: dict[str, tuple[str, str]], name: str) -> dict[str, Any]:
    ind: Counter[str] = Counter()
    store: Counter[str] = Counter()
    lost: list[dict[str, Any]] = []
    anchor_cache: dict[str, set[str]] = {}
    expected_fragments: dict[tuple[str, str], bool] = {}
    for rel, (doc_id, doc_type) in sorted(stored.items()):
        if doc_type not in ("markdown", "html"):
            continue
        kind = TEXT_TYPES_BY_EXT.get(ext_of(rel), doc_type)
        path = os.path.join(os.fsencode(folder), os.fsencode(rel))
        text, _ = decode_source(open(path, "rb").read(), kind)
        hrefs = hrefs_of(text, kind)
        ind["docs"] += 1
        ind["relative"] += len(hrefs)
        for href in hrefs:
            state, fragment = resolve_on_disk(folder, rel, href)
            ind[state] += 1
            if fragment and state == "file":
                ind["file_with_fragment"] += 1
                target = os.path.normpath(os.path.join(folder / rel, "..", unquote(urlsplit(href).path)))
                target_kind = TEXT_TYPES_BY_EXT.get(ext_of(target))
                if target_kind:
                    present = fragment in anchors_in(target, target_kind, anchor_cache)
                    ind["fragment_found_in_target" if present else "fragment_not_found_in_target"] += 1
                    expected_fragments[(doc_id, href)] = present
        rows = db.execute(
            "SELECT target_reference, target_doc_id IS NOT NULL, target_id IS NOT NULL FROM stored_relationships "
            "WHERE doc_id = ? AND relationship_type = 'links_to'", (doc_id,)).fetchall()
        refs = {r[0]: r for r in rows if r[0] and not r[0].startswith("#")}
        in_source = {ref for ref, r in refs.items() if r[1]}
        store["relative_in_source"] += len(in_source)
        store["resolved"] += sum(1 for ref in in_source if refs[ref][2])
        missing = [h for h in hrefs if h not in refs]
        if missing:
            store["independent_links_not_stored"] += len(missing)
            lost.append({"path": rel, "independent": len(hrefs), "stored": len(in_source), "examples": missing[:5]})
    q = lambda sql: db.execute(sql, (name,)).fetchone()[0]  # noqa: E731
    base = ("FROM stored_relationships r JOIN documents d ON d.doc_id = r.doc_id "
            "WHERE d.source = ? AND r.relationship_type = 'links_to'")
    totals = {
        "links_to": q(f"SELECT count(*) {base}"),
        "target_doc_id_not_null": q(f"SELECT count(*) {base} AND r.target_doc_id IS NOT NULL"),
        "target_id_not_null": q(f"SELECT count(*) {base} AND r.target_id IS NOT NULL"),
        "with_fragment": q(f"SELECT count(*) {base} AND r.target_anchor IS NOT NULL AND r.target_doc_id != r.doc_id"),
        "fragment_to_anchor": q(
            f"SELECT count(*) {base} AND r.target_anchor IS NOT NULL AND r.target_doc_id != r.doc_id AND EXISTS "
            "(SELECT 1 FROM elements e WHERE e.element_id = r.target_id AND e.anchor = r.target_anchor)"),
        "fragment_fallback_to_root": q(
            f"SELECT count(*) {base} AND r.target_anchor IS NOT NULL AND r.target_doc_id != r.doc_id AND EXISTS "
            "(SELECT 1 FROM elements e WHERE e.element_id = r.target_id AND e.parent_id IS NULL)"),
    }
    fallback_rows = db.execute(
        "SELECT d.doc_id, d.path, r.target_reference "
        f"{base.replace('WHERE', 'JOIN elements e ON e.element_id = r.target_id WHERE')} "
        "AND r.target_anchor IS NOT NULL AND r.target_doc_id != r.doc_id AND e.parent_id IS NULL",
        (name,)).fetchall()
    fallback_with_anchor_present = [(p, ref) for doc_id, p, ref in fallback_rows if expected_fragments.get((doc_id, ref))]
    lost.sort(key=lambda item: -(item["independent"] - item["stored"]))
    return {
        "independent": dict(ind),
        "store_md_html": dict(store),
        "store_all_types": totals,
        "fragment_fallback_examples": [f"{p} -> {ref}" for _, p, ref in fallback_rows[:8]],
        "fragment_fallback_although_anchor_visible": len(fallback_with_anchor_present),
        "fragment_fallback_although_anchor_visible_examples": [f"{p} -> {r}" for p, r in fallback_with_anchor_present[:8]],
        "docs_with_links_not_stored": lost[:15],
        "docs_with_links_not_stored_count": len(lost),
    }


# ---------------------------------------------------------------- hostile


def run_hostile(cache: Path, runs: Path, args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    folder = cache / "corpus" / "hostile"
    if folder.exists():
        shutil.rmtree(folder)
    write_hostile(folder)
    db = runs / "hostile.db"
    run = run_ingest(folder, db, args.jobs, args.timeout, runs)
    results = check_hostile(db, run["summary"], "hostile")
    out: dict[str, Any] = {"run": run, "cases": [asdict(r) | {"verdict": r.verdict()} for r in results]}
    if run["crashed"] or args.hostile_isolated:
        # The whole run died, so every case looks missing: run each case on its own to see its outcome.
        isolated = []
        with tempfile.TemporaryDirectory(dir=runs) as tmp:
            for case in CASES:
                if case.neighbour:
                    continue
                sub = Path(tmp) / f"c{len(isolated):02d}" / "hostile"
                write_hostile(sub)
                keep = {case.path, b"target-a.md", b"target-b.md", b"target-c.md", b"attr-ids.md",
                        b"anchors.html", b"neighbour-00.md"}
                for other in CASES:
                    if other.path not in keep:
                        os.unlink(os.path.join(os.fsencode(sub), other.path))
                one = run_ingest(sub, sub.parent / "one.db", 1, args.timeout, sub.parent)
                res = check_hostile(sub.parent / "one.db", one["summary"], "hostile", [case])[0]
                isolated.append(asdict(res) | {"verdict": res.verdict(), "crashed": one["crash"],
                                                "seconds": one["seconds"], "peak_rss_mb": one["peak_rss_mb"]})
                log(f"  isolated {case.name}: {res.verdict()}{' (run crashed: ' + one['crash'] + ')' if one['crash'] else ''}")
        out["isolated"] = isolated
    check = check_project("hostile", folder, db, run, args)
    if not args.keep_db:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    return out, check


# ---------------------------------------------------------------- report

METHOD = (
    "Truncation detector: the source is decoded independently (BOM, else the XML/HTML declared "
    "encoding, else UTF-8, else cp1252) and markup is stripped roughly: Markdown loses front matter, "
    "link targets, reference definitions, HTML tags/comments and bare URLs (their text stays); HTML loses "
    "script/style/head (the <title> is kept), comments and tags, entities decoded; XML loses comments, PIs, "
    "DOCTYPE and tags (attribute values are not text); JSON is reduced to its keys and string values "
    "(stdlib json); text and CSV are taken as they are. Words are ASCII runs of 4+ letters, lower-cased. "
    "A document is flagged when more than {ratio:.0%} of its distinct source words (and at least {min} words) "
    "appear neither in the union of its elements' text nor in element metadata / title / document metadata. "
    "'tail_lost' counts how many of the last 5 distinct source words are missing: high values mean the end of "
    "the document was cut. Replacement check: stored text holds U+FFFD although the independently decoded "
    "source does not. Links: relative targets counted with regexes in Markdown (inline, used reference "
    "definitions, raw <a href>; fenced code and code spans removed) and HTML (<a href>), excluding "
    "scheme:, '#' and '//' targets, distinct per document, resolved against the file system; compared with "
    "stored links_to rows of the same documents (distinct target_reference not starting with '#')."
)


def aggregate(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    failures: dict[tuple[str, str], dict[str, Any]] = {}
    skipped: dict[str, dict[str, Any]] = {}
    unaccounted: list[str] = []
    trunc: list[dict[str, Any]] = []
    replaced: list[dict[str, Any]] = []
    links_ind: Counter[str] = Counter()
    links_store: Counter[str] = Counter()
    links_all: Counter[str] = Counter()
    fallback_examples: list[str] = []
    visible_fallback = 0
    visible_fallback_examples: list[str] = []
    lost: list[dict[str, Any]] = []
    checked = 0
    for project, res in results.items():
        for ext, counts in res["per_type"].items():
            per_type[ext].update(counts)
        for f in res["failures"]:
            key = (f["stage"], cause_pattern(f["cause"], f["path"]))
            group = failures.setdefault(key, {"stage": key[0], "cause": key[1], "count": 0, "examples": []})
            group["count"] += 1
            if len(group["examples"]) < 3:
                group["examples"].append(f"{project}/{f['path']}")
        for s in res["skipped_paths"]:
            group = skipped.setdefault(s["reason"], {"reason": s["reason"], "count": 0, "examples": []})
            group["count"] += 1
            if len(group["examples"]) < 3:
                group["examples"].append(f"{project}/{s['path']}")
        unaccounted += [f"{project}/{u}" for u in res["unaccounted"]]
        if "truncation" in res:
            checked += res["truncation"]["checked"]
            trunc += [d | {"project": project} for d in res["truncation"]["docs"]]
            replaced += [d | {"project": project} for d in res["replacement"]["docs"]]
        if "links" in res:
            links_ind.update(res["links"]["independent"])
            links_store.update(res["links"]["store_md_html"])
            links_all.update(res["links"]["store_all_types"])
            fallback_examples += [f"{project}/{e}" for e in res["links"]["fragment_fallback_examples"][:2]]
            visible_fallback += res["links"]["fragment_fallback_although_anchor_visible"]
            visible_fallback_examples += [f"{project}/{e}" for e in
                                          res["links"]["fragment_fallback_although_anchor_visible_examples"][:2]]
            lost += [d | {"project": project} for d in res["links"]["docs_with_links_not_stored"]]
    files = sum(r["files"] for r in results.values())
    stored = sum(r["stored"] for r in results.values())
    trunc.sort(key=lambda f: (-f["missing_pct"], -f["missing"]))
    lost.sort(key=lambda item: -(item["independent"] - item["stored"]))
    return {
        "files": files, "stored": stored, "stored_pct": round(100 * stored / files, 1) if files else 0.0,
        "failed": sum(r["failed"] for r in results.values()),
        "skipped": sum(r["skipped"] for r in results.values()),
        "per_type": {k: dict(v) | {"stored_pct": round(100 * v["stored"] / v["files"], 1) if v["files"] else 0.0}
                     for k, v in sorted(per_type.items(), key=lambda kv: -kv[1]["files"])},
        "failures": sorted(failures.values(), key=lambda g: -g["count"]),
        "skipped_by_reason": sorted(skipped.values(), key=lambda g: -g["count"]),
        "unaccounted": unaccounted,
        "truncation": {"checked": checked, "flagged": len(trunc), "worst": trunc[:40],
                       "flagged_by_project": dict(Counter(t["project"] for t in trunc)),
                       "tail_cut": [t for t in trunc if t["tail_lost"].split("/")[0] >= "3"][:20]},
        "replacement_chars": {"count": len(replaced), "examples": replaced[:20],
                              "by_project": dict(Counter(r["project"] for r in replaced))},
        "links": {"independent": dict(links_ind), "store_md_html": dict(links_store), "store_all_types": dict(links_all),
                  "fragment_fallback_examples": fallback_examples[:12],
                  "fragment_fallback_although_anchor_visible": visible_fallback,
                  "fragment_fallback_although_anchor_visible_examples": visible_fallback_examples[:12],
                  "docs_with_links_not_stored": lost[:20]},
    }


def render(report: dict[str, Any]) -> str:
    out: list[str] = []
    w = out.append
    o = report["overall"]
    w(f"go-doc-go real-world corpus — {report['generated_at']} — go-doc-go {report['go_doc_go_revision']}")
    w(f"{o['files']} files in {len(report['projects'])} projects (+ hostile set); stored {o['stored']} "
      f"({o['stored_pct']}%), failed {o['failed']}, skipped {o['skipped']}")
    w("")
    w(f"{'project':20} {'version':10} {'files':>6} {'stored':>6} {'%':>6} {'failed':>6} {'skip':>5} "
      f"{'exit':>4} {'secs':>7} {'RSS MB':>7}")
    for name, p in report["projects"].items():
        r, c = p["run"], p["check"]
        exit_text = "CRASH" if r["crashed"] else str(r["exit_code"])
        w(f"{name:20} {p.get('version', ''):10} {c['files']:>6} {c['stored']:>6} {c['stored_pct']:>6} "
          f"{c['failed']:>6} {c['skipped']:>5} {exit_text:>4} {r['seconds']:>7} {r['peak_rss_mb']:>7}")
        if r["crashed"]:
            w(f"    crashed: {r['crash']}")
    w("")
    w("Stored by type (extension): files / stored / failed / skipped / unaccounted")
    for ext, c in o["per_type"].items():
        w(f"  {ext:10} {c.get('files', 0):>6} {c.get('stored', 0):>6} ({c['stored_pct']:>5}%) {c.get('failed', 0):>5} "
          f"{c.get('skipped', 0) + c.get('skipped_or_unknown', 0):>5} {c.get('unaccounted', 0):>5}")
    w("")
    w("Failures by (stage, cause):")
    for g in o["failures"]:
        w(f"  {g['count']:>5}  {g['stage']}: {g['cause']}")
        w(f"         e.g. {', '.join(g['examples'][:2])}")
    w("Skipped by reason:")
    for g in o["skipped_by_reason"]:
        w(f"  {g['count']:>5}  {g['reason']}  e.g. {', '.join(g['examples'][:2])}")
    if o["unaccounted"]:
        w(f"Unaccounted (neither stored, failed nor skipped): {len(o['unaccounted'])}: {', '.join(o['unaccounted'][:6])}")
    w("")
    t = o["truncation"]
    w(f"Truncation detector: {t['checked']} stored documents checked, {t['flagged']} flagged "
      f"(>{report['settings']['trunc_ratio']:.0%} distinct words missing). By project: {t['flagged_by_project']}")
    for d in t["worst"][:15]:
        w(f"  {d['missing_pct']:>5}% {d['missing']:>5}/{d['source_words']:<5} tail {d['tail_lost']} "
          f"{d['project']}/{d['path']} [{d['encoding']}]: {' '.join(d['examples'][:8])}")
    rc = o["replacement_chars"]
    w(f"Stored text with U+FFFD the source does not have: {rc['count']} documents {rc['by_project']}")
    for d in rc["examples"][:5]:
        w(f"  {d['project']}/{d['path']} (source decodes as {d['source_encoding']})")
    w("")
    li, ls, la = o["links"]["independent"], o["links"]["store_md_html"], o["links"]["store_all_types"]
    w("Links (Markdown + HTML documents), independent count vs store:")
    w(f"  relative links found independently: {li.get('relative', 0)} (to a file {li.get('file', 0)}, to a folder "
      f"{li.get('folder', 0)}, missing {li.get('missing', 0)}, outside {li.get('outside', 0)}); "
      f"with a #fragment to a file {li.get('file_with_fragment', 0)} (anchor visible in target "
      f"{li.get('fragment_found_in_target', 0)}, not {li.get('fragment_not_found_in_target', 0)})")
    w(f"  store, same documents: in-source relative links {ls.get('relative_in_source', 0)}, resolved (target_id) "
      f"{ls.get('resolved', 0)}; independent links with no stored row: {ls.get('independent_links_not_stored', 0)}")
    w(f"  store, all types: links_to {la.get('links_to', 0)}, target_doc_id NOT NULL {la.get('target_doc_id_not_null', 0)}, "
      f"target_id NOT NULL {la.get('target_id_not_null', 0)}")
    w(f"  #fragment links to another doc: {la.get('with_fragment', 0)}; to the anchored element "
      f"{la.get('fragment_to_anchor', 0)}; fell back to the root {la.get('fragment_fallback_to_root', 0)} "
      f"(of which the anchor is visible in the target's source: {o['links']['fragment_fallback_although_anchor_visible']})")
    for e in o["links"]["fragment_fallback_although_anchor_visible_examples"][:4]:
        w(f"     e.g. {e}")
    for d in o["links"]["docs_with_links_not_stored"][:6]:
        w(f"  links not stored: {d['project']}/{d['path']}: {d['independent']} found, {d['stored']} stored, "
          f"e.g. {', '.join(d['examples'][:3])}")
    h = report.get("hostile")
    if h:
        w("")
        r = h["run"]
        w(f"Hostile set: exit {'CRASH' if r['crashed'] else r['exit_code']} in {r['seconds']} s, "
          f"peak RSS {r['peak_rss_mb']} MB{': ' + r['crash'] if r['crashed'] else ''}")
        bad = [c for c in h["cases"] if not c["ok"]]
        w(f"  full run: {len(h['cases']) - len(bad)}/{len(h['cases'])} cases ok (neighbours included)")
        rows = h.get("isolated") or [c for c in h["cases"] if not c.get("name", "").startswith("neighbour")]
        if h.get("isolated"):
            w("  each case on its own (the full run crashed):")
        for c in rows:
            extra = ""
            if c["markers_missing"]:
                extra += f" lost {','.join(c['markers_missing'])}"
            if c["soft_missing"]:
                extra += f" (soft lost {','.join(c['soft_missing'])})"
            if c["links"] and not c["links_ok"]:
                extra += " links: " + "; ".join(f"{l['href']}={l['got']}" for l in c["links"] if not l["ok"])
            if c.get("link_count") is not None:
                extra += f" link rows {c['link_count']}"
            if c.get("crashed"):
                extra += f" RUN CRASHED: {c['crashed'][:100]}"
            cause = f" — {c['cause'][:110]}" if c["cause"] else ""
            w(f"  {'ok ' if c['ok'] else 'BAD'} {c['name']:28} {c['verdict']:22}{cause}{extra}")
        lost_n = [c["name"] for c in h["cases"] if c["name"].startswith(("neighbour", "link-target")) and not c["ok"]]
        w(f"  neighbours lost in the full run: {len(lost_n)}")
    w("")
    w("Method: " + report["method"])
    return "\n".join(out) + "\n"


def git_revision() -> str:
    try:
        here = Path(__file__).resolve().parent
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "../src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("~/.cache/go-doc-go/realworld").expanduser())
    parser.add_argument("--projects", help="comma-separated subset (names from PROJECTS, or 'hostile')")
    parser.add_argument("--jobs", type=int, help="passed to go-doc-go ingest --jobs")
    parser.add_argument("--skip-download", action="store_true", help="reuse the cached sdists and corpus")
    parser.add_argument("--keep-db", action="store_true", help="keep the SQLite stores in CACHE/runs")
    parser.add_argument("--no-hostile", action="store_true", help="leave the hostile set out")
    parser.add_argument("--hostile-isolated", action="store_true",
                        help="also ingest every hostile case on its own (done anyway when the full run crashes)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per ingest run")
    parser.add_argument("--trunc-ratio", type=float, default=0.02)
    parser.add_argument("--trunc-min", type=int, default=2)
    parser.add_argument("--report", type=Path, help="write the report as JSON here")
    parser.add_argument("--summary", type=Path, help="write the human summary here too")
    parser.add_argument("--list", action="store_true", help="list the pinned projects and exit")
    args = parser.parse_args(argv)

    if args.list:
        for name, spec in PROJECTS.items():
            print(f"{spec['req']:32} {spec['why']}")
        return 0
    names = list(PROJECTS)
    with_hostile = not args.no_hostile
    if args.projects:
        chosen = [n.strip() for n in args.projects.split(",") if n.strip()]
        unknown = [n for n in chosen if n not in PROJECTS and n != "hostile"]
        if unknown:
            parser.error(f"unknown projects: {', '.join(unknown)} (known: {', '.join(PROJECTS)}, hostile)")
        with_hostile = with_hostile and "hostile" in chosen
        names = [n for n in chosen if n != "hostile"]
    cache = args.cache.expanduser().resolve()
    runs = cache / "runs"
    runs.mkdir(parents=True, exist_ok=True)

    report: dict[str, Any] = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "go_doc_go_revision": git_revision(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "settings": {"cache": str(cache), "jobs": args.jobs, "timeout": args.timeout,
                     "trunc_ratio": args.trunc_ratio, "trunc_min": args.trunc_min},
        "method": METHOD.format(ratio=args.trunc_ratio, min=args.trunc_min),
        "projects": {},
    }
    for name in names:
        log(f"corpus: {name}")
        state = build_project(name, PROJECTS[name], cache, args.skip_download)
        report["projects"][name] = {"version": PROJECTS[name]["req"].split("==")[1], **state}
    for name in names:
        folder = cache / "corpus" / name
        db = runs / f"{name}.db"
        log(f"ingest: {name}")
        run = run_ingest(folder, db, args.jobs, args.timeout, runs)
        check = check_project(name, folder, db, run, args)
        report["projects"][name].update(run=run, check=check)
        if not args.keep_db:
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
        log(f"  {check['stored']}/{check['files']} stored, {check['failed']} failed, exit "
            f"{'CRASH' if run['crashed'] else run['exit_code']}, {run['seconds']} s")
    checks = {n: p["check"] for n, p in report["projects"].items()}
    if with_hostile:
        log("hostile set")
        report["hostile"], report["hostile_check"] = run_hostile(cache, runs, args)
    report["overall"] = aggregate(checks)
    if with_hostile:
        report["overall_with_hostile"] = aggregate(checks | {"hostile": report["hostile_check"]})
    for p in report["projects"].values():  # the summaries are long; the checks keep what matters
        if p["run"].get("summary"):
            s = p["run"]["summary"]
            p["run"]["summary"] = {k: v for k, v in s.items() if k not in ("failures", "skipped_paths")}
    # Undecodable file names come back as surrogate escapes; show them as \udcXX, never crash on them.
    text = render(report).encode("utf-8", "backslashreplace").decode("utf-8")
    sys.stdout.write(text)
    if args.report:
        args.report.write_text(json.dumps(report, indent=2, default=str))
    if args.summary:
        args.summary.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
