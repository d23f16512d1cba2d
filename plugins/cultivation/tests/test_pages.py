"""Pages of the plugin over real HTTP: list, add, edit, profile, services,
refusals, scoping, and the module switched off for a unit."""

import pytest
from sqlalchemy import select

from plugins.cultivation.models import Service, YouthOrg
from plugins.cultivation.tests.conftest import count_orgs, count_services, new_credit_code, unique


def form(unit_id, **kw):
    data = dict(
        name=unique("网页组织"), unit=str(unit_id), category="interest", service_field="creative_culture",
        reg_status="unregistered", legal_form="", credit_code="", founded_on="2011-01-01", contact_name="张三",
        contact_phone="13812345678", members="10", youth_share="90", directly_connected_on="2012-03-01",
        cultivated_on="", note="",
    )
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def flashed(client, response) -> str:
    """The page the user lands on after a redirect (with its flashed messages)."""
    assert response.status_code == 302, response.text[:300]
    return client.get(response.headers["Location"].replace(client.base, "")).text


def refused(response) -> str:
    """A refused form comes back (200) with the input kept and the messages beside it."""
    assert response.status_code == 200, response.status_code
    return response.text


def org_id(db, name):
    with db() as s:
        return s.execute(select(YouthOrg.id).where(YouthOrg.name == name)).scalar_one()


def test_list_add_edit_and_profile(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    add = fs.get("/youthorg/add")
    assert add.status_code == 200 and "统一社会信用代码" in add.text and "承接共青团事务类" in add.text
    assert "qqh-picker" in add.text  # the unit is chosen by search, not from a list of 1,901

    data = form(unit_ids["440606"], is_pilot="y")
    landed = flashed(fs, fs.post("/youthorg/add", data=data))
    assert "记录已添加" in landed or "Added Row" not in landed
    pk = org_id(db, data["name"])
    with db() as s:
        org = s.get(YouthOrg, pk)
        assert org.is_pilot is True and org.unit.code == "440606" and org.members == 10

    # edit: register it, with a credit code in lower case
    code = new_credit_code("440606")
    edited = dict(data, reg_status="registered", legal_form="private_non_enterprise", credit_code=code.lower())
    edited.pop("is_pilot")  # unticked box: no longer a pilot
    flashed(fs, fs.post(f"/youthorg/edit/{pk}", data=edited))
    with db() as s:
        org = s.get(YouthOrg, pk)
        assert org.credit_code == code and org.reg_status == "registered" and org.is_pilot is False

    # the list shows labels, not codes; search by name finds it
    listed = fs.get("/youthorg/list/", params={"_flt_0_name": data["name"]})
    assert listed.status_code == 200
    for text in (data["name"], "组织名称", "所属团组织", "直接联系日期", "注册状态", "兴趣爱好自主类", "已注册"):
        assert text in listed.text
    assert ">interest<" not in listed.text

    profile = fs.get(f"/youthorg/profile/{pk}")
    assert profile.status_code == 200
    for text in (data["name"], "基本信息", "接受的服务", "民办非企业单位", code, "2012年3月1日"):
        assert text in profile.text
    show = fs.get(f"/youthorg/show/{pk}", allow_redirects=False)
    assert show.status_code == 302 and show.headers["Location"].endswith(f"/youthorg/profile/{pk}")


def test_page_refusals_write_nothing(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    for changes, words in [
        (dict(contact_phone="123"), "不是有效的电话号码"),
        (dict(credit_code="91350100M000100Y44"), "校验"),
        (dict(founded_on="2999-01-01"), "成立日期不能晚于今天"),
        (dict(reg_status="registered"), "已注册的组织必须填写统一社会信用代码"),
        (dict(unit=str(unit_ids["440300"])), ""),  # Shenzhen is outside Foshan's subtree
    ]:
        data = form(unit_ids["440600"], **changes)
        r = fs.post("/youthorg/add", data=data)
        if r.status_code == 302:
            assert words in flashed(fs, r)
        else:  # the form itself refused the value (e.g. the picker outside the scope)
            assert r.status_code == 200 and "alert-danger" in r.text
        assert count_orgs(db, name=data["name"]) == 0, changes
    # an unreal date is refused by the form, in Chinese
    data = form(unit_ids["440600"], founded_on="2012-13-45")
    r = fs.post("/youthorg/add", data=data)
    assert r.status_code == 200 and "不是有效的日期值" in r.text
    assert count_orgs(db, name=data["name"]) == 0


def test_failed_edit_changes_nothing(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    data = form(unit_ids["440604"])
    flashed(fs, fs.post("/youthorg/add", data=data))
    pk = org_id(db, data["name"])
    r = fs.post(f"/youthorg/edit/{pk}", data=dict(data, members="-5", contact_name="李四"))
    page = refused(r)
    assert "不能为负数" in page and 'value="李四"' in page
    with db() as s:
        org = s.get(YouthOrg, pk)
        assert org.members == 10 and org.contact_name == "张三"


def test_pages_are_scoped(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    data = form(unit_ids["440604"])
    flashed(fs, fs.post("/youthorg/add", data=data))
    pk = org_id(db, data["name"])
    sz = as_user("sz_clerk")
    # (the list page links no record of another unit for a 深圳 clerk: the plugin contract, test_contract.py)
    assert sz.get(f"/youthorg/profile/{pk}").status_code == 404
    assert sz.get(f"/youthorg/edit/{pk}").status_code == 404
    assert sz.post(f"/youthorg/edit/{pk}", data=dict(data, members="1")).status_code == 404
    assert sz.post(f"/youthorg/delete/{pk}").status_code == 404
    assert count_orgs(db, id=pk) == 1 and fs.get(f"/youthorg/profile/{pk}").status_code == 200
    sd = as_user("sd_clerk")
    assert sd.get(f"/youthorg/profile/{pk}").status_code == 404  # 禅城 is not 顺德
    assert sd.get("/youthorg/profile/999999999").status_code == 404


def test_services_from_the_profile(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    data = form(unit_ids["440606"])
    flashed(fs, fs.post("/youthorg/add", data=data))
    pk = org_id(db, data["name"])
    add = fs.get(f"/youthorgservice/add?org={pk}")
    assert add.status_code == 200 and data["name"] in add.text  # the organization is chosen already
    assert 'data-endpoint="/api/v1/youthorg/picker"' in add.text
    service = dict(org=str(pk), kind="purchase", starts_on="2012-04-01", ends_on="2012-12-31",
                   contract="飞扬地带购买服务", amount="600000", outcome="", custodian="", note="")
    r = fs.post(f"/youthorgservice/add?org={pk}", data=service)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/youthorg/profile/{pk}")
    with db() as s:
        svc = s.execute(select(Service).where(Service.org_id == pk)).scalar_one()
        assert svc.unit.code == "440606" and str(svc.amount) == "600000.00"
    profile = fs.get(f"/youthorg/profile/{pk}").text
    assert "购买服务" in profile and "600,000.00" in profile and "2012年4月1日—2012年12月31日" in profile

    bad = dict(service, amount="-1", contract="负数合同")
    assert "负" in refused(fs.post(f"/youthorgservice/add?org={pk}", data=bad))
    bad = dict(service, starts_on="2012-05-01", ends_on="2012-04-01", contract="倒序合同")
    assert "结束日期不能早于开始日期" in refused(fs.post(f"/youthorgservice/add?org={pk}", data=bad))
    assert count_services(db, org_id=pk) == 1

    # Shenzhen can neither pick nor post this organization
    sz = as_user("sz_clerk")
    r = sz.post("/youthorgservice/add", data=dict(service, contract="越权合同"))
    assert r.status_code == 200 and "alert-danger" in r.text
    assert count_services(db, org_id=pk) == 1
    listed = fs.get("/youthorgservice/list/", params={"_flt_0_contract": "飞扬地带购买服务"})
    assert listed.status_code == 200 and "服务类型" in listed.text
    assert f'href="/youthorg/profile/{pk}"' in listed.text  # the organization links to its profile


@pytest.fixture
def shenzhen_switched_off(module_off):
    module_off("440300", "cultivation")


def test_switched_off_module_hides_pages_and_apis(as_user, shenzhen_switched_off):
    sz = as_user("sz_clerk")
    for path in ("/youthorg/list/", "/youthorg/add", "/youthorgservice/list/", "/api/v1/youthorg/",
                 "/api/v1/youthorgservice/", "/api/v1/youthorg/picker?q=a", "/youthorg/profile/1"):
        assert sz.get(path).status_code == 404, path
    home = sz.get("/").text
    assert "/youthorg/list/" not in home
    # Foshan still uses it
    fs = as_user("fs_clerk")
    assert fs.get("/youthorg/list/").status_code == 200
    assert "/youthorg/list/" in fs.get("/").text
