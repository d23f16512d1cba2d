"""Pages of the plugin over real HTTP: camps, enrolments (with masking in
lists, detail pages and edit forms), trainees, lecturers; refusals, scoping,
and the module switched off for a unit."""

import pytest
from sqlalchemy import select

from plugins.training.models import Camp, Enrolment, Lecturer
from plugins.training.tests.conftest import CAMPS, ENROL, count, create, new_mobile, new_resident_id, person, unique


def camp_form(unit_id, **kw):
    data = dict(
        title=unique("网页训练营"), session_no="1", unit=str(unit_id), starts_on="2012-05-11", ends_on="2012-05-13",
        place="佛山市青年文化宫", capacity="40", status="open", media_partners="佛山日报", org_partners="",
        institution_partners="公益大讲堂", note="",
    )
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def enrol_form(camp, org, **kw):
    p = person()
    data = dict(camp=str(camp), youth_org=str(org), name=p["name"], gender="male", phone=p["phone"],
                resident_id=p["resident_id"], role="会长", enrolled_on="2012-05-01", note="")
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def landed(client, response) -> str:
    """The page the user lands on after a saved form (a redirect, with its
    flashed messages)."""
    assert response.status_code == 302, response.text[:300]
    return client.get(response.headers["Location"].replace(client.base, "")).text


def refused(response) -> str:
    """A refused form comes back (200) with the input and the messages."""
    assert response.status_code == 200, response.status_code
    return response.text


def camp_id(db, title):
    with db() as s:
        return s.execute(select(Camp.id).where(Camp.title == title)).scalar_one()


def enrolment_id(db, name):
    with db() as s:
        return s.execute(select(Enrolment.id).where(Enrolment.name == name)).scalar_one()


def test_camp_pages(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    add = fs.get("/trainingcamp/add")
    assert add.status_code == 200
    for text in ("期次", "主办单位", "名额", "合作媒体", "授课讲师", "报名中", "qqh-picker"):
        assert text in add.text, text
    data = camp_form(unit_ids["440600"])
    assert "alert-danger" not in landed(fs, fs.post("/trainingcamp/add", data=data))
    pk = camp_id(db, data["title"])
    with db() as s:
        camp = s.get(Camp, pk)
        assert camp.unit.code == "440600" and camp.capacity == 40 and camp.status == "open"

    listed = fs.get("/trainingcamp/list/", params={"_flt_0_title": data["title"]})
    assert listed.status_code == 200
    for text in (data["title"], "训练营名称", "期次", "开始日期", "已参训", "报名中", "2012年5月11日"):
        assert text in listed.text, text

    show = fs.get(f"/trainingcamp/show/{pk}")
    assert show.status_code == 200
    for text in (data["title"], "下载签到表", "骨干报名", f"/trainingcamp/signin/{pk}", "报名记录", "剩余名额"):
        assert text in show.text, text

    r = fs.post(f"/trainingcamp/edit/{pk}", data=dict(data, capacity="50", status="finished"))
    landed(fs, r)
    with db() as s:
        camp = s.get(Camp, pk)
        assert camp.capacity == 50 and camp.status == "finished"


def test_camp_page_refusals_write_nothing(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    for changes, words in [
        (dict(ends_on="2012-05-01"), "结束日期不能早于开始日期"),
        (dict(capacity="0"), "名额须为1到10000之间的整数"),
        (dict(place=" "), "请填写举办地点"),
    ]:
        data = camp_form(unit_ids["440600"], **changes)
        assert words in refused(fs.post("/trainingcamp/add", data=data)), changes
        assert count(db, Camp, title=data["title"]) == 0
    # Shenzhen is outside Foshan's subtree: the picker refuses it
    data = camp_form(unit_ids["440300"])
    r = fs.post("/trainingcamp/add", data=data)
    assert r.status_code == 200 and "alert-danger" in r.text
    assert count(db, Camp, title=data["title"]) == 0


def test_enrolment_pages_and_masking(as_user, unit_ids, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload(capacity=2))
    org = make_org("440606")
    add = fs.get(f"/trainingenrolment/add?camp={camp}")
    assert add.status_code == 200 and 'data-endpoint="/api/v1/trainingcamp/picker"' in add.text
    assert 'data-endpoint="/api/v1/trainingenrolment/orgs"' in add.text
    assert f'<option value="{camp}" selected>' in add.text  # the camp is chosen already

    rid, phone = new_resident_id(), new_mobile()
    data = enrol_form(camp, org, resident_id=rid, phone=phone, attended="y")
    r = fs.post(f"/trainingenrolment/add?camp={camp}", data=data)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/trainingcamp/show/{camp}")
    pk = enrolment_id(db, data["name"])
    with db() as s:
        e = s.get(Enrolment, pk)
        assert e.resident_id == rid and e.attended is True and e.unit.code == "440600"

    masked_id, masked_phone = rid[:6] + "********" + rid[-4:], phone[:3] + "****" + phone[-4:]
    for path in ("/trainingenrolment/list/", f"/trainingenrolment/show/{pk}", f"/trainingcamp/show/{camp}",
                 "/trainingtrainee/list/"):
        text = fs.get(path, params={"_flt_0_name": data["name"]} if "list" in path else None).text
        assert masked_id in text and rid not in text and phone not in text, path
    admin = as_user("admin")
    text = admin.get(f"/trainingenrolment/show/{pk}").text
    assert rid in text and phone in text

    # the edit form shows the masked values; saving it unchanged keeps the real ones
    form = fs.get(f"/trainingenrolment/edit/{pk}").text
    assert masked_id in form and rid not in form and phone not in form
    r = fs.post(f"/trainingenrolment/edit/{pk}",
                data=dict(data, resident_id=masked_id, phone=masked_phone, role="秘书长"))
    landed(fs, r)
    with db() as s:
        e = s.get(Enrolment, pk)
        assert e.resident_id == rid and e.phone == phone and e.role == "秘书长"

    # refusals, each flashed in Chinese, nothing written
    for changes, words in [
        (dict(resident_id=rid[:-1] + ("0" if rid[-1] != "0" else "1")), "校验码不符"),
        (dict(phone="12345"), "不是有效的电话号码"),
        (dict(resident_id=rid), "已报名本期训练营"),
    ]:
        bad = enrol_form(camp, org, **changes)
        page = refused(fs.post("/trainingenrolment/add", data=bad))
        assert words in page and bad["name"] in page, changes  # the input is kept
        assert count(db, Enrolment, name=bad["name"]) == 0
    second = enrol_form(camp, org)  # the second and last place
    assert "alert-danger" not in landed(fs, fs.post("/trainingenrolment/add", data=second))
    assert count(db, Enrolment, name=second["name"]) == 1
    full = enrol_form(camp, org)
    assert "训练营已满员" in refused(fs.post("/trainingenrolment/add", data=full))
    assert count(db, Enrolment, camp_id=camp) == 2


def test_pages_are_scoped(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload())
    r = fs.post(ENROL, json=dict(person(), camp=camp, youth_org=make_org("440606")))
    pk = r.json()["id"]
    sz = as_user("sz_clerk")
    for path in (f"/trainingcamp/show/{camp}", f"/trainingcamp/edit/{camp}", f"/trainingcamp/signin/{camp}",
                 f"/trainingenrolment/show/{pk}", f"/trainingenrolment/edit/{pk}"):
        assert sz.get(path).status_code == 404, path
    assert sz.post(f"/trainingcamp/delete/{camp}").status_code == 404
    assert sz.post(f"/trainingenrolment/delete/{pk}").status_code == 404
    assert count(db, Camp, id=camp) == 1 and count(db, Enrolment, id=pk) == 1
    # (the list page links no record of another unit for a 深圳 clerk: the plugin contract, test_contract.py)
    # a Shenzhen form cannot pick a Foshan camp
    r = sz.post("/trainingenrolment/add", data=enrol_form(camp, make_org("440300")))
    assert r.status_code == 200 and "alert-danger" in r.text
    assert count(db, Enrolment, camp_id=camp) == 1


def test_lecturer_pages(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    name = unique("讲师")[:8]
    data = dict(name=name, institution="佛山科学技术学院", unit=str(unit_ids["440600"]), title="副教授",
                expertise="社区社会工作", phone="0757-82980009", email="", note="")
    landed(fs, fs.post("/traininglecturer/add", data=data))
    with db() as s:
        pk = s.execute(select(Lecturer.id).where(Lecturer.name == name)).scalar_one()
    sz = as_user("sz_clerk")
    listed = sz.get("/traininglecturer/list/", params={"_flt_0_name": name})
    assert name in listed.text and "社会工作师资库" in listed.text
    assert sz.get(f"/traininglecturer/show/{pk}").status_code == 200
    r = sz.get(f"/traininglecturer/edit/{pk}")  # (a GET follows the redirect)
    assert r.url.endswith(f"/traininglecturer/show/{pk}") and "其他单位的师资库" in r.text
    r = sz.post(f"/traininglecturer/delete/{pk}")
    assert "其他单位的师资库" in landed(sz, r)
    r = sz.post(f"/traininglecturer/edit/{pk}", data=dict(data, title="讲师"))
    assert "其他单位的师资库" in landed(sz, r)
    assert count(db, Lecturer, id=pk) == 1
    # the keeping unit edits it
    landed(fs, fs.post(f"/traininglecturer/edit/{pk}", data=dict(data, title="教授")))
    with db() as s:
        assert s.get(Lecturer, pk).title == "教授"
    # the camp form offers the whole pool, also to Shenzhen
    assert name in sz.get("/trainingcamp/add").text


@pytest.fixture
def shenzhen_switched_off(module_off):
    module_off("440300", "training")


def test_switched_off_module_hides_pages_and_apis(as_user, shenzhen_switched_off):
    sz = as_user("sz_clerk")
    for path in ("/trainingcamp/list/", "/trainingcamp/add", "/trainingenrolment/list/", "/trainingtrainee/list/",
                 "/traininglecturer/list/", "/api/v1/trainingcamp/", "/api/v1/trainingenrolment/",
                 "/api/v1/traininglecturer/", "/api/v1/trainingtrainee/", "/api/v1/trainingcamp/picker?q=a",
                 "/api/v1/export/enrolment", "/api/v1/import/enrolment/template"):
        assert sz.get(path).status_code == 404, path
    home = sz.get("/").text
    assert "/trainingcamp/list/" not in home and "/traininglecturer/list/" not in home
    # the organizations themselves (cultivation) stay
    assert sz.get("/youthorg/list/").status_code == 200
    fs = as_user("fs_clerk")
    assert fs.get("/trainingcamp/list/").status_code == 200
    assert "/trainingcamp/list/" in fs.get("/").text


def test_no_page_references_the_internet(as_user, camp_payload):
    import re

    external = re.compile(r"""<(script|link|img|iframe|source)\b[^>]*?\b(src|href)\s*=\s*["']?\s*(https?:)?//""", re.I)
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload())
    for page in ("/trainingcamp/list/", "/trainingcamp/add", f"/trainingcamp/show/{camp}", f"/trainingcamp/edit/{camp}",
                 "/trainingenrolment/list/", "/trainingenrolment/add", "/trainingtrainee/list/",
                 "/traininglecturer/list/", "/traininglecturer/add"):
        r = fs.get(page)
        assert r.status_code == 200, page
        assert not external.findall(r.text), page
        assert r.text.count("<option") < 200, page  # no list of every unit or organization
