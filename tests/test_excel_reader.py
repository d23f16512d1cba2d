"""The .xlsx reader of imports (core/excel/files.py): calamine reads what
openpyxl reads, cell for cell, or leaves the file to openpyxl.

Imports read workbooks with python-calamine (about ten times openpyxl's
speed: issue 16 point 7); every cell must come out as openpyxl's read-only
mode gave it, so that the checks and their messages do not change. Each
workbook here is read by both and compared."""

import datetime
import io
import re
import zipfile

import openpyxl
import pytest

from core.excel import files
from core.excel.declarations import Limits
from core.excel.files import ImportFileError, _calamine_rows, _openpyxl_rows, read_table


def saved(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rewritten(data: bytes, part: str, change) -> bytes:
    """The workbook with one part's XML changed by ``change(bytes) -> bytes``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            zout.writestr(info.filename, change(body) if info.filename == part else body)
    return out.getvalue()


def both(data: bytes):
    fast = _calamine_rows(data)
    assert fast is not None, "calamine did not read the workbook"
    slow, _total = _openpyxl_rows(data)

    def trimmed(rows):
        out = []
        for number, values in rows:
            values = list(values)
            while values and values[-1] is None:
                values.pop()
            out.append((number, tuple(values)))
        return out

    return trimmed(fast[0]), trimmed(slow)


def assert_same(data: bytes):
    fast, slow = both(data)
    assert fast == slow


NUMBER_FORMATS = ['yyyy"年"m"月"d"日"', "yyyy/m/d", "m/d/yy h:mm", "[h]:mm:ss", "mm:ss", "0.00", "#,##0", "0%",
                  "@", "General", "yyyy-mm-dd hh:mm:ss", '[DBNum1][$-804]yyyy"年"m"月"d"日"', "e/m/d", "0.00E+00",
                  '[$-F800]dddd, mmmm dd, yyyy', "[Red]0.00"]


def test_every_kind_of_cell_reads_the_same():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["标题", "数", "日期", "是否"])
    ws.append(["  前后有空格  ", 20, datetime.date(2012, 3, 31), True])
    ws.append(["多行\n文字", 2.5, datetime.datetime(2012, 3, 31, 10, 30), False])
    ws.append(["", 0, datetime.time(10, 30), None])
    ws.append(["'=1+1", -3, datetime.timedelta(hours=5), "是"])
    ws.append([1e15, 123456789012345, 0.1 + 0.2, 1e20])
    ws.append(["52440606MJL123456B", "0757-22383456", 40999, "440606"])
    for n, fmt in enumerate(NUMBER_FORMATS):
        ws.append([fmt, datetime.datetime(2012, 3, 31), 40999.5, 40999])
        for col in (2, 3, 4):
            ws.cell(8 + n, col).number_format = fmt
    data = saved(wb)
    fast, slow = both(data)
    assert fast == slow
    assert fast[1] == (2, ("  前后有空格  ", 20, datetime.datetime(2012, 3, 31), True))
    assert type(fast[1][1][1]) is int  # a whole number is an int, as openpyxl reads it (20120331 is a date)


def test_empty_rows_and_columns_keep_excel_row_numbers():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"], ws["D3"] = "标题", "单位"
    ws["C6"], ws["D6"] = "第一条", "440606"
    ws["E9"] = "右下"
    fast, slow = both(saved(wb))
    assert fast == slow
    assert [n for n, v in fast if v] == [3, 6, 9]


def test_write_only_workbooks_inline_strings_and_shared_strings():
    for write_only in (True, False):
        wb = openpyxl.Workbook(write_only=write_only)
        ws = wb.create_sheet() if write_only else wb.active
        ws.append(["标题", "正文", "日期", "单位"])
        for i in range(300):
            ws.append([f"记事 {i}", None if i % 3 else "正文", datetime.date(2012, 1, 1 + i % 28), "440606"])
        assert_same(saved(wb))


def test_a_wrong_dimension_cuts_nothing_off():
    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(1, 6):
        ws.append([f"r{i}", i, f"c{i}"])
    data = rewritten(saved(wb), "xl/worksheets/sheet1.xml",
                     lambda x: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:A1"/>', x))
    fast, slow = both(data)
    assert fast == slow and fast[-1] == (5, ("r5", 5, "c5"))


def test_formulas_give_their_cached_values():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a", "b"])
    ws.append([1, 2])
    data = saved(wb)

    def cached(xml: bytes) -> bytes:  # what Excel writes: the formula and the value it last computed
        return re.sub(rb'<c r="B2"([^>]*)><v>2</v></c>', rb'<c r="B2"\1><f>A2*2</f><v>2</v></c>', xml)

    data = rewritten(data, "xl/worksheets/sheet1.xml", cached)
    assert b"<f>A2*2</f>" in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    fast, slow = both(data)
    assert fast == slow == [(1, ("a", "b")), (2, (1, 2))]


def test_the_first_worksheet_is_read_even_when_hidden():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title, ws.sheet_state = "隐藏", "hidden"
    ws.append(["第一张"])
    wb.create_sheet("第二张").append(["第二张"])
    fast, slow = both(saved(wb))
    assert fast == slow == [(1, ("第一张",))]


def test_error_cells_are_left_to_openpyxl():
    """calamine reads #N/A as an empty cell, openpyxl as its text: such a
    file is read by openpyxl, as before."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["标题", "日期"])
    ws.append(["甲", "#N/A"])
    data = saved(wb)
    assert b't="e"' in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert _calamine_rows(data) is None
    table = read_table("a.xlsx", data, Limits())
    assert table.rows == [(2, ("甲", "#N/A"))]


def test_a_sheet_too_large_for_memory_is_streamed_by_openpyxl(monkeypatch):
    wb = openpyxl.Workbook()
    wb.active.append(["标题"])
    for i in range(50):
        wb.active.append([f"第 {i} 行"])
    data = saved(wb)
    assert _calamine_rows(data) is not None
    monkeypatch.setattr(files, "CALAMINE_MAX_SHEET_BYTES", 1000)
    assert _calamine_rows(data) is None
    assert len(read_table("a.xlsx", data, Limits()).rows) == 50


def test_a_damaged_workbook_is_refused_with_openpyxls_reason():
    wb = openpyxl.Workbook()
    wb.active.append(["标题"])
    data = rewritten(saved(wb), "xl/worksheets/sheet1.xml", lambda x: x[: len(x) // 2])
    assert _calamine_rows(data) is None
    with pytest.raises(ImportFileError) as info:
        read_table("a.xlsx", data, Limits())
    assert str(info.value).startswith("The workbook could not be read")
