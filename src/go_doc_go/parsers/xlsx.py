"""XLSX to a ``ParsedNode`` tree with openpyxl in read-only mode, streaming each sheet's rows.

Shape::

    root (the workbook)
    └── sheet {name, index, hidden?}                       location {"sheet": name}
        └── table {rows, columns, has_header, headers, range}
            ├── table_header > table_cell                  the first row, when detected
            └── table_row > table_cell {column?, type?}

Design choices
* The package is checked by ``_zip.check_package`` first (zip bombs, DTDs,
  password-protected files).
* Rows are streamed from the sheet XML (openpyxl's ``WorkSheetParser``, the
  reader behind its read-only mode, without the padding ``iter_rows`` adds):
  only cells that hold a value become elements, so a sheet with one cell at
  ``XFD1048576`` costs one cell, not 17 billion. Empty rows and empty sheets
  make no ``table_row``/``table``. Every cell spends ``parsers.max_cells``
  (rows and sheets spend ``parsers.max_elements``), and the document fails at
  the first cell past the limit, without reading the rest.
* Values: the value Excel cached (``data_only``); a formula without a cached
  value keeps its formula text (``=SUM(B2:B3)``, ``type: formula``). Numbers
  print without a trailing ``.0``, dates as ISO 8601 (a midnight datetime as
  a date), booleans as ``TRUE``/``FALSE``, errors as written (``#DIV/0!``).
  Cell metadata ``type`` is ``number``, ``date``, ``bool``, ``error`` or
  ``formula`` (absent for text).
* Header row: the first row with values is the header when the sheet has
  another row and its cells are distinct, non-empty text. Data cells then name
  their ``column``.
* Cell hyperlinks are reported with their cell (external targets, and
  ``#Sheet!A1`` for links inside the workbook).
* Location: ``{"sheet": name, "cell": "B4"}`` for cells, ``{"sheet": name,
  "row": 4}`` for rows (1-based, as Excel shows them).
* Not extracted: charts, images, comments, merged-cell spans (a merged cell's
  value is in its top-left cell), and pivot caches.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from typing import Any

from go_doc_go.exceptions import ParseError
from go_doc_go.model import ElementType, ParsedLink, ParsedNode, ParseResult
from go_doc_go.parsers._office import iso, require
from go_doc_go.parsers._zip import check_package
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, new_root

#: Rows read before deciding whether the first one is a header.
HEADER_SAMPLE_ROWS = 20
_TYPES = {"n": "number", "d": "date", "b": "bool", "e": "error", "f": "formula"}


def parse(doc: ParseInput) -> ParseResult:
    return guarded("XLSX", _parse, doc)


def _parse(doc: ParseInput) -> ParseResult:
    check_package(doc.data, doc.path, "XLSX", doc.limits)
    openpyxl = require("openpyxl", "XLSX")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
        try:
            book = openpyxl.load_workbook(io.BytesIO(doc.data), read_only=True, data_only=True, keep_links=False)
        except (KeyError, ValueError, TypeError, openpyxl.utils.exceptions.InvalidFileException) as error:
            raise ParseError(f"invalid XLSX in {doc.path}: {type(error).__name__}: {error}") from None
        try:
            return _read_book(doc, book, openpyxl)
        finally:
            book.close()


def _read_book(doc: ParseInput, book: Any, openpyxl: Any) -> ParseResult:
    root = new_root(format="xlsx")
    result = ParseResult(root=root)
    budget = ElementBudget(doc.limits)
    budget.spend()
    parser_class = _parser_class(openpyxl)
    for index, sheet in enumerate(book.worksheets):
        _Sheet(result, budget, book, sheet, index, parser_class).read()
    props = book.properties
    for key, value in (("title", props.title), ("author", props.creator), ("subject", props.subject),
                       ("keywords", props.keywords), ("last_modified_by", props.lastModifiedBy)):  # fmt: skip
        if isinstance(value, str) and value.strip():
            result.metadata[key] = value.strip()
    for key, value in (("created", props.created), ("modified", props.modified)):
        if iso(value):
            result.metadata[key] = iso(value)
    result.metadata["sheets"] = len(book.worksheets)
    result.title = result.metadata.get("title")
    return budget.finish(result)


def _parser_class(openpyxl: Any) -> type:
    """openpyxl's sheet reader, keeping a formula's text when the file cached no value for it."""
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):  # type: ignore[misc, valid-type]
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                self.data_only = False
                try:
                    cell = super().parse_cell(element)
                finally:
                    self.data_only = True
            return cell

    return Parser


class _Sheet:
    """One worksheet streamed into a ``sheet`` element (header decided on the first rows)."""

    def __init__(self, result: ParseResult, budget: ElementBudget, book: Any, sheet: Any, index: int,
                 parser_class: type) -> None:  # fmt: skip
        self.result = result
        self.budget = budget
        self.book = book
        self.sheet = sheet
        self.name: str = sheet.title
        self.parser_class = parser_class
        metadata: dict[str, Any] = {"name": self.name, "index": index}
        if getattr(sheet, "sheet_state", "visible") != "visible":
            metadata["hidden"] = True
        self.node = ParsedNode(ElementType.SHEET, text=self.name, metadata=metadata, location={"sheet": self.name})
        self.table: ParsedNode | None = None
        self.headers: dict[int, str] = {}
        self.rows: dict[int, ParsedNode] = {}
        # Cells share their metadata dicts (one per type and column; never mutated) and column letters.
        self.metadata: dict[tuple[str | None, int], dict[str, Any]] = {}
        self.letters: dict[int, str] = {}
        self.min_col = self.max_col = self.min_row = self.max_row = 0

    def read(self) -> None:
        self.budget.spend()
        self.result.root.children.append(self.node)
        with self.sheet._get_source() as source:
            parser = self.parser_class(source, self.sheet._shared_strings, data_only=True, epoch=self.book.epoch,
                                       date_formats=self.book._date_formats,
                                       timedelta_formats=self.book._timedelta_formats)  # fmt: skip
            sample: list[tuple[int, list[dict[str, Any]]]] = []
            rows = parser.parse()
            for number, cells in rows:
                cells = [cell for cell in cells if cell["value"] is not None]
                if not cells:
                    continue
                if sample is not None and len(sample) <= HEADER_SAMPLE_ROWS:
                    sample.append((number, cells))
                    continue
                if sample is not None:
                    self.flush(sample)
                    sample = None  # type: ignore[assignment]
                self.row(number, cells, header=False)
            if sample:
                self.flush(sample)
            self.links(parser)
        self.finish()

    def flush(self, sample: list[tuple[int, list[dict[str, Any]]]]) -> None:
        header = _is_header([cells for _, cells in sample])
        for position, (number, cells) in enumerate(sample):
            self.row(number, cells, header=header and position == 0)

    def row(self, number: int, cells: list[dict[str, Any]], header: bool) -> None:
        if self.table is None:
            self.budget.spend()
            self.table = ParsedNode(ElementType.TABLE, location={"sheet": self.name})
            self.node.children.append(self.table)
            self.min_row, self.min_col = number, cells[0]["column"]
        self.budget.spend()
        row = ParsedNode(ElementType.TABLE_HEADER if header else ElementType.TABLE_ROW,
                         location={"sheet": self.name, "row": number})  # fmt: skip
        self.table.children.append(row)
        self.rows[number] = row
        texts = []
        headers = self.headers
        spend_cell = self.budget.spend_cell
        children = row.children
        name = self.name
        letters = self.letters
        metadata_for = self.metadata
        for cell in cells:
            spend_cell()
            column = cell["column"]
            text, kind = _text(cell["value"], cell["data_type"])
            texts.append(text)
            if header:
                headers[column] = text
            key = (kind, column) if not header else (None, 0)
            metadata = metadata_for.get(key)
            if metadata is None:
                metadata = metadata_for[key] = _metadata(kind, headers.get(column) if not header else None)
            letter = letters.get(column)
            if letter is None:
                letter = letters[column] = _letter(column)
            children.append(ParsedNode(ElementType.TABLE_CELL, text=text, metadata=metadata,
                                       location={"sheet": name, "cell": f"{letter}{number}"}))  # fmt: skip
            if column < self.min_col:
                self.min_col = column
            if column > self.max_col:
                self.max_col = column
        self.max_row = number
        row.text = " | ".join(texts)

    def links(self, parser: Any) -> None:
        """Cell hyperlinks, read after the rows (the sheet XML lists them after its data)."""
        hyperlinks = getattr(parser.hyperlinks, "hyperlink", None) or []
        if not hyperlinks:
            return
        targets = self.relationship_targets()
        for link in hyperlinks:
            href = targets.get(link.id or "") if link.id else None
            if href is None and link.location:
                href = f"#{link.location}"
            if not href or not link.ref:
                continue
            node = self.cell_node(link.ref.split(":")[0])
            if node is not None:
                self.budget.spend_link()
                self.result.links.append(ParsedLink(href, node.text, node))

    def relationship_targets(self) -> dict[str, str]:
        from openpyxl.packaging.relationship import get_dependents, get_rels_path

        path = self.sheet._worksheet_path
        try:
            rels = get_dependents(self.book._archive, get_rels_path(path))
        except KeyError:
            return {}
        return {rel.Id: rel.Target for rel in rels if rel.TargetMode == "External"}

    def cell_node(self, ref: str) -> ParsedNode | None:
        digits = ref.lstrip("$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        row = self.rows.get(int(digits)) if digits.isdigit() else None
        if row is None:
            return None
        wanted = ref.replace("$", "").upper()
        return next((cell for cell in row.children if cell.location["cell"] == wanted), None)

    def finish(self) -> None:
        self.rows = {}
        table = self.table
        if table is None:
            return
        names = [self.headers[c] for c in sorted(self.headers)]
        table.text = " | ".join(names)
        cell_range = f"{_letter(self.min_col)}{self.min_row}:{_letter(self.max_col)}{self.max_row}"
        table.location["range"] = cell_range
        table.metadata.update(rows=len(table.children) - (1 if names else 0), columns=self.max_col - self.min_col + 1,
                              has_header=bool(names), headers=names, range=cell_range)  # fmt: skip


def _metadata(kind: str | None, column: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if kind is not None:
        metadata["type"] = kind
    if column is not None:
        metadata["column"] = column
    return metadata


def _is_header(rows: list[list[dict[str, Any]]]) -> bool:
    if len(rows) < 2:
        return False
    names = [cell["value"] for cell in rows[0]]
    if not all(isinstance(name, str) and name.strip() and not name.startswith("=") for name in names):
        return False
    return len({name.strip() for name in names}) == len(names)


def _text(value: Any, data_type: str) -> tuple[str, str | None]:
    """A cell's text and its ``type`` (None for text)."""
    if isinstance(value, str):
        return value, ("formula" if data_type == "f" else "error" if data_type == "e" else None)
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), "bool"
    if isinstance(value, int):
        return str(value), "number"
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)), "number"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat(), "date"
        return value.isoformat(), "date"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat(), "date"
    if isinstance(value, dt.timedelta):
        return str(value), "date"
    text = getattr(value, "text", None)  # ArrayFormula
    if isinstance(text, str):
        return text, "formula"
    return str(value), _TYPES.get(data_type)


def _letter(column: int) -> str:
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
