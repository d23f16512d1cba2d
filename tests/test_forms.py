"""Issue 19, points 1-4 and 6, over real HTTP on both engines (the browser
story is tests/test_forms_browser.py): required fields marked, every problem
in one round, amounts as offices write them, check digits never suggested,
back where the form came from, contains-search and Chinese operators, pinyin
initials in pickers, Chinese error pages, one 姓名 field, modules switched off
for a unit below, and how values read."""

from __future__ import annotations

import html
import json
import re
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import select

from core.tenancy.units import unit_by_code
from core.values.validators import credit_code_check_char

pytestmark = pytest.mark.usefixtures("app")


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def errors(text: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>|\s+", " ", e)).strip() for e in re.findall(r'alert alert-danger">(.*?)</div>', text, re.S)]


def starred(text: str) -> dict[str, bool]:
    """field id → whether its label carries the red * of a required field."""
    return {
        m.group(1): bool(m.group(2))
        for m in re.finditer(r'<label for="(\w+)" control-label>[^<]*(<strong style="color: red">&#42;</strong>)?', text)
    }


def ids(app, *codes):
    with app.app_context():
        s = app.appbuilder.session
        return {c: unit_by_code(s, c).id for c in codes}


def org_form(unit_id, **kw):
    data = dict(name=unique("青年志愿者协会"), unit=str(unit_id), category="interest", service_field="creative_culture",
                reg_status="unregistered", legal_form="", credit_code="", founded_on="2011-01-01", contact_name="张三",
                contact_phone="13812345678", members="10", youth_share="90", directly_connected_on="", cultivated_on="",
                note="")
    data.update(kw)
    return data


def test_forms_one_round_amounts_check_digits_and_back(app, live, as_user):
    from plugins.cultivation.models import Service, YouthOrg

    fs = as_user("fs_clerk")
    unit = ids(app, "440600")["440600"]

    # * beside what a record needs (validators and non-null columns), and the browser is not asked to block
    add = fs.get("/youthorg/add").text
    stars = starred(add)
    assert all(stars[f] for f in ("name", "unit", "category", "service_field", "reg_status")), stars
    assert not any(stars[f] for f in ("legal_form", "credit_code", "note", "members")), stars
    assert not re.search(r"<(input|select|textarea)[^>]*\srequired", add)

    # a wrong check character: the code is wrong, the right character is never told
    body = "52440600T" + uuid.uuid4().hex[:8].upper()
    right = credit_code_check_char(body)
    wrong = next(c for c in "0123456789ABCDEF" if c != right)
    r = fs.post("/youthorg/add", data=org_form(unit, credit_code=body + wrong))
    said = " ".join(errors(r.text))
    assert r.status_code == 200 and "统一社会信用代码有误" in said and "应为" not in said and f"“{right}”" not in said

    # an organization, added from the list with a filter: back to that list
    data = org_form(unit)
    listed = "/youthorg/list/?_flt_0_name=" + quote("青年")
    form = fs.get("/youthorg/add", headers={"Referer": live.url + listed}).text
    back = html.unescape(re.search(r'name="qqh_back" type="hidden" value="([^"]*)"', form).group(1))
    assert back == listed
    r = fs.post("/youthorg/add", data=dict(data, qqh_back=back))
    assert r.status_code == 302 and r.headers["Location"] == back
    with app.app_context():
        org = app.appbuilder.session.execute(select(YouthOrg.id).where(YouthOrg.name == data["name"])).scalar_one()

    # a purchased service with four problems: all four in one round, nothing written
    r = fs.post("/youthorgservice/add", data=dict(kind="purchase", starts_on="2026-01-05", amount="五万", contract="", org=""))
    said = errors(r.text)
    assert r.status_code == 200 and len(said) == 4, said
    text = " ".join(said)
    assert "结束日期" in text and "合同" in text and "5万元" in text and "五万" in text  # the amount says what it expects

    # opened from the dashboard (or anywhere but a list or record page): back to the list, not the dashboard
    service = dict(org=str(org), kind="purchase", starts_on="2026-01-05", ends_on="2026-06-30", contract=unique("合同"),
                   amount="5万元", outcome="", custodian="", note="")
    fs.get(f"/youthorg/profile/{org}")  # FAB's history would send the next save here
    form = fs.get("/youthorgservice/add", headers={"Referer": live.url + "/"}).text
    assert 'name="qqh_back" type="hidden" value=""' in form
    r = fs.post("/youthorgservice/add", data=dict(service, qqh_back=""))
    assert r.status_code == 302 and r.headers["Location"] == "/youthorgservice/list/", r.headers.get("Location")
    with app.app_context():
        amount = app.appbuilder.session.execute(select(Service.amount).where(Service.contract == service["contract"])).scalar_one()
    assert str(amount) == "50000.00"

    # the REST API reads amounts the same way, and refuses with the same words
    ok = fs.post("/api/v1/youthorgservice/", json=dict(service, org=org, amount="50,000", contract=unique("合同")))
    assert ok.status_code == 201, ok.text
    assert fs.get(f"/api/v1/youthorgservice/{ok.json()['id']}").json()["result"]["amount"] in (50000, 50000.0, "50000.00")
    bad = fs.post("/api/v1/youthorgservice/", json=dict(service, org=org, amount="5万x", contract=unique("合同")))
    assert bad.status_code == 422 and "5万元" in str(bad.json()["message"]["amount"])


def test_search_pickers_error_pages_and_user_names(app, live, as_user):
    fs = as_user("fs_clerk")
    unit = ids(app, "440600")["440600"]
    data = org_form(unit)
    assert fs.post("/youthorg/add", data=data).status_code == 302

    # the first operator of a text search is "contains": 志愿者 finds 青年志愿者协会…
    listed = fs.get("/youthorg/list/", params={"_flt_0_name": "志愿者协会" + data["name"][-6:]}).text
    assert data["name"] in listed
    # …and every operator is in Chinese ({{ search_filters | tojson }} of FAB's search widget)
    filters = json.loads(re.search(r"new AdminFilters\(\s*'#filter_form',\s*.*?\n\s*.*?\n\s*(\{.*?\}),\n", listed, re.S).group(1))
    operators = {name for ops in filters.values() for name in ops}
    assert filters["name"][0] == "包含" and "以开始" not in operators, filters["name"]
    assert operators and all(re.search(r"[\u4e00-\u9fff]", name) for name in operators), operators

    # pinyin initials: sd → 顺德区 (units), qnzyz → 青年志愿者协会… (organizations)
    units = [u["text"] for u in fs.get("/api/v1/unit/picker", params={"q": "sd"}).json()["results"]]
    assert any(t.startswith("顺德区") for t in units), units
    orgs = [o["text"] for o in fs.get("/api/v1/youthorg/picker", params={"q": "qnzyz"}).json()["results"]]
    assert orgs and all(t.startswith("青年志愿者协会") for t in orgs), orgs
    assert fs.get("/api/v1/unit/picker", params={"q": "xq"}).json()["results"] == [] or True  # no error on few matches
    assert as_user("sz_clerk").get("/api/v1/unit/picker", params={"q": "sd"}).json()["results"] == []  # still scoped

    # error pages in Chinese, FAB's own 403 too
    for path, code, words in (("/no/such/page", 404, "未找到"), ("/users/list/", 403, "无权")):
        r = fs.get(path, headers={"Accept": "text/html"})
        assert r.status_code == code and words in r.text and "Not Found" not in r.text and "Forbidden" not in r.text

    # one 姓名 field, no LDAP/OID help; names read 陈海
    admin = as_user("admin")
    form = admin.get("/users/add").text
    assert "姓名" in form and 'id="last_name"' not in form and "LDAP" not in form and "OID" not in form
    name = unique("u")
    with app.app_context():
        role = app.appbuilder.sm.find_role("clerk").id
    r = admin.post("/users/add", data={"first_name": "陈海", "username": name, "active": "y", "email": f"{name}@t.local",
                                       "roles": str(role), "unit": str(unit), "password": "Qqh-xyz-12345",
                                       "conf_password": "Qqh-xyz-12345"})
    assert r.status_code == 302, errors(r.text)
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=name)
        assert (user.first_name, user.last_name, user.get_full_name()) == ("陈海", "", "陈海")
        user.first_name, user.last_name = "海", "陈"  # entered before in two parts
        app.appbuilder.session.commit()
        assert str(app.appbuilder.sm.find_user(username=name)) == "陈海"
    listed = admin.get("/users/list/", params={"_flt_0_username": name}).text
    assert "陈海" in listed and "海 陈" not in listed


def test_modules_switched_off_for_a_county_below(app, as_user):
    from core.kpi import engine as kpi
    from core.tenancy import modules

    year = 2026
    with app.app_context():
        kpi.load_default_targets(year)
        owner = kpi.check_plugins()
    unit = ids(app, "440605", "440300", "440000", "440600")
    fs_admin = as_user("fs_admin")
    everything = app.extensions["qqh_plugins"].order
    assert fs_admin.get("/modules/", params={"unit": unit["440605"]}).status_code == 200  # 南海区, below 佛山
    for outside in ("440300", "440000"):  # beside it, above it
        assert fs_admin.get("/modules/", params={"unit": unit[outside]}).status_code == 404
        assert fs_admin.post(f"/modules/?unit={unit[outside]}", data={"plugin": []}).status_code == 404

    def nanhai_checks():
        r = fs_admin.get("/api/v1/kpi/report", params={"year": year, "unit": "440600"})
        assert r.status_code == 200, r.text
        return {row["check"] for row in r.json()["result"] if row["unit"] == "440605"}

    before = nanhai_checks()
    assert any(owner.get(c) == "cultivation" for c in before), before
    try:
        r = fs_admin.post(f"/modules/?unit={unit['440605']}", data={"plugin": [p for p in everything if p != "cultivation"]})
        assert r.status_code == 302 and r.headers["Location"].endswith(f"/modules/?unit={unit['440605']}")
        page = fs_admin.get("/modules/", params={"unit": unit["440605"]}).text
        assert "南海区" in page
        after = nanhai_checks()
        assert after and not any(owner.get(c) == "cultivation" for c in after), after
        assert after == {c for c in before if owner.get(c) != "cultivation"}
        with app.app_context():
            s = app.appbuilder.session
            assert "cultivation" in modules.switched_off(s, unit_by_code(s, "440605"))
            assert "cultivation" not in modules.switched_off(s, unit_by_code(s, "440600"))  # 佛山 itself keeps it
    finally:
        with app.app_context():
            s = app.appbuilder.session
            modules.set_module(s, unit_by_code(s, "440605"), "cultivation", True)
            s.commit()


def test_values_read_as_chinese_offices_write_them(app):
    import datetime

    from core.kpi.assessment import AssessmentIndicator
    from core.web.display import date_text, display

    with app.test_request_context("/"):
        assert display(50.0) == 50 and display(12.5) == 12.5 and display(0.0) == 0
        assert date_text(datetime.date(2012, 3, 20)) == "2012年3月20日"
        assert AssessmentIndicator(check_key="homes").check_label not in ("", "homes")
