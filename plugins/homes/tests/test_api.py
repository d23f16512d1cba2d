"""REST API of bases, the checklist, residencies, sectors and pairings:
happy path, every refusal (422, Chinese message, nothing written) and
scoping, over real HTTP."""

import pytest

from plugins.homes.models import ChecklistEntry, ChecklistItem, Home, Pairing, Residency, Sector
from plugins.homes.tests.conftest import (
    ENTRY_API, HOME_API, ITEM_API, PAIRING_API, RESIDENCY_API, SECTOR_API, count, create, home_payload, unique,
)


@pytest.fixture
def as_user(as_api_user):
    """Every test here runs with a cookie session and with a bearer token (core.testing's as_api_user)."""
    return as_api_user


def message_of(r, field) -> str:
    assert r.status_code == 422, r.text
    messages = r.json()["message"]
    assert field in messages, messages
    return "".join(messages[field])


# -- bases -------------------------------------------------------------------------------
def test_create_read_update_delete_home(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    payload = home_payload(unit_ids, phone="0757 8333 1234", area="1,200.5")
    payload["area"] = "1200.5"
    pk = create(fs, HOME_API, payload)
    got = fs.get(f"{HOME_API}{pk}").json()["result"]
    assert got["kind_label"] == "青年中心" and got["kind_group_label"] == "盘活原有阵地"
    assert got["phone"] == "0757-83331234"  # normalised
    assert got["area"] == "1200.50" and got["opened_on"] == "2012-04-01" and got["signage_on"] == "2012-05-04"
    assert got["services_text"] == "场地、网络" and got["offers_logistics"] is False
    assert got["unit"]["code"] == "440600"
    assert got["item_count"] >= 1 and got["met_count"] == 0 and got["compliance"] == "0.0"

    listed = fs.get(HOME_API, params={"q": f"(filters:!((col:name,opr:eq,value:'{payload['name']}')))"}).json()
    assert listed["count"] == 1 and listed["result"][0]["id"] == pk

    r = fs.put(f"{HOME_API}{pk}", json={"offers_logistics": True, "kind": "partner_base"})
    assert r.status_code == 200, r.text
    got = fs.get(f"{HOME_API}{pk}").json()["result"]
    assert got["services_text"] == "场地、网络、后勤" and got["kind_label"] == "成熟基地（合作共建）"

    assert fs.delete(f"{HOME_API}{pk}").status_code == 200
    assert count(db, Home, id=pk) == 0


def test_info_labels_are_chinese(as_user):
    info = as_user("fs_clerk").get(f"{HOME_API}_info").json()
    labels = {f["name"]: f["label"] for f in info["add_columns"]}
    assert labels["signage_on"] == "挂牌日期" and labels["kind"] == "阵地类型" and labels["offers_venue"] == "场地"


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(name="  "), "name", "请填写家园名称"),
        (dict(address=""), "address", "请填写家园地址"),
        (dict(kind="castle"), "kind", "请选择阵地类型"),
        (dict(area="-5"), "area", "面积不能为负数"),
        (dict(area="12.345"), "area", "两位小数"),
        (dict(opened_on="2999-01-01", signage_on=...), "opened_on", "启用日期不能晚于今天"),
        (dict(signage_on="2012-03-01"), "signage_on", "挂牌日期不能早于启用日期"),
        (dict(opened_on=None), "opened_on", "已挂牌的家园必须填写启用日期"),
        (dict(phone="12345"), "phone", "电话"),
        (dict(opened_on="2012-13-45", signage_on=...), "opened_on", "不是有效的日期"),
        (dict(area="许多"), "area", "不是有效的数字"),
        (dict(name=None), "name", "“家园名称”为必填项"),
        (dict(kind=...), "kind", "“阵地类型”为必填项"),
    ],
)
def test_bad_home_is_refused_and_nothing_written(as_user, unit_ids, db, changes, field, words):
    fs = as_user("fs_clerk")
    payload = home_payload(unit_ids, **changes)
    before = count(db, Home)
    r = fs.post(HOME_API, json=payload)
    assert words in message_of(r, field)
    assert count(db, Home) == before


def test_duplicate_home_name_in_a_unit_is_refused(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    first = home_payload(unit_ids)
    create(fs, HOME_API, first)
    r = fs.post(HOME_API, json=home_payload(unit_ids, name=first["name"]))
    assert "同名" in message_of(r, "name")
    assert count(db, Home, name=first["name"]) == 1
    # the same name in another unit is another base
    create(fs, HOME_API, home_payload(unit_ids, unit="440606", name=first["name"]))


def test_scoping_of_homes(as_user, unit_ids):
    fs = as_user("fs_clerk")
    foshan = create(fs, HOME_API, home_payload(unit_ids, unit="440604"))
    sz = as_user("sz_clerk")
    assert sz.get(f"{HOME_API}{foshan}").status_code == 404
    assert sz.put(f"{HOME_API}{foshan}", json={"manager": "越权"}).status_code == 404
    assert sz.delete(f"{HOME_API}{foshan}").status_code == 404
    # (a 深圳 clerk's list shows no record of another unit: the plugin contract, test_contract.py)
    assert sz.get(f"{HOME_API}picker", params={"q": "测试家园"}).json()["results"] == [] or all(
        "深圳" in row["text"] for row in sz.get(f"{HOME_API}picker", params={"q": "测试家园"}).json()["results"])
    assert fs.get(f"{HOME_API}{foshan}").json()["result"]["manager"] == "陈嘉欣"  # untouched
    # creating for Shenzhen, or moving a base there, is refused
    r = fs.post(HOME_API, json=home_payload(unit_ids, unit="440300"))
    assert "unit" in r.json()["message"] and r.status_code == 422
    r = fs.put(f"{HOME_API}{foshan}", json={"unit": unit_ids["440300"]})
    assert r.status_code == 422
    assert fs.get(f"{HOME_API}{foshan}").json()["result"]["unit"]["code"] == "440604"


# -- the checklist ----------------------------------------------------------------------------
def new_item(admin, **kw) -> int:
    data = {"code": unique("T")[:12].upper(), "section": "venue", "title": "测试条目", "position": 999, "active": True}
    data.update(kw)
    return create(admin, ITEM_API, data)


def test_checklist_is_data_the_admin_edits_and_the_score_follows(as_user, unit_ids, db):
    admin, fs = as_user("admin"), as_user("fs_clerk")
    home = create(fs, HOME_API, home_payload(unit_ids))
    before = fs.get(f"{HOME_API}{home}").json()["result"]
    total = before["item_count"]
    assert total >= 15  # the default list shipped by the migration

    item = new_item(admin)
    assert fs.get(f"{HOME_API}{home}").json()["result"]["item_count"] == total + 1
    r = fs.post(ENTRY_API, json={"home": home, "item": item, "met_on": "2012-05-01", "evidence": "挂牌照片"})
    assert r.status_code == 201, r.text
    entry = r.json()["id"]
    got = fs.get(f"{ENTRY_API}{entry}").json()["result"]
    assert got["unit"]["code"] == "440600"  # the base's unit
    result = fs.get(f"{HOME_API}{home}").json()["result"]
    assert result["met_count"] == 1 and result["compliance"] == f"{100 / (total + 1):.1f}"

    # a clerk reads the checklist but cannot edit it
    assert fs.get(f"{ITEM_API}{item}").json()["result"]["title"] == "测试条目"
    assert fs.post(ITEM_API, json={"code": "X1", "section": "venue", "title": "越权"}).status_code in (401, 403)
    assert fs.put(f"{ITEM_API}{item}", json={"title": "越权"}).status_code in (401, 403)
    assert as_user("fs_admin").delete(f"{ITEM_API}{item}").status_code in (401, 403)
    # deleting an item in use is refused; making it inactive takes it out of every score
    r = admin.delete(f"{ITEM_API}{item}")
    assert r.status_code == 422 and "停用" in str(r.json()["message"])
    assert admin.put(f"{ITEM_API}{item}", json={"active": False}).status_code == 200
    result = fs.get(f"{HOME_API}{home}").json()["result"]
    assert result["item_count"] == total and result["met_count"] == 0
    # an inactive item cannot be recorded any more
    other = create(fs, HOME_API, home_payload(unit_ids))
    r = fs.post(ENTRY_API, json={"home": other, "item": item, "met_on": "2012-05-01", "evidence": "x"})
    assert "已停用" in message_of(r, "item")


def test_checklist_item_refusals(as_user, db):
    admin = as_user("admin")
    code = unique("C")[:10].upper()
    new_item(admin, code=code)
    for changes, field, words in [
        (dict(code=code.lower()), "code", "已有其他条目使用"),
        (dict(code="A 1"), "code", "只能包含"),
        (dict(title=" "), "title", "建设要求"),
        (dict(section="nowhere"), "section", "类别"),
    ]:
        data = {"code": unique("D")[:10].upper(), "section": "venue", "title": "条目", **changes}
        r = admin.post(ITEM_API, json=data)
        assert words in message_of(r, field)
    assert count(db, ChecklistItem, code=code) == 1


def test_checklist_entry_refusals_and_scope(as_user, unit_ids, db):
    fs, sz = as_user("fs_clerk"), as_user("sz_clerk")
    home = create(fs, HOME_API, home_payload(unit_ids))
    item = as_user("admin").get(ITEM_API, params={"q": "(filters:!((col:code,opr:eq,value:A2)))"}).json()["result"][0]["id"]
    good = {"home": home, "item": item, "met_on": "2012-05-01", "evidence": "场地租赁合同"}
    for changes, field, words in [
        (dict(evidence="  "), "evidence", "佐证材料"),
        (dict(met_on="2999-01-01"), "met_on", "不能晚于今天"),
    ]:
        r = fs.post(ENTRY_API, json={**good, **changes})
        assert words in message_of(r, field)
    assert count(db, ChecklistEntry, home_id=home) == 0
    create(fs, ENTRY_API, good)
    assert "已登记过" in message_of(fs.post(ENTRY_API, json=good), "item")
    # Shenzhen cannot record for a Foshan base
    r = sz.post(ENTRY_API, json=good)
    assert r.status_code in (400, 422)
    assert count(db, ChecklistEntry, home_id=home) == 1


# -- residencies -------------------------------------------------------------------------------
def test_residency_workflow(as_user, unit_ids, make_org, db):
    fs = as_user("fs_clerk")
    home = create(fs, HOME_API, home_payload(unit_ids))
    org = make_org("440606")
    pk = create(fs, RESIDENCY_API, {"org": org, "home": home, "entered_on": "2012-04-10"})
    got = fs.get(f"{RESIDENCY_API}{pk}").json()["result"]
    assert got["status"] == "entered" and got["status_label"] == "已入驻" and got["unit"]["code"] == "440600"
    # one open residency per organization and base
    r = fs.post(RESIDENCY_API, json={"org": org, "home": home, "entered_on": "2012-05-01"})
    assert "已入驻本家园" in message_of(r, "org")
    assert fs.put(f"{RESIDENCY_API}{pk}", json={"status": "incubating"}).status_code == 200
    # graduating needs its date, not before the entry
    assert "出壳或退出日期" in message_of(fs.put(f"{RESIDENCY_API}{pk}", json={"status": "graduated"}), "ended_on")
    r = fs.put(f"{RESIDENCY_API}{pk}", json={"status": "graduated", "ended_on": "2012-04-01"})
    assert "不能早于入驻日期" in message_of(r, "ended_on")
    r = fs.put(f"{RESIDENCY_API}{pk}", json={"status": "graduated", "ended_on": "2012-11-30"})
    assert r.status_code == 200, r.text
    # an ended residency is not reopened; a new one may start
    r = fs.put(f"{RESIDENCY_API}{pk}", json={"status": "incubating", "ended_on": None})
    assert "不能重新开启" in message_of(r, "status")
    assert fs.get(f"{RESIDENCY_API}{pk}").json()["result"]["status"] == "graduated"
    create(fs, RESIDENCY_API, {"org": org, "home": home, "entered_on": "2012-12-01", "status": "incubating"})
    assert count(db, Residency, org_id=org, home_id=home) == 2


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(entered_on="2012-03-01"), "entered_on", "入驻日期不能早于启用日期"),
        (dict(entered_on="2999-01-01"), "entered_on", "入驻日期不能晚于今天"),
        (dict(ended_on="2012-09-01"), "ended_on", "请留空"),
        (dict(status="left", ended_on="2012-04-05"), "ended_on", "不能早于入驻日期"),
        (dict(status="sleeping"), "status", "入驻状态"),
        (dict(entered_on=None), "entered_on", "“入驻日期”为必填项"),
    ],
)
def test_bad_residency_is_refused_and_nothing_written(as_user, unit_ids, make_org, db, changes, field, words):
    fs = as_user("fs_clerk")
    home = create(fs, HOME_API, home_payload(unit_ids))
    org = make_org()
    data = {"org": org, "home": home, "entered_on": "2012-04-10", **changes}
    r = fs.post(RESIDENCY_API, json={k: v for k, v in data.items() if v is not None})
    assert words in message_of(r, field)
    assert count(db, Residency, org_id=org) == 0


def test_residency_in_a_base_not_yet_open_and_scoping(as_user, unit_ids, make_org, db):
    fs = as_user("fs_clerk")
    building = create(fs, HOME_API, home_payload(unit_ids, opened_on=None, signage_on=None))
    org = make_org()
    r = fs.post(RESIDENCY_API, json={"org": org, "home": building, "entered_on": "2012-04-10"})
    assert "尚未启用" in message_of(r, "home")
    home = create(fs, HOME_API, home_payload(unit_ids))
    pk = create(fs, RESIDENCY_API, {"org": org, "home": home, "entered_on": "2012-04-10"})
    # the base cannot be given an opening date after its residents entered
    r = fs.put(f"{HOME_API}{home}", json={"opened_on": "2012-06-01", "signage_on": None})
    assert "早于该启用日期" in message_of(r, "opened_on")
    sz = as_user("sz_clerk")
    assert sz.get(f"{RESIDENCY_API}{pk}").status_code == 404
    assert sz.put(f"{RESIDENCY_API}{pk}", json={"status": "left", "ended_on": "2012-05-01"}).status_code == 404
    # a Shenzhen organization cannot be put in by Foshan, nor a Foshan one by Shenzhen
    sz_org = make_org("440300")
    assert fs.post(RESIDENCY_API, json={"org": sz_org, "home": home, "entered_on": "2012-05-01"}).status_code in (400, 422)
    assert sz.post(RESIDENCY_API, json={"org": sz_org, "home": home, "entered_on": "2012-05-01"}).status_code in (400, 422)
    assert count(db, Residency, org_id=sz_org) == 0
    # moving the base to a county carries its residencies along
    assert fs.put(f"{HOME_API}{home}", json={"unit": unit_ids["440606"]}).status_code == 200
    assert fs.get(f"{RESIDENCY_API}{pk}").json()["result"]["unit"]["code"] == "440606"
    assert as_user("sd_clerk").get(f"{RESIDENCY_API}{pk}").status_code == 200


# -- 小组基地一对一 -------------------------------------------------------------------------------
def test_sectors_and_one_to_one_pairing(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    sector = create(fs, SECTOR_API, {"name": unique("经济界"), "unit": unit_ids["440600"], "kind": "sector"})
    group = create(fs, SECTOR_API, {"name": unique("第一小组"), "unit": unit_ids["440600"], "kind": "group"})
    assert fs.get(f"{SECTOR_API}{group}").json()["result"]["kind_label"] == "小组"
    home = create(fs, HOME_API, home_payload(unit_ids, unit="440606"))
    other = create(fs, HOME_API, home_payload(unit_ids, unit="440604"))
    pk = create(fs, PAIRING_API, {"sector": sector, "home": home, "started_on": "2012-06-01",
                                  "activities": "6月15日共建座谈会"})
    got = fs.get(f"{PAIRING_API}{pk}").json()["result"]
    assert got["unit"]["code"] == "440600" and got["home"]["id"] == home  # the sector's unit
    # one to one: the sector has one base; the base has one sector of this federation
    r = fs.post(PAIRING_API, json={"sector": sector, "home": other, "started_on": "2012-07-01"})
    assert "一对一" in message_of(r, "sector")
    r = fs.post(PAIRING_API, json={"sector": group, "home": home, "started_on": "2012-07-01"})
    assert "同一青联" in message_of(r, "home")
    r = fs.put(f"{PAIRING_API}{pk}", json={"ended_on": "2012-05-01"})
    assert "不能早于开始日期" in message_of(r, "ended_on")
    assert fs.put(f"{PAIRING_API}{pk}", json={"ended_on": "2012-12-31"}).status_code == 200
    create(fs, PAIRING_API, {"sector": sector, "home": other, "started_on": "2013-01-01"})
    # refusals of sectors
    r = fs.post(SECTOR_API, json={"name": " ", "unit": unit_ids["440600"], "kind": "sector"})
    assert "名称" in message_of(r, "name")
    r = fs.post(SECTOR_API, json={"name": unique("界"), "unit": unit_ids["440600"], "kind": "club"})
    assert "界别或小组" in message_of(r, "kind")
    # scoping
    sz = as_user("sz_clerk")
    assert sz.get(f"{PAIRING_API}{pk}").status_code == 404 and sz.get(f"{SECTOR_API}{sector}").status_code == 404
    sz_sector = create(sz, SECTOR_API, {"name": unique("科技界"), "unit": unit_ids["440300"], "kind": "sector"})
    assert sz.post(PAIRING_API, json={"sector": sz_sector, "home": home, "started_on": "2012-07-01"}).status_code in (400, 422)
    assert count(db, Pairing, sector_id=sz_sector) == 0
    r = fs.post(SECTOR_API, json={"name": unique("界"), "unit": unit_ids["440300"], "kind": "sector"})
    assert r.status_code == 422
    assert count(db, Sector, unit_id=unit_ids["440300"], name="越权") == 0


def test_openapi_document_lists_every_resource(app):
    """The document FAB serves at /api/v1/_openapi, built the way FAB builds it."""
    from flask_appbuilder.api import BaseApi
    from flask_appbuilder.api.manager import OpenApi

    with app.test_request_context():
        spec = OpenApi._create_api_spec("v1")
        for view in app.appbuilder.baseviews:
            if isinstance(view, BaseApi) and view.version == "v1":
                view.add_api_spec(spec)
        paths = spec.to_dict()["paths"]
    for resource in ("qinqinghome", "homechecklistitem", "homechecklistentry", "homeresidency", "homesector",
                     "homepairing", "incubationfund", "incubationgrant"):
        assert {"get", "post"} <= set(paths[f"/api/v1/{resource}/"]), resource
        assert {"get", "put", "delete"} <= set(paths[f"/api/v1/{resource}/{{pk}}"]), resource
    for resource in ("qinqinghome", "homesector", "incubationfund"):
        assert "get" in paths[f"/api/v1/{resource}/picker"]
