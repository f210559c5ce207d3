"""CSV / TSV parser: root > table > table_header? , table_row* > table_cell*.

Dialect: ``csv.Sniffer`` first (``.tsv`` files try tab first). Its regular
expressions are super-linear (a 64 KB hostile line took ~20 s), so it sees only
the first 4 KB of the sample, and nothing when that prefix holds a long run of
punctuation. When it fails or is skipped, the delimiter that splits the first
~64 KB into the most consistent field counts wins (one C-reader pass per
candidate); else ``excel`` (``excel-tab`` for ``.tsv``). The header is detected
with the vote of ``Sniffer.has_header``, applied to rows already read with the
chosen dialect (see ``_has_header`` for the fallback).

Text choices (no node repeats the whole file):

* cell: the cell's full value;
* row / header: the cells joined by `` | ``;
* table: the header names joined by `` | `` when a header was detected, else
  empty; ``metadata`` holds the shape (rows, columns, delimiter, has_header);
* root: empty.

Size: rows are read and turned into nodes one at a time (only the first
21 records are held, for the header vote), so a 10 MB, 1,000,000-cell file is
stored whole. Rows, the table and the root spend ``parsers.max_elements``;
cells spend ``parsers.max_cells`` (both failures name the key, the limit and
the value met). The data cells of one column share one metadata dict.

Locations: cells ``{"row": r, "column": c}``, rows and the header
``{"row": r, "line_start": a, "line_end": b}``; ``r`` is the 0-based record
index in the file (the header is record 0), lines are 1-based physical lines,
so a quoted field containing newlines gives a row spanning several lines.
"""

from __future__ import annotations

import csv as _csv
import io
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from go_doc_go.model import ElementType, ParsedNode, ParseResult
from go_doc_go.parsers.base import ElementBudget, ParseInput, guarded, line_range, new_root

_SAMPLE_CHARS = 64 * 1024
_SNIFF_CHARS = 4 * 1024
_PUNCTUATION_RUN = re.compile(r"\W{32,}")
_CONSISTENCY_ROWS = 200
_HEADER_CHECK_ROWS = 20
_FIELD_SIZE_LIMIT = 10 * 1024 * 1024
_DELIMITERS = ",;\t|:"
_ROW_SEPARATOR = " | "
#: The children of every cell: one shared empty tuple instead of a list per cell
#: (a cell never gets children; appending to it would fail loudly, not corrupt).
_LEAF: Any = ()


def parse(doc: ParseInput) -> ParseResult:
    return guarded("CSV", _parse, doc, invalid=(_csv.Error,))


Record = tuple[int, list[str], int, int]  # (record index, cells, line_start, line_end)


def _parse(doc: ParseInput) -> ParseResult:
    text = doc.text()
    root = new_root(format="csv")
    result = ParseResult(root=root)
    if not text.strip():
        return result

    # Process-wide setting; bounded so one enormous field cannot eat memory.
    _csv.field_size_limit(_FIELD_SIZE_LIMIT)
    dialect = _sniff_dialect(text, doc.path)
    records = _records(_csv.reader(io.StringIO(text, newline=""), dialect))
    head = list(itertools.islice(records, _HEADER_CHECK_ROWS + 1))
    if not head:
        return result
    has_header = _has_header([cells for _, cells, _, _ in head])
    header_names: list[str] = list(head[0][1]) if has_header else []

    budget = ElementBudget(doc.limits)
    budget.spend()  # root
    budget.spend()
    table = root.add(ParsedNode(ElementType.TABLE, text=_ROW_SEPARATOR.join(header_names)))
    rows, columns, last_line = _add_rows(table, itertools.chain(head, records), header_names, has_header, budget)
    delimiter = dialect.delimiter
    table.metadata = {
        "rows": rows - (1 if has_header else 0),
        "columns": columns,
        "delimiter": delimiter,
        "has_header": has_header,
        "headers": header_names,
    }
    table.location = line_range(head[0][2], last_line)
    result.metadata = {"delimiter": delimiter, "has_header": has_header, "columns": columns}
    return result


def _records(reader: Any) -> Iterator[Record]:
    """The non-blank records as the reader yields them (nothing is held)."""
    previous_line = 0
    for row_index, cells in enumerate(reader):
        line_start = previous_line + 1
        previous_line = reader.line_num
        if cells and not (len(cells) == 1 and not cells[0].strip()):
            yield row_index, cells, line_start, previous_line


def _add_rows(
    table: ParsedNode,
    records: Iterator[Record],
    header_names: list[str],
    has_header: bool,
    budget: ElementBudget,
) -> tuple[int, int, int]:
    """Build one row node and its cells per record, as the records are read.

    Rows spend ``parsers.max_elements``, cells ``parsers.max_cells``. The data
    cells of one column share one metadata dict (nothing mutates element
    metadata after parsing: ``model.flatten`` and ``storage.rows`` only read
    it), and cells share one empty ``children`` tuple, which keeps a
    million-cell table's memory per cell small.
    Returns the number of records, the widest row and the last line.
    """
    column_meta: list[dict[str, Any]] = []
    rows = columns = last_line = 0
    spend, spend_cell = budget.spend, budget.spend_cell
    row_type, cell_type = ElementType.TABLE_ROW, ElementType.TABLE_CELL
    for r, cells, line_start, line_end in records:
        is_header = has_header and rows == 0
        spend()
        row = ParsedNode(
            ElementType.TABLE_HEADER if is_header else row_type,
            text=_ROW_SEPARATOR.join(cells),
            metadata={"cells": len(cells)},
            location={"row": r, **line_range(line_start, line_end)},
        )
        table.children.append(row)
        add = row.children.append
        while len(column_meta) < len(cells):
            c = len(column_meta)
            name = header_names[c] if c < len(header_names) and header_names[c].strip() else c
            column_meta.append({"column": name, "header": False})
        for c, value in enumerate(cells):
            spend_cell()
            meta = {"column": value, "header": True} if is_header else column_meta[c]
            location = {"row": r, "column": c}
            add(ParsedNode(cell_type, text=value, metadata=meta, location=location, children=_LEAF))
        rows += 1
        columns = max(columns, len(cells))
        last_line = line_end
    return rows, columns, last_line


def _sample(text: str) -> str:
    """The first ~64 KB, cut at a line boundary when the file is longer."""
    sample = text[:_SAMPLE_CHARS]
    if len(text) > _SAMPLE_CHARS:
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        if cut > 0:
            sample = sample[:cut]
    return sample


def _sniffer_sample(sample: str) -> str | None:
    """A prefix small enough for ``csv.Sniffer``, or None when it is unsafe.

    The sniffer's regular expressions are super-linear: a 64 KB line of ``,"``
    takes ~20 s, runs of punctuation are worst. So it gets at most
    ``_SNIFF_CHARS`` and never a sample with a long run of non-word characters
    (measured worst case then: ~0.2 s).
    """
    small = sample[:_SNIFF_CHARS]
    if len(sample) > _SNIFF_CHARS:
        cut = max(small.rfind("\n"), small.rfind("\r"))
        if cut > 0:
            small = small[:cut]
    if _PUNCTUATION_RUN.search(small):
        return None
    return small


def _sniff_dialect(text: str, path: str) -> type[_csv.Dialect] | _csv.Dialect:
    """csv.Sniffer first; then the delimiter that splits rows most consistently; then excel."""
    is_tsv = path.lower().endswith(".tsv")
    sample = _sample(text)
    candidates = "\t" + _DELIMITERS.replace("\t", "") if is_tsv else _DELIMITERS
    small = _sniffer_sample(sample)
    if small is not None:
        sniffer = _csv.Sniffer()
        for delimiters in (["\t", _DELIMITERS] if is_tsv else [_DELIMITERS]):
            try:
                dialect = sniffer.sniff(small, delimiters=delimiters)
            except (_csv.Error, ValueError, TypeError):
                continue
            if dialect.delimiter and dialect.delimiter in _DELIMITERS:
                return dialect
    delimiter = _consistent_delimiter(sample, candidates)
    if delimiter is not None:
        return type("detected", (_csv.excel,), {"delimiter": delimiter})
    return _csv.excel_tab if is_tsv else _csv.excel


def _consistent_delimiter(sample: str, candidates: str) -> str | None:
    """The candidate giving the same field count (> 1) on most rows of the sample.

    Linear: each candidate is one pass of the C reader over the sample. Ties go
    to the earlier candidate.
    """
    best: tuple[float, str] | None = None
    for delimiter in candidates:
        try:
            reader = _csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            counts = [len(row) for row in itertools.islice(reader, _CONSISTENCY_ROWS) if row]
        except _csv.Error:
            continue
        if not counts:
            continue
        fields, hits = Counter(counts).most_common(1)[0]
        score = hits / len(counts)
        if fields > 1 and score >= 0.8 and (best is None or score > best[0]):
            best = (score, delimiter)
    return best[1] if best else None


def _is_number(value: str) -> bool:
    try:
        complex(value.strip())
    except (ValueError, OverflowError):
        return False
    return bool(value.strip())


def _has_header(rows: list[list[str]]) -> bool:
    """``csv.Sniffer.has_header``'s vote, on rows already read with our dialect.

    Each column whose data cells share a type (number, or a fixed length)
    votes: a header cell that breaks the pattern says "header". When no column
    can vote (all-text columns of varying length, the common case for text
    tables) we fall back to: a first row of distinct, non-empty, non-numeric
    names is a header. A file with one row has no header: it is data.
    """
    if len(rows) < 2:
        return False
    header = rows[0]
    columns = len(header)
    column_types: dict[int, Any] = dict.fromkeys(range(columns))
    for row in rows[1:]:
        if len(row) != columns:
            continue
        for col in list(column_types):
            this_type: Any = complex if _is_number(row[col]) else len(row[col])
            if column_types[col] is None:
                column_types[col] = this_type
            elif this_type != column_types[col]:
                del column_types[col]
    votes = 0
    decided = 0
    for col, col_type in column_types.items():
        if col_type is None:
            continue
        decided += 1
        if col_type is complex:
            votes += -1 if _is_number(header[col]) else 1
        else:
            votes += 1 if len(header[col]) != col_type else -1
    if decided and votes != 0:
        return votes > 0
    names = [cell.strip() for cell in header]
    return (
        all(names)
        and not any(_is_number(name) for name in names)
        and len(set(names)) == len(names)
    )
