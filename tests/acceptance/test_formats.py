"""Office and PDF files through the real CLI, pool and store: mixed folders, hostile files,
a parser that hangs, a missing ``formats`` extra, and the large inputs (slow)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("pypdfium2")
pytest.importorskip("docx")
pytest.importorskip("pptx")
pytest.importorskip("openpyxl")

from tests.data.office import make  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "office"


def ingest(docs: Path, tmp_path: Path, *, hooks: Path | None = None, env: dict[str, str] | None = None,
           parsers: str = "{timeout: 30}") -> tuple[subprocess.CompletedProcess[str], float]:  # fmt: skip
    config = tmp_path / "config.yaml"
    config.write_text(textwrap.dedent(f"""\
        storage: {{path: {tmp_path / 's.db'}}}
        content_sources: [{{name: docs, base_path: {docs}}}]
        parsers: {parsers}
        processing: {{jobs: 2}}
    """))
    environment = {**os.environ, **(env or {})}
    if hooks is not None:
        environment["PYTHONPATH"] = os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")])
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "go_doc_go.cli.main", "ingest", "--config", str(config), "--json"],
                            capture_output=True, text=True, timeout=600, env=environment)  # fmt: skip
    return result, time.monotonic() - started


def copy(docs: Path, *names: str) -> None:
    for name in names:
        (docs / Path(name).name).write_bytes((DATA / name).read_bytes())


@pytest.mark.slow  # ~4 s: two CLI runs
def test_mixed_folder_ingests_and_each_hostile_file_costs_one_document(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    copy(docs, "report.pdf", "report.docx", "deck.pptx", "book.xlsx", "encrypted.pdf", "truncated.pdf",
         "encrypted.docx")  # fmt: skip
    (docs / "index.md").write_text("# Index\n\nSee [the report](report.pdf) and [the deck](deck.pptx).\n")
    template = (DATA / "report.docx").read_bytes()
    (docs / "bomb.docx").write_bytes(make.zip_bomb(template, "word/document.xml", 64 << 20))
    (docs / "lying.docx").write_bytes(make.lying_zip(template, "word/document.xml", 64 << 20))
    result, _ = ingest(docs, tmp_path)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["processed"] == 5
    failures = {f["path"]: f for f in summary["failures"]}
    assert set(failures) == {"encrypted.pdf", "truncated.pdf", "encrypted.docx", "bomb.docx", "lying.docx"}
    assert all(f["stage"] == "parse" and f["kind"] == "permanent" for f in failures.values())
    assert "encrypted with a password" in failures["encrypted.pdf"]["cause"]
    assert "looks truncated" in failures["truncated.pdf"]["cause"]
    assert "password-protected" in failures["encrypted.docx"]["cause"]
    assert "zip bomb" in failures["bomb.docx"]["cause"]
    assert "Bad CRC-32" in failures["lying.docx"]["cause"]
    # The Markdown file's links to the PDF and the deck, and the DOCX's link to its own bookmark.
    assert summary["links_resolved"] == 3

    with sqlite3.connect(tmp_path / "s.db") as db:
        types = dict(db.execute("SELECT path, doc_type FROM documents"))
        assert types == {"index.md": "markdown", "report.pdf": "pdf", "report.docx": "docx", "deck.pptx": "pptx",
                         "book.xlsx": "xlsx"}  # fmt: skip
        kinds = {row[0] for row in db.execute("SELECT DISTINCT element_type FROM elements")}
        assert {"page", "slide", "slide_notes", "sheet", "page_header", "page_footer", "comment"} <= kinds
        location = db.execute("SELECT location FROM elements WHERE text = 'Quarterly Report'").fetchone()[0]
        assert json.loads(location)["page"] == 1
        cell = db.execute("SELECT location FROM elements WHERE element_type = 'table_cell' AND text = '950.5'").fetchone()
        assert json.loads(cell[0]) == {"sheet": "Sales", "cell": "B3"}

    again, _ = ingest(docs, tmp_path)
    second = json.loads(again.stdout)
    assert (second["processed"], second["unchanged"], second["failed"]) == (0, 5, 5)


HANGING_PARSER = '''
import re

from go_doc_go.parsers import pdf


def parse(doc):
    if b"HANG" in doc.data:
        re.match(r"(a+)+$", "a" * 64 + "b")  # catastrophic backtracking: C code, holds the GIL
    return pdf.parse(doc)
'''

HOOK = '''
import os
if os.environ.get("GDG_HANGING_PDF"):
    import go_doc_go.parsers
    go_doc_go.parsers.PARSER_MODULES["pdf"] = "hanging_parser"
if os.environ.get("GDG_NO_FORMATS"):
    import sys
    for name in ("pypdfium2", "docx", "pptx", "openpyxl"):
        sys.modules[name] = None  # import fails, find_spec says "not installed"
'''


@pytest.fixture()
def hooks(tmp_path):
    folder = tmp_path / "hooks"
    folder.mkdir()
    (folder / "hanging_parser.py").write_text(HANGING_PARSER)
    (folder / "sitecustomize.py").write_text(HOOK)
    return folder


@pytest.mark.slow  # ~5 s: waits for parsers.timeout
def test_a_pdf_that_hangs_its_parser_times_out_and_the_run_goes_on(tmp_path, hooks):
    docs = tmp_path / "docs"
    docs.mkdir()
    report = (DATA / "report.pdf").read_bytes()
    (docs / "hang.pdf").write_bytes(report + b"%HANG\n")
    for i in range(3):
        (docs / f"fine{i}.pdf").write_bytes(report)
    result, elapsed = ingest(docs, tmp_path, hooks=hooks, env={"GDG_HANGING_PDF": "1"},
                             parsers="{timeout: 3, max_memory_mb: 1024}")  # fmt: skip
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["processed"] == 3
    [failure] = summary["failures"]
    assert failure["path"] == "hang.pdf" and failure["stage"] == "parse" and failure["kind"] == "retryable"
    assert "parsers.timeout (3 s)" in failure["cause"]
    assert elapsed < 120, "a guard against a hang, not a benchmark"


def test_without_the_formats_extra_files_are_skipped_with_a_hint(tmp_path, hooks):
    docs = tmp_path / "docs"
    docs.mkdir()
    copy(docs, "report.pdf", "report.docx", "deck.pptx", "book.xlsx")
    (docs / "scan").write_bytes((DATA / "report.pdf").read_bytes())  # no extension: sniffed as a PDF
    (docs / "index.md").write_text("# Index\n\nSee [the report](report.pdf).\n")
    result, _ = ingest(docs, tmp_path, hooks=hooks, env={"GDG_NO_FORMATS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert (summary["processed"], summary["failed"], summary["skipped"]) == (1, 0, 5)
    reasons = {s["path"]: s["reason"] for s in summary["skipped_paths"]}
    assert reasons["report.pdf"] == "install go-doc-go[formats] to ingest .pdf files (pypdfium2 is not installed)"
    assert reasons["report.docx"].startswith("install go-doc-go[formats] to ingest .docx files")
    assert reasons["deck.pptx"].startswith("install go-doc-go[formats] to ingest .pptx files")
    assert reasons["book.xlsx"].startswith("install go-doc-go[formats] to ingest .xlsx files (openpyxl")
    assert reasons["scan"] == "unsupported or binary file type"
    human = subprocess.run([sys.executable, "-m", "go_doc_go.cli.main", "ingest", "--config", str(tmp_path / "config.yaml")],
                           capture_output=True, text=True, timeout=300,
                           env={**os.environ, "GDG_NO_FORMATS": "1", "COLUMNS": "200",
                                "PYTHONPATH": os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")])})  # fmt: skip
    assert "install go-doc-go[formats] to ingest .pdf files" in human.stdout  # not eaten as rich markup


def test_a_parser_whose_library_is_missing_names_the_extra(tmp_path, hooks):
    code = textwrap.dedent("""\
        from go_doc_go.exceptions import ParseError
        from go_doc_go.parsers import get_parser
        from go_doc_go.parsers.base import ParseInput
        try:
            get_parser("pdf")(ParseInput(b"%PDF-1.4", "x.pdf"))
        except ParseError as error:
            print(error)
    """)
    env = {**os.environ, "GDG_NO_FORMATS": "1", "PYTHONPATH": os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert "install go-doc-go[formats] to ingest PDF files" in result.stdout, result.stderr


@pytest.mark.slow
def test_a_two_thousand_page_pdf_is_stored_through_the_pool(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "long.pdf").write_bytes(make.many_pages_pdf(2000))
    result, elapsed = ingest(docs, tmp_path, parsers="{timeout: 60}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["processed"] == 1
    with sqlite3.connect(tmp_path / "s.db") as db:
        assert db.execute("SELECT count(*) FROM elements WHERE element_type = 'page'").fetchone()[0] == 2000
    assert elapsed < 120


@pytest.mark.slow
def test_a_million_cell_workbook_is_stored_within_max_cells_and_refused_past_it(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "big.xlsx").write_bytes(make.big_xlsx(1000, 1000))
    # Past the limit: the named error, long before parsers.timeout (streaming stops at the limit).
    refused, elapsed = ingest(docs, tmp_path, parsers="{max_cells: 500000, timeout: 60}")
    [failure] = json.loads(refused.stdout)["failures"]
    assert "limit parsers.max_cells = 500,000" in failure["cause"] and failure["kind"] == "permanent"
    assert elapsed < 60
    # Within max_cells (default 2,000,000) and the default 2,048 MB: stored whole. The child needs ~15 s
    # on an idle core, close to the default 60 s timeout on a loaded machine (docs/formats.md), hence 180.
    (tmp_path / "s.db").unlink()
    stored, elapsed = ingest(docs, tmp_path, parsers="{timeout: 180}")
    assert stored.returncode == 0, stored.stdout + stored.stderr
    with sqlite3.connect(tmp_path / "s.db") as db:
        assert db.execute("SELECT count(*) FROM elements WHERE element_type = 'table_cell'").fetchone()[0] == 1_000_000
