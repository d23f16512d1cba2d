"""Workbooks written: exports, templates and error files."""

from __future__ import annotations



import io
import re
from decimal import Decimal
from typing import Callable, Iterable

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect, select

from core.tenancy.scope import ALL, in_scope as scoped
from core.tenancy.units import Unit
from core.excel.cells import cell_text, example_cell, neutralise, safe_row, unit_label
from core.excel.declarations import Column, Importable, Limits, format_size
from core.excel.engine import ImportReport, _key_label, _max_length, scope_unit
from core.excel.files import read_table

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
    whether the current user sees it, core/tenancy/personal.py)."""
    from core.tenancy.personal import personal_fields, shown, sees_personal_data
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
