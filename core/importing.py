"""Excel/CSV import and export of unit-owned lists, once, for every plugin.

A plugin declares a list with :class:`Importable` (its :class:`Column` s, the
natural key that identifies a record, the defaults of new records) and returns
it from the ``qqh_importables`` hook::

    Importable(
        name="youthorg",                      # resource name in URLs and `qqh import`
        model=YouthOrg,
        label=_l("Youth organizations"),
        columns=(
            Column("name", _l("Name"), required=True, example="佛山市青年志愿者协会"),
            Column("credit_code", _l("Credit code"), parse=credit_code),
            Column("kind", _l("Kind"), kind="enum", choices={"social": _l("Social organization")}),
            Column("founded_on", _l("Founded on"), kind="date"),
            Column("unit", _l("Unit"), kind="unit", required=True),
        ),
        natural_key=("credit_code",),
    )

Core then offers, for that list: a template workbook, import from .xlsx/.csv
(always checked in full first, written in one transaction only when every row
is valid), export of any filtered list view, the REST API and the ``qqh``
commands (see :mod:`core.import_views`). This module is the engine: no views.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import os
import re
import secrets
import time
import unicodedata
import zipfile
import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import insert, inspect as sa_inspect, or_, select
from sqlalchemy.exc import DataError, IntegrityError

from core.scoping import ALL, InvalidInput, Scope, check_item, friendly_integrity_error, in_scope as scoped
from core.units import Unit
from core.validators import ValidationError, parse_amount, parse_date

KINDS = ("str", "int", "decimal", "date", "bool", "enum", "unit", "ref")


@dataclass(frozen=True)
class Column:
    """One column of an importable list.

    ``attr``: model attribute written (``unit`` for the owning unit, matched by
    code or full name; a list may leave it out when the model takes its unit
    from a reference, e.g. a service from its organization); ``header``: Chinese header (lazy gettext string);
    ``kind``: str, int, decimal (amount in 元), date, bool, enum, unit, or ref;
    ``choices``: for enums, stored value → label (the label is written in the
    file); ``parse``: optional callable(str) → value raising
    ``core.validators.ValidationError``; ``ref``: for kind "ref",
    callable(session, text, scope) → object or None (e.g. a youth organization
    by credit code or name); ``example``: the example row's cell.

    Optional, added later (all may be left out):
    ``help``: a sentence for the template's instructions sheet;
    ``ref_many``: for kind "ref", callable(session, texts: set[str], scope) →
    {text: object} that finds every referenced record in a few queries (used
    instead of ``ref`` when given — prefer it for long lists);
    ``format``: callable(value) → cell, how an exported cell is written
    (default: by kind; for refs ``str(object)``, which must be text that
    ``ref`` finds again so that an export can be imported back);
    ``width``: column width in the template and exports (characters).
    """

    attr: str
    header: Any
    kind: str = "str"
    required: bool = False
    choices: dict[str, Any] | None = None
    parse: Callable[[str], Any] | None = None
    ref: Callable[..., Any] | None = None
    example: Any = None
    help: Any = ""
    ref_many: Callable[..., dict] | None = None
    format: Callable[[Any], Any] | None = None
    width: int | None = None


@dataclass(frozen=True)
class Importable:
    """A list that can be imported and exported: ``name`` is the resource
    (e.g. ``youthorg``), ``natural_key`` the attributes that identify a
    record for duplicate detection (e.g. ``("credit_code",)``; may include
    ``unit`` or a ref column's attribute). ``defaults`` are set on new
    records before the row's values (e.g. a status)."""

    name: str
    model: type
    label: Any
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # an enum column without choices takes the model column's (core.choices)
        from core.choices import choices_of

        columns = tuple(
            dataclasses.replace(c, choices=choices_of(self.model, c.attr))
            if c.kind == "enum" and c.choices is None and choices_of(self.model, c.attr) is not None
            else c
            for c in self.columns
        )
        object.__setattr__(self, "columns", columns)

    @functools.cached_property
    def _by_attr(self) -> dict[str, Column]:
        return {c.attr: c for c in self.columns}

    def column(self, attr: str) -> Column | None:
        return self._by_attr.get(attr)


def check_declaration(plugin: str, imp: Importable) -> None:
    """Fail at start-up (``core.plugins.PluginError``) for a declaration that
    cannot work, instead of at the first upload."""
    from core.plugins import PluginError

    def bad(why: str):
        raise PluginError(f"Plugin {plugin!r}: importable list {imp.name!r}: {why}")

    if not isinstance(imp, Importable):
        raise PluginError(f"Plugin {plugin!r}: qqh_importables() must return core.importing.Importable items.")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", imp.name):
        bad("the name must be lower-case letters, digits and _.")
    if not getattr(imp.model, "__qqh_unit_owned__", False):
        bad(f"{imp.model.__name__} is not unit-owned (core.scoping.UnitOwned).")
    mapper = sa_inspect(imp.model)
    attrs = [c.attr for c in imp.columns]
    if len(set(attrs)) != len(attrs):
        bad("a column attribute appears twice.")
    if any(c.kind == "unit" and c.attr != "unit" for c in imp.columns) or (
        "unit" in attrs and imp.column("unit").kind != "unit"
    ):
        bad('the owning unit is written Column("unit", ..., kind="unit").')
    for c in imp.columns:
        if c.kind not in KINDS:
            bad(f"column {c.attr!r} has the unknown kind {c.kind!r} (known: {', '.join(KINDS)}).")
        if c.kind == "enum" and not c.choices:
            bad(f"enum column {c.attr!r} has no choices.")
        if c.kind == "ref" and not (c.ref or c.ref_many):
            bad(f"ref column {c.attr!r} needs ref= or ref_many=.")
        if c.kind in ("unit", "ref"):
            if c.attr not in mapper.relationships:
                bad(f"column {c.attr!r} must be a many-to-one relationship of {imp.model.__name__}.")
        elif c.attr not in mapper.column_attrs:
            bad(f"{imp.model.__name__} has no column {c.attr!r}.")
    if not imp.natural_key:
        bad("natural_key is empty.")
    for k in imp.natural_key:
        if k not in attrs:
            bad(f"natural key attribute {k!r} is not one of its columns.")


# -- limits ------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """What an upload may be. Configuration keys in brackets."""

    max_bytes: int = 10 * 1024 * 1024  # QQH_IMPORT_MAX_BYTES
    max_rows: int = 20_000  # QQH_IMPORT_MAX_ROWS
    max_unzipped: int = 200 * 1024 * 1024  # QQH_IMPORT_MAX_UNZIPPED_BYTES
    max_ratio: int = 100  # QQH_IMPORT_MAX_ZIP_RATIO (for parts above 1 MB)
    max_parts: int = 1000

    @classmethod
    def from_config(cls, config) -> "Limits":
        return cls(
            max_bytes=int(config.get("QQH_IMPORT_MAX_BYTES", cls.max_bytes)),
            max_rows=int(config.get("QQH_IMPORT_MAX_ROWS", cls.max_rows)),
            max_unzipped=int(config.get("QQH_IMPORT_MAX_UNZIPPED_BYTES", cls.max_unzipped)),
            max_ratio=int(config.get("QQH_IMPORT_MAX_ZIP_RATIO", cls.max_ratio)),
        )


def format_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return f"{n} B"


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


def _csv_rows(data: bytes):
    text = decode_csv(data)
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if any(d in first for d in ",\t;") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return enumerate(reader, start=1), max(text.count("\n") - 1, 0)


# -- cells -----------------------------------------------------------------------
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n")
TRUE_WORDS = {"是", "y", "yes", "true", "t", "1", "√", "✓", "对", "有"}
FALSE_WORDS = {"否", "n", "no", "false", "f", "0", "×", "✗", "x", "无", "不是"}


def neutralise(value):
    """The one neutraliser of every cell of every workbook the app writes: a
    text that a spreadsheet would run as a formula (= + - @, tab, CR, LF at
    its start) gets a leading apostrophe (OWASP's advice against CSV
    injection); any other value is returned as it is."""
    if isinstance(value, str) and value and value.startswith(DANGEROUS_START):
        return "'" + value
    return value


def safe_row(values) -> list:
    """A row for a write-only sheet with every cell neutralised (values and
    ``WriteOnlyCell`` objects alike)."""
    out = []
    for v in values:
        if hasattr(v, "value") and hasattr(v, "data_type"):
            if isinstance(v.value, str):
                v.value = neutralise(v.value)
        else:
            v = neutralise(v)
        out.append(v)
    return out


def save_workbook(wb, out=None) -> bytes | None:
    """Neutralise every cell of every sheet of ``wb`` (not write-only), then
    save it to ``out``, or return its bytes. Every workbook the app builds
    cell by cell is saved through here."""
    from openpyxl.cell.cell import MergedCell

    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell, MergedCell) and isinstance(cell.value, str):
                    cell.value = neutralise(cell.value)
    if out is not None:
        wb.save(out)
        return None
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def cell_text(value) -> str:
    """The text of a cell: numbers without a useless .0, a leading
    apostrophe added by :func:`neutralise` removed again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and text[1:].startswith(DANGEROUS_START):
        text = text[1:]
    return text


class CellError(ValueError):
    pass


def parse_int(value) -> int | None:
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise CellError(gettext('Not a whole number: "%(value)s"', value=value))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = re.sub(r"[\s,]", "", unicodedata.normalize("NFKC", cell_text(value)))
    if not text:
        return None
    if re.fullmatch(r"[+-]?\d{1,18}", text):
        return int(text)
    raise CellError(gettext('Not a whole number: "%(value)s"', value=cell_text(value)))


def parse_bool(value) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = _norm(cell_text(value))
    if not text:
        return None
    if text in TRUE_WORDS or text == _norm(gettext("Yes")):
        return True
    if text in FALSE_WORDS or text == _norm(gettext("No")):
        return False
    raise CellError(gettext('Write 是 or 否, not "%(value)s"', value=cell_text(value)))


def _english(label) -> str | None:
    args = getattr(label, "_args", None)
    return args[0] if args else None


def enum_lookup(column: Column) -> dict[str, str]:
    """Every way a choice may be written (label in the current language,
    English label, stored value) → stored value."""
    out: dict[str, str] = {}
    for key, label in (column.choices or {}).items():
        for form in (key, _english(label), str(label)):
            if form:
                out.setdefault(_norm(str(form)), key)
    return out


def parse_enum(column: Column, value, lookup: dict[str, str] | None = None):
    text = cell_text(value)
    if not text:
        return None
    lookup = lookup if lookup is not None else enum_lookup(column)
    key = lookup.get(_norm(text))
    if key is None:
        allowed = "、".join(str(v) for v in column.choices.values())
        raise CellError(gettext('"%(value)s" is not one of the allowed values: %(allowed)s', value=text, allowed=allowed))
    return key


def parse_cell(column: Column, value, *, max_length: int | None = None, lookup: dict | None = None,
               max_int: int | None = None):
    """The value of one cell for ``column`` (None when empty). Units and
    references come back as their text (they are looked up set-based).
    ``max_length``/``max_int``: what the database column holds."""
    try:
        if column.parse is not None:
            text = cell_text(value)
            return column.parse(text) if text else None
        kind = column.kind
        if kind == "date":
            if isinstance(value, str):
                value = cell_text(value)
            return parse_date(value if value != "" else None)
        if kind == "decimal":
            if isinstance(value, str):
                value = cell_text(value)
            return parse_amount(value if value != "" else None)
        if kind == "int":
            number = parse_int(value)
            if number is not None and max_int is not None and abs(number) > max_int:
                raise CellError(gettext("Number out of range: %(value)s", value=number))
            return number
        if kind == "bool":
            return parse_bool(value)
        if kind == "enum":
            return parse_enum(column, value, lookup)
        text = cell_text(value)
        if kind in ("unit", "ref"):
            return unicodedata.normalize("NFKC", text).strip() or None
        if max_length and len(text) > max_length:
            raise CellError(gettext("At most %(n)d characters (this cell has %(got)d).", n=max_length, got=len(text)))
        return text or None
    except CellError:
        raise
    except ValueError as exc:  # ValidationError, or a plugin parser's own
        raise CellError(str(exc)) from None


# -- the report -----------------------------------------------------------------
@dataclass
class Problem:
    """One message about a row (``row`` None: the whole file)."""

    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    name: str
    filename: str
    on_duplicate: str
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_rows(self) -> int:
        return len({p.row for p in self.errors if p.row is not None})

    def error(self, row, column, message) -> None:
        self.errors.append(Problem(row, str(column or ""), str(message)))

    def note(self, row, column, message) -> None:
        self.notes.append(Problem(row, str(column or ""), str(message)))

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "filename": self.filename,
            "on_duplicate": self.on_duplicate,
            "ok": self.ok,
            "written": self.written,
            "rows": self.rows,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "error_rows": self.error_rows,
            "errors": [p.as_dict() for p in self.errors],
            "notes": [p.as_dict() for p in self.notes],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "ImportReport":
        r = cls(d["name"], d["filename"], d["on_duplicate"])
        for k in ("rows", "new", "updated", "unchanged", "skipped", "written"):
            setattr(r, k, d[k])
        r.errors = [Problem(**p) for p in d["errors"]]
        r.notes = [Problem(**p) for p in d["notes"]]
        return r


# -- units -------------------------------------------------------------------------
_NAME_AND_CODE = re.compile(r"(?P<name>.*?)\s*[（(]\s*(?P<code>[0-9A-Za-z_-]+)\s*[）)]")


def unit_label(unit: Unit) -> str:
    """How a unit is written in files: 佛山市（440600）. Read back by code."""
    return f"{unit.name}（{unit.code}）"


def in_scope(path: str, scope) -> bool:
    return Scope.of(scope).contains(path)


def resolve_units(session, texts: Iterable[str], scope) -> dict[str, Unit | str]:
    """Units written as code, full name or ``name（code）`` → Unit, or the
    error message. Two queries at most, whatever the number of rows."""
    texts = set(texts)
    codes, names = set(), set()
    for t in texts:
        m = _NAME_AND_CODE.fullmatch(t)
        if m:
            codes.add(m["code"])
        else:
            codes.add(t)
            names.add(t)
    by_code: dict[str, Unit] = {}
    by_name: dict[str, list[Unit]] = {}
    for chunk in _chunks(sorted(codes | names), 400):
        for u in session.execute(select(Unit).where(or_(Unit.code.in_(chunk), Unit.name.in_(chunk)))).scalars():
            by_code[u.code] = u
            by_name.setdefault(u.name, []).append(u)
    out: dict[str, Unit | str] = {}
    for t in texts:
        m = _NAME_AND_CODE.fullmatch(t)
        if m:
            unit = by_code.get(m["code"])
            if unit is None:
                out[t] = gettext("No unit has the code %(code)s.", code=m["code"])
                continue
        elif t in by_code:
            unit = by_code[t]
        else:
            found = {u.id: u for u in by_name.get(t, [])}.values()
            if len(found) > 1:
                mine = [u for u in found if in_scope(u.path, scope)]
                found = mine if len(mine) == 1 else found
            if not found:
                out[t] = gettext('No unit has the code or name "%(value)s".', value=t)
                continue
            if len(found) > 1:
                out[t] = gettext('Several units are named "%(value)s": write the unit code instead.', value=t)
                continue
            unit = next(iter(found))
        if not in_scope(unit.path, scope):
            out[t] = gettext(
                "%(unit)s is outside your units: you may only import records of your own unit and the units below it.",
                unit=unit_label(unit),
            )
            continue
        out[t] = unit
    return out


def scope_unit(session, scope) -> Unit | None:
    """The unit at the top of ``scope`` (the root for an unrestricted scope)."""
    scope = Scope.of(scope)
    if scope.everything:
        return session.execute(select(Unit).where(Unit.depth == 0).order_by(Unit.code).limit(1)).scalar_one_or_none()
    if scope.nothing:
        return None
    return session.execute(select(Unit).where(Unit.path == scope.path)).scalar_one_or_none()


def _chunks(seq, n):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


# -- examples ------------------------------------------------------------------
EXAMPLE_DATE = dt.date(2012, 3, 31)


def example_cell(column: Column, unit: Unit | None):
    """The example row's cell for ``column`` (as written in the template):
    ``Column.example`` if given (an enum's stored value is written as its
    label, True/False as 是/否), else a value of the column's kind."""
    kind, ex = column.kind, column.example
    if ex is not None:
        if kind == "enum" and ex in (column.choices or {}):
            return str(column.choices[ex])
        if kind == "bool" and isinstance(ex, bool):
            return gettext("Yes") if ex else gettext("No")
        if kind == "decimal" and not isinstance(ex, Decimal):
            try:
                return parse_amount(str(ex))
            except ValidationError:
                return str(ex)
        if isinstance(ex, (int, float, Decimal, dt.date)):
            return ex
        return str(ex)
    if kind == "unit":
        return unit_label(unit) if unit is not None else ""
    if kind == "date":
        return EXAMPLE_DATE
    if kind == "decimal":
        return Decimal("1000.00")
    if kind == "int":
        return 1
    if kind == "bool":
        return gettext("Yes")
    if kind == "enum":
        return str(next(iter(column.choices.values())))
    if kind == "ref":
        return ""
    return gettext("Example text")


# -- import ----------------------------------------------------------------------
UPDATE, SKIP = "update", "skip"


@dataclass
class _Row:
    number: int
    values: dict[str, Any]
    target: Any = None
    key: tuple | None = None


def _header_forms(column: Column) -> set[str]:
    forms = {_norm(str(column.header)), _norm(column.attr)}
    en = _english(column.header)
    if en:
        forms.add(_norm(en))
    return forms


def _match_headers(imp: Importable, headers: list, report: ImportReport) -> dict[int, Column] | None:
    lookup: dict[str, Column] = {}
    for c in imp.columns:
        for f in _header_forms(c):
            lookup.setdefault(f, c)
    ignored = {_norm(gettext("Errors in the row")), _norm("Errors in the row")}
    mapping: dict[int, Column] = {}
    seen: dict[str, int] = {}
    for idx, h in enumerate(headers):
        text = cell_text(h).rstrip("*＊ ")
        key = _norm(text)
        if not key or key in ignored:
            continue
        col = lookup.get(key)
        if col is None:
            report.note(None, text, gettext("Column %(column)s is not part of this list and was ignored.", column=text))
            continue
        if col.attr in seen:
            report.error(None, text, gettext("Column %(column)s appears twice in the header.", column=text))
            continue
        seen[col.attr] = idx
        mapping[idx] = col
    if not mapping:
        expected = "、".join(str(c.header) for c in imp.columns)
        report.error(None, "", gettext(
            "The header row has none of the expected columns (%(expected)s): use the template.", expected=expected))
        return None
    missing = [str(c.header) for c in imp.columns if c.required and c.attr not in seen]
    if missing:
        report.error(None, "", gettext("Required column missing: %(columns)s", columns="、".join(missing)))
    return mapping if report.ok else None


def _key_label(imp: Importable) -> str:
    return "、".join(str(imp.column(k).header) for k in imp.natural_key)


def run_import(
    session,
    imp: Importable,
    filename: str,
    data: bytes,
    *,
    scope=ALL,
    on_duplicate: str = UPDATE,
    commit: bool = False,
    user_id: int | None = None,
    limits: Limits | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    batch_size: int = 1000,
) -> ImportReport:
    """Check every row of the file and, when ``commit`` and every row is
    valid, write them in one transaction. Nothing is written otherwise.

    ``scope``: the :class:`~core.scoping.Scope` the rows must lie in (``ALL``: anywhere);
    ``on_duplicate``: what to do with a row whose natural key exists already
    (in the database within reach, or earlier in the file): ``update`` or
    ``skip``; ``progress(stage, done, total)`` is called while reading
    ("read"), checking ("check") and writing ("write") — an exception it
    raises aborts the import and rolls everything back; ``user_id`` is
    recorded as the creator/changer (a request's user is the default).

    The session ends committed (import written) or rolled back (check only,
    or refused): it must not hold other pending changes.
    """
    scope = Scope.of(scope)  # a unit path still works
    if on_duplicate not in (UPDATE, SKIP):
        raise ValueError(on_duplicate)
    limits = limits or Limits()
    report = ImportReport(imp.name, filename, on_duplicate)
    try:
        table = read_table(filename, data, limits, progress)
    except ImportFileError as exc:
        report.error(None, "", str(exc))
        return report
    mapping = _match_headers(imp, table.headers, report)
    if mapping is None:
        return report
    try:
        with session.no_autoflush:
            rows = _check_rows(session, imp, table, mapping, report, scope, on_duplicate, user_id, progress)
        if report.rows == 0 and report.ok:
            report.error(None, "", gettext("The file has no rows of data."))
        if not report.ok or not commit:
            session.rollback()  # forget what the check changed on loaded records
            return report
        _write(session, rows, report, progress, batch_size)
    except (IntegrityError, DataError) as exc:  # what only the database could tell
        session.rollback()
        reason = (str(friendly_integrity_error(exc)) if isinstance(exc, IntegrityError)
                  else gettext("a value does not fit its database column"))
        report.error(None, "", gettext("The import failed and nothing was saved: %(reason)s", reason=reason))
        return report
    except BaseException:
        session.rollback()
        raise
    report.written = True
    return report


def _check_rows(session, imp, table, mapping, report, scope, on_duplicate, user_id, progress) -> list[_Row]:
    mapper = sa_inspect(imp.model)
    headers = {c.attr: str(c.header) for c in imp.columns}
    lengths = {c.attr: _max_length(mapper, c) for c in imp.columns}
    ints = {c.attr: _max_int(mapper, c) for c in imp.columns}
    lookups = {c.attr: enum_lookup(c) for c in imp.columns if c.kind == "enum"}
    present = list(mapping.items())
    refs = [c for c in imp.columns if c.kind == "ref"]

    example_unit = scope_unit(session, scope)
    example = None
    if len(mapping) == len(imp.columns):
        example = {}
        for c in imp.columns:
            try:
                example[c.attr] = parse_cell(c, example_cell(c, example_unit), max_length=lengths[c.attr],
                                             lookup=lookups.get(c.attr), max_int=ints[c.attr])
            except CellError:
                example = None
                break

    # 1. cells → values; collect the unit and reference texts
    rows: list[_Row] = []
    unit_texts: set[str] = set()
    ref_texts: dict[str, set[str]] = {c.attr: set() for c in refs}
    total = len(table.rows)
    for n, (number, raw) in enumerate(table.rows, start=1):
        values, bad = {}, False
        for idx, col in present:
            cell = raw[idx] if idx < len(raw) else None
            try:
                v = parse_cell(col, cell, max_length=lengths[col.attr], lookup=lookups.get(col.attr),
                               max_int=ints[col.attr])
            except CellError as exc:
                report.error(number, col.header, str(exc))
                bad = True
                continue
            if v is None and col.required:
                report.error(number, col.header, gettext("Required: this cell must not be empty."))
                bad = True
            values[col.attr] = v
        if example is not None and values == example:
            report.note(number, "", gettext("This is the template's example row: ignored."))
            continue
        report.rows += 1
        if values.get("unit"):
            unit_texts.add(values["unit"])
        for c in refs:
            if values.get(c.attr):
                ref_texts[c.attr].add(values[c.attr])
        rows.append(_Row(number, values, target=None if not bad else False))

    # 2. units and references, set-based
    units = resolve_units(session, unit_texts, scope)
    found_refs: dict[str, dict[str, Any]] = {}
    for c in refs:
        if c.ref_many is not None:
            found_refs[c.attr] = c.ref_many(session, ref_texts[c.attr], scope) or {}
        else:
            found_refs[c.attr] = {t: c.ref(session, t, scope) for t in ref_texts[c.attr]}
    for row in rows:
        text = row.values.get("unit")
        if text:
            u = units[text]
            if isinstance(u, str):
                report.error(row.number, headers["unit"], u)
                row.target = False
            else:
                row.values["unit"] = u
        for c in refs:
            text = row.values.get(c.attr)
            if text:
                obj = found_refs[c.attr].get(text)
                if obj is None:
                    report.error(row.number, c.header, gettext('Not found: "%(value)s"', value=text))
                    row.target = False
                else:
                    row.values[c.attr] = obj

    # 3. natural keys: within the file and against the database
    key_attrs = imp.natural_key
    for row in rows:
        if row.target is False:
            continue
        key = tuple(_key_part(row.values.get(a), a, imp) for a in key_attrs)
        row.key = None if any(k is None for k in key) else key
    existing = _existing(session, imp, {r.key for r in rows if r.key is not None})
    existing_paths = {}
    if existing and not Scope.of(scope).everything:
        ids = {o.unit_id for o in existing.values()}
        for chunk in _chunks(ids, 400):
            existing_paths.update(session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(chunk))).all())

    key_label = _key_label(imp)
    first_row: dict[tuple, _Row] = {}
    status: dict[int, str] = {}  # id(target) → new, updated or unchanged
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    for n, row in enumerate(rows, start=1):
        if progress and n % 1000 == 0:
            progress("check", n, total)
        if row.target is False:
            continue
        earlier = first_row.get(row.key) if row.key is not None else None
        if earlier is not None:
            if on_duplicate == SKIP:
                report.note(row.number, "", gettext("Same %(key)s as row %(row)d: skipped.",
                                                    key=key_label, row=earlier.number))
                report.skipped += 1
                row.target = None
                continue
            report.note(row.number, "", gettext("Same %(key)s as row %(row)d: this row replaces it.",
                                                key=key_label, row=earlier.number))
            if earlier.target is False or earlier.target is None:
                row.target = earlier.target
                continue
            target = row.target = earlier.target
            if _apply(target, row.values, imp) and status[id(target)] == "unchanged":
                status[id(target)] = "updated"
            _validate(session, row, imp, headers, report, scope)
            continue
        if row.key is not None:
            first_row[row.key] = row
        current = existing.get(row.key) if row.key is not None else None
        if current is not None:
            if not Scope.of(scope).everything and not in_scope(existing_paths.get(current.unit_id, ""), scope):
                report.error(row.number, "", gettext(
                    "A record with the same %(key)s exists in a unit outside your units.", key=key_label))
                row.target = False
                continue
            if on_duplicate == SKIP:
                report.skipped += 1
                row.target = None
                continue
            status[id(current)] = "updated" if _apply(current, row.values, imp) else "unchanged"
            row.target = current
        else:
            row.target = imp.model(**imp.defaults)
            _apply(row.target, row.values, imp)
            status[id(row.target)] = "new"
        _validate(session, row, imp, headers, report, scope)
    for row in rows:
        t = row.target
        if t is not None and t is not False and id(t) in status:
            kind = status.pop(id(t))
            counts[kind] += 1
            if user_id is not None and kind != "unchanged":
                if kind == "new":
                    t.created_by_fk = user_id
                t.changed_by_fk = user_id
    report.new, report.updated, report.unchanged = counts["new"], counts["updated"], counts["unchanged"]
    if progress:
        progress("check", total, total)
    return rows


def _max_length(mapper, col: Column) -> int | None:
    if col.kind != "str" or col.parse is not None or col.attr not in mapper.column_attrs:
        return None
    return getattr(mapper.column_attrs[col.attr].columns[0].type, "length", None)


def _max_int(mapper, col: Column) -> int | None:
    from sqlalchemy import BigInteger, SmallInteger

    if col.kind != "int" or col.attr not in mapper.column_attrs:
        return None
    kind = mapper.column_attrs[col.attr].columns[0].type
    if isinstance(kind, BigInteger):
        return 2**63 - 1
    if isinstance(kind, SmallInteger):
        return 2**15 - 1
    return 2**31 - 1


def _key_part(value, attr, imp):
    if value is None:
        return None
    col = imp.column(attr)
    if col.kind in ("unit", "ref"):
        ident = sa_inspect(value).identity
        return ident[0] if ident and len(ident) == 1 else ident
    if isinstance(value, str):
        return value.strip()
    return value


@functools.lru_cache(maxsize=256)
def _fk_attrs(model, rel_name) -> tuple[str, ...]:
    """The attributes of the foreign key behind relationship ``rel_name``,
    in the order of the target's primary key."""
    mapper = sa_inspect(model)
    rel = mapper.relationships[rel_name]
    pairs = {remote: local for local, remote in rel.local_remote_pairs}
    try:
        return tuple(mapper.get_property_by_column(pairs[c]).key for c in rel.mapper.primary_key)
    except KeyError:
        return tuple(mapper.get_property_by_column(c).key for c in rel.local_columns)


def _existing(session, imp: Importable, keys: set[tuple]) -> dict[tuple, Any]:
    """Records whose natural key is among ``keys`` (all units: a record of
    another unit with the same key is a conflict). Queried in chunks on the
    most selective key attribute; matched in Python."""
    if not keys:
        return {}
    model = imp.model
    attrs = list(imp.natural_key)
    pos = next((i for i, a in enumerate(attrs) if imp.column(a).kind not in ("unit", "ref")), 0)
    attr = attrs[pos]
    if imp.column(attr).kind in ("unit", "ref"):
        fks = _fk_attrs(model, attr)
        colattr = getattr(model, fks[0])
    else:
        colattr = getattr(model, attr)
    values = {k[pos] for k in keys}
    out = {}
    getters = []
    for a in attrs:
        if imp.column(a).kind in ("unit", "ref"):
            fk = _fk_attrs(model, a)
            getters.append(lambda o, fk=fk: getattr(o, fk[0]) if len(fk) == 1 else tuple(getattr(o, f) for f in fk))
        else:
            getters.append(lambda o, a=a: (getattr(o, a).strip() if isinstance(getattr(o, a), str) else getattr(o, a)))
    for chunk in _chunks(values, 400):
        for obj in session.execute(select(model).where(colattr.in_(chunk))).scalars():
            key = tuple(g(obj) for g in getters)
            if key in keys:
                out.setdefault(key, obj)
    return out


def _same(a, b) -> bool:
    if (a is None or a == "") and (b is None or b == ""):
        return True
    return a == b


def _apply(obj, values: dict, imp: Importable) -> bool:
    """Set the row's values on ``obj``; True when something changed."""
    changed = False
    for attr, v in values.items():
        col = imp.column(attr)
        if col.kind in ("unit", "ref"):
            fks = _fk_attrs(type(obj), attr)
            current_ids = tuple(getattr(obj, f) for f in fks)
            new_ids = tuple(sa_inspect(v).identity) if v is not None else (None,) * len(fks)
            changed = changed or current_ids != new_ids
            setattr(obj, attr, v)  # also when equal: validate() may read it without a query
        elif not _same(getattr(obj, attr), v):
            setattr(obj, attr, v)
            changed = True
    return changed


def _validate(session, row: _Row, imp, headers, report, scope) -> None:
    try:
        check_item(session, row.target, scope)
    except InvalidInput as exc:
        for fieldname, msgs in exc.messages.items():
            for m in msgs:
                report.error(row.number, headers.get(fieldname, ""), m)
        row.target = False


@functools.lru_cache(maxsize=64)
def _insert_plan(model):
    mapper = sa_inspect(model)
    columns = tuple(p.key for p in mapper.column_attrs)
    refs = []
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE":
            pairs = tuple(
                (mapper.get_property_by_column(local).key, rel.mapper.get_property_by_column(remote).key)
                for local, remote in rel.local_remote_pairs
            )
            refs.append((rel.key, pairs))
    return columns, tuple(refs)


def _insert_values(obj) -> dict:
    """The column values of a new record, for a bulk INSERT: what the row,
    the model's constructor, its @validates hooks and validate() set,
    including the keys of many-to-one references."""
    columns, refs = _insert_plan(type(obj))
    state = obj.__dict__
    values = {k: state[k] for k in columns if k in state}
    for key, pairs in refs:
        if key in state:
            target = state[key]
            for local, remote in pairs:
                values[local] = None if target is None else getattr(target, remote)
    return values


def _write(session, rows: list[_Row], report: ImportReport, progress, batch_size: int) -> None:
    """Flush the updates, insert the new records in batches (one bulk
    INSERT each, progress after each), then commit once. Any exception is
    rolled back by the caller, so a failure half way leaves nothing.

    New records go through SQLAlchemy's ORM bulk INSERT (five times faster
    than a unit-of-work flush): column defaults apply, mapper
    ``before_insert``/``after_insert`` events are not fired."""
    new, seen = [], set()
    for r in rows:
        t = r.target
        if t is None or t is False or id(t) in seen:
            continue
        seen.add(id(t))
        if sa_inspect(t).transient:
            new.append(t)
    total = len(new)
    if progress:
        progress("write", 0, total)
    session.flush()  # the updates
    if new:
        model = type(new[0])
        for i in range(0, total, batch_size):
            session.execute(insert(model), [_insert_values(o) for o in new[i : i + batch_size]])
            if progress:
                progress("write", min(i + batch_size, total), total)
    session.commit()


# -- writing workbooks -------------------------------------------------------------
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"
AMOUNT_FORMAT = "#,##0.00"


def _sheet_title(text: str) -> str:
    return re.sub(r"[\[\]:*?/\\']", "", str(text))[:31] or "Sheet1"


def _width(col: Column) -> int:
    if col.width:
        return col.width
    return {"date": 14, "decimal": 16, "int": 10, "bool": 8, "unit": 28}.get(col.kind, 20)


def export_cell(col: Column, value):
    """The cell written for ``value`` (a model attribute) in an export."""
    if value is None:
        return None
    if col.format is not None:
        out = col.format(value)
        return neutralise(out) if isinstance(out, str) else out
    kind = col.kind
    if kind == "unit":
        return neutralise(unit_label(value))
    if kind == "ref":
        return neutralise(str(value))
    if kind == "enum":
        return neutralise(str((col.choices or {}).get(value, value)))
    if kind == "bool":
        return gettext("Yes") if value else gettext("No")
    if kind == "date":
        return value
    if kind == "decimal":
        return Decimal(value)
    if kind == "int":
        return int(value)
    return neutralise(str(value))


def write_export(imp: Importable, items: Iterable, out, progress: Callable[[int], None] | None = None,
                 full: bool | None = None) -> int:
    """Write ``items`` (model objects) to ``out`` as a workbook with the
    list's headers; streamed (write-only). Returns the number of rows.
    Personal data (``__qqh_personal__``) is masked unless ``full`` (default:
    whether the current user sees it, core/personal.py)."""
    from core.personal import personal_fields, shown, sees_personal_data
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(imp.label))
    for i, c in enumerate(imp.columns):
        ws.column_dimensions[_letter(i)].width = _width(c)
    bold = Font(bold=True)
    head = []
    for c in imp.columns:
        cell = WriteOnlyCell(ws, value=str(c.header))
        cell.font = bold
        head.append(cell)
    ws.append(safe_row(head))
    ws.freeze_panes = "A2"
    n = 0
    personal = set(personal_fields(imp.model))
    if full is None:
        full = sees_personal_data()
    for item in items:
        row = []
        for c in imp.columns:
            value = getattr(item, c.attr)
            if c.attr in personal:
                value = shown(c.attr, value, full)
            v = export_cell(c, value)
            if c.kind == "date" and v is not None:
                v = WriteOnlyCell(ws, value=v)
                v.number_format = DATE_FORMAT
            elif c.kind == "decimal" and v is not None:
                v = WriteOnlyCell(ws, value=v)
                v.number_format = AMOUNT_FORMAT
            row.append(v)
        ws.append(safe_row(row))
        n += 1
        if progress and n % 500 == 0:
            progress(n)
    wb.save(out)
    if progress:
        progress(n)
    return n


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


KIND_FORMATS = {
    "int": _l("Whole number"),
    "decimal": _l("Amount in yuan, up to two decimals (e.g. 1,234.50 or 12万)"),
    "date": _l("Date, e.g. 2012-03-31, 2012/3/31 or 2012年3月31日"),
    "bool": _l("是 or 否"),
    "enum": _l("One of the values in the drop-down list"),
    "unit": _l("Unit code or full name, e.g. 440600 or 佛山市 (drop-down list)"),
    "ref": _l("An existing record"),
}


def _format_text(col: Column, max_length: int | None) -> str:
    if col.kind == "str":
        if max_length:
            return gettext("Text, at most %(n)d characters", n=max_length)
        return gettext("Any text")
    return str(KIND_FORMATS[col.kind])


def write_template(session, imp: Importable, scope=ALL, limits: Limits | None = None) -> bytes:
    """The template workbook of a list: a data sheet with the headers
    (required ones marked *), drop-down lists for enumerations, yes/no and
    units, one example row, and a sheet that explains every column."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    limits = limits or Limits()
    mapper = sa_inspect(imp.model)
    unit = scope_unit(session, scope)
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(imp.label)
    notes_ws = wb.create_sheet(_sheet_title(gettext("Instructions for filling in")))
    lists_ws = wb.create_sheet(_sheet_title(gettext("Drop-down choices")))
    lists_ws.sheet_state = "hidden"
    bold, required_fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    example_font = Font(italic=True, color="808080")
    last_row = limits.max_rows + 1

    def add_list(col_idx: int, values: list[str], strict: bool, prompt: str):
        letter = _letter(col_idx)
        for r, v in enumerate(values, start=1):
            lists_ws.cell(row=r, column=col_idx + 1, value=v)
        ref = f"'{lists_ws.title}'!${letter}$1:${letter}${max(len(values), 1)}"
        dv = DataValidation(type="list", formula1=ref, allow_blank=True, showErrorMessage=strict,
                            showInputMessage=True)
        dv.promptTitle = str(imp.columns[col_idx].header)[:32]
        dv.prompt = prompt[:255]
        dv.errorTitle = gettext("Value not in the list")[:32]
        dv.error = gettext("Choose a value from the list.")[:255]
        dv.add(f"{letter}2:{letter}{last_row}")
        ws.add_data_validation(dv)

    for i, c in enumerate(imp.columns):
        letter = _letter(i)
        head = ws.cell(row=1, column=i + 1, value=str(c.header) + ("*" if c.required else ""))
        head.font = bold
        if c.required:
            head.fill = required_fill
        ws.column_dimensions[letter].width = _width(c)
        max_length = _max_length(mapper, c)
        prompt = _format_text(c, max_length)
        if c.kind == "enum":
            add_list(i, [str(v) for v in c.choices.values()], True, prompt)
        elif c.kind == "bool":
            add_list(i, [gettext("Yes"), gettext("No")], True, prompt)
        elif c.kind == "unit":
            stmt = scoped(select(Unit).order_by(Unit.path).limit(5000), Unit, scope)
            add_list(i, [unit_label(u) for u in session.execute(stmt).scalars()], False, prompt)
        v = example_cell(c, unit)
        cell = ws.cell(row=2, column=i + 1, value=v)
        cell.font = example_font
        if c.kind == "date":
            cell.number_format = DATE_FORMAT
        elif c.kind == "decimal":
            cell.number_format = AMOUNT_FORMAT
        elif c.kind in ("str", "ref", "unit"):
            cell.number_format = "@"
            ws.column_dimensions[letter].number_format = "@"  # typed codes keep their leading zeros
    ws.freeze_panes = "A2"

    # the instructions sheet
    heads = [gettext("Column name"), gettext("Must be filled"), gettext("How to write it"), gettext("Allowed values"),
             gettext("Explanation")]
    for j, h in enumerate(heads, start=1):
        notes_ws.cell(row=1, column=j, value=h).font = bold
    for r, c in enumerate(imp.columns, start=2):
        max_length = _max_length(mapper, c)
        allowed = ""
        if c.kind == "enum":
            allowed = "、".join(str(v) for v in c.choices.values())
        elif c.kind == "bool":
            allowed = "、".join([gettext("Yes"), gettext("No")])
        for j, v in enumerate(
            [str(c.header), gettext("Yes") if c.required else gettext("No"), _format_text(c, max_length),
             allowed, str(c.help or "")],
            start=1,
        ):
            notes_ws.cell(row=r, column=j, value=v).alignment = Alignment(wrap_text=True, vertical="top")
    general = [
        gettext("Fill in one record per row on the first sheet, below the header row; do not rename the headers. "
                "Columns marked * are required."),
        gettext("Row 2 is an example; it is ignored on import, so you may keep or overwrite it."),
        gettext("Records are recognised by %(key)s: when one exists already, you choose on upload whether to "
                "update or skip it.", key=_key_label(imp)),
        gettext("At most %(rows)s rows and %(size)s per file; .xlsx, or .csv in UTF-8 or GBK.",
                rows=format(limits.max_rows, ","), size=format_size(limits.max_bytes)),
        gettext("You may only import records of your own unit and the units below it."),
    ]
    start = len(imp.columns) + 3
    for k, line in enumerate(general):
        notes_ws.cell(row=start + k, column=1, value=line)
    for letter, w in zip("ABCDE", (18, 8, 40, 40, 40)):
        notes_ws.column_dimensions[letter].width = w
    return save_workbook(wb)


def write_error_file(imp: Importable, filename: str, data: bytes, report: ImportReport, limits: Limits) -> bytes:
    """The uploaded rows again, with a last column that says what is wrong
    with each (the file can be corrected and uploaded as it is)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    table = read_table(filename, data, limits)
    by_row: dict[int | None, list[str]] = {}
    for p in report.errors:
        by_row.setdefault(p.row, []).append(f"{p.column}：{p.message}" if p.column else p.message)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(imp.label))
    width = max([len(table.headers)] + [len(r) for _, r in table.rows])

    clean = neutralise
    head = [clean(cell_text(h)) for h in table.headers] + [None] * (width - len(table.headers))
    err_head = WriteOnlyCell(ws, value=gettext("Errors in the row"))
    err_head.font = Font(bold=True, color="C00000")
    ws.append(safe_row(head + [err_head]))
    red = Font(color="C00000")
    for number, values in table.rows:
        msgs = by_row.get(number)
        cells = [clean(v) for v in values] + [None] * (width - len(values))
        if msgs:
            c = WriteOnlyCell(ws, value="；".join(msgs))
            c.font = red
            cells.append(c)
        ws.append(safe_row(cells))
    if by_row.get(None):
        ws.append(safe_row([None] * width + ["；".join(by_row[None])]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- uploads kept between the check and the confirmation ---------------------------
class UploadStore:
    """Uploaded files waiting for confirmation, in the instance folder under
    a random token (no table): ``<token>.bin`` and ``<token>.json`` (owner,
    list, file name, time, last report). Expire after ``max_age`` seconds."""

    TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")

    def __init__(self, folder: str, max_age: int = 3600):
        self.folder = folder
        self.max_age = max_age

    def _paths(self, token: str) -> tuple[str, str]:
        return os.path.join(self.folder, token + ".bin"), os.path.join(self.folder, token + ".json")

    def purge(self) -> None:
        if not os.path.isdir(self.folder):
            return
        limit = time.time() - self.max_age
        for name in os.listdir(self.folder):
            path = os.path.join(self.folder, name)
            try:
                if os.path.getmtime(path) < limit:
                    os.remove(path)
            except OSError:
                pass

    def save(self, data: bytes, meta: dict) -> str:
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        try:
            os.chmod(self.folder, 0o700)  # the raw uploads: the app's user only (whatever the umask)
        except OSError:
            pass
        self.purge()
        token = secrets.token_urlsafe(24)
        bin_path, json_path = self._paths(token)
        with os.fdopen(os.open(bin_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
            fh.write(data)
        self.save_meta(token, dict(meta, created=time.time()))
        return token

    def save_meta(self, token: str, meta: dict) -> None:
        _, json_path = self._paths(token)
        tmp = json_path + ".tmp"
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
            json.dump(meta, fh, ensure_ascii=False)
        os.replace(tmp, json_path)

    def load(self, token: str, user_id, name: str) -> tuple[bytes, dict] | None:
        """The file and its notes, if ``token`` exists, has not expired and
        belongs to ``user_id`` and list ``name``."""
        if not self.TOKEN.fullmatch(token or ""):
            return None
        bin_path, json_path = self._paths(token)
        try:
            with open(json_path, encoding="utf-8") as fh:
                meta = json.load(fh)
            if meta.get("user_id") != user_id or meta.get("name") != name:
                return None
            if time.time() - meta.get("created", 0) > self.max_age:
                self.drop(token)
                return None
            with open(bin_path, "rb") as fh:
                return fh.read(), meta
        except (OSError, ValueError):
            return None

    def drop(self, token: str) -> None:
        for p in self._paths(token):
            try:
                os.remove(p)
            except OSError:
                pass
