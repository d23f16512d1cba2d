"""Low-code (issue 18): custom fields on a plugin's list through the pages,
the REST API, import and export; KPI checks as data; definitions to and from
a JSON file; the bad input of the issue. Real databases, real HTTP.

Fields are added to the memo plugin's notes and removed again at the end
(removing hides them), so the other tests see the list as declared."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import re
import uuid

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from core.testing import statements_of

LIST = "memo_note"
FIELDS = "/unitadmincustomfieldview"


@contextlib.contextmanager
def db(app):
    with app.app_context():
        with sa.orm.Session(app.extensions["qqh_db"].engine) as s:
            yield s


def stored(app, note_id):
    from tests.memo_plugin.models import MemoNote

    with db(app) as s:
        return s.get(MemoNote, note_id).qqh_fields or {}


def add_field(client, **kw):
    data = {"list_name": LIST, "position": "0", **kw}
    for flag in ("required", "in_list", "removed"):
        if data.get(flag) is False:
            data.pop(flag)
    return client.post(f"{FIELDS}/add", data=data)


def field_id(app, code):
    from core.lowcode.models import CustomField

    with db(app) as s:
        return s.execute(sa.select(CustomField.id).where(CustomField.list_name == LIST, CustomField.code == code)).scalar()


def xlsx(headers, rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def unit_id(app, code):
    from core.tenancy.units import Unit

    with db(app) as s:
        return s.execute(sa.select(Unit.id).where(Unit.code == code)).scalar()


@pytest.fixture
def clean_definitions(app):
    yield
    from core.lowcode.models import CustomField, KpiRule, LowcodeState

    with db(app) as s:  # hidden, data kept: the other tests see the lists as declared
        s.execute(sa.update(CustomField).values(removed=True))
        s.execute(sa.update(KpiRule).values(removed=True))
        from core.lowcode.lists import CustomList

        s.execute(sa.update(CustomList).values(removed=True))
        s.execute(sa.update(LowcodeState).values(version=LowcodeState.version + 1, unit_admins_may=False))
        s.commit()


def test_custom_fields_pages_api_import_export(app, as_user, clean_definitions):
    t = uuid.uuid4().hex[:6]
    admin = as_user("admin")
    clerk = as_user("fs_clerk")
    # bad definitions: Chinese message, nothing written
    r = add_field(admin, code="title", label="标题2", kind="text")
    assert r.status_code == 200 and "已是此台账的列" in r.text, r.text[-3000:]
    r = add_field(admin, code=f"k{t}", label="类别", kind="choice", options="")
    assert r.status_code == 200 and "至少需要一个选项" in r.text
    assert field_id(app, f"k{t}") is None
    specs = [
        dict(code=f"m{t}", label="是否有团员", kind="bool"),
        dict(code=f"k{t}", label="组织类别", kind="choice", options="1=社会组织\n2=志愿组织", required="y",
             help="选择一项", in_list="y"),
        dict(code=f"g{t}", label="标签", kind="multichoice", options="a=文化\nb=体育"),
        dict(code=f"n{t}", label="人数", kind="integer"),
        dict(code=f"b{t}", label="经费", kind="amount"),
        dict(code=f"d{t}", label="活动日期", kind="date"),
        dict(code=f"s{t}", label="负责人", kind="text"),
        dict(code=f"l{t}", label="详细说明", kind="longtext"),
        dict(code=f"u{t}", label="协办单位", kind="unit"),
    ]
    for spec in specs:
        r = add_field(admin, **spec)
        assert r.status_code == 302, r.text[-3000:]
    # at once, no restart: the add form carries them
    form = clerk.get("/memonoteview/add").text
    for spec in specs:
        assert f'name="cf_{spec["code"]}"' in form, spec
    assert "选择一项" in form
    shunde = unit_id(app, "440606")
    base = {"title": f"低代码{t}", "noted_on": "2012-03-05", "unit": str(unit_id(app, "440600"))}
    # a required field left empty, a value outside the options: refused, nothing written
    r = clerk.post("/memonoteview/add", data={**base, f"cf_k{t}": ""})
    assert r.status_code == 200
    r = clerk.post("/memonoteview/add", data={**base, f"cf_k{t}": "9"})
    assert r.status_code == 200
    from tests.memo_plugin.models import MemoNote

    with db(app) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(MemoNote).where(MemoNote.title == base["title"])).scalar() == 0
    r = clerk.post("/memonoteview/add", data={
        **base, f"cf_m{t}": "y", f"cf_k{t}": "2", f"cf_g{t}": ["a", "b"], f"cf_n{t}": "12", f"cf_b{t}": "1234.5",
        f"cf_d{t}": "2012-03-05", f"cf_s{t}": "张三", f"cf_l{t}": "很长的说明", f"cf_u{t}": str(shunde)})
    assert r.status_code == 302, r.text[-3000:]
    with db(app) as s:
        note_id = s.execute(sa.select(MemoNote.id).where(MemoNote.title == base["title"])).scalar()
    values = stored(app, note_id)
    assert values == {f"m{t}": True, f"k{t}": "2", f"g{t}": ["a", "b"], f"n{t}": 12, f"b{t}": "1234.50",
                      f"d{t}": "2012-03-05", f"s{t}": "张三", f"l{t}": "很长的说明", f"u{t}": shunde}
    # the record page shows them as users read them
    page = clerk.get(f"/memonoteview/show/{note_id}").text
    for text in ("是否有团员", "志愿组织", "文化、体育", "2012年3月5日", "1,234.50", "顺德区"):
        assert text in page, text
    # the list's search has a scoped picker for the unit field, showing the unit chosen; it filters
    listing = clerk.get("/memonoteview/list/", params={f"cf_u{t}": str(shunde)}).text
    control = re.search(rf'<select[^>]*class="[^"]*qqh-picker[^"]*"[^>]*name="cf_u{t}"[^>]*>.*?</select>', listing, re.S)
    assert control and 'data-endpoint="/api/v1/unit/picker"' in control.group(0), listing[-3000:]
    assert f'<option value="{shunde}" selected>顺德区' in control.group(0)
    assert base["title"] in listing
    other = clerk.get("/memonoteview/list/", params={f"cf_u{t}": str(unit_id(app, "440605"))}).text
    assert base["title"] not in other
    outside = clerk.get("/memonoteview/list/", params={f"cf_u{t}": str(unit_id(app, "440300"))}).text
    assert "深圳" not in re.search(rf'name="cf_u{t}".*?</select>', outside, re.S).group(0)  # not named outside the scope
    assert clerk.get("/memonoteview/list/", params={f"cf_u{t}": "9" * 20}).status_code == 200  # beyond any id
    # the edit form keeps them
    edit = clerk.get(f"/memonoteview/edit/{note_id}").text
    assert re.search(rf'name="cf_n{t}"[^>]*value="12"', edit) or re.search(rf'value="12"[^>]*name="cf_n{t}"', edit)
    # REST API: read, write, bad value (422 in Chinese, nothing written), another unit's record is not found
    api = f"/api/v1/lowcode/values/{LIST}/{note_id}"
    assert clerk.get(api).json()["result"][f"k{t}"] == "2"
    r = clerk.put(api, json={f"k{t}": "9"})
    assert r.status_code == 422 and "不是" in json.dumps(r.json(), ensure_ascii=False)
    r = clerk.put(api, json={f"n{t}": "x"})
    assert r.status_code == 422
    assert stored(app, note_id)[f"n{t}"] == 12
    r = clerk.put(api, json={f"n{t}": 13, f"s{t}": None})
    assert r.status_code == 200, r.text
    assert stored(app, note_id)[f"n{t}"] == 13 and f"s{t}" not in stored(app, note_id)
    # the audit log names the custom fields by their labels, their values as the record page shows them
    log = admin.get("/auditlog/list/", params={"_flt_0_model": "memo_note", "_flt_0_record_id": str(note_id)}).text
    log = re.sub(r"<[^>]+>", " ", log)
    assert "人数: 12 → 13" in log and "qqh_fields" not in log and f"n{t}" not in log, log[-3000:]
    assert as_user("sz_clerk").get(api).status_code == 404
    assert clerk.get(f"/api/v1/lowcode/fields/{LIST}").json()["result"][1]["options"] == [["1", "社会组织"], ["2", "志愿组织"]]
    # import template and import, validated like built-in columns
    tpl = openpyxl.load_workbook(io.BytesIO(clerk.get("/api/v1/import/memonote/template").content))
    headers = [c.value for c in tpl.worksheets[0][1]]
    assert "组织类别*" in headers and "活动日期" in headers
    head = ["标题", "日期", "单位", "组织类别", "标签", "人数", "经费", "是否有团员", "协办单位"]
    bad = xlsx(head, [(f"导入{t}", "2012-03-06", "440600", "火星组织", "文化", "3", "10", "是", "440606"),
                      (f"导入{t}", "2012-03-06", "440600", None, "文化", "3", "10", "是", "440606")])
    r = clerk.post("/api/v1/import/memonote", params={"dry_run": 0}, files={"file": ("a.xlsx", bad)})
    report = r.json()["result"]
    assert not report["written"], report
    # each row's error names its column by the field's label, like a built-in column's
    assert {e["row"] for e in report["errors"] if e["column"] == "组织类别"} == {2, 3}, report
    assert all(e["column"] for e in report["errors"]), report
    good = xlsx(head, [(f"导入{t}", "2012-03-06", "440600", "社会组织", "文化、体育", "3", "10", "是", "顺德区")])
    r = clerk.post("/api/v1/import/memonote", params={"dry_run": 0}, files={"file": ("a.xlsx", good)})
    assert r.json()["result"]["written"], r.text
    with db(app) as s:
        imported = s.execute(sa.select(MemoNote).where(MemoNote.title == f"导入{t}")).scalar_one().qqh_fields
    assert imported == {f"k{t}": "1", f"g{t}": ["a", "b"], f"n{t}": 3, f"b{t}": "10.00", f"m{t}": True, f"u{t}": shunde}
    # export: the custom columns, as read
    r = clerk.get("/api/v1/export/memonote", params={"unit": "440600"})
    assert r.status_code == 200, r.text[:500]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    rows = [[c.value for c in row] for row in wb.worksheets[0].iter_rows()]
    col = rows[0].index("组织类别")
    assert "志愿组织" in [r[col] for r in rows[1:]] and "社会组织" in [r[col] for r in rows[1:]]
    # search by a custom field on the list page (an optional column shows it), and the export follows it
    page = clerk.get("/memonoteview/list/", params={f"cf_k{t}": "2"}).text
    assert base["title"] in page and f"导入{t}" not in page and "志愿组织" in page
    assert f'name="cf_m{t}"' in page  # the search control
    page = clerk.get("/memonoteview/list/", params={f"cf_g{t}": "b", f"cf_m{t}": "1"}).text
    assert base["title"] in page and f"导入{t}" in page
    assert base["title"] not in clerk.get("/memonoteview/list/", params={f"cf_n{t}": "zz"}).text
    r = clerk.get("/excel/memonote/export", params={f"cf_k{t}": "1"})
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows()]
    assert [row[0] for row in rows[1:]] == [f"导入{t}"]
    # changing the type of a field that holds data: refused, nothing lost
    r = admin.post(f"{FIELDS}/edit/{field_id(app, f'n{t}')}", data={
        "list_name": LIST, "code": f"n{t}", "label": "人数", "kind": "text", "position": "0"})
    assert r.status_code == 200 and "类型不能更改" in r.text, r.text[-2000:]
    # removing hides the field and keeps its data; restoring brings it back
    r = admin.post(f"{FIELDS}/edit/{field_id(app, f'n{t}')}", data={
        "list_name": LIST, "code": f"n{t}", "label": "人数", "kind": "integer", "position": "0", "removed": "y"})
    assert r.status_code == 302, r.text[-2000:]
    assert f'name="cf_n{t}"' not in clerk.get("/memonoteview/add").text
    assert clerk.put(api, json={f"s{t}": "李四"}).status_code == 200
    assert stored(app, note_id)[f"n{t}"] == 13
    r = admin.post(f"{FIELDS}/edit/{field_id(app, f'n{t}')}", data={
        "list_name": LIST, "code": f"n{t}", "label": "人数", "kind": "integer", "position": "0"})
    assert r.status_code == 302
    assert "13" in clerk.get(f"/memonoteview/show/{note_id}").text

    # KPI checks as data: offered like a plugin's check, one statement per check
    r = admin.post("/adminkpiruleview/add", data={
        "key": f"lc_{t}", "label": "有团员的记事", "unit_of_measure": "条", "list_name": LIST, "measure": "count",
        "date_field": "noted_on", "conditions": json.dumps([{"field": f"cf_m{t}", "op": "bool", "value": True},
                                                           {"field": f"cf_k{t}", "op": "in", "value": ["1", "2"]}])})
    assert r.status_code == 302, r.text[-2000:]
    r = admin.post("/adminkpiruleview/add", data={
        "key": f"ls_{t}", "label": "经费合计", "unit_of_measure": "元", "list_name": LIST, "measure": "sum",
        "measure_field": f"cf_b{t}", "date_field": f"cf_d{t}", "conditions": ""})
    assert r.status_code == 302, r.text[-2000:]
    r = admin.post("/adminkpiruleview/add", data={
        "key": f"lx_{t}", "label": "坏", "list_name": LIST, "measure": "sum", "measure_field": f"cf_s{t}",
        "date_field": "title", "conditions": "[{"})
    assert r.status_code == 200 and "日期字段" in r.text
    with app.test_request_context():
        from core.kpi import engine as kpi
        session = app.appbuilder.session
        checks = kpi.registered_checks()
        assert f"lc_{t}" in checks and f"lx_{t}" not in checks
        day = datetime.date(2012, 12, 31)
        engine = app.extensions["qqh_db"].engine
        paths = kpi.unit_paths(session, None)
        with statements_of(engine) as statements:
            values = kpi.compute_values(session, 2012, {f"lc_{t}": [day], f"ls_{t}": [day]}, checks, None,
                                        {"440600", "440000"}, paths=paths)
        assert len(statements) == 1  # two checks on one table share one scan (kpi.engine._fused_scans), whatever the units
        assert values[(f"lc_{t}", day, "440600")] == 2
        assert float(values[(f"ls_{t}", day, "440000")]) == 1234.5
    assert "有团员的记事" in admin.get("/kpitargetview/add").text  # offered for targets like a plugin's check

    # definitions to a JSON file and back (page and CLI); every change audited
    exported = admin.get("/lowcode/export")
    data = json.loads(exported.content)
    assert {f["code"] for f in data["fields"]} >= {s["code"] for s in specs}
    assert any(r["key"] == f"lc_{t}" for r in data["kpi_checks"])
    for f in data["fields"]:
        if f["code"] == f"s{t}":
            f["label"] = "负责人姓名"
    r = admin.post("/lowcode/import", files={"file": ("d.json", json.dumps(data, ensure_ascii=False).encode())})
    assert r.status_code == 302
    assert "负责人姓名" in clerk.get("/memonoteview/add").text
    broken = json.loads(exported.content)
    broken["fields"][0]["kind"] = "nonsense"
    broken["fields"][1]["label"] = "不该写入"
    r = admin.post("/api/v1/lowcode/definitions", json=broken)
    assert r.status_code == 422 and "类型" in json.dumps(r.json(), ensure_ascii=False)
    assert "不该写入" not in json.dumps(admin.get("/api/v1/lowcode/definitions").json(), ensure_ascii=False)
    from core.cli import cli

    path = app.config["QQH_INSTANCE_PATH"] + f"/lc{t}.json"
    with app.app_context():
        runner = CliRunner()
        out = runner.invoke(cli, ["lowcode", "export", path], obj={"app": app})
        assert out.exit_code == 0, out.output
        out = runner.invoke(cli, ["lowcode", "import", path], obj={"app": app})
        assert out.exit_code == 0 and "更新" in out.output, out.output
    from core.audit.trail import AuditLog

    with db(app) as s:
        audited = s.execute(sa.select(AuditLog.action, AuditLog.label).where(AuditLog.model == "qqh_custom_field")).all()
    assert any(label and f"s{t}" in label for _a, label in audited)
    assert {"create", "update"} <= {a for a, _l in audited} or len(audited) >= len(specs)

    # a unit administrator: not before the province allows it, never the province's fields
    fs_admin = as_user("fs_admin")
    r = add_field(fs_admin, code=f"f{t}", label="佛山字段", kind="text")
    assert r.status_code == 200 and "尚未允许" in r.text
    assert admin.post("/lowcode/settings", data={"unit_admins_may": "1"}).status_code == 302
    r = add_field(fs_admin, code=f"f{t}", label="佛山字段", kind="text")
    assert r.status_code == 302, r.text[-2000:]
    r = fs_admin.post(f"{FIELDS}/edit/{field_id(app, f'm{t}')}", data={
        "list_name": LIST, "code": f"m{t}", "label": "改名", "kind": "bool", "position": "0"})
    assert r.status_code == 200 and "只有其所属单位" in r.text
    assert f'name="cf_f{t}"' in clerk.get("/memonoteview/add").text  # 佛山's field for 佛山's clerk
    assert f'name="cf_f{t}"' not in as_user("sz_clerk").get("/memonoteview/add").text


def test_browser_adds_a_field_and_sees_it_in_form_filter_and_export(browser, live, app, engine_name, clean_definitions):  # noqa: F811
    if engine_name != "sqlite":
        pytest.skip("the pages are the same on both engines; the engine's part is tested on both above")
    from core.testing.browser import login
    from tests.conftest import PASSWORD

    code = "w" + uuid.uuid4().hex[:6]
    page = browser.new_page()
    try:
        login(page, live.url, "admin", PASSWORD)
        page.goto(live.url + "/unitadmincustomfieldview/add")
        page.select_option("select[name=list_name]", LIST)
        page.fill("input[name=code]", code)
        page.fill("input[name=label]", "服务对象")
        page.select_option("select[name=kind]", "choice")
        page.fill("textarea[name=options]", "y=青少年\no=老年人")
        page.click("form:not(.qqh-logout) button[type=submit], form:not(.qqh-logout) input[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:1500]
        page.goto(live.url + "/memonoteview/add")
        assert "服务对象" in page.inner_text("form:not(.qqh-logout)")
        assert page.locator(f"select[name=cf_{code}] option").count() == 3
        page.goto(live.url + "/memonoteview/list/")
        control = page.locator(f".qqh-custom-filters select[name=cf_{code}]")
        control.select_option("o")
        page.click(".qqh-custom-filters button[type=submit]")
        page.wait_for_load_state()
        assert f"cf_{code}=o" in page.url
        with page.expect_download() as info:
            page.click("a.qqh-export")
        wb = openpyxl.load_workbook(io.BytesIO(open(info.value.path(), "rb").read()))
        assert "服务对象" in [c.value for c in wb.worksheets[0][1]]
    finally:
        page.close()


def test_the_definitions_version_kept_between_requests_follows_writes_from_elsewhere(app):
    """Every request asks which version of the definitions holds (so that every worker reloads changed
    fields, lists and checks): kept between requests while nothing is written anywhere, no query of its
    own; a change written from another connection — another gunicorn worker's — is seen by the next."""
    from core.lowcode import registry
    from core.lowcode.models import LowcodeState

    def version() -> tuple[int, list[str]]:
        with app.test_request_context("/"):
            with statements_of(app.appbuilder.session.get_bind()) as seen:
                v = registry.version()
            app.appbuilder.session.remove()
        return v, [s for s in seen if "qqh_lowcode_state" in s]

    before, _ = version()
    assert version() == (before, [])  # kept: the write counter only
    other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # not the app's engine: another process's
    try:
        with other.begin() as c:
            c.execute(sa.update(LowcodeState).values(version=LowcodeState.version + 1))
        after, read = version()
        assert after == before + 1 and read  # read again
        assert version() == (after, [])
    finally:
        other.dispose()
