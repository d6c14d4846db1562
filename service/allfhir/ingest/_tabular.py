"""Shared parsing helpers for the delimited-text adapters.

Why our own reader rather than pandas here: we must report the exact physical line and column of
every bad cell, stream cohorts of any size, and keep quoting rules per format. pandas is used for
the curated mappings (service/allfhir/knowledge.py), where none of that matters.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, Problem
from ..model import SourceRef
from .source import Source

MAX_FIELD = 10_000_000
csv.field_size_limit(MAX_FIELD)


def read_text(source: Source) -> str:
    """The whole input as text; non-UTF-8 or empty input is an InputError naming the file."""
    with source.open() as fh:
        return decode_text(fh.read(), source.name)


def decode_text(data: bytes, name: str) -> str:
    """Bytes of file `name` as text; non-UTF-8 or empty input is an InputError naming the line."""
    if not data.strip():
        raise InputError(Problem("the file is empty", file=name, code="required"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(name, data[: exc.start].count(b"\n") + 1, data[exc.start], exc.start) from None


def _not_utf8(name: str, line: int, byte: int, offset: int) -> InputError:
    """The one wording of a bad byte, whether the file was decoded whole or line by line."""
    return InputError(Problem(f"not UTF-8 text (byte 0x{byte:02x} at offset {offset}); "
                              "save the file as UTF-8", file=name, row=line, code="invalid"))


def first_line(head: str) -> str:
    """The header line of a sniffed file head (BOM removed; '' for an empty file)."""
    lines = head.lstrip("\ufeff").splitlines()
    return lines[0] if lines else ""


def head(source: Source, size: int = 8192) -> str:
    """The first bytes of an input as text, for format sniffing (never raises on bad bytes)."""
    return source.head(size).decode("utf-8-sig", errors="replace")


@dataclass(slots=True)
class Row:
    """One data row: cells by header name, with its physical line number for error messages."""

    line: int
    cells: dict[str, str]
    file: str

    def ref(self, column: str | None = None) -> SourceRef:
        return SourceRef(file=self.file, row=self.line, column=column)

    def problem(self, column: str | None, message: str, code: str = "value") -> Problem:
        return Problem(message, file=self.file, row=self.line, column=column, code=code)


def text_lines(source: Source) -> Iterator[str]:
    """The input's lines as text, decoded one at a time so that a cohort file of any size is never
    held in memory; a non-UTF-8 byte is an InputError naming its line and byte offset."""
    name = source.name
    offset = 0
    with source.open() as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _not_utf8(name, number, raw[exc.start], offset + exc.start) from None
            if number == 1:
                line = line.removeprefix("\ufeff")
            offset += len(raw)
            yield line


def read_table(
    source: Source,
    delimiter: str,
    required: list[str],
    *,
    comment_header_prefix: str | None = None,
    skip_prefix: str | None = None,
    quoting: int = csv.QUOTE_MINIMAL,
    min_columns: int = 0,
) -> tuple[list[str], Iterator[Row]]:
    """Parse a delimited file with a header; check the delimiter and the required columns.

    The rows are streamed: only the header is read before returning, so memory does not grow with
    the cohort. `comment_header_prefix` strips a leading marker from the header (Arriba's '#gene1').
    Lines starting with `skip_prefix` before the header are ignored (VCF-style meta lines).
    `min_columns` > 1 reports a one-column header as a wrong delimiter even when the required
    columns are not known in advance (ALLSorts names its sample-id column after the input file).
    Trailing unnamed columns (Excel's ',,' at the end of every line) are ignored while they are
    empty; a value in one is an error, never silently dropped.
    """
    name = source.name
    lines = text_lines(source)
    skipped = 0
    first: str | None = None
    for line in lines:
        if skip_prefix and line.startswith(skip_prefix):
            skipped += 1
            continue
        first = line
        break
    if first is None or (skipped == 0 and not first.strip() and _only_blank(lines)):
        if skipped == 0:
            raise InputError(Problem("the file is empty", file=name, code="required"))
        raise InputError(Problem("no header line found", file=name, code="structure"))
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, quoting=quoting)
    records = _records(reader, name, skipped + 1)
    try:
        header = next(records)
    except StopIteration:
        raise InputError(Problem("no header line found", file=name, code="structure")) from None
    if comment_header_prefix and header and header[0].startswith(comment_header_prefix):
        header[0] = header[0][len(comment_header_prefix) :]
    header = [h.strip() for h in header]
    # A sheet saved by Excel ends every line with empty cells (',,'): unnamed trailing columns.
    width = len(header)
    while width > 1 and not header[width - 1]:
        width -= 1
    padding = len(header) - width
    header = header[:width]
    header_line = skipped + 1
    if len(header) == 1 and ((required and len(required) > 1) or min_columns > 1):
        other = {"\t": "tab", ",": "comma"}
        found = [d for d in ("\t", ",", ";") if d in header[0]]
        hint = f" (the header contains {', '.join(repr(d) for d in found)})" if found else ""
        raise InputError(
            Problem(
                f"expected a {other.get(delimiter, repr(delimiter))}-separated file{hint}",
                file=name,
                row=header_line,
                code="structure",
            )
        )
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            Problem(
                f"missing required column(s): {', '.join(missing)}",
                file=name,
                row=header_line,
                code="required",
            )
        )
    dups = sorted({h for h in header if h and header.count(h) > 1})
    if dups:
        raise InputError(
            Problem(f"duplicate column(s): {', '.join(dups)}", file=name, row=header_line,
                    code="structure")
        )

    columns = len(header)

    def rows() -> Iterator[Row]:
        for cells in records:
            line = header_line + reader.line_num - 1
            # a blank line, or one of empty cells (the first cell decides most rows at once)
            if not cells or (not cells[0].strip() and all(not c.strip() for c in cells)):
                continue
            if padding and len(cells) > width:
                extra = next((i for i, c in enumerate(cells[width:], start=width + 1) if c.strip()), None)
                if extra is not None:
                    raise InputError(Problem(
                        f"field {extra} has a value but its column has no name in the header",
                        file=name, row=line, code="structure"))
                cells = cells[:width]
            if len(cells) != columns:
                raise InputError(
                    Problem(
                        f"{len(cells)} fields where the header has {columns}",
                        file=name,
                        row=line,
                        code="structure",
                    )
                )
            yield Row(line=line, cells=dict(zip(header, cells, strict=False)), file=name)  # as wide: above

    return header, rows()


def _records(reader: Any, name: str, first_line: int) -> Iterator[list[str]]:
    """The reader's records; csv's own errors (a bare carriage return inside an unquoted field,
    an oversized field) become InputErrors naming the line, not an internal error."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = ("a carriage return (\\r) inside an unquoted field: end lines with \\n or "
                       "\\r\\n, or quote the field" if "new-line" in str(exc) else
                       f"the line cannot be read as delimited text ({exc})")
            raise InputError(Problem(message, file=name, row=first_line + reader.line_num - 1,
                                     code="structure")) from None
        yield cells


def _only_blank(lines: Iterator[str]) -> bool:
    """True when nothing but whitespace is left (consumes the iterator only in that case's path:
    it is called for a blank first line, where the file is then either empty or malformed)."""
    return all(not line.strip() for line in lines)


def parse_probability(row: Row, column: str) -> float:
    """A probability in [0, 1]; anything else is a Problem naming the cell."""
    raw = row.cells[column].strip()
    try:
        value = float(raw)
    except ValueError:
        raise InputError(row.problem(column, f"'{raw}' is not a number")) from None
    if not 0.0 <= value <= 1.0:  # also NaN: every comparison with it is false
        raise InputError(row.problem(column, f"probability {raw} is outside [0, 1]"))
    return value


def parse_int(row: Row, column: str, *, allow_empty: tuple[str, ...] = ("", ".", "NA")) -> int | None:
    raw = row.cells[column].strip()
    if raw in allow_empty:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InputError(row.problem(column, f"'{raw}' is not an integer")) from None


MISSING = ("", ".")


def optional_cell(row: Row, column: str) -> str | None:
    """The cell's text, or None for the fusion callers' missing-value markers ('' and '.')."""
    cell = row.cells.get(column, "").strip()
    return None if cell in MISSING else cell


def read_count(row: Row, column: str, problems: list[Problem]) -> int | None:
    """A non-negative read count; a bad cell is added to `problems` (the row still reports)."""
    try:
        value = parse_int(row, column)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    if value is not None and value < 0:
        problems.append(row.problem(column, f"read count {value} is negative"))
        return None
    return value


def read_sample_id(row: Row, column: str, seen: dict[str, int], problems: list[Problem]) -> str:
    """The row's sample id; empty or repeated ids (`seen`: id -> first line) become problems.
    An empty header cell (ALLSorts' index column) makes the problems name no column."""
    value = row.cells[column].strip()
    where = column or None
    if not value:
        problems.append(row.problem(where, "empty sample id", code="required"))
    elif value in seen:
        problems.append(row.problem(
            where, f"duplicate sample id '{value}' (first on line {seen[value]})", code="duplicate"))
    else:
        seen[value] = row.line
    return value
