"""Reading tables: CSV, TSV and XLSX rows as ``{column: cell or None}`` with RFC 7111 row
numbers; a malformed table is a MappingError naming the row."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import MappingError

if TYPE_CHECKING:
    from openpyxl import Workbook

    from .model import SourceOptions


def cell_text(value: Any) -> str:
    if type(value) is str:  # most cells: skip the checks below
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _table_format(path: Path, options: SourceOptions) -> str:
    if options.format:
        return options.format
    suffix = path.suffix.casefold()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    return "csv"


def read_table(
    path: Path, options: SourceOptions, display: str
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """The header and the data rows as (RFC 7111 row number, {column: cell or None})."""
    fmt = _table_format(path, options)
    raw_rows = (
        _xlsx_rows(path, options, display)
        if fmt == "xlsx"
        else _csv_rows(path, options, display, "\t" if fmt == "tsv" else (options.delimiter or ","))
    )
    pad = fmt == "xlsx"  # spreadsheet rows may stop at their last filled cell
    try:
        header_number, header_cells = next(raw_rows)
    except StopIteration:
        raise MappingError("the table is empty: no header row", display, "row=1") from None
    header = [cell_text(c).strip() if c is not None else "" for c in header_cells]
    fields = len(header)  # a CSV row must have as many fields as the header line
    while header and not header[-1]:
        header.pop()
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise MappingError(
                f"column '{name}' appears twice in the header",
                display,
                f"row={header_number}",
                name,
            )
        seen.add(name)
    missing = {""} | set(options.missing)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        width = len(header)
        for number, cells in raw_rows:
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if pad and len(cells) < width:
                cells = [*cells, *([None] * (width - len(cells)))]
            extra = cells[width:]
            if (
                len(cells) < width
                or (not pad and len(cells) != fields)
                or any(c is not None and not (isinstance(c, str) and not c.strip()) for c in extra)
            ):
                raise MappingError(
                    f"malformed table: this row has {len(cells)} fields but the header has {width}",
                    display,
                    f"row={number}",
                )
            row: dict[str, Any] = {}
            for name, cell in zip(header, cells, strict=False):
                if isinstance(cell, str):
                    cell = cell.strip()
                    if cell in missing:
                        cell = None
                row[name] = cell
            yield number, row

    return header, rows()


def _csv_rows(
    path: Path, options: SourceOptions, display: str, delimiter: str
) -> Iterator[tuple[int, list[Any]]]:
    encoding = (
        "utf-8-sig"
        if options.encoding.replace("_", "-").casefold() == "utf-8"
        else options.encoding
    )
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MappingError(
            f"not {options.encoding} text ({exc.reason} at byte {exc.start}); set source.encoding",
            display,
            f"row={line}",
        ) from None
    number = 0
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        for number, cells in enumerate(reader, start=1):  # noqa: B007 (used on error)
            yield number, cells
    except csv.Error as exc:
        raise MappingError(f"malformed CSV: {exc}", display, f"row={number + 1}") from None


def open_workbook(path: Path, display: str) -> Workbook:
    """An XLSX workbook opened read-only with cell values (not formulas); close it after use.
    A file that is no workbook is a MappingError naming ``display``."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError) as exc:
        raise MappingError(f"not a readable XLSX workbook: {exc}", display) from None


def _xlsx_rows(path: Path, options: SourceOptions, display: str) -> Iterator[tuple[int, list[Any]]]:
    workbook = open_workbook(path, display)
    try:
        if options.sheet is not None:
            if options.sheet not in workbook.sheetnames:
                raise MappingError(
                    f"no sheet '{options.sheet}' (sheets: {', '.join(workbook.sheetnames)})",
                    display,
                )
            sheet = workbook[options.sheet]
        else:
            sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        workbook.close()
