"""REST API of camps, enrolments, trainees and lecturers over real HTTP:
happy path, every refusal (422, Chinese message, nothing written), the same
person across camps, masking of personal data, scoping, the shared lecturer
pool, and capacity under concurrent requests."""

import threading

import pytest

from core.api import resident_id_check_char
from plugins.training.models import Camp, Enrolment, Lecturer, Trainee
from plugins.training.tests.conftest import (
    CAMPS, ENROL, LECTURERS, TRAINEES, count, create, new_mobile, new_resident_id, person, unique,
)


@pytest.fixture
def as_user(as_api_user):
    """Every test here runs with a cookie session and with a bearer token (core.testing's as_api_user)."""
    return as_api_user


def enrol(client, camp, org, **kw):
    return client.post(ENROL, json=dict(person(**kw), camp=camp, youth_org=org))


# -- camps ---------------------------------------------------------------------------------
def test_camp_create_read_update_delete(as_user, camp_payload, db):
    fs = as_user("fs_clerk")
    payload = camp_payload(title="  " + unique("佛山市“亲青汇训练营”") + " ")
    pk = create(fs, CAMPS, payload)
    got = fs.get(f"{CAMPS}{pk}").json()["result"]
    assert got["title"] == payload["title"].strip() and got["session_no"] == 1
    assert got["unit"]["code"] == "440600" and got["status_label"] == "报名中"
    assert got["starts_on"] == "2012-04-20" and got["ends_on"] == "2012-04-22"
    assert got["enrolled_count"] == 0 and got["capacity"] == 30
    assert got["institution_partners"] == "公益大讲堂"

    q = f"(filters:!((col:title,opr:eq,value:'{got['title']}')))"
    listed = fs.get(CAMPS, params={"q": q}).json()
    assert listed["count"] == 1 and listed["result"][0]["id"] == pk

    r = fs.put(f"{CAMPS}{pk}", json={"capacity": 45, "status": "finished"})
    assert r.status_code == 200, r.text
    assert fs.get(f"{CAMPS}{pk}").json()["result"]["capacity"] == 45
    assert fs.delete(f"{CAMPS}{pk}").status_code == 200
    assert count(db, Camp, id=pk) == 0


def test_camp_info_labels_are_chinese(as_user):
    info = as_user("fs_clerk").get(f"{CAMPS}_info").json()
    labels = {f["name"]: f["label"] for f in info["add_columns"]}
    assert labels["session_no"] == "期次" and labels["capacity"] == "名额" and labels["unit"] == "主办单位"


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(ends_on="2012-04-19"), "ends_on", "结束日期不能早于开始日期"),
        (dict(capacity=0), "capacity", "名额须为1到10000之间的整数"),
        (dict(capacity=-5), "capacity", "名额"),
        (dict(session_no=0), "session_no", "期次"),
        (dict(title="   "), "title", "请填写训练营名称"),
        (dict(place=""), "place", "请填写举办地点"),
        (dict(status="someday"), "status", "请选择训练营状态"),
        (dict(status="finished", starts_on="2999-01-01", ends_on="2999-01-02"), "status", "到结束日期后"),
        (dict(starts_on=...), "starts_on", "开始日期"),
    ],
)
def test_bad_camp_is_refused_and_nothing_written(as_user, camp_payload, db, changes, field, words):
    fs = as_user("fs_clerk")
    payload = camp_payload(**changes)
    r = fs.post(CAMPS, json=payload)
    assert r.status_code == 422, r.text
    messages = r.json()["message"]
    assert words in "".join(messages.get(field, [])), messages
    assert count(db, Camp, title=payload["title"]) == 0


def test_duplicate_session_and_illegal_transitions(as_user, camp_payload):
    fs = as_user("fs_clerk")
    first = camp_payload(status="finished")
    pk = create(fs, CAMPS, first)
    r = fs.post(CAMPS, json=dict(first, status="planned"))
    assert r.status_code == 422 and "已有同名训练营的这一期" in "".join(r.json()["message"]["session_no"])
    create(fs, CAMPS, dict(first, session_no=2))  # the next session is fine
    r = fs.put(f"{CAMPS}{pk}", json={"status": "open"})  # finished is final
    assert r.status_code == 422 and "不能从“已结束”改为“报名中”" in "".join(r.json()["message"]["status"])
    assert fs.get(f"{CAMPS}{pk}").json()["result"]["status"] == "finished"
    cancelled = create(fs, CAMPS, camp_payload(status="cancelled"))
    assert fs.put(f"{CAMPS}{cancelled}", json={"status": "finished"}).status_code == 422
    assert fs.put(f"{CAMPS}{cancelled}", json={"status": "planned"}).status_code == 200


def test_camp_scoping(as_user, camp_payload, unit_ids):
    fs = as_user("fs_clerk")
    foshan = create(fs, CAMPS, camp_payload())
    shunde = create(fs, CAMPS, camp_payload(unit="440606"))
    sz = as_user("sz_clerk")
    assert sz.get(f"{CAMPS}{foshan}").status_code == 404
    assert sz.put(f"{CAMPS}{foshan}", json={"capacity": 1}).status_code == 404
    assert sz.delete(f"{CAMPS}{foshan}").status_code == 404
    assert sz.get(f"{CAMPS}{foshan}/signin-sheet").status_code == 404
    # (a 深圳 clerk's list shows no record of another unit: the plugin contract, test_contract.py)
    assert fs.get(f"{CAMPS}{foshan}").json()["result"]["capacity"] == 30  # untouched

    sd = as_user("sd_clerk")
    seen = {c["id"] for c in sd.get(CAMPS, params={"q": "(page_size:500)"}).json()["result"]}
    assert shunde in seen and foshan not in seen

    # a camp for a unit outside the subtree, or moved there
    r = fs.post(CAMPS, json=camp_payload(unit="440300"))
    assert r.status_code == 422 and "unit" in r.json()["message"]
    r = fs.put(f"{CAMPS}{foshan}", json={"unit": unit_ids["440300"]})
    assert r.status_code == 422
    assert fs.get(f"{CAMPS}{foshan}").json()["result"]["unit"]["code"] == "440600"


def test_picker_lists_camps_of_the_scope(as_user, camp_payload):
    fs = as_user("fs_clerk")
    tag = unique("拣选")
    pk = create(fs, CAMPS, camp_payload(title=tag + "训练营", session_no=3))
    r = fs.get(f"{CAMPS}picker", params={"q": tag})
    assert [x["id"] for x in r.json()["results"]] == [pk]
    assert "（第3期）" in r.json()["results"][0]["text"]
    assert as_user("sz_clerk").get(f"{CAMPS}picker", params={"q": tag}).json()["results"] == []


# -- enrolments ----------------------------------------------------------------------------
def test_enrolment_happy_path_and_attendance(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload())
    org = make_org("440606")
    rid = new_resident_id(male=False)
    r = enrol(fs, camp, org, gender=..., resident_id=" " + rid.lower() + " ", phone="139 1234 5678",
              name=unique("陈嘉欣")[:8])
    assert r.status_code == 201, r.text
    pk = r.json()["id"]
    got = fs.get(f"{ENROL}{pk}").json()["result"]
    assert got["gender"] == "female" and got["gender_label"] == "女"  # from the ID number
    assert got["unit"]["code"] == "440600"  # the camp's unit
    assert got["attended"] is False and got["camp"]["id"] == camp and got["youth_org"]["id"] == org
    camp_now = fs.get(f"{CAMPS}{camp}").json()["result"]
    assert camp_now["enrolled_count"] == 1 and camp_now["attended_count"] == 0
    r = fs.put(f"{ENROL}{pk}", json={"attended": True})
    assert r.status_code == 200, r.text
    assert fs.get(f"{CAMPS}{camp}").json()["result"]["attended_count"] == 1
    with db() as s:
        e = s.get(Enrolment, pk)
        assert e.resident_id == rid and e.phone == "13912345678" and e.trainee.resident_id == rid
    assert fs.delete(f"{ENROL}{pk}").status_code == 200
    assert count(db, Enrolment, id=pk) == 0


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(resident_id="440606199003070024"), "resident_id", "校验"),
        (dict(resident_id="FEB30"), "resident_id", "不存在"),
        (dict(resident_id="4406061990"), "resident_id", "18"),
        (dict(phone="12345"), "phone", "不是有效的电话号码"),
        (dict(phone=""), "phone", "请填写学员的手机号码"),
        (dict(phone="139****5678"), "phone", "已脱敏"),
        (dict(name=" "), "name", "请填写学员姓名"),
        (dict(gender="robot"), "gender", "请选择学员性别"),
        (dict(gender=..., resident_id=None), "gender", "请选择学员性别"),
        (dict(gender="female", resident_id="MALE"), "gender", "性别与身份证号码"),
        (dict(enrolled_on="2999-01-01"), "enrolled_on", "报名日期不能晚于今天"),
        (dict(youth_org=...), "youth_org", "“青年社会组织”为必填项"),
        (dict(camp=...), "camp", "“训练营”为必填项"),
    ],
)
def test_bad_enrolment_is_refused_and_nothing_written(as_user, camp_payload, make_org, db, changes, field, words):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload())
    org = make_org("440606")
    if changes.get("resident_id") == "MALE":
        changes["resident_id"] = new_resident_id(male=True)
    if changes.get("resident_id") == "FEB30":  # a right check character, a wrong date
        changes["resident_id"] = "44060619900230001" + resident_id_check_char("44060619900230001")
    payload = dict(person(), camp=camp, youth_org=org)
    payload.update(changes)
    payload = {k: v for k, v in payload.items() if v is not ...}
    r = fs.post(ENROL, json=payload)
    assert r.status_code == 422, r.text
    messages = r.json()["message"]
    assert words in "".join(messages.get(field, [])), messages
    assert count(db, Enrolment, camp_id=camp) == 0


def test_duplicate_enrolment_is_refused(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload())
    org = make_org("440606")
    first = person()
    assert enrol(fs, camp, org, **first).status_code == 201
    # the same ID number (another phone, another spelling of the name)
    r = enrol(fs, camp, org, **dict(first, phone=new_mobile(), name=first["name"][:-1] + "甲"))
    assert r.status_code == 422 and "已报名本期训练营" in "".join(r.json()["message"]["name"])
    # no ID number given: the same name and phone
    r = enrol(fs, camp, org, **dict(first, resident_id=None, gender="male"))
    assert r.status_code == 422 and "已报名本期训练营" in "".join(r.json()["message"]["name"])
    assert count(db, Enrolment, camp_id=camp) == 1
    # an edit that turns another line into the same person is refused too
    other = enrol(fs, camp, org).json()["id"]
    r = fs.put(f"{ENROL}{other}", json={"resident_id": first["resident_id"], "gender": "male"})
    assert r.status_code == 422
    assert count(db, Enrolment, camp_id=camp) == 2


def test_the_same_person_across_camps_is_one_trainee(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    sz = as_user("sz_clerk")
    a = create(fs, CAMPS, camp_payload())
    b = create(fs, CAMPS, camp_payload(unit="440606", starts_on="2012-06-01", ends_on="2012-06-02"))
    c = create(sz, CAMPS, camp_payload(unit="440300"))
    fs_org, sz_org = make_org("440606"), make_org("440300")
    p = person(resident_id=None)  # first known by name and phone only
    e1 = enrol(fs, a, fs_org, **p).json()["id"]
    rid = new_resident_id(male=True)
    e2 = enrol(fs, b, fs_org, **dict(p, resident_id=rid)).json()["id"]  # the ID number is learnt
    e3 = enrol(sz, c, sz_org, **dict(p, phone=new_mobile(), resident_id=rid)).json()["id"]  # another city, new phone
    stranger = enrol(fs, b, fs_org, **dict(p, phone=new_mobile(), resident_id=None)).json()["id"]  # same name only
    with db() as s:
        ids = {pk: s.get(Enrolment, pk).trainee_id for pk in (e1, e2, e3, stranger)}
        assert ids[e1] == ids[e2] == ids[e3] != ids[stranger]
        assert s.get(Trainee, ids[e1]).resident_id == rid
    # a Shenzhen clerk registering someone Foshan trained is not refused
    # (a person belongs to no unit), and sees only their own roster line
    rows = sz.get(ENROL, params={"q": f"(filters:!((col:camp,opr:rel_o_m,value:{a})))"}).json()
    assert rows["count"] == 0


def test_capacity_is_enforced(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload(capacity=2))
    org = make_org("440606")
    assert enrol(fs, camp, org).status_code == 201
    assert enrol(fs, camp, org).status_code == 201
    r = enrol(fs, camp, org)
    assert r.status_code == 422 and "训练营已满员：2个名额已全部报满" in "".join(r.json()["message"]["camp"])
    assert count(db, Enrolment, camp_id=camp) == 2
    # and the places cannot be cut below the enrolments
    r = fs.put(f"{CAMPS}{camp}", json={"capacity": 1})
    assert r.status_code == 422 and "已有2人报名" in "".join(r.json()["message"]["capacity"])


def test_capacity_holds_under_concurrent_requests(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload(capacity=3))
    org = make_org("440606")
    clients = [as_user("fs_clerk") for _ in range(8)]
    results = []
    start = threading.Barrier(len(clients))

    def go(client):
        start.wait()
        results.append(enrol(client, camp, org).status_code)

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert count(db, Enrolment, camp_id=camp) == 3
    assert sorted(results).count(201) == 3 and set(results) <= {201, 422}, results


def test_cancelled_camp_and_attendance_rules(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    org = make_org("440606")
    future = create(fs, CAMPS, camp_payload(status="open", starts_on="2999-05-01", ends_on="2999-05-02"))
    r = enrol(fs, future, org, attended=True)
    assert r.status_code == 422 and "训练营开始后才能登记参训" in "".join(r.json()["message"]["attended"])
    assert enrol(fs, future, org).status_code == 201  # enrolling ahead is the point

    camp = create(fs, CAMPS, camp_payload())
    pk = enrol(fs, camp, org, attended=True).json()["id"]
    r = fs.put(f"{CAMPS}{camp}", json={"status": "cancelled"})
    assert r.status_code == 422 and "已有1人参训" in "".join(r.json()["message"]["status"])
    assert fs.put(f"{ENROL}{pk}", json={"attended": False}).status_code == 200
    assert fs.put(f"{CAMPS}{camp}", json={"status": "cancelled"}).status_code == 200
    r = enrol(fs, camp, org)
    assert r.status_code == 422 and "不再接受报名" in "".join(r.json()["message"]["camp"])
    r = fs.put(f"{ENROL}{pk}", json={"attended": True})
    assert r.status_code == 422 and "已取消" in "".join(r.json()["message"]["attended"])
    # a camp with a roster is not deleted
    r = fs.delete(f"{CAMPS}{camp}")
    assert r.status_code == 422 and "已有1人报名" in str(r.json()["message"])
    assert count(db, Camp, id=camp) == 1


def test_enrolment_scoping(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload())
    fs_org, sz_org = make_org("440606"), make_org("440300")
    pk = enrol(fs, camp, fs_org).json()["id"]
    sz = as_user("sz_clerk")
    assert sz.get(f"{ENROL}{pk}").status_code == 404
    assert sz.put(f"{ENROL}{pk}", json={"attended": True}).status_code == 404
    assert sz.delete(f"{ENROL}{pk}").status_code == 404
    # enrolling into another city's camp, or a leader of another city's organization
    sz_camp = create(sz, CAMPS, camp_payload(unit="440300"))
    r = enrol(sz, camp, sz_org)
    assert r.status_code == 422
    r = enrol(fs, sz_camp, fs_org)
    assert r.status_code == 422
    r = enrol(fs, camp, sz_org)
    assert r.status_code == 422 and "youth_org" in r.json()["message"]
    assert count(db, Enrolment, camp_id=camp) == 1 and count(db, Enrolment, camp_id=sz_camp) == 0
    # the organization picker of the form
    assert sz.get(f"{ENROL}orgs", params={"q": "测试组织"}).status_code == 200  # make_org's names
    assert all("顺德" not in o["text"] for o in sz.get(f"{ENROL}orgs", params={"q": "测试组织"}).json()["results"])


# -- personal data -------------------------------------------------------------------------
def test_id_numbers_and_phones_are_masked_except_for_province_admins(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload())
    rid, phone = new_resident_id(), new_mobile()
    r = enrol(fs, camp, make_org("440606"), resident_id=rid, phone=phone)
    assert r.status_code == 201
    assert r.json()["result"]["resident_id"] == rid[:6] + "********" + rid[-4:]  # even the answer to the POST
    assert r.json()["result"]["phone"] == phone[:3] + "****" + phone[-4:]
    pk = r.json()["id"]
    for client, full in ((fs, False), (as_user("fs_inspector"), False), (as_user("fs_admin"), False),
                         (as_user("admin"), True)):
        got = client.get(f"{ENROL}{pk}").json()["result"]
        listed = client.get(ENROL, params={"q": f"(filters:!((col:camp,opr:rel_o_m,value:{camp})))"}).json()
        row = listed["result"][0]
        if full:
            assert got["resident_id"] == rid and got["phone"] == phone and row["resident_id"] == rid
        else:
            assert got["resident_id"] == rid[:6] + "********" + rid[-4:] and "*" in got["phone"]
            assert row["resident_id"] == got["resident_id"] and row["phone"] == got["phone"]
            assert rid not in str(listed) and phone not in str(listed)

    # sending the masked values back (a client that only saw them) keeps the stored ones
    masked = fs.get(f"{ENROL}{pk}").json()["result"]
    r = fs.put(f"{ENROL}{pk}", json={"resident_id": masked["resident_id"], "phone": masked["phone"], "role": "会长"})
    assert r.status_code == 200, r.text
    assert rid not in r.text and phone not in r.text  # the PUT's answer is masked too
    with db() as s:
        e = s.get(Enrolment, pk)
        assert e.resident_id == rid and e.phone == phone and e.role == "会长"
    # a masked value that is not the stored one is refused
    other = rid[:6] + "********" + ("0000" if rid[-4:] != "0000" else "1111")
    r = fs.put(f"{ENROL}{pk}", json={"resident_id": other})
    assert r.status_code == 422 and "已脱敏" in "".join(r.json()["message"]["resident_id"])
    # ID numbers are never filters (a filter would be an oracle)
    r = fs.get(ENROL, params={"q": f"(filters:!((col:resident_id,opr:eq,value:'{rid}')))"})
    assert r.status_code == 400


def test_trainees_are_seen_through_the_rosters_of_the_scope(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload(unit="440606"))
    p = person()
    e = enrol(fs, camp, make_org("440606"), **dict(p, attended=True)).json()["id"]
    with db() as s:
        tid = s.get(Enrolment, e).trainee_id
    got = fs.get(f"{TRAINEES}{tid}").json()["result"]
    assert got["name"] == p["name"] and got["camps_attended"] == 1 and "*" in got["resident_id"]
    assert as_user("sd_clerk").get(f"{TRAINEES}{tid}").status_code == 200
    assert as_user("sz_clerk").get(f"{TRAINEES}{tid}").status_code == 404
    assert as_user("admin").get(f"{TRAINEES}{tid}").json()["result"]["resident_id"] == p["resident_id"]
    # read-only: people are corrected on their enrolments
    assert fs.put(f"{TRAINEES}{tid}", json={"name": "改名"}).status_code in (403, 404, 405)
    assert fs.delete(f"{TRAINEES}{tid}").status_code in (403, 404, 405)


# -- the lecturer pool -----------------------------------------------------------------------
def lecturer_payload(unit_ids, unit="440600", **kw):
    data = {"name": unique("讲师")[:8], "institution": "佛山科学技术学院", "unit": unit_ids[unit], "title": "副教授",
            "expertise": "社区社会工作", "phone": "0757 8298 0009", "email": "teacher@fosu.edu.cn"}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not ...}


def test_lecturer_pool_is_shared_but_kept_by_its_unit(as_user, unit_ids, camp_payload, db):
    fs, sz = as_user("fs_clerk"), as_user("sz_clerk")
    lec = create(fs, LECTURERS, lecturer_payload(unit_ids))
    assert fs.get(f"{LECTURERS}{lec}").json()["result"]["phone"] == "0757-82980009"
    # Shenzhen reads it, finds it in the list, and invites it to its own camp
    assert sz.get(f"{LECTURERS}{lec}").status_code == 200
    ids = {x["id"] for x in sz.get(LECTURERS, params={"q": "(page_size:500)"}).json()["result"]}
    assert lec in ids
    camp = create(sz, CAMPS, camp_payload(unit="440300", lecturers=[lec]))
    got = sz.get(f"{CAMPS}{camp}").json()["result"]
    assert [x["id"] for x in got["lecturers"]] == [lec]
    assert sz.get(f"{LECTURERS}{lec}").json()["result"]["camps_count"] == 1
    # but cannot change or delete it
    r = sz.put(f"{LECTURERS}{lec}", json={"title": "教授"})
    assert r.status_code == 403 and "其他单位的师资库" in r.json()["message"]
    r = sz.delete(f"{LECTURERS}{lec}")
    assert r.status_code == 403
    with db() as s:
        assert s.get(Lecturer, lec).title == "副教授"
    # nor keep one for a unit outside its subtree
    r = sz.post(LECTURERS, json=lecturer_payload(unit_ids, unit="440600", name=unique("讲师")[:8]))
    assert r.status_code == 422
    # the keeping unit can
    assert fs.put(f"{LECTURERS}{lec}", json={"title": "教授"}).status_code == 200
    assert as_user("sd_clerk").put(f"{LECTURERS}{lec}", json={"title": "讲师"}).status_code == 403  # below is not above
    # leaving the pool ends its links, also to other units' camps (which Foshan cannot edit)
    assert fs.delete(f"{LECTURERS}{lec}").status_code == 200
    assert sz.get(f"{CAMPS}{camp}").json()["result"]["lecturers"] == []
    assert count(db, Lecturer, id=lec) == 0


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(name=""), "name", "请填写讲师姓名"),
        (dict(institution=" "), "institution", "所在高校或机构"),
        (dict(expertise=""), "expertise", "专长领域"),
        (dict(phone="88"), "phone", "不是有效的电话号码"),
        (dict(email="not-an-address"), "email", "电子邮箱"),
    ],
)
def test_bad_lecturer_is_refused(as_user, unit_ids, db, changes, field, words):
    payload = lecturer_payload(unit_ids, **changes)
    r = as_user("fs_clerk").post(LECTURERS, json=payload)
    assert r.status_code == 422, r.text
    assert words in "".join(r.json()["message"].get(field, [])), r.json()


def test_duplicate_lecturer_is_refused(as_user, unit_ids):
    fs = as_user("fs_clerk")
    payload = lecturer_payload(unit_ids)
    create(fs, LECTURERS, payload)
    r = fs.post(LECTURERS, json=payload)
    assert r.status_code == 422 and "已有该机构的这位讲师" in "".join(r.json()["message"]["name"])


def test_inspector_reads_but_cannot_write(as_user, camp_payload):
    pk = create(as_user("fs_clerk"), CAMPS, camp_payload())
    insp = as_user("fs_inspector")
    assert insp.get(f"{CAMPS}{pk}").status_code == 200
    assert insp.post(CAMPS, json=camp_payload()).status_code in (401, 403)
    assert insp.delete(f"{CAMPS}{pk}").status_code in (401, 403)


def test_apis_are_in_the_openapi_document(app):
    """Built the way FAB builds /api/v1/_openapi (served when FAB_API_SWAGGER_UI is on)."""
    from flask_appbuilder.api import BaseApi
    from flask_appbuilder.api.manager import OpenApi

    with app.test_request_context():
        spec = OpenApi._create_api_spec("v1")
        for view in app.appbuilder.baseviews:
            if isinstance(view, BaseApi) and view.version == "v1":
                view.add_api_spec(spec)
        paths = spec.to_dict()["paths"]
    for resource in ("trainingcamp", "trainingenrolment", "trainingtrainee", "traininglecturer"):
        assert "get" in paths[f"/api/v1/{resource}/"], resource
    assert "post" in paths["/api/v1/trainingcamp/"] and "post" in paths["/api/v1/trainingenrolment/"]
    assert "get" in paths["/api/v1/trainingcamp/{pk}/signin-sheet"]
    assert "get" in paths["/api/v1/trainingcamp/picker"] and "get" in paths["/api/v1/trainingenrolment/orgs"]
