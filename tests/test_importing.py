"""Excel/CSV import and export (core.importing, core.import_views), on the
memo plugin's notes: templates, dry run, per-row errors, all-or-nothing
commits, scoping, duplicates, formula neutralisation, limits, REST API, pages
and the ``qqh`` commands. Real databases, real HTTP.

Users (tests/conftest.py): fs_clerk 佛山 440600, sd_clerk 顺德区 440606,
sz_clerk 深圳 440300, fs_inspector 佛山 (read only)."""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import re
import uuid
import zipfile
from urllib.parse import urlsplit

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from core.values import clock
from core.tenancy.scope import ALL
from core.excel.cells import CellError, neutralise, parse_cell
from core.excel.declarations import Column, Importable
from core.excel.engine import run_import
from core.excel.workbooks import write_template

NOTES = "/api/v1/import/memonote"
HEADERS = ["标题", "正文", "日期", "单位"]


# -- helpers ---------------------------------------------------------------------
def xlsx(rows, headers=HEADERS) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows, encoding="utf-8", headers=HEADERS) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for r in rows:
        w.writerow(r)
    return buf.getvalue().encode(encoding)


def tag() -> str:
    return "imp" + uuid.uuid4().hex[:8]


@contextlib.contextmanager
def db(app):
    """A session of our own (not the app's), closed afterwards."""
    with app.app_context():
        with sa.orm.Session(app.extensions["qqh_db"].engine) as s:
            yield s


def notes(app, prefix) -> dict[str, tuple]:
    """title → (body, date, unit code) of the notes whose title starts with ``prefix``."""
    from core.tenancy.units import Unit
    from tests.memo_plugin.models import MemoNote

    with db(app) as s:
        rows = s.execute(
            sa.select(MemoNote.title, MemoNote.body, MemoNote.noted_on, Unit.code)
            .join(Unit, Unit.id == MemoNote.unit_id)
            .where(MemoNote.title.startswith(prefix))
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def delete_notes(app, prefix) -> None:
    from tests.memo_plugin.models import MemoNote

    with db(app) as s:
        s.execute(sa.delete(MemoNote).where(MemoNote.title.startswith(prefix)))
        s.commit()


def upload(client, data, filename="notes.xlsx", dry_run=1, on_duplicate="update", name="memonote"):
    return client.post(
        f"/api/v1/import/{name}",
        params={"dry_run": dry_run, "on_duplicate": on_duplicate},
        files={"file": (filename, data)},
    )


def errors_of(r) -> list[tuple]:
    return [(e["row"], e["column"], e["message"]) for e in r.json()["result"]["errors"]]


def workbook(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


@contextlib.contextmanager
def config(app, **values):
    old = {k: app.config.get(k) for k in values}
    app.config.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                app.config.pop(k, None)
            else:
                app.config[k] = v


def importable(app, name="memonote") -> Importable:
    return app.extensions["qqh_importables"][name][1]


# -- template ----------------------------------------------------------------------
def test_template_has_headers_example_drop_downs_and_instructions(as_user):
    r = as_user("fs_clerk").get(f"{NOTES}/template")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = workbook(r.content)
    data, instructions, choices = wb.worksheets
    assert [c.value for c in data[1]] == ["标题*", "正文", "日期*", "单位*"]
    example = [c.value for c in data[2]]
    assert example[0] == "示例：本单位启动计划" and example[3] == "佛山市（440600）"
    assert example[2] == datetime.datetime(2012, 3, 31)
    assert choices.sheet_state == "hidden"
    # the unit column offers the clerk's own subtree, and nothing else
    (dv,) = data.data_validations.dataValidation
    assert dv.type == "list" and str(dv.sqref).startswith("D2:D")
    letter_range = dv.formula1.split("!")[1].replace("$", "")
    offered = [c.value for row in choices[letter_range] for c in row]
    assert "佛山市（440600）" in offered and "顺德区（440606）" in offered
    assert not any("440300" in v for v in offered)
    assert instructions.title == "填写说明"
    rows = [tuple(c.value for c in row) for row in instructions.iter_rows(min_row=1, max_row=5)]
    assert rows[0] == ("列名", "必填", "填写格式", "可选值", "说明")
    assert rows[1][:3] == ("标题", "是", "文本，最多 200 个字符")
    assert rows[2][:2] == ("正文", "否")
    assert rows[3][:3] == ("日期", "是", "日期，如 2012-03-31、2012/3/31 或 2012年3月31日")
    text = " ".join(str(c.value) for row in instructions.iter_rows() for c in row if c.value)
    assert "按“单位、标题”识别记录" in text and "第2行是示例" in text


def test_template_drop_downs_for_enums_and_yes_no(app):
    from tests.memo_plugin.models import MemoNote

    imp = Importable(
        "kinds", MemoNote, "种类",
        (Column("title", "类别", kind="enum", required=True, choices={"a": "甲类", "b": "乙类"}),
         Column("body", "是否试点", kind="bool"),
         Column("noted_on", "日期", kind="date"),
         Column("unit", "单位", kind="unit")),
        natural_key=("title",),
    )
    with app.test_request_context():
        wb = workbook(write_template(app.appbuilder.session, imp, ALL))
    data, instructions, choices = wb.worksheets
    by_col = {str(dv.sqref)[0]: dv for dv in data.data_validations.dataValidation}
    values = lambda dv: [c.value for row in choices[dv.formula1.split("!")[1].replace("$", "")] for c in row]
    assert values(by_col["A"]) == ["甲类", "乙类"] and by_col["A"].showErrorMessage
    assert values(by_col["B"]) == ["是", "否"] and by_col["B"].showErrorMessage
    assert not by_col["D"].showErrorMessage  # a unit may also be typed as its code
    assert [c.value for c in data[2]][:2] == ["甲类", "是"]
    assert [c.value for c in instructions[2]][3] == "甲类、乙类"


# -- round trip -------------------------------------------------------------------------
def test_export_then_import_gives_the_same_records(app, as_user):
    t = tag()
    clerk = as_user("fs_clerk")
    rows = [
        (f"{t}-1", "第一条", datetime.date(2012, 3, 1), "佛山市"),
        (f"{t}-2", None, datetime.date(2012, 3, 2), "440606"),
        (f"{t}-3", "多行\n正文", datetime.date(2012, 12, 31), "南海区（440605）"),
    ]
    r = upload(clerk, xlsx(rows), dry_run=0)
    assert r.status_code == 200, r.text
    assert r.json()["result"]["new"] == 3
    before = notes(app, t)
    assert before == {
        f"{t}-1": ("第一条", datetime.date(2012, 3, 1), "440600"),
        f"{t}-2": (None, datetime.date(2012, 3, 2), "440606"),
        f"{t}-3": ("多行\n正文", datetime.date(2012, 12, 31), "440605"),
    }
    # the list page's filter (title starts with the tag) is the export's
    r = clerk.get("/excel/memonote/export", params={"_flt_0_title": t})
    assert r.status_code == 200, r.text[:300]
    exported = r.content
    ws = workbook(exported).worksheets[0]
    assert [c.value for c in ws[1]] == HEADERS and ws.max_row == 4
    assert {ws.cell(row=i, column=4).value for i in (2, 3, 4)} == {"佛山市（440600）", "顺德区（440606）", "南海区（440605）"}
    # importing the export again changes nothing
    r = upload(clerk, exported, "export.xlsx", dry_run=0)
    assert r.json()["result"]["unchanged"] == 3 and r.json()["result"]["new"] == 0
    delete_notes(app, t)
    r = upload(clerk, exported, "export.xlsx", dry_run=0)
    assert r.status_code == 200 and r.json()["result"]["new"] == 3
    assert notes(app, t) == before
    delete_notes(app, t)


def test_export_api_is_scoped_and_takes_a_unit(app, as_user):
    t = tag()
    admin = as_user("admin")
    rows = [(f"{t}-fs", "", "2012-01-01", "440600"), (f"{t}-sd", "", "2012-01-01", "440606"),
            (f"{t}-sz", "", "2012-01-01", "440300")]
    assert upload(admin, xlsx(rows), dry_run=0).status_code == 200

    def exported_titles(client, **params):
        r = client.get("/api/v1/export/memonote", params=params)
        assert r.status_code == 200, r.text
        ws = workbook(r.content).worksheets[0]
        return sorted(row[0] for row in ws.iter_rows(min_row=2, values_only=True) if row[0].startswith(t))

    assert exported_titles(admin) == [f"{t}-fs", f"{t}-sd", f"{t}-sz"]
    assert exported_titles(as_user("fs_clerk")) == [f"{t}-fs", f"{t}-sd"]
    assert exported_titles(as_user("fs_clerk"), unit="440606") == [f"{t}-sd"]
    assert exported_titles(as_user("sz_clerk")) == [f"{t}-sz"]
    r = as_user("fs_clerk").get("/api/v1/export/memonote", params={"unit": "440300"})
    assert r.status_code == 404 and "不在您的管辖范围内" in r.json()["message"]
    delete_notes(app, t)


# -- bad cells ---------------------------------------------------------------------------
def test_each_kind_of_bad_cell_is_reported_with_row_column_and_reason(app, as_user):
    t = tag()
    with app.app_context():
        tomorrow = clock.today() + datetime.timedelta(days=1)  # the configured zone's, as the import reads it
    rows = [
        (f"{t}-ok", "", "2012-03-31", "440600"),  # row 2
        ("", "没有标题", "2012-03-31", "440600"),  # 3: required
        (f"{t}-d1", "", "2012-02-30", "440600"),  # 4: no such date
        (f"{t}-d2", "", "明天", "440600"),  # 5: not a date
        (f"{t}-d3", "", tomorrow.isoformat(), "440600"),  # 6: the model's validate()
        (f"{t}-u1", "", "2012-03-31", "火星市"),  # 7: unknown unit
        (f"{t}-u2", "", "2012-03-31", "不存在（999999）"),  # 8: unknown code
        (f"{t}-" + "长" * 200, "", "2012-03-31", "440600"),  # 9: too long
        (f"{t}-u3", "", "2012-03-31", "440300"),  # 10: outside the subtree
    ]
    r = upload(as_user("fs_clerk"), xlsx(rows))
    assert r.status_code == 422, r.text
    errors = errors_of(r)
    assert (3, "标题", "必填项，不能为空。") in errors
    assert (4, "日期", "日期不存在：“2012-02-30”") in errors or any(e[0] == 4 and e[1] == "日期" for e in errors)
    assert any(e[0] == 5 and e[1] == "日期" and "明天" in e[2] for e in errors)
    assert (6, "日期", "日期不能晚于今天。") in errors
    assert (7, "单位", "没有代码或全称为“火星市”的单位。") in errors
    assert (8, "单位", "没有代码为 999999 的单位。") in errors
    assert (9, "标题", f"最多 200 个字符（本格有 {len(rows[7][0])} 个）。") in errors
    assert any(e[0] == 10 and e[1] == "单位" and "不在您的管辖范围内" in e[2] for e in errors)
    assert {e[0] for e in errors} == set(range(3, 11))
    assert r.json()["result"]["error_rows"] == 8
    assert r.json()["message"].startswith("第 3 行")
    assert notes(app, t) == {}


def test_cells_of_every_kind_are_read_or_refused(app):
    with app.test_request_context():
        enum = Column("kind", "类别", kind="enum", choices={"social": "社会团体", "private": "民办非企业单位"})
        assert parse_cell(enum, "社会团体") == "social" and parse_cell(enum, " 民办非企业单位 ") == "private"
        assert parse_cell(enum, "social") == "social" and parse_cell(enum, None) is None
        with pytest.raises(CellError, match="“基金会”不是可选的值，可选：社会团体、民办非企业单位"):
            parse_cell(enum, "基金会")
        yes_no = Column("pilot", "试点", kind="bool")
        assert [parse_cell(yes_no, v) for v in ("是", "否", "Y", "n", 1, 0, True, "")] == [True, False, True, False, True, False, True, None]
        with pytest.raises(CellError, match="请填写“是”或“否”，而不是“也许”"):
            parse_cell(yes_no, "也许")
        whole = Column("members", "人数", kind="int")
        assert [parse_cell(whole, v) for v in (60, 60.0, "1,200", "６０")] == [60, 60, 1200, 60]
        for bad in ("1.5", 1.5, "六十", True):
            with pytest.raises(CellError, match="不是整数"):
                parse_cell(whole, bad)
        money = Column("amount", "金额", kind="decimal")
        from decimal import Decimal

        assert parse_cell(money, "1,234.5") == Decimal("1234.50") and parse_cell(money, "12万") == Decimal("120000.00")
        assert parse_cell(money, 0.1) == Decimal("0.10")
        for bad in ("1.234", "-5", "十元"):
            with pytest.raises(CellError):
                parse_cell(money, bad)
        day = Column("on", "日期", kind="date")
        for v in ("2012-03-31", "2012/3/31", "2012年3月31日", 40999, "40999", datetime.datetime(2012, 3, 31, 0, 0)):
            assert parse_cell(day, v) == datetime.date(2012, 3, 31), v
        from core.values.validators import credit_code

        code = Column("credit_code", "统一社会信用代码", parse=credit_code)
        with pytest.raises(CellError, match="18"):
            parse_cell(code, "1234")
        small = Column("members", "人数", kind="int")
        with pytest.raises(CellError, match="数值超出范围"):
            parse_cell(small, 2**40, max_int=2**31 - 1)
        # a text cell that was neutralised on export reads back as it was
        text = Column("title", "标题")
        assert parse_cell(text, "'=1+2") == "=1+2" and parse_cell(text, "'it's") == "'it's"
        assert parse_cell(text, 13812345678.0) == "13812345678"


def test_units_by_code_full_name_or_both_and_ambiguous_names(app):
    from core.excel.engine import resolve_units
    from core.tenancy.units import Unit

    with app.app_context():
        s = app.appbuilder.session
        dup = s.execute(
            sa.select(Unit.name).group_by(Unit.name).having(sa.func.count() > 1).order_by(Unit.name).limit(1)
        ).scalar()
        got = resolve_units(s, {"440606", "顺德区", "顺德区（440606）", "顺德区(440606)", dup}, "440000/440600/")
        assert all(got[k].code == "440606" for k in ("440606", "顺德区", "顺德区（440606）", "顺德区(440606)"))
        if isinstance(got[dup], str):
            assert "请改填单位代码" in got[dup]
        else:  # several units share the name, but only one of them is in the scope
            assert got[dup].path.startswith("440000/440600/")
        s.rollback()


# -- encodings ----------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_in_the_encodings_excel_writes(app, as_user, encoding):
    t = tag()
    rows = [(f"{t}-顺德青年志愿者", "龙舟、粤剧", "2012年3月31日", "顺德区"),
            (f"{t}-南海", "", "2012/3/31", "440605"),
            (f"{t}-佛山", "", "40999", "佛山市")]
    r = upload(as_user("fs_clerk"), csv_bytes(rows, encoding), "名单.csv", dry_run=0)
    assert r.status_code == 200, r.text
    assert notes(app, t) == {
        f"{t}-顺德青年志愿者": ("龙舟、粤剧", datetime.date(2012, 3, 31), "440606"),
        f"{t}-南海": (None, datetime.date(2012, 3, 31), "440605"),
        f"{t}-佛山": (None, datetime.date(2012, 3, 31), "440600"),
    }
    delete_notes(app, t)


# -- all or nothing ---------------------------------------------------------------------
def test_one_bad_row_among_a_thousand_writes_nothing(app, as_user):
    t = tag()
    rows = [(f"{t}-{i:04d}", "", "2012-03-01", "440606") for i in range(1000)]
    rows[499] = (f"{t}-0499", "", "2012-13-01", "440606")  # spreadsheet row 501
    clerk = as_user("fs_clerk")
    r = upload(clerk, xlsx(rows), dry_run=0)
    assert r.status_code == 422
    result = r.json()["result"]
    assert result["rows"] == 1000 and result["error_rows"] == 1 and not result["written"]
    ((row, column, message),) = errors_of(r)
    assert (row, column) == (501, "日期") and "2012-13-01" in message
    assert notes(app, t) == {}


def test_a_crash_in_the_middle_of_the_commit_leaves_the_database_as_before(app):
    """New rows are inserted in batches; the progress hook raises after the
    second batch (a real failure: the first 200 rows are already in the
    transaction) — nothing of the import remains, updated records included."""
    t = tag()
    imp = importable(app)
    seed = xlsx([(f"{t}-old{i}", "旧", "2012-01-01", "440606") for i in range(3)])
    with app.test_request_context():
        assert run_import(app.appbuilder.session, imp, "seed.xlsx", seed, commit=True).written
    before = notes(app, t)
    rows = [(f"{t}-old{i}", "新", "2012-01-01", "440606") for i in range(3)]
    rows += [(f"{t}-new{i:03d}", "", "2012-01-01", "440606") for i in range(500)]
    calls = []

    def crash(stage, done, total):
        if stage == "write":
            calls.append(done)
            if done >= 200:
                raise ConnectionError("the server went away")

    with app.test_request_context():
        with pytest.raises(ConnectionError):
            run_import(app.appbuilder.session, imp, "big.xlsx", xlsx(rows), commit=True, progress=crash, batch_size=100)
    assert calls == [0, 100, 200]
    assert notes(app, t) == before  # bodies still 旧, no new rows
    # and the same file goes in once nothing interferes
    with app.test_request_context():
        report = run_import(app.appbuilder.session, imp, "big.xlsx", xlsx(rows), commit=True, batch_size=100)
    assert report.written and (report.new, report.updated) == (500, 3)
    assert len(notes(app, t)) == 503 and notes(app, t)[f"{t}-old0"][0] == "新"
    delete_notes(app, t)


def test_a_database_error_during_the_commit_is_rolled_back(app):
    """A real constraint failure half way (a note whose unit vanished after
    the check): the first batch was written in the transaction, then the
    database refuses the second; nothing remains."""
    from core.tenancy.units import Unit

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite: the transaction holds the write lock, nobody can delete meanwhile")
    t = tag()
    imp = importable(app)
    code = "T" + uuid.uuid4().hex[:6]
    with db(app) as s:
        parent = s.execute(sa.select(Unit).where(Unit.code == "440606")).scalar_one()
        s.add(Unit(code=code, name=f"临时{code}", level="direct", tier="direct", parent_id=parent.id,
                   path=parent.path + code + "/", depth=parent.depth + 1))
        s.commit()
    rows = [(f"{t}-{i:03d}", "", "2012-01-01", "440606" if i < 150 else code) for i in range(300)]

    def remove_the_unit(stage, done, total):
        if stage == "write" and done == 100:
            with db(app) as s:  # another connection deletes it meanwhile
                s.execute(sa.delete(Unit).where(Unit.code == code))
                s.commit()

    with app.test_request_context():
        report = run_import(app.appbuilder.session, imp, "x.xlsx", xlsx(rows), commit=True,
                            progress=remove_the_unit, batch_size=100)
    assert not report.written and "导入失败，未写入任何记录" in report.errors[0].message
    assert notes(app, t) == {}


# -- scoping and permissions ------------------------------------------------------------------
def test_a_city_clerk_cannot_import_rows_for_another_city(app, as_user):
    t = tag()
    rows = [(f"{t}-fs", "", "2012-03-01", "440600"), (f"{t}-sz", "", "2012-03-01", "440300"),
            (f"{t}-sz2", "", "2012-03-01", "深圳市")]
    r = upload(as_user("fs_clerk"), xlsx(rows), dry_run=0)
    assert r.status_code == 422
    assert [(e[0], e[1]) for e in errors_of(r)] == [(3, "单位"), (4, "单位")]
    assert "深圳市（440300） 不在您的管辖范围内" in errors_of(r)[0][2]
    # a county clerk may not write for the city above
    r = upload(as_user("sd_clerk"), xlsx([(f"{t}-fs", "", "2012-03-01", "440600")]), dry_run=0)
    assert r.status_code == 422 and "不在您的管辖范围内" in errors_of(r)[0][2]
    assert notes(app, t) == {}


def test_inspectors_may_export_but_not_import(as_user):
    inspector = as_user("fs_inspector")
    assert inspector.get(f"{NOTES}/template").status_code == 200
    assert inspector.get("/api/v1/export/memonote").status_code == 200
    r = upload(inspector, xlsx([("x", "", "2012-03-01", "440600")]))
    assert r.status_code == 403
    assert inspector.get("/excel/memonote/import").status_code == 403
    assert inspector.get("/excel/").status_code == 200


def test_anonymous_users_get_nothing(http):
    assert http.get(f"{NOTES}/template").status_code == 401
    assert http.get("/api/v1/export/memonote").status_code == 401
    r = http.get("/excel/memonote/export", allow_redirects=False)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_unknown_list_is_404(as_user):
    r = as_user("fs_clerk").get("/api/v1/import/nosuchlist/template")
    assert r.status_code == 404 and r.json()["message"] == "没有这个名单。"


# -- duplicates ---------------------------------------------------------------------------
def test_duplicates_are_updated_or_skipped_as_the_user_chooses(app, as_user):
    t = tag()
    clerk = as_user("sd_clerk")
    assert upload(clerk, xlsx([(f"{t}-a", "旧", "2012-03-01", "440606")]), dry_run=0).status_code == 200
    rows = [(f"{t}-a", "新", "2012-03-01", "440606"),  # exists
            (f"{t}-b", "一", "2012-03-01", "440606"),
            (f"{t}-b", "二", "2012-03-01", "440606"),  # same as row 3
            (f"{t}-a", "", "2012-03-01", "440600")]  # another unit: another note
    r = upload(clerk, xlsx(rows), on_duplicate="skip", dry_run=0)
    assert r.status_code == 422  # sd_clerk may not write for 佛山市
    rows.pop()
    r = upload(clerk, xlsx(rows), on_duplicate="skip", dry_run=0)
    result = r.json()["result"]
    assert (result["new"], result["updated"], result["skipped"]) == (1, 0, 2), result
    assert any(n["row"] == 4 and "与第 3 行的单位、标题相同：已跳过。" == n["message"] for n in result["notes"])
    assert notes(app, t) == {f"{t}-a": ("旧", datetime.date(2012, 3, 1), "440606"),
                             f"{t}-b": ("一", datetime.date(2012, 3, 1), "440606")}
    r = upload(clerk, xlsx(rows), on_duplicate="update", dry_run=0)
    result = r.json()["result"]
    assert (result["new"], result["updated"], result["skipped"]) == (0, 2, 0), result
    assert notes(app, t) == {f"{t}-a": ("新", datetime.date(2012, 3, 1), "440606"),
                             f"{t}-b": ("二", datetime.date(2012, 3, 1), "440606")}
    delete_notes(app, t)


def test_the_template_example_row_is_ignored(app, as_user):
    clerk = as_user("fs_clerk")
    template = clerk.get(f"{NOTES}/template").content
    r = upload(clerk, template)
    assert r.status_code == 422  # no data rows at all is not an import
    wb = workbook(template)
    t = tag()
    wb.worksheets[0].append([f"{t}-real", "", datetime.date(2012, 5, 4), "佛山市（440600）"])
    buf = io.BytesIO()
    wb.save(buf)
    r = upload(clerk, buf.getvalue(), dry_run=0)
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    assert result["new"] == 1 and result["notes"][0] == {"row": 2, "column": "", "message": "这是模板中的示例行，已忽略。"}
    assert list(notes(app, t)) == [f"{t}-real"]
    delete_notes(app, t)


# -- formulas ---------------------------------------------------------------------------------
def test_exported_cells_cannot_run_as_formulas_and_read_back_unchanged(app, as_user):
    t = tag()
    clerk = as_user("fs_clerk")
    dangerous = ['=HYPERLINK("http://evil.example","点我")', "+1+2", "-3", "@SUM(A1)", "=1+2"]
    # titles must start with the tag to be found again: put the payload in the body
    rows = [(f"{t}-{i}", body, "2012-03-01", "440600") for i, body in enumerate(dangerous)]
    assert upload(clerk, csv_bytes(rows), "x.csv", dry_run=0).status_code == 200
    r = clerk.get("/excel/memonote/export", params={"_flt_0_title": t})
    wb = workbook(r.content)
    ws = wb.worksheets[0]
    bodies = {}
    for row in ws.iter_rows(min_row=2):
        assert all(c.data_type != "f" for c in row)
        bodies[row[0].value] = row[1].value
    assert bodies[f"{t}-0"] == "'" + dangerous[0] and bodies[f"{t}-2"] == "'-3" and bodies[f"{t}-3"] == "'@SUM(A1)"
    assert neutralise("正常") == "正常" and neutralise("'=x") == "'=x"
    assert neutralise("\tx") == "'\tx" and neutralise("\r=1") == "'\r=1"
    r = upload(clerk, r.content, "export.xlsx", dry_run=0)
    assert r.json()["result"]["unchanged"] == len(dangerous)
    assert {k: v[0] for k, v in notes(app, t).items()} == {f"{t}-{i}": b for i, b in enumerate(dangerous)}
    delete_notes(app, t)


# -- limits -------------------------------------------------------------------------------------
def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_files_that_are_not_what_their_extension_says_are_refused(as_user):
    clerk = as_user("fs_clerk")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    docx = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    cases = [
        (png, "a.xlsx", "该文件不是真正的 .xlsx 工作簿（内容与扩展名不符）。"),
        (docx, "a.xlsx", "该文件不是真正的 .xlsx 工作簿（内容与扩展名不符）。"),
        (xlsx([]), "a.csv", "该文件是 Excel 工作簿而不是 CSV 文件：请把扩展名改为 .xlsx，或另存为 CSV。"),
        (png, "a.csv", "该文件不是文本格式的 CSV 文件（含有二进制内容）。"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "a.xls", "无法读取旧版 .xls 文件：请用 Excel 或 WPS 打开后另存为 .xlsx。"),
        (b"title\n", "a.txt", "只能导入 .xlsx 或 .csv 文件。"),
        (b"", "a.csv", "文件是空的。"),
        (b"\x81\x30\xff\xfe\xfd", "a.csv", "无法识别 CSV 文件的编码：请保存为 UTF-8 或 GBK 编码的 CSV。"),
    ]
    for data, name, message in cases:
        r = upload(clerk, data, name)
        assert r.status_code == 422, (name, r.text)
        assert r.json()["message"] == message, (name, r.json()["message"])


def test_archive_bombs_are_refused_before_opening(app, as_user):
    clerk = as_user("fs_clerk")
    base = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}
    bomb = zip_bytes({**base, "xl/worksheets/sheet1.xml": b" " * (8 * 1024 * 1024)})
    assert len(bomb) < 100_000
    r = upload(clerk, bomb)
    assert r.status_code == 422 and "压缩比达" in r.json()["message"] and "可能是压缩炸弹" in r.json()["message"]
    import random

    rnd = random.Random(1)
    noise = "".join(rnd.choice("abcdefghij<>/=\" ") for _ in range(300_000)).encode()
    big = zip_bytes({**base, "xl/sharedStrings.xml": noise})
    with config(app, QQH_IMPORT_MAX_UNZIPPED_BYTES=200_000):
        r = upload(clerk, big)
    assert r.status_code == 422 and "解压后达" in r.json()["message"] and "超过允许的 195 KB" in r.json()["message"]


def test_size_and_row_limits(app, as_user):
    clerk = as_user("fs_clerk")
    rows = [(f"x{i}", "正文" * 20, "2012-03-01", "440600") for i in range(30)]
    with config(app, QQH_IMPORT_MAX_BYTES=1024):
        r = upload(clerk, csv_bytes(rows), "big.csv")
    assert r.status_code == 422 and r.json()["message"].startswith("文件太大") and "最多只能上传 1 KB" in r.json()["message"]
    with config(app, QQH_IMPORT_MAX_ROWS=10):
        r = upload(clerk, csv_bytes(rows[:11]), "many.csv")
        assert r.status_code == 422 and r.json()["message"] == "文件的数据超过 10 行，请拆分成多个文件后分别导入。"
        assert upload(clerk, csv_bytes([(f"x{i}", "", "2099-01-01", "440600") for i in range(10)]), "ten.csv").json()[
            "result"]["rows"] == 10
    with config(app, MAX_CONTENT_LENGTH=2048):
        r = upload(clerk, csv_bytes(rows * 3), "huge.csv")
        assert r.status_code == 413 and r.json()["message"].startswith("上传的文件太大")


def test_wrong_headers_are_explained(as_user):
    clerk = as_user("fs_clerk")
    r = upload(clerk, xlsx([("a", "b")], headers=["名字", "地址"]))
    assert r.status_code == 422 and r.json()["message"].startswith("表头中没有任何应有的列（标题、正文、日期、单位）")
    r = upload(clerk, xlsx([("a", "2012-01-01")], headers=["标题", "日期", "备注"]))
    assert r.json()["message"] == "缺少必填列：单位"
    assert r.json()["result"]["notes"][0]["message"] == "“备注”列不属于该名单，已忽略。"


# -- pages --------------------------------------------------------------------------------------
def test_pages_upload_check_report_error_file_and_confirm(app, as_user):
    t = tag()
    clerk = as_user("fs_clerk")
    page = clerk.get("/excel/")
    assert page.status_code == 200 and "记事" in page.text and "/excel/memonote/import" in page.text
    form = clerk.get("/excel/memonote/import")
    assert form.status_code == 200 and "检查文件（试导入）" in form.text
    rows = [(f"{t}-1", "", "2012-03-01", "440600"), (f"{t}-2", "", "2012-02-30", "440600")]
    r = clerk.post("/excel/memonote/import", data={"on_duplicate": "update"},
                   files={"file": ("名单.xlsx", xlsx(rows))})
    assert r.status_code == 302, r.text[:500]
    report_url = urlsplit(r.headers["Location"]).path
    token = report_url.rstrip("/").split("/")[-1]
    report = clerk.get(report_url)
    assert report.status_code == 200 and "发现 1 个问题，未写入任何数据" in report.text
    assert re.search(r"<td>3</td><td>日期</td><td>[^<]*2012-02-30", report.text)
    # the file back, with an error column
    r = clerk.get(f"/excel/memonote/import/{token}/errors")
    assert r.status_code == 200
    ws = workbook(r.content).worksheets[0]
    assert [c.value for c in ws[1]] == HEADERS + ["错误说明"]
    assert ws.cell(row=2, column=5).value is None and ws.cell(row=3, column=5).value.startswith("日期：")
    # another user cannot use the token
    r = as_user("sd_clerk").get(report_url, allow_redirects=False)
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/excel/memonote/import"
    # a confirmation of a file with errors writes nothing
    clerk.post(report_url)
    assert notes(app, t) == {}
    # corrected, checked and confirmed
    rows[1] = (f"{t}-2", "", "2012-02-28", "440600")
    r = clerk.post("/excel/memonote/import", data={"on_duplicate": "update"}, files={"file": ("名单.xlsx", xlsx(rows))})
    report_url = urlsplit(r.headers["Location"]).path
    report = clerk.get(report_url)
    assert "所有行都正确。尚未写入任何数据。" in report.text and notes(app, t) == {}
    r = clerk.post(report_url)
    assert r.status_code == 302 and "/memonoteview/list" in r.headers["Location"]
    assert sorted(notes(app, t)) == [f"{t}-1", f"{t}-2"]
    r = clerk.get(report_url)  # the token is gone
    assert r.url.endswith("/excel/memonote/import") and "上传的文件已过期或不存在，请重新上传。" in r.text
    delete_notes(app, t)


def test_the_confirmation_checks_again(app, as_user):
    """Between the check and the confirmation the unit of the rows is
    deleted: the confirmation finds it out and writes nothing."""
    from core.tenancy.units import Unit

    t = tag()
    code = "T" + uuid.uuid4().hex[:6]
    with db(app) as s:
        parent = s.execute(sa.select(Unit).where(Unit.code == "440606")).scalar_one()
        s.add(Unit(code=code, name=f"临时{code}", level="direct", tier="direct", parent_id=parent.id,
                   path=parent.path + code + "/", depth=parent.depth + 1))
        s.commit()
    clerk = as_user("sd_clerk")
    r = clerk.post("/excel/memonote/import", data={"on_duplicate": "update"},
                   files={"file": ("x.xlsx", xlsx([(f"{t}-1", "", "2012-03-01", code)]))})
    report_url = urlsplit(r.headers["Location"]).path
    assert "所有行都正确" in clerk.get(report_url).text
    with db(app) as s:
        s.execute(sa.delete(Unit).where(Unit.code == code))
        s.commit()
    r = clerk.post(report_url)
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == report_url
    page = clerk.get(report_url).text
    assert "检查之后数据发生了变化" in page and f"没有代码或全称为“{code}”的单位" in page
    assert notes(app, t) == {}


def test_uploads_wait_in_the_instance_folder_for_their_owner_until_they_expire(tmp_path):
    import os
    import time

    from core.excel.uploads import UploadStore

    store = UploadStore(str(tmp_path / "imports"), max_age=60)
    token = store.save(b"data", {"name": "memonote", "user_id": 7, "filename": "a.xlsx"})
    assert store.load(token, 7, "memonote")[0] == b"data"
    assert store.load(token, 8, "memonote") is None and store.load(token, 7, "youthorg") is None
    assert store.load("../../secret_key", 7, "memonote") is None
    meta = store.load(token, 7, "memonote")[1]
    store.save_meta(token, dict(meta, created=time.time() - 120))
    assert store.load(token, 7, "memonote") is None  # expired, and removed
    assert os.listdir(tmp_path / "imports") == []
    forgotten = store.save(b"x", {"name": "memonote", "user_id": 7})
    old = time.time() - 120
    for name in os.listdir(tmp_path / "imports"):
        os.utime(tmp_path / "imports" / name, (old, old))
    store.save(b"other", {"name": "memonote", "user_id": 7})  # every upload sweeps the old files
    assert not any(n.startswith(forgotten) for n in os.listdir(tmp_path / "imports"))
    assert len(os.listdir(tmp_path / "imports")) == 2


def test_bad_declarations_fail_at_start_up():
    from core.excel.declarations import check_declaration
    from core.plugins import PluginError
    from core.tenancy.units import Unit
    from tests.memo_plugin.models import MemoNote

    unit = Column("unit", "单位", kind="unit")
    bad = [
        (Importable("x", Unit, "x", (Column("code", "代码"),), ("code",)), "not unit-owned"),
        (Importable("x", MemoNote, "x", (Column("nope", "无"), unit), ("nope",)), "has no column 'nope'"),
        (Importable("x", MemoNote, "x", (Column("title", "t", kind="enum"), unit), ("title",)), "no choices"),
        (Importable("x", MemoNote, "x", (Column("title", "t", kind="money"), unit), ("title",)), "unknown kind"),
        (Importable("x", MemoNote, "x", (Column("title", "t"), unit), ("body",)), "natural key"),
        (Importable("Bad Name", MemoNote, "x", (Column("title", "t"), unit), ("title",)), "lower-case"),
    ]
    for imp, words in bad:
        with pytest.raises(PluginError, match=words):
            check_declaration("p", imp)


def test_upload_page_shows_file_problems(as_user):
    r = as_user("fs_clerk").post("/excel/memonote/import", data={"on_duplicate": "update"},
                                 files={"file": ("a.pdf", b"%PDF-1.4")})
    assert r.status_code == 200 and "只能导入 .xlsx 或 .csv 文件。" in r.text


def test_list_page_has_an_export_button_with_the_current_filter(as_user):
    from core.web.scoped_views import ScopedModelView

    assert ScopedModelView.list_template == "qqh/import_list.html", (
        "core/web/scoped_views.py: ScopedModelView needs list_template = \"qqh/import_list.html\""
    )
    clerk = as_user("fs_clerk")
    page = clerk.get("/memonoteview/list/", params={"_flt_0_title": "abc"})
    assert page.status_code == 200
    assert "导出Excel" in page.text and "/excel/memonote/export?_flt_0_title=abc" in page.text
    assert "/excel/memonote/import" in page.text
    page = as_user("fs_inspector").get("/memonoteview/list/")
    assert "导出Excel" in page.text and "/excel/memonote/import" not in page.text


def test_openapi_document_lists_the_import_and_export_endpoints(app):
    """The document FAB serves at /api/v1/_openapi (when FAB_API_SWAGGER_UI
    is on), built the way FAB builds it."""
    from flask_appbuilder.api import BaseApi
    from flask_appbuilder.api.manager import OpenApi

    with app.test_request_context():
        spec = OpenApi._create_api_spec("v1")
        for view in app.appbuilder.baseviews:
            if isinstance(view, BaseApi) and view.version == "v1":
                view.add_api_spec(spec)
        paths = spec.to_dict()["paths"]
    for path, method in [("/import/", "get"), ("/import/{name}/template", "get"), ("/import/{name}", "post"),
                         ("/export/{name}", "get")]:
        assert method in paths["/api/v1" + path], path
        assert paths["/api/v1" + path][method]["tags"] == ["Import and export"]
    post = paths["/api/v1/import/{name}"]["post"]
    assert {"name", "dry_run", "on_duplicate"} <= {p["name"] for p in post["parameters"]}
    assert "multipart/form-data" in post["requestBody"]["content"]


# -- the qqh command -------------------------------------------------------------------------------
def test_qqh_import_and_export(app, tmp_path):
    from core.cli import cli

    t = tag()
    path = tmp_path / "notes.xlsx"
    path.write_bytes(xlsx([(f"{t}-{i}", "", "2012-03-01", "440606") for i in range(5)]))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, list(args), obj={"app": app}, catch_exceptions=False)

    r = run("import", "memonote", str(path), "--dry-run", "--as", "sd_clerk")
    assert r.exit_code == 0, r.output
    assert "共 5 行：新增 5" in r.output and "试导入：未写入任何数据。" in r.output
    assert notes(app, t) == {}
    r = run("import", "memonote", str(path), "--as", "sz_clerk")
    assert r.exit_code == 1 and "不在您的管辖范围内" in r.output
    r = run("import", "memonote", str(path), "--as", "fs_inspector")
    assert r.exit_code == 1
    r = run("import", "memonote", str(path), "--as", "sd_clerk")
    assert r.exit_code == 0 and "已写入。" in r.output
    assert len(notes(app, t)) == 5
    out = tmp_path / "out.xlsx"
    r = run("export", "memonote", "--out", str(out), "--unit", "440606", "--as", "fs_clerk")
    assert r.exit_code == 0, r.output
    titles = [row[0] for row in workbook(out.read_bytes()).worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert sorted(x for x in titles if x.startswith(t)) == [f"{t}-{i}" for i in range(5)]
    r = run("export", "memonote", "--out", str(out), "--unit", "440300", "--as", "fs_clerk")
    assert r.exit_code == 1
    r = run("import", "nosuch", str(path))
    assert r.exit_code == 1
    delete_notes(app, t)
