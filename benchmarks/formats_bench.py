"""Office and PDF benchmark: PDF pages/s and DOCX docs/s, with the parser isolation (the pool) on and off.

    python benchmarks/formats_bench.py [--pdf-dir DIR] [--pdfs 20] [--pages 10] [--docx 200]
                                       [--jobs 1] [--unstructured-python PATH] [--json]

The corpus is generated (``tests/data/office/make.py``: text-layer PDFs of
``--pages`` pages with headers, paragraphs, lists and a table per page, and
copies of the test DOCX), or, with ``--pdf-dir``, every PDF in a folder (the
ones PDFium cannot open are left out).

Each document goes through exactly what a parser process does for it
(``pool.process_task``: fetch, parse, element ids, links, row encoding),

* isolation off: one after the other in this process;
* isolation on: through ``DocumentPool`` (``--jobs`` child processes, tasks of
  8 documents as single mode sends them), timed after one warm-up document so
  the fork server's start is reported apart.

Both are run ``--repeat`` times, alternately, and the fastest run of each is
reported (the machine is shared: the fastest run is the least disturbed one).

``--compare-libraries`` times the PDF candidates on the same files instead
(text layer of every page, in this process): PDFium text only (pypdfium2),
pdfminer.six's layout analysis (``extract_pages``), pypdf's ``extract_text``,
and go-doc-go's PDF parser (PDFium plus the layout inference). The
libraries that are not installed are left out.

``--unstructured-python`` runs Unstructured's ``partition_pdf(strategy="fast")``
on the same PDFs with that interpreter (a venv where ``unstructured[pdf]`` is
installed), for a side-by-side figure. A benchmark, not a test: it reports,
it does not assert.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from go_doc_go.config import config_from_dict  # noqa: E402
from go_doc_go.pool import DocumentPool, Processed, Task, process_task  # noqa: E402
from go_doc_go.sources import open_source  # noqa: E402
from tests.data.office import make  # noqa: E402
from tests.data.office.make import Page, Text  # noqa: E402

TASK_SIZE = 8
WORDS = ("tide gauge station harbor predictor feed reading level datum constituent amplitude phase interval "
         "quarantine restart service maintainer window hour metre offset sample noise signal model").split()  # fmt: skip


def _sentence(seed: int, n: int = 12) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(n)).capitalize() + "."


def text_page(doc: int, number: int) -> Page:
    """One page like a report's: a section header, three paragraphs of 4 lines, a list, a small table."""
    texts = [Text(72, 740, f"{number} Section {doc}.{number}", 16, True)]
    y = 712
    for paragraph in range(3):
        for line in range(4):
            texts.append(Text(72, y, " ".join(_sentence(doc + number + paragraph + line, 7).split()[:11])))
            y -= 14
        y -= 12
    texts.append(Text(72, y, f"{number}.1 Details", 13, True))
    y -= 22
    for item in range(4):
        texts.append(Text(72, y, f"\u2022 {_sentence(item + number, 6)}"))
        y -= 14
    y -= 10
    for row in range(5):
        for x, cell in zip((72, 220, 360), (f"row {row}", str(100 * row + doc), f"{row * 2.5:.1f}"), strict=True):
            texts.append(Text(x, y, cell, 11, row == 0))
        y -= 16
    texts.append(Text(300, 40, str(number), 9))
    return Page(texts)


def generate(folder: Path, pdfs: int, pages: int, docx: int, pdf_dir: Path | None) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {"pdf": [], "docx": []}
    if pdf_dir is not None:
        import pypdfium2

        for path in sorted(pdf_dir.rglob("*.pdf")):
            try:
                pypdfium2.PdfDocument(path.read_bytes()).close()
            except pypdfium2.PdfiumError:
                continue
            target = folder / f"real{len(files['pdf']):04d}.pdf"
            target.write_bytes(path.read_bytes())
            files["pdf"].append(target.name)
    else:
        for n in range(pdfs):
            name = f"doc{n:04d}.pdf"
            (folder / name).write_bytes(make.pdf_bytes([text_page(n, p) for p in range(1, pages + 1)]))
            files["pdf"].append(name)
    report = make.report_docx()
    for n in range(docx):
        name = f"doc{n:04d}.docx"
        (folder / name).write_bytes(report)
        files["docx"].append(name)
    return files


def page_count(folder: Path, names: list[str]) -> int:
    import pypdfium2

    total = 0
    for name in names:
        document = pypdfium2.PdfDocument((folder / name).read_bytes())
        total += len(document)
        document.close()
    return total


def measure_off(config, source, names: list[str]) -> float:
    sources = {source.name: source}
    started = time.perf_counter()
    for name in names:
        result = process_task(Task(source.ref_for(name)), config, sources)
        assert isinstance(result, Processed), result
    return time.perf_counter() - started


def measure_on(config, source, names: list[str], jobs: int) -> tuple[float, float]:
    """(seconds for the documents, seconds to start the pool and parse one warm-up document)."""
    started = time.perf_counter()
    with DocumentPool(config, jobs) as pool:
        pool.submit([Task(source.ref_for(names[0]))]).result()
        warm = time.perf_counter() - started
        started = time.perf_counter()
        futures = [pool.submit([Task(source.ref_for(n)) for n in names[i : i + TASK_SIZE]])
                   for i in range(0, len(names), TASK_SIZE)]  # fmt: skip
        for future in futures:
            assert all(isinstance(r, Processed) for r in future.result()), future.result()
        elapsed = time.perf_counter() - started
    return elapsed, warm


UNSTRUCTURED = textwrap.dedent("""\
    import json, logging, os, sys, time
    os.environ.setdefault("DO_NOT_TRACK", "true")
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    for noisy in ("pdfminer", "matplotlib", "filelock", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from unstructured.partition.pdf import partition_pdf
    files = sys.argv[1:]
    partition_pdf(filename=files[0], strategy="fast")  # warm-up: imports and caches
    started = time.perf_counter()
    elements = 0
    for name in files:
        elements += len(partition_pdf(filename=name, strategy="fast"))
    print(json.dumps({"seconds": time.perf_counter() - started, "elements": elements}))
""")


def measure_unstructured(python: str, folder: Path, names: list[str]) -> dict:
    result = subprocess.run([python, "-c", UNSTRUCTURED, *(str(folder / n) for n in names)],
                            capture_output=True, text=True, timeout=3600)  # fmt: skip
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if not measured["elements"]:  # it failed quietly; its log says why
        why = list(dict.fromkeys(line for line in result.stderr.splitlines() if "spaCy" in line or "failed" in line))
        measured["error"] = "no elements extracted: " + (" / ".join(why[-3:]) or "no reason logged")
    return measured


def _pdfium_text(path: Path) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(path.read_bytes())
    for index in range(len(document)):
        page = document[index]
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        page.close()
    pages = len(document)
    document.close()
    return pages


def _pdfminer(path: Path) -> int:
    from pdfminer.high_level import extract_pages

    return sum(1 for _ in extract_pages(str(path)))


def _pypdf(path: Path) -> int:
    import pypdf

    reader = pypdf.PdfReader(str(path))
    for page in reader.pages:
        page.extract_text()
    return len(reader.pages)


def _go_doc_go(path: Path) -> int:
    from go_doc_go.parsers.base import ParseInput
    from go_doc_go.parsers.pdf import parse

    return parse(ParseInput(path.read_bytes(), path.name)).metadata["pages"]


def compare_libraries(folder: Path, names: list[str], repeat: int) -> dict[str, dict[str, float]]:
    """pages/s of each PDF candidate over the same files (one process; the fastest of ``repeat`` runs)."""
    import logging
    import warnings

    logging.disable(logging.WARNING)  # pdfminer and pypdf log every font quirk
    warnings.simplefilter("ignore")
    out: dict[str, dict[str, float]] = {}
    for label, module, run in (("pypdfium2 text", "pypdfium2", _pdfium_text), ("go-doc-go parser", "pypdfium2", _go_doc_go),
                               ("pdfminer.six extract_pages", "pdfminer", _pdfminer),
                               ("pypdf extract_text", "pypdf", _pypdf)):  # fmt: skip
        try:
            __import__(module)
        except ImportError:
            continue
        run(folder / names[0])  # imports and caches
        times = []
        for _ in range(max(1, repeat)):
            pages, started = 0, time.perf_counter()
            for name in names:
                pages += run(folder / name)
            times.append(time.perf_counter() - started)
        seconds = min(times)
        out[label] = {"pages": pages, "seconds": round(seconds, 2), "pages_per_s": round(pages / seconds, 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdf-dir", type=Path, help="use every PDF in this folder instead of generated ones")
    parser.add_argument("--pdfs", type=int, default=20, help="generated PDFs (default 20)")
    parser.add_argument("--pages", type=int, default=10, help="pages per generated PDF (default 10)")
    parser.add_argument("--docx", type=int, default=200, help="DOCX documents (default 200)")
    parser.add_argument("--jobs", type=int, default=1, help="pool processes for isolation on (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the fastest counts")
    parser.add_argument("--unstructured-python", help="a Python with unstructured[pdf] installed")
    parser.add_argument("--compare-libraries", action="store_true",
                        help="time pypdfium2, pdfminer.six, pypdf and our parser on the PDFs instead")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        files = generate(folder, args.pdfs, args.pages, args.docx, args.pdf_dir)
        config = config_from_dict({"content_sources": [{"name": "bench", "base_path": str(folder)}],
                                   "storage": {"path": str(Path(tmp) / "unused.db")}})  # fmt: skip
        source = open_source(config.content_sources[0])
        pages = page_count(folder, files["pdf"])
        if args.compare_libraries:
            compared = compare_libraries(folder, files["pdf"], args.repeat)
            print(json.dumps(compared, indent=2) if args.json else "\n".join(
                f"{label:28} {r['pages_per_s']:>8} pages/s ({r['pages']} pages in {r['seconds']} s)"
                for label, r in compared.items()))
            return
        report: dict = {"pdf_files": len(files["pdf"]), "pdf_pages": pages, "docx_files": len(files["docx"]),
                        "jobs": args.jobs}  # fmt: skip
        for kind, unit, count in (("pdf", "pages", pages), ("docx", "docs", len(files["docx"]))):
            names = files[kind]
            if not names:
                continue
            process_task(Task(source.ref_for(names[0])), config, {source.name: source})  # imports, caches
            offs, ons, warms = [], [], []
            for _ in range(max(1, args.repeat)):
                offs.append(measure_off(config, source, names))
                on, warm = measure_on(config, source, names, args.jobs)
                ons.append(on)
                warms.append(warm)
            off, on, warm = min(offs), min(ons), warms[0]  # the first start includes the fork server's
            report[kind] = {
                f"off_{unit}_per_s": round(count / off, 1),
                f"on_{unit}_per_s": round(count / on, 1),
                "overhead_ms_per_doc": round((on - off) / len(names) * 1000, 2),
                "pool_start_and_first_doc_s": round(warm, 2),
            }
        if args.unstructured_python and files["pdf"]:
            measured = measure_unstructured(args.unstructured_python, folder, files["pdf"])
            if "seconds" in measured and "error" not in measured:
                measured["pages_per_s"] = round(pages / measured["seconds"], 1)
            report["unstructured_fast"] = measured
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['pdf_files']} PDFs ({report['pdf_pages']} pages), {report['docx_files']} DOCX; pool of {args.jobs}")
    for kind, unit in (("pdf", "pages"), ("docx", "docs")):
        if kind in report:
            r = report[kind]
            print(f"{kind.upper():5} isolation off {r[f'off_{unit}_per_s']:>8} {unit}/s   on {r[f'on_{unit}_per_s']:>8} "
                  f"{unit}/s   overhead {r['overhead_ms_per_doc']} ms/doc   pool start + first doc "
                  f"{r['pool_start_and_first_doc_s']} s")  # fmt: skip
    if "unstructured_fast" in report:
        print(f"Unstructured fast: {report['unstructured_fast']}")


if __name__ == "__main__":
    main()
