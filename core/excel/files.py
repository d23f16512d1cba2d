"""File safety: what an uploaded file is, and reading its table."""

from __future__ import annotations



import csv
import datetime
import io
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any, Callable

from flask_babel import gettext

from core.excel.declarations import Limits, format_size

class ImportFileError(ValueError):
    """The file as a whole cannot be imported (type, size, encoding, header):
    the message says why, in the user's language."""


# -- reading files -------------------------------------------------------------
XLSX, CSV = "xlsx", "csv"
EXCEL_MAX_ROW = 1_048_576


def file_kind(filename: str) -> str:
    ext = os.path.splitext(filename or "")[1].lower()
    if ext == ".xlsx":
        return XLSX
    if ext == ".csv":
        return CSV
    if ext in (".xls", ".et"):
        raise ImportFileError(
            gettext("Old .xls workbooks cannot be read: open the file in Excel or WPS and save it as .xlsx.")
        )
    raise ImportFileError(gettext("Only .xlsx and .csv files can be imported."))


def check_file(filename: str, data: bytes, limits: Limits) -> str:
    """Refuse what is not what its extension says, too large, or an archive
    bomb, before any parser sees it. Returns the file kind."""
    kind = file_kind(filename)
    if len(data) > limits.max_bytes:
        raise ImportFileError(
            gettext("The file is too large: %(size)s; at most %(limit)s may be uploaded.",
                    size=format_size(len(data)), limit=format_size(limits.max_bytes))
        )
    if not data:
        raise ImportFileError(gettext("The file is empty."))
    if kind == XLSX:
        _check_xlsx(data, limits)
    elif data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            gettext("This file is an Excel workbook, not a CSV file: rename it to .xlsx or save it as CSV.")
        )
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            gettext("Old .xls workbooks cannot be read: open the file in Excel or WPS and save it as .xlsx.")
        )
    return kind


def _check_xlsx(data: bytes, limits: Limits) -> None:
    not_xlsx = gettext("This file is not a real .xlsx workbook (its content does not match the extension).")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            gettext("Old .xls workbooks cannot be read: open the file in Excel or WPS and save it as .xlsx.")
        )
    if not data.startswith(b"PK\x03\x04"):
        raise ImportFileError(not_xlsx)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportFileError(not_xlsx) from None
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or not any(re.fullmatch(r"xl/workbook\d*\.xml", n) for n in names):
        raise ImportFileError(not_xlsx)
    if len(infos) > limits.max_parts:
        raise ImportFileError(gettext("The workbook has too many parts (%(n)d).", n=len(infos)))
    # the sizes in the zip directory are what zipfile will let each part
    # inflate to (it stops and fails beyond them), so checking them is enough
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped:
        raise ImportFileError(
            gettext("The workbook unpacks to %(size)s, more than the allowed %(limit)s: it may be an archive bomb.",
                    size=format_size(total), limit=format_size(limits.max_unzipped))
        )
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise ImportFileError(
                gettext("The workbook part %(part)s is compressed %(ratio)d times, which is not normal for a "
                        "spreadsheet: it may be an archive bomb.",
                        part=i.filename, ratio=i.file_size // max(i.compress_size, 1))
            )


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (which
    covers GBK/GB2312 as Excel writes them on Chinese Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text):
            raise ImportFileError(gettext("This file is not a text CSV file (it contains binary data)."))
        return text
    raise ImportFileError(gettext("The CSV file is in an unknown encoding: save it as UTF-8 or GBK (CSV)."))


@dataclass
class Table:
    """The rows of an uploaded file: ``rows`` are (row number as the user
    sees it in Excel, cell values)."""

    headers: list[Any]
    header_row: int
    rows: list[tuple[int, tuple]]


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def read_table(filename: str, data: bytes, limits: Limits, progress: Callable | None = None) -> Table:
    """Check the file, then read its first sheet (xlsx, streamed with
    openpyxl's read-only mode) or its records (csv). Empty rows are dropped;
    the first non-empty row is the header."""
    kind = check_file(filename, data, limits)
    if kind == XLSX:
        raw, total = _xlsx_rows(data)
    else:
        raw, total = _csv_rows(data)
    try:
        return _table(raw, total, limits, progress)
    finally:
        close = getattr(raw, "close", None)
        if close is not None:
            close()  # the workbook, also when a limit stops the reading


def _table(raw, total: int, limits: Limits, progress) -> Table:
    headers, header_row, rows = None, 0, []
    it = iter(raw)
    while True:
        try:
            number, values = next(it)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportFileError(gettext("The workbook could not be read: %(reason)s", reason=str(exc))) from None
        except Exception as exc:  # openpyxl raises many kinds on a damaged sheet
            raise ImportFileError(
                gettext("The workbook could not be read: %(reason)s", reason=type(exc).__name__)
            ) from None
        if number > EXCEL_MAX_ROW:
            break
        if not values or all(_blank(v) for v in values):
            continue
        if headers is None:
            headers, header_row = list(values), number
            continue
        rows.append((number, tuple(values)))
        if len(rows) > limits.max_rows:
            raise ImportFileError(
                gettext("The file has more than %(limit)s rows of data: split it into smaller files.",
                        limit=format(limits.max_rows, ","))
            )
        if progress and len(rows) % 1000 == 0:
            progress("read", len(rows), total)
    if headers is None:
        raise ImportFileError(gettext("The file has no header row."))
    if progress:
        progress("read", len(rows), len(rows))
    return Table(headers, header_row, rows)


def _xlsx_rows(data: bytes):
    """The rows of the first worksheet: read by calamine (Rust, about ten
    times openpyxl's speed) when it can give exactly what openpyxl gives,
    else streamed by openpyxl (which also says why a damaged file cannot be
    read)."""
    fast = _calamine_rows(data)
    return fast if fast is not None else _openpyxl_rows(data)


def _openpyxl_rows(data: bytes):
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFileError(
            gettext("The workbook could not be read: %(reason)s", reason=type(exc).__name__)
        ) from None
    if not wb.worksheets:
        wb.close()
        raise ImportFileError(gettext("The file has no header row."))
    ws = wb.worksheets[0]
    total = max((ws.max_row or 1) - 1, 0)
    ws.reset_dimensions()  # a wrong <dimension> must not cut rows or columns off

    def gen():
        try:
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                yield number, values
        finally:
            wb.close()

    return gen(), total


# calamine reads a whole sheet into memory (openpyxl streams it and stops at the row limit): a
# sheet part larger than this (20,000 rows of 16 columns are about 12 MB) is left to openpyxl
CALAMINE_MAX_SHEET_BYTES = 64 * 1024 * 1024
# an error cell (#N/A, #DIV/0!: t="e"): openpyxl reads its text, calamine an empty cell
_ERROR_CELL = re.compile(rb"""<c\b[^>]*\bt\s*=\s*["']e["']""")


def _has_error_cells(xml: bytes) -> bool:
    return (b'"e"' in xml or b"'e'" in xml) and _ERROR_CELL.search(xml) is not None


def _calamine_rows(data: bytes):
    """(rows, total) read by python-calamine, each cell as openpyxl's
    read-only mode gives it (empty: None; a date: a datetime at midnight; a
    whole number: an int); None when calamine is missing, cannot read the
    file, or would read it differently (error cells, a sheet too large)."""
    try:
        from python_calamine import CalamineWorkbook, SheetTypeEnum
    except ImportError:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    if info.file_size > CALAMINE_MAX_SHEET_BYTES or _has_error_cells(zf.read(info)):
                        return None
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = next((m.name for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet), None)
        if sheet is None:
            return None
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)  # from A1: Excel's row numbers
    except Exception:  # noqa: BLE001 - openpyxl reads it again and says what is wrong
        return None

    def gen():
        for number, values in enumerate(rows, start=1):
            cells = [_cell(v) for v in values]
            while cells and cells[-1] is None:
                cells.pop()
            yield number, tuple(cells)

    return gen(), max(len(rows) - 1, 0)


def _cell(v):
    kind = type(v)
    if kind is str:
        return v or None
    if kind is float:
        return int(v) if v.is_integer() and -1e15 < v < 1e15 else v
    if kind is datetime.date:
        return datetime.datetime(v.year, v.month, v.day)
    return v


def _csv_rows(data: bytes):
    text = decode_csv(data)
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if any(d in first for d in ",\t;") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return enumerate(reader, start=1), max(text.count("\n") - 1, 0)
