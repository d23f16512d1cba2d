"""The sign-in sheet of a camp (page and API) and the "trainings of its
leaders" section on a youth organization's profile page."""

import io

import openpyxl
import pytest

from core.testing.engines import modules, unit_by_code
from plugins.training.tests.conftest import CAMPS, ENROL, create, new_resident_id, person, unique


@pytest.fixture
def camp_with_roster(as_user, camp_payload, make_org):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload(title=unique("签到测试训练营"), session_no=2, capacity=10))
    org_b = make_org("440606", name=unique("乙组织"))
    org_a = make_org("440606", name=unique("甲组织"))
    people = [
        person(name="张三", resident_id=new_resident_id(), role="会长", attended=True),
        person(name="李四", resident_id=None, gender="female", role=..., attended=False),
        person(name="王五", resident_id=new_resident_id(), role="理事", attended=True),
    ]
    for p, org in zip(people, (org_b, org_a, org_b)):
        r = fs.post(ENROL, json=dict(p, camp=camp, youth_org=org))
        assert r.status_code == 201, r.text
    return camp, people, (org_a, org_b)


def sheet_rows(content):
    ws = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return ws, [[c.value for c in row] for row in ws.iter_rows()]


def test_sign_in_sheet_lists_every_enrolled_person_masked(as_user, camp_with_roster):
    camp, people, _orgs = camp_with_roster
    for client in (as_user("fs_clerk"), as_user("admin")):  # masked on paper, even for an administrator
        for path in (f"/trainingcamp/signin/{camp}", f"{CAMPS}{camp}/signin-sheet"):
            r = client.get(path)
            assert r.status_code == 200, path
            assert r.headers["Content-Type"].startswith("application/vnd.openxmlformats")
            assert "attachment" in r.headers["Content-Disposition"]
            ws, rows = sheet_rows(r.content)
            assert "签到测试训练营" in rows[0][0] and "（第2期）签到表" in rows[0][0]
            assert "佛山市" in rows[1][0] and "2012年4月20日—2012年4月22日" in rows[1][0]
            assert "报名人数：3" in rows[2][0] and "名额：10" in rows[2][0]
            assert rows[3] == ["序号", "学员姓名", "性别", "青年社会组织", "在组织中的职务", "手机号码", "身份证号码", "签名"]
            body = rows[4:]
            assert [row[0] for row in body] == [1, 2, 3]
            # grouped by organization; no-shows are on the sheet too
            assert {row[1] for row in body} == {"李四", "王五", "张三"}
            orgs = [row[3] for row in body]
            assert orgs.index(orgs[-1]) + orgs.count(orgs[-1]) == len(orgs) and len(set(orgs)) == 2
            assert all(row[7] is None for row in body)  # the signature column is empty
            by_name = {row[1]: row for row in body}
            zhang = people[0]
            assert by_name["张三"][6] == zhang["resident_id"][:6] + "********" + zhang["resident_id"][-4:]
            assert by_name["张三"][5] == zhang["phone"][:3] + "****" + zhang["phone"][-4:]
            assert by_name["李四"][6] in (None, "") and by_name["李四"][2] == "女" and by_name["张三"][4] == "会长"
            for p in people:
                assert p["phone"] not in str(rows) and (p["resident_id"] or "-") not in str(rows)
    assert as_user("sz_clerk").get(f"/trainingcamp/signin/{camp}").status_code == 404


def test_profile_shows_the_trainings_of_its_leaders(as_user, camp_with_roster, app):
    camp, people, (org_a, org_b) = camp_with_roster
    fs = as_user("fs_clerk")
    page = fs.get(f"/youthorg/profile/{org_b}")
    assert page.status_code == 200
    text = page.text
    assert "骨干培训（亲青汇训练营）：已培训2人" in text
    for words in ("签到测试训练营", "（第2期）", "张三", "王五", "会长", "已参训", "2012年4月20日—2012年4月22日", "佛山市"):
        assert words in text, words
    assert "李四" not in text  # another organization's leader
    assert people[0]["phone"] not in text and people[0]["resident_id"] not in text
    other = fs.get(f"/youthorg/profile/{org_a}").text
    assert "李四" in other and "已报名，未参训" in other
    fresh = fs.get(f"/youthorg/profile/{_new_org(app)}").text
    assert "该组织尚无骨干报名参加训练营。" in fresh


def _new_org(app):
    from plugins.cultivation.models import YouthOrg

    with app.app_context():
        s = app.appbuilder.session
        org = YouthOrg(name=unique("新组织"), unit=unit_by_code(s, "440606"), category="interest",
                       service_field="other", reg_status="unregistered")
        s.add(org)
        s.commit()
        return org.id


def test_profile_section_disappears_where_training_is_off(as_user, camp_with_roster, app):
    _camp, _people, (_a, org_b) = camp_with_roster
    with app.app_context():
        s = app.appbuilder.session
        modules.set_module(s, unit_by_code(s, "440600"), "training", False)
        s.commit()
    try:
        page = as_user("fs_clerk").get(f"/youthorg/profile/{org_b}")
        assert page.status_code == 200 and "张三" not in page.text and "骨干培训" not in page.text
    finally:
        with app.app_context():
            s = app.appbuilder.session
            modules.set_module(s, unit_by_code(s, "440600"), "training", True)
            s.commit()
    assert "骨干培训" in as_user("fs_clerk").get(f"/youthorg/profile/{org_b}").text
