"""Pages of the plugin over real HTTP: bases with their checklist page,
residencies, funds and grants; refusals flashed in Chinese with nothing
written; scoping; and the module switched off for a unit."""

import pytest
from sqlalchemy import select

from plugins.homes.models import ChecklistEntry, ChecklistItem, Grant, Home, IncubationFund, Residency
from plugins.homes.tests.conftest import FUND_API, HOME_API, count, create, fund_payload, home_payload, unique


def home_form(unit_id, **kw):
    data = dict(
        name=unique("网页家园"), unit=str(unit_id), kind="volunteer_station", address="佛山市顺德区大良街道青年路1号",
        area="120", opened_on="2012-04-01", signage_on="2012-04-20", offers_venue="y", offers_network="y",
        manager="梁嘉欣", phone="13812345678", note="",
    )
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def landed(client, response) -> str:
    """The page the user lands on after a redirect (with its flashed messages)."""
    assert response.status_code == 302, response.text[:300]
    return client.get(response.headers["Location"].replace(client.base, "")).text


def refused(response) -> str:
    """A refused add or edit shows the form again, with the input and the
    messages (nothing is written)."""
    assert response.status_code == 200, response.status_code
    assert "alert-danger" in response.text or "has-error" in response.text
    return response.text


def home_id(db, name):
    with db() as s:
        return s.execute(select(Home.id).where(Home.name == name)).scalar_one()


def test_home_pages_and_the_checklist(as_user, unit_ids, make_org, db):
    fs = as_user("fs_clerk")
    add = fs.get("/qinqinghome/add")
    assert add.status_code == 200
    for text in ("阵地类型", "挂牌日期", "青年地带", "高校学生活动中心", "财务托管", "qqh-picker"):
        assert text in add.text
    data = home_form(unit_ids["440606"])
    landed(fs, fs.post("/qinqinghome/add", data=data))
    pk = home_id(db, data["name"])
    with db() as s:
        h = s.get(Home, pk)
        assert h.unit.code == "440606" and h.offers_venue and not h.offers_custody and str(h.area) == "120.00"

    listed = fs.get("/qinqinghome/list/", params={"_flt_0_name": data["name"]})
    for text in (data["name"], "家园名称", "启用日期", "标准化达标率", "志愿服务站", "2012年4月1日", "场地、网络"):
        assert text in listed.text, text
    assert ">volunteer_station<" not in listed.text

    page = fs.get(f"/qinqinghome/show/{pk}")
    assert page.status_code == 200
    for text in (data["name"], "标准化建设清单", "可编辑的数据", "省级管理员", "统一悬挂“亲青家园”标识牌", "登记达标", "暂无入驻组织"):
        assert text in page.text, text
    with db() as s:
        item = s.execute(select(ChecklistItem.id).where(ChecklistItem.code == "A1")).scalar_one()
        total = s.execute(select(ChecklistItem.id).where(ChecklistItem.active.is_(True))).all()
    # record an item from the base's page: back on the page, the score moves
    add = fs.get(f"/homechecklistentry/add?home={pk}&item={item}")
    assert add.status_code == 200 and data["name"] in add.text
    r = fs.post(f"/homechecklistentry/add?home={pk}&item={item}",
                data={"home": str(pk), "item": str(item), "met_on": "2012-04-20", "evidence": "挂牌仪式照片"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/qinqinghome/show/{pk}")
    page = fs.get(f"/qinqinghome/show/{pk}").text
    assert f"1/{len(total)}" in page and "挂牌仪式照片" in page and "2012年4月20日" in page
    # refusals are flashed in Chinese and write nothing
    r = fs.post(f"/homechecklistentry/add?home={pk}&item={item}",
                data={"home": str(pk), "item": str(item), "met_on": "2012-04-21", "evidence": "again"})
    assert "已登记过" in refused(r)
    assert count(db, ChecklistEntry, home_id=pk) == 1

    # a resident organization, added from the base's page
    org = make_org("440606")
    r = fs.post(f"/homeresidency/add?home={pk}", data={"org": str(org), "home": str(pk), "status": "incubating",
                                                      "entered_on": "2012-05-01", "ended_on": "", "note": ""})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/qinqinghome/show/{pk}")
    page = fs.get(f"/qinqinghome/show/{pk}").text
    assert "孵化中" in page and "2012年5月1日" in page
    bad = {"org": str(org), "home": str(pk), "status": "graduated", "entered_on": "2012-05-01", "ended_on": "", "note": ""}
    assert "出壳或退出日期" in refused(fs.post("/homeresidency/add", data=bad))
    assert count(db, Residency, org_id=org) == 1
    assert fs.get("/homeresidency/list/").status_code == 200


def test_home_page_refusals_and_failed_edit(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    for changes, words in [
        (dict(signage_on="2012-03-01"), "挂牌日期不能早于启用日期"),
        (dict(area="-3"), "面积不能为负数"),
        (dict(phone="123"), "不是有效的电话号码"),
        (dict(kind=""), "请选择阵地类型"),
    ]:
        data = home_form(unit_ids["440600"], **changes)
        assert words in refused(fs.post("/qinqinghome/add", data=data)), changes
        assert count(db, Home, name=data["name"]) == 0
    data = home_form(unit_ids["440600"], unit=str(unit_ids["440300"]))
    r = fs.post("/qinqinghome/add", data=data)  # the picker refuses a unit outside Foshan
    assert r.status_code == 200 and "alert-danger" in r.text
    assert count(db, Home, name=data["name"]) == 0
    # a failed edit changes nothing
    data = home_form(unit_ids["440604"])
    landed(fs, fs.post("/qinqinghome/add", data=data))
    pk = home_id(db, data["name"])
    r = fs.post(f"/qinqinghome/edit/{pk}", data=dict(data, signage_on="2012-01-01", manager="李四"))
    page = refused(r)
    assert "挂牌日期不能早于启用日期" in page and "李四" in page  # the input is kept
    with db() as s:
        assert s.get(Home, pk).manager == "梁嘉欣"


def test_fund_pages_and_an_overdrawing_grant(as_user, unit_ids, make_org, db):
    fs = as_user("fs_clerk")
    add = fs.get("/incubationfund/add")
    assert add.status_code == 200 and "青少年发展基金会" in add.text and "青企青商会员" in add.text
    name = unique("网页孵化基金")
    form = dict(name=name, unit=str(unit_ids["440600"]), established_on="2012-05-28", from_youth_foundation="80000",
                from_volunteer_foundation="20000", from_federation_members="", from_entrepreneurs="", from_other="",
                other_source="", purpose="扶持亲青家园")
    landed(fs, fs.post("/incubationfund/add", data=form))
    with db() as s:
        fund = s.execute(select(IncubationFund).where(IncubationFund.name == name)).scalar_one()
        assert fund.committed == 100000 and fund.unit.code == "440600"
        pk = fund.id
    listed = fs.get("/incubationfund/list/", params={"_flt_0_name": name}).text
    assert "100,000.00" in listed and "可用余额（元）" in listed

    org = make_org()
    grant = dict(fund=str(pk), org=str(org), purpose="项目启动资金", applied_on="2012-06-01", amount="60000",
                 status="approved", approved_on="2012-06-10", approved_by="佛山团市委", note="")
    r = fs.post(f"/incubationgrant/add?fund={pk}", data=grant)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/incubationfund/show/{pk}")
    page = fs.get(f"/incubationfund/show/{pk}").text
    for text in ("认缴总额（元）", "100,000.00", "60,000.00", "40,000.00", "已批准", "项目启动资金", "2012年6月1日"):
        assert text in page, text
    # the grant that would overdraw is refused with the balance named; nothing is written
    r = fs.post(f"/incubationgrant/add?fund={pk}", data=dict(grant, amount="40000.01", status="", approved_on="",
                                                             approved_by=""))
    assert "超出基金可用余额（40,000.00元）" in refused(r)
    assert count(db, Grant, fund_id=pk) == 1
    # raising an existing grant beyond the balance: refused, nothing changed
    with db() as s:
        gid = s.execute(select(Grant.id).where(Grant.fund_id == pk)).scalar_one()
    r = fs.post(f"/incubationgrant/edit/{gid}", data=dict(grant, amount="100000.01"))
    assert "超出基金可用余额" in refused(r)
    with db() as s:
        assert str(s.get(Grant, gid).amount) == "60000.00"
    assert fs.get("/incubationgrant/list/").status_code == 200


def test_pages_are_scoped(as_user, unit_ids, db):
    fs, sz = as_user("fs_clerk"), as_user("sz_clerk")
    home = create(fs, HOME_API, home_payload(unit_ids, unit="440604"))
    fund = create(fs, FUND_API, fund_payload(unit_ids))
    for path in (f"/qinqinghome/show/{home}", f"/qinqinghome/edit/{home}", f"/incubationfund/show/{fund}",
                 f"/incubationfund/edit/{fund}"):
        assert sz.get(path).status_code == 404, path
    assert sz.post(f"/qinqinghome/delete/{home}").status_code == 404
    assert sz.post(f"/incubationfund/delete/{fund}").status_code == 404
    assert count(db, Home, id=home) == 1 and count(db, IncubationFund, id=fund) == 1
    assert as_user("sd_clerk").get(f"/qinqinghome/show/{home}").status_code == 404  # 禅城 is not 顺德
    assert fs.get(f"/qinqinghome/show/{home}").status_code == 200
    # everyone reads the checklist; only province administrators change it
    listed = fs.get("/homechecklistitem/list/")
    assert listed.status_code == 200 and "统一悬挂“亲青家园”标识牌" in listed.text
    assert "/homechecklistitem/add" not in listed.text and "/homechecklistitem/edit/" not in listed.text
    assert fs.get("/homechecklistitem/add").status_code in (302, 403)
    assert "编辑清单" not in fs.get(f"/qinqinghome/show/{home}").text
    admin = as_user("admin")
    listed = admin.get("/homechecklistitem/list/")
    assert listed.status_code == 200 and "省级管理员可编辑" in listed.text and "/homechecklistitem/add" in listed.text
    assert "编辑清单" in admin.get(f"/qinqinghome/show/{home}").text
    assert as_user("fs_admin").get("/homechecklistitem/add").status_code in (302, 403)


@pytest.fixture
def shenzhen_switched_off(module_off):
    module_off("440300", "homes")


def test_switched_off_module_hides_pages_and_apis(as_user, shenzhen_switched_off):
    sz = as_user("sz_clerk")
    for path in ("/qinqinghome/list/", "/qinqinghome/add", "/homeresidency/list/", "/homechecklistentry/list/",
                 "/homesector/list/", "/homepairing/list/", "/incubationfund/list/", "/incubationgrant/list/",
                 "/api/v1/qinqinghome/", "/api/v1/incubationfund/", "/api/v1/incubationgrant/",
                 "/api/v1/qinqinghome/picker?q=a", "/qinqinghome/show/1"):
        assert sz.get(path).status_code == 404, path
    home = sz.get("/").text
    assert "/qinqinghome/list/" not in home and "/incubationfund/list/" not in home
    # cultivation, which homes requires, stays on; Foshan still uses homes
    assert sz.get("/youthorg/list/").status_code == 200
    fs = as_user("fs_clerk")
    assert fs.get("/qinqinghome/list/").status_code == 200
    assert "/qinqinghome/list/" in fs.get("/").text
