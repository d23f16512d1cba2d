"""Personal data declared once on the model (``__qqh_personal__``, core/tenancy/personal.py):
never an oracle by sorting, filtering or searching; matching a trainee by ID
number reveals no other unit's record; no orphan trainee after edits; record
pages and related-field choices limited to the viewer's scope; a record
outside the scope is "not found" before any rule about it runs."""

from __future__ import annotations

import re

from sqlalchemy import select

from plugins.training.models import Enrolment, Trainee
from plugins.training.tests.conftest import (
    CAMPS, ENROL, LECTURERS, TRAINEES, count, create, new_mobile, new_resident_id, person, unique,
)


def enrol(client, camp, org, **kw):
    return client.post(ENROL, json=dict(person(**kw), camp=camp, youth_org=org))


def _names_in(html: str, names) -> list[str]:
    """The given names in the order they appear on the page."""
    found = sorted((html.find(n), n) for n in names if n in html)
    return [n for _, n in found]


def test_personal_columns_are_never_sorted_filtered_or_searched(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload())
    org = make_org("440606")
    tag = unique("序")[:6]
    # names in one order, phones and ID numbers in the other
    low, high = sorted([new_resident_id(), new_resident_id()])
    people = [(f"{tag}A", "13900000009", high), (f"{tag}B", "13900000001", low)]
    for name, phone, rid in people:
        assert enrol(fs, camp, org, name=name, phone=phone, resident_id=rid).status_code == 201
    names = [p[0] for p in people]
    for view, url in (("EnrolmentView", "/trainingenrolment/list/"), ("TraineeView", "/trainingtrainee/list/")):
        for col in ("phone", "resident_id", "trainee.phone"):
            for direction in ("asc", "desc"):
                page = fs.get(url, params={f"_oc_{view}": col, f"_od_{view}": direction, f"_flt_0_name": tag})
                assert page.status_code == 200
                # the sort is ignored: the page's own order (by name) in both directions
                assert _names_in(page.text, names) == names, (view, col, direction)
        # a filter on a personal column is no filter at all (both rows still listed)
        for col in ("phone", "resident_id"):
            for opr in (0, 1, 2, 3):
                page = fs.get(url, params={f"_flt_{opr}_{col}": "13900000001", "_flt_0_name": tag})
                assert set(_names_in(page.text, names)) == set(names), (view, col, opr)
        # nor a field of the search form
        search = fs.get(url).text
        assert not re.search(r'name="_flt_\d_(phone|resident_id)"', search)
        assert "phone" not in re.findall(r'data-search-column="(\w+)"|search_filters\W+(\w+)', search)
    # the API: neither an order nor a filter
    for api in (ENROL, TRAINEES):
        assert fs.get(api, params={"q": "(order_column:phone,order_direction:asc)"}).status_code == 400
        assert fs.get(api, params={"q": "(order_column:resident_id,order_direction:desc)"}).status_code == 400
        assert fs.get(api, params={"q": "(filters:!((col:phone,opr:sw,value:'139')))"}).status_code == 400
        info = fs.get(f"{api}_info", params={"q": "(keys:!(filters))"}).json()
        assert not {"phone", "resident_id"} & set(info.get("filters", {})), info
    # the pages and the API show them masked to a clerk
    page = fs.get("/trainingenrolment/list/", params={"_flt_0_name": tag}).text
    for _name, phone, rid in people:
        assert phone not in page and rid not in page and phone[:3] + "****" + phone[-4:] in page


def test_matching_a_trainee_by_id_number_reveals_no_other_units_record(as_user, camp_payload, make_org, db):
    fs, sz = as_user("fs_clerk"), as_user("sz_clerk")
    rid, fs_phone = new_resident_id(), new_mobile()
    fs_name = unique("佛")[:8]
    fs_camp = create(fs, CAMPS, camp_payload(unit="440600"))
    assert enrol(fs, fs_camp, make_org("440606"), name=fs_name, phone=fs_phone, resident_id=rid,
                 attended=True).status_code == 201
    # Shenzhen knows only the ID number, and enrols it in its own camp under another name
    sz_camp = create(sz, CAMPS, camp_payload(unit="440300"))
    sz_name, sz_phone = unique("深")[:8], new_mobile()
    r = enrol(sz, sz_camp, make_org("440300"), name=sz_name, phone=sz_phone, resident_id=rid)
    assert r.status_code == 201, r.text
    with db() as s:
        tid = s.get(Enrolment, r.json()["id"]).trainee_id
        assert s.get(Trainee, tid).name == fs_name  # one person across units (counted once by the province)
    got = sz.get(f"{TRAINEES}{tid}").json()["result"]
    assert got["name"] == sz_name and got["camps_attended"] == 0, got
    assert got["phone"] == sz_phone[:3] + "****" + sz_phone[-4:]
    listed = sz.get(TRAINEES, params={"q": "(page_size:100)"}).json()
    assert fs_name not in str(listed) and fs_phone[-4:] not in str(listed)
    # not by searching for the other unit's name either
    r = sz.get(TRAINEES, params={"q": f"(filters:!((col:name,opr:sw,value:'{fs_name[:3]}')))"}).json()
    assert tid not in {t["id"] for t in r["result"]}
    page = sz.get(f"/trainingtrainee/show/{tid}").text
    assert sz_name in page and fs_name not in page and fs_phone[-4:] not in page
    page = sz.get("/trainingtrainee/list/", params={"_flt_0_name": fs_name}).text
    assert fs_name not in page and sz_name not in page
    # Foshan's view is unchanged; the province sees the person's record
    assert fs.get(f"{TRAINEES}{tid}").json()["result"]["name"] == fs_name
    assert as_user("admin").get(f"{TRAINEES}{tid}").json()["result"]["camps_attended"] == 1


def test_editing_an_enrolments_phone_or_id_leaves_no_orphan_trainee(as_user, camp_payload, make_org, db):
    fs = as_user("fs_clerk")
    camp = create(fs, CAMPS, camp_payload())
    r = enrol(fs, camp, make_org("440606"), resident_id=None, gender="female")
    assert r.status_code == 201
    pk = r.json()["id"]
    seen = set()
    for _ in range(3):
        with db() as s:
            seen.add(s.get(Enrolment, pk).trainee_id)
        assert fs.put(f"{ENROL}{pk}", json={"phone": new_mobile()}).status_code == 200
    assert fs.put(f"{ENROL}{pk}", json={"resident_id": new_resident_id(male=False)}).status_code == 200
    with db() as s:
        now = s.get(Enrolment, pk).trainee_id
        alive = set(s.execute(select(Trainee.id).where(Trainee.id.in_(seen | {now}))).scalars())
    assert alive == {now}, (seen, now)
    assert fs.delete(f"{ENROL}{pk}").status_code == 200
    assert count(db, Trainee, id=now) == 0


def test_an_organizations_page_shows_only_the_viewers_rosters(as_user, camp_payload, make_org, db):
    fs, admin, sz = as_user("fs_clerk"), as_user("admin"), as_user("sz_clerk")
    fs_title = unique("佛山营")
    fs_camp = create(fs, CAMPS, camp_payload(unit="440600", title=fs_title))
    sz_org = make_org("440300")
    name = unique("跨市学员")[:10]
    assert enrol(admin, fs_camp, sz_org, name=name).status_code == 201  # the province may
    page = sz.get(f"/youthorg/profile/{sz_org}").text
    assert fs_title not in page and name not in page
    assert fs_title in admin.get(f"/youthorg/profile/{sz_org}").text


def test_related_choices_of_the_lecturer_pool_are_scoped(as_user, unit_ids):
    sz = as_user("sz_clerk")
    info = sz.get(f"{LECTURERS}_info", params={"q": "(keys:!(add_columns),add_columns:(unit:(page_size:100)))"}).json()
    unit = next(c for c in info["add_columns"] if c["name"] == "unit")
    assert 0 < unit["count"] < 200, unit["count"]
    ids = {v["id"] for v in unit["values"]}
    assert unit_ids["440600"] not in ids and unit_ids["440000"] not in ids and unit_ids["440300"] in ids


def test_another_units_camp_is_not_found_before_any_rule_runs(as_user, camp_payload, make_org):
    fs, sz = as_user("fs_clerk"), as_user("sz_clerk")
    camp = create(fs, CAMPS, camp_payload(unit="440600", capacity=1))
    rid = new_resident_id()
    assert enrol(fs, camp, make_org("440606"), resident_id=rid).status_code == 201  # full now
    sz_org = make_org("440300")
    answers = []
    for pk, r_id in ((camp, rid), (camp, new_resident_id()), (99999999, rid)):
        r = enrol(sz, pk, sz_org, resident_id=r_id, phone="13700000000", name="探测")
        answers.append((r.status_code, r.json()["message"]))
    assert answers[0] == answers[1] == answers[2], answers  # enrolled or not, full or not, existing or not
    code, message = answers[0]
    assert code == 422 and list(message) == ["camp"] and "记录不存在" in message["camp"][0], answers
