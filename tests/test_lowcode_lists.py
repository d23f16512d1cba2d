"""Low-code (issue 18): the custom values in every list's own REST API and
its OpenAPI document (point 2 of the low-code task), and custom lists
(自定义台账: point 1). Real databases, real HTTP, bearer tokens."""

from __future__ import annotations

import json
import re
import uuid

import sqlalchemy as sa

from tests.test_lowcode import add_field, clean_definitions, db, stored, unit_id  # noqa: F401 (fixture)


def count_notes(app, title):
    from tests.memo_plugin.models import MemoNote

    with db(app) as s:
        return s.execute(sa.select(sa.func.count()).select_from(MemoNote).where(MemoNote.title == title)).scalar()


def test_plugin_rest_api_carries_custom_values(app, as_user, as_token, clean_definitions):
    t = uuid.uuid4().hex[:6]
    admin = as_user("admin")
    for spec in (dict(code=f"k{t}", label="组织类别", kind="choice", options="1=社会组织\n2=志愿组织", required="y"),
                 dict(code=f"d{t}", label="活动日期", kind="date"), dict(code=f"b{t}", label="经费", kind="amount"),
                 dict(code=f"g{t}", label="标签", kind="multichoice", options="a=文化\nb=体育")):
        assert add_field(admin, **spec).status_code == 302
    clerk = as_token("fs_clerk")
    api = "/api/v1/memonote/"
    base = {"title": f"接口{t}", "noted_on": "2012-03-05", "unit": unit_id(app, "440600")}
    # bad values: 422 in Chinese, nothing written
    r = clerk.post(api, json={**base, f"cf_k{t}": "9"})
    assert r.status_code == 422 and "不是" in json.dumps(r.json(), ensure_ascii=False) and f"cf_k{t}" in r.json()["message"], r.text
    r = clerk.post(api, json={**base, f"cf_k{t}": "1", f"cf_d{t}": "2012-13-40"})
    assert r.status_code == 422 and f"cf_d{t}" in r.json()["message"]
    r = clerk.post(api, json=base)  # a required field left out
    assert r.status_code == 422 and "组织类别" in json.dumps(r.json(), ensure_ascii=False), r.text
    r = clerk.post(api, json={**base, f"cf_k{t}": "1", "cf_nosuch": 1})
    assert r.status_code == 422 and "cf_nosuch" in r.json()["message"]
    assert count_notes(app, base["title"]) == 0
    # written and read back
    r = clerk.post(api, json={**base, f"cf_k{t}": "2", f"cf_d{t}": "2012-03-05", f"cf_b{t}": 12.5, f"cf_g{t}": ["a", "b"]})
    assert r.status_code == 201, r.text
    pk = r.json()["id"]
    assert r.json()["result"][f"cf_k{t}"] == "2"
    want = {f"k{t}": "2", f"d{t}": "2012-03-05", f"b{t}": "12.50", f"g{t}": ["a", "b"]}
    assert stored(app, pk) == want
    got = clerk.get(f"{api}{pk}").json()["result"]
    assert {k: got[f"cf_{k}"] for k in want} == want
    rows = clerk.get(api, params={f"cf_k{t}": "2"}).json()
    assert rows["ids"] == [pk] and rows["result"][0][f"cf_b{t}"] == "12.50"
    # PUT changes only what it sends (null empties); a bad value writes nothing
    r = clerk.put(f"{api}{pk}", json={f"cf_b{t}": None, f"cf_k{t}": "1"})
    assert r.status_code == 200 and r.json()["result"][f"cf_k{t}"] == "1", r.text
    assert stored(app, pk) == {f"k{t}": "1", f"d{t}": "2012-03-05", f"g{t}": ["a", "b"]}
    r = clerk.put(f"{api}{pk}", json={"title": "不该写入", f"cf_g{t}": ["z"]})
    assert r.status_code == 422
    assert count_notes(app, "不该写入") == 0 and stored(app, pk)[f"g{t}"] == ["a", "b"]
    assert as_token("sz_clerk").get(f"{api}{pk}").status_code == 404
    # the OpenAPI document, per request: the fields of now
    spec = clerk.get("/api/v1/_openapi").json()["components"]["schemas"]
    post = spec["MemoNoteApi.post"]
    assert post["properties"][f"cf_k{t}"]["enum"] == ["1", "2"] and f"cf_k{t}" in post["required"]
    assert spec["MemoNoteApi.get"]["properties"][f"cf_d{t}"]["format"] == "date"
    assert spec["MemoNoteApi.put"]["properties"][f"cf_g{t}"]["type"] == "array"


def test_custom_list_pages_api_import_export_kpi(app, as_user, as_token, clean_definitions):
    import io

    import openpyxl

    from tests.test_lowcode import xlsx

    t = uuid.uuid4().hex[:6]
    code = f"vol{t}"
    admin = as_user("admin")
    lists = "/admincustomlistview"
    # bad definitions: a code that is a table or another list's, an unknown unit — nothing written
    r = admin.post(f"{lists}/add", data={"code": "memo_note", "name": "冲突", "position": "0"})
    assert r.status_code == 200 and "已被" in r.text, r.text[-2000:]
    r = admin.post(f"{lists}/add", data={"code": code, "name": "志愿活动", "units": "999999", "position": "0"})
    assert r.status_code == 200 and "999999" in r.text
    r = admin.post(f"{lists}/add", data={"code": code, "name": "志愿活动台账", "title_label": "活动名称",
                                          "units": "440600", "position": "0"})
    assert r.status_code == 302, r.text[-2000:]
    r = admin.post(f"{lists}/add", data={"code": code, "name": "重复", "position": "0"})
    assert r.status_code == 200 and "已经存在" in r.text
    for spec in (dict(code="kind", label="活动类别", kind="choice", options="1=助老\n2=环保", required="y"),
                 dict(code="held_on", label="活动日期", kind="date"), dict(code="cost", label="经费", kind="amount")):
        assert add_field(admin, list_name=code, **spec).status_code == 302
    # 佛山's clerk: in the menu, its pages, the record's fields; a value outside the options writes nothing
    fs = as_user("fs_clerk")
    home = fs.get(f"/customlist/{code}/list/").text
    assert "志愿活动台账" in home and "自定义台账" in home
    form = fs.get(f"/customlist/{code}/add").text
    assert "活动名称" in form and 'name="cf_kind"' in form
    foshan, shenzhen = unit_id(app, "440600"), unit_id(app, "440300")
    r = fs.post(f"/customlist/{code}/add", data={"title": f"敬老{t}", "unit": str(foshan), "cf_kind": "9"})
    assert r.status_code == 200
    r = fs.post(f"/customlist/{code}/add", data={"title": f"敬老{t}", "unit": str(foshan), "cf_kind": "1",
                                                  "cf_held_on": "2012-03-05", "cf_cost": "300"})
    assert r.status_code == 302, r.text[-2000:]
    page = fs.get(f"/customlist/{code}/list/").text
    assert f"敬老{t}" in page and "助老" in page
    shown = re.search(rf'href="/customlist/{code}/show/(\d+)"', page)
    assert shown, page[-3000:]
    record = fs.get(f"/customlist/{code}/show/{shown.group(1)}").text
    assert "2012年3月5日" in record and "300.00" in record and "活动名称" in record
    assert f"敬老{t}" in fs.get(f"/customlist/{code}/edit/{shown.group(1)}").text
    # 深圳 does not use it: not in its menu, its pages and API are not found
    sz = as_user("sz_clerk")
    assert "志愿活动台账" not in sz.get("/").text
    assert sz.get(f"/customlist/{code}/list/").status_code == 404
    assert as_token("sz_clerk").get(f"/api/v1/customlist/{code}/").status_code == 404
    # REST API with a bearer token: scoped, checked, the list's fields as cf_<code>
    api = as_token("fs_clerk")
    r = api.post(f"/api/v1/customlist/{code}/", json={"title": f"环保{t}", "unit": foshan, "cf_kind": "2", "cf_cost": 50})
    assert r.status_code == 201, r.text
    pk = r.json()["id"]
    assert r.json()["result"]["cf_kind"] == "2"
    r = api.post(f"/api/v1/customlist/{code}/", json={"title": f"越界{t}", "unit": shenzhen, "cf_kind": "1"})
    assert r.status_code == 422, r.text
    r = api.post(f"/api/v1/customlist/{code}/", json={"title": f"坏值{t}", "unit": foshan, "cf_kind": "7"})
    assert r.status_code == 422 and "不是" in json.dumps(r.json(), ensure_ascii=False)
    got = api.get(f"/api/v1/customlist/{code}/").json()
    assert sorted(x["title"] for x in got["result"]) == sorted([f"敬老{t}", f"环保{t}"]), got
    assert api.get(f"/api/v1/customlist/{code}/{pk}").json()["result"]["cf_cost"] == "50.00"
    assert api.put(f"/api/v1/customlist/{code}/{pk}", json={"cf_kind": "1"}).status_code == 200
    assert as_token("fs_inspector").put(f"/api/v1/customlist/{code}/{pk}", json={"cf_kind": "2"}).status_code in (401, 403)
    doc = api.get("/api/v1/_openapi").json()
    assert f"/api/v1/customlist/{code}/" in doc["paths"], [p for p in doc["paths"] if "customlist" in p]
    own = doc["paths"][f"/api/v1/customlist/{code}/"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    props = doc["components"]["schemas"][own.rsplit("/", 1)[1]]["properties"]
    assert props["cf_kind"]["enum"] == ["1", "2"] and props["title"]["title"] == "活动名称"
    assert code in doc["paths"]["/api/v1/customlist/{list_code}/"]["get"]["parameters"][-1]["schema"]["enum"]
    # import (template, row errors, written) and export, through core's Excel engine
    tpl = openpyxl.load_workbook(io.BytesIO(api.get(f"/api/v1/import/{code}/template").content))
    headers = [c.value for c in tpl.worksheets[0][1]]
    assert "活动名称*" in headers and "活动类别*" in headers, headers
    head = ["活动名称", "单位", "活动类别", "活动日期", "经费"]
    bad = xlsx(head, [(f"导入{t}", "440600", "种树", "2012-04-01", "10")])
    report = api.post(f"/api/v1/import/{code}", params={"dry_run": 0}, files={"file": ("a.xlsx", bad)}).json()["result"]
    assert not report["written"] and report["errors"], report
    good = xlsx(head, [(f"导入{t}", "440600", "环保", "2012-04-01", "10")])
    report = api.post(f"/api/v1/import/{code}", params={"dry_run": 0}, files={"file": ("a.xlsx", good)}).json()["result"]
    assert report["written"], report
    excel = fs.get("/excel/").text
    assert "志愿活动台账" in excel and f"/customlist/{code}/list/" in excel
    assert "志愿活动台账" not in sz.get("/excel/").text
    r = api.get(f"/api/v1/export/{code}")
    assert r.status_code == 200, r.text[:300]
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows()]
    assert sorted(row[0] for row in rows[1:]) == sorted([f"敬老{t}", f"环保{t}", f"导入{t}"]), rows
    # the records of no other list: the list's class reads only its own rows
    from core.lowcode.lists import CustomRecord

    with db(app) as s:
        n = s.execute(sa.select(sa.func.count()).select_from(CustomRecord.__table__)).scalar()
        assert n >= 3
    # a KPI check as data over the custom list
    r = admin.post("/adminkpiruleview/add", data={
        "key": f"cl_{t}", "label": "环保活动数", "unit_of_measure": "次", "list_name": code, "measure": "count",
        "date_field": "cf_held_on", "conditions": json.dumps([{"field": "cf_kind", "op": "eq", "value": "2"}])})
    assert r.status_code == 302, r.text[-2000:]
    with app.test_request_context():
        import datetime

        from core.kpi import engine as kpi

        session = app.appbuilder.session
        checks = kpi.registered_checks()
        day = datetime.date(2012, 12, 31)
        values = kpi.compute_values(session, 2012, {f"cl_{t}": [day]}, checks, None, {"440600"},
                                    paths=kpi.unit_paths(session, None))
        assert values[(f"cl_{t}", day, "440600")] == 1
    # the definitions go to a file and back
    data = admin.get("/api/v1/lowcode/definitions").json()["result"]
    assert any(d["code"] == code and d["units"] == ["440600"] for d in data["lists"])
    for d in data["lists"]:
        if d["code"] == code:
            d["name"] = "志愿服务台账"
    r = admin.post("/api/v1/lowcode/definitions", json=data)
    assert r.status_code == 200 and r.json()["result"]["lists_updated"] >= 1, r.text
    assert "志愿服务台账" in fs.get(f"/customlist/{code}/list/").text
    # the per-unit module choice: 佛山 switches the list off (its data kept), and on again
    fa = as_user("fs_admin")
    names = re.findall(r'name="plugin" value="([^"]+)"', fa.get("/modules/").text)
    module = f"customlist:{code}"
    assert module in names
    assert fa.post("/modules/", data={"plugin": [n for n in names if n != module]}).status_code == 302
    assert fs.get(f"/customlist/{code}/list/").status_code == 404 and "志愿服务台账" not in fs.get("/").text
    assert fa.post("/modules/", data={"plugin": names}).status_code == 302
    assert fs.get(f"/customlist/{code}/list/").status_code == 200
    # a list holding records is not deleted; the audit log has its records
    with db(app) as s:
        from core.lowcode.lists import CustomList

        list_pk = s.execute(sa.select(CustomList.id).where(CustomList.code == code)).scalar()
    r = admin.post(f"{lists}/delete/{list_pk}")
    assert r.status_code == 302
    assert "不会删除" in admin.get(f"{lists}/list/").text
    with db(app) as s:
        assert s.get(CustomList, list_pk) is not None
        from core.audit.trail import AuditLog

        assert s.execute(sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.model == "qqh_custom_record")).scalar() >= 3
    # …named as the list's pages name them: the list, its name column and its fields; the module switch by
    # the module's name (these showed as "List Custom Record", "List Id", "kind: 2 → 1", "customlist:…")
    audit = admin.get("/auditlog/list/", params={"_flt_0_model": "qqh_custom_record"}).text
    assert "志愿服务台账" in audit and f"活动类别: 环保 → 助老" in audit, audit[-3000:]
    assert "List Custom Record" not in audit and "List Id" not in audit and "kind:" not in audit
    switches = admin.get("/auditlog/list/", params={"_flt_0_model": "qqh_unit_module"}).text
    assert "模块开关" in switches and "自定义台账：志愿服务台账" in switches and module not in switches, switches[-3000:]


def test_browser_defines_a_list_and_enters_a_record(browser, live, app, engine_name, clean_definitions):  # noqa: F811
    import io

    import openpyxl
    import pytest

    if engine_name != "sqlite":
        pytest.skip("the pages are the same on both engines; the engine's part is tested on both above")
    from core.testing.browser import choose, login
    from tests.conftest import PASSWORD

    code = "b" + uuid.uuid4().hex[:6]
    submit = "form:not(.qqh-logout) button[type=submit], form:not(.qqh-logout) input[type=submit]"
    page = browser.new_page()
    try:
        login(page, live.url, "admin", PASSWORD)
        page.goto(live.url + "/admincustomlistview/add")
        page.fill("input[name=code]", code)
        page.fill("input[name=name]", "青年议事台账")
        page.fill("input[name=title_label]", "议题")
        page.click(submit)
        page.wait_for_load_state()
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:1500]
        page.goto(live.url + "/unitadmincustomfieldview/add")
        page.select_option("select[name=list_name]", code)
        page.fill("input[name=code]", "topic")
        page.fill("input[name=label]", "议题类别")
        page.select_option("select[name=kind]", "choice")
        page.fill("textarea[name=options]", "e=教育\nj=就业")
        page.click(submit)
        page.wait_for_load_state()
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:1500]
        page.goto(live.url + "/")
        page.click("li.qqh-custom-lists > a.dropdown-toggle")
        page.click("li.qqh-custom-lists a:has-text('青年议事台账')")
        page.wait_for_load_state()
        assert f"/customlist/{code}/list/" in page.url
        page.goto(live.url + f"/customlist/{code}/add")
        assert "议题" in page.inner_text("form:not(.qqh-logout)")
        page.fill("input[name=title]", "青年就业座谈")
        page.click("#unit + .select2 .select2-selection")
        page.locator(".select2-container--open .select2-search__field").press_sequentially("顺德", delay=30)
        page.locator(".select2-container--open .select2-results__option", has_text="顺德区").first.click()
        choose(page, "cf_topic", "就业")
        page.click(submit)
        page.wait_for_load_state()
        assert f"/customlist/{code}/list/" in page.url, page.inner_text("body")[:1500]
        body = page.inner_text("body")
        assert "青年就业座谈" in body and "就业" in body
        with page.expect_download() as info:
            page.click("a.qqh-export")
        rows = [[c.value for c in r] for r in openpyxl.load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).worksheets[0].iter_rows()]
        assert "议题类别" in rows[0] and ["青年就业座谈"] == [r[0] for r in rows[1:]], rows
    finally:
        page.close()
