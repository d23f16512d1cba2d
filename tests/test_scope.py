"""One scope for every way in: a bearer token from POST /api/v1/security/login
gets exactly the scope (and the switched-off modules) a cookie session of
the same user gets; a user without a unit sees nothing unless a province
admin; the scope is computed once per request.

Users (tests/conftest.py): admin 省 440000, fs_clerk 佛山 440600,
sd_clerk 顺德区 440606, sz_clerk 深圳 440300."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, Client

ORGS = "/api/v1/youthorg/"
NOTES = "/api/v1/memonote/"
LECTURERS = "/api/v1/traininglecturer/"


def token_client(live, username, password=PASSWORD) -> Client:
    """A client that authenticates with a bearer token only (no cookie)."""
    c = Client(live.url)
    r = c.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"})
    assert r.status_code == 200, r.text
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    assert not c.cookies, c.cookies
    return c


@pytest.fixture
def clients(live):
    made = []

    def make(username, how):
        c = token_client(live, username) if how == "token" else Client(live.url).login(username)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def org_payload(unit_id, **kw):
    return {
        "name": f"范围测试{uuid.uuid4().hex[:8]}",
        "unit": unit_id,
        "category": "league_affairs",
        "service_field": "graduates",
        "reg_status": "unregistered",
        "contact_name": "陈嘉欣",
        "contact_phone": "13812345678",
        "members": 30,
        "youth_share": 80,
        "founded_on": "2011-05-04",
        "is_pilot": False,
        **kw,
    }


@pytest.fixture(scope="module")
def two_orgs(live):
    """A youth organization in 佛山 and one in 深圳, made by the admin's session."""
    admin = Client(live.url).login("admin")
    made = {}
    for code in ("440600", "440300"):
        r = admin.get("/api/v1/unit/", params={"q": f"(filters:!((col:code,opr:eq,value:'{code}')))"})
        uid = r.json()["ids"][0]
        r = admin.post(ORGS, json=org_payload(uid))
        assert r.status_code == 201, r.text
        made[code] = r.json()["id"]
    yield made
    for pk in made.values():
        admin.delete(f"{ORGS}{pk}")
    admin.close()


def listed_ids(client, url, **params):
    r = client.get(url, params={"q": "(page_size:100,columns:!(id))", **params})
    assert r.status_code == 200, r.text
    body = r.json()
    return body["count"], set(body["ids"])


# -- bearer tokens carry the user's scope -----------------------------------------------
@pytest.mark.parametrize("how", ["cookie", "token"])
def test_token_and_cookie_list_and_get_the_same_records(clients, two_orgs, how):
    admin, fs, sz = clients("admin", how), clients("fs_clerk", how), clients("sz_clerk", how)
    count, ids = listed_ids(admin, ORGS)
    assert count >= 2 and set(two_orgs.values()) <= ids
    _, fs_ids = listed_ids(fs, ORGS)
    assert two_orgs["440600"] in fs_ids and two_orgs["440300"] not in fs_ids
    assert admin.get(f"{ORGS}{two_orgs['440300']}").status_code == 200
    assert fs.get(f"{ORGS}{two_orgs['440600']}").status_code == 200
    assert fs.get(f"{ORGS}{two_orgs['440300']}").status_code == 404
    assert sz.get(f"{ORGS}{two_orgs['440300']}").status_code == 200


@pytest.mark.parametrize("how", ["cookie", "token"])
def test_token_and_cookie_create_within_the_scope_only(clients, unit_ids, how):
    admin, fs = clients("admin", how), clients("fs_clerk", how)
    made = []
    try:
        for client, code in ((admin, "440300"), (admin, "440606"), (fs, "440606")):
            r = client.post(ORGS, json=org_payload(unit_ids[code]))
            assert r.status_code == 201, (code, r.text)
            made.append(r.json()["id"])
        r = fs.post(ORGS, json=org_payload(unit_ids["440300"]))
        assert r.status_code == 422 and r.json()["message"]["unit"] == ["只能填报本单位及下级单位的记录。"], r.text
        r = fs.post(NOTES, json={"title": "范围", "noted_on": "2012-03-05", "unit": unit_ids["440600"]})
        assert r.status_code == 201, r.text
        assert fs.delete(f"{NOTES}{r.json()['id']}").status_code == 200
    finally:
        for pk in made:
            admin.delete(f"{ORGS}{pk}")


@pytest.fixture
def foshan_without_training(module_off):
    module_off("440600", "training")


@pytest.mark.parametrize("how", ["cookie", "token"])
def test_switched_off_module_is_closed_to_tokens_too(clients, foshan_without_training, how):
    assert clients("fs_clerk", how).get(LECTURERS).status_code == 404
    assert clients("sz_clerk", how).get(LECTURERS).status_code == 200
    assert clients("sd_clerk", how).get(LECTURERS).status_code == 404  # 顺德 is below 佛山


# -- a user without a unit sees nothing (unless a province admin) --------------------
@pytest.fixture(scope="module")
def unitless(app):
    """A clerk and an inspector whose accounts have no unit, and a province
    admin without a unit."""
    with app.app_context():
        sm = app.appbuilder.sm
        for name, role in (("nounit_clerk", "clerk"), ("nounit_inspector", "inspector"), ("nounit_admin", "province_admin")):
            if sm.find_user(username=name) is None:
                sm.add_user(name, name, "测试", f"{name}@t.local", sm.find_role(role), password=PASSWORD)
        app.appbuilder.session.commit()
    return ("nounit_clerk", "nounit_inspector")


YEAR = 2017  # a plan year no other test computes


@pytest.fixture(scope="module")
def assessed(app, live):
    from core.kpi import assessment as asm

    with app.app_context():
        s = app.appbuilder.session
        if not s.execute(select(asm.AssessmentIndicator).where(asm.AssessmentIndicator.plan_year == YEAR)).first():
            s.add(asm.AssessmentIndicator(plan_year=YEAR, key="notes", label="记事", check_key="memo_notes", weight=100,
                                          method="reached", target=1, position=0))
            s.commit()
    admin = Client(live.url).login("admin")
    r = admin.post("/api/v1/assessment/compute", json={"year": YEAR})
    assert r.status_code == 200, r.text
    assert admin.get("/api/v1/assessment/", params={"year": YEAR}).json()["result"]
    admin.close()


@pytest.mark.parametrize("how", ["cookie", "token"])
def test_user_without_a_unit_sees_nothing(clients, unitless, two_orgs, assessed, how):
    for name in unitless:
        c = clients(name, how)
        assert listed_ids(c, ORGS) == (0, set()), name
        assert listed_ids(c, "/api/v1/unit/") == (0, set()), name
        assert c.get(f"{ORGS}{two_orgs['440600']}").status_code == 404
        r = c.get("/api/v1/assessment/", params={"year": YEAR})
        assert r.status_code in (403, 404) or (r.status_code == 200 and r.json()["result"] == []), (name, r.text[:300])
        assert c.get("/api/v1/kpi/report", params={"year": YEAR}).status_code in (403, 404)
        assert c.get("/api/v1/kpi/report", params={"year": YEAR, "unit": "440600"}).status_code in (403, 404)
        if how == "cookie":
            page = c.get("/youthorg/list/", params={"psize_YouthOrgView": 100})
            assert page.status_code == 200
            assert "范围测试" not in page.text
            assert c.get(f"/youthorg/show/{two_orgs['440600']}").status_code == 404
    admin = clients("nounit_admin", how)
    _, ids = listed_ids(admin, ORGS)
    assert set(two_orgs.values()) <= ids


def test_scope_value_object(app):
    from core.tenancy.scope import ALL, NOTHING, Scope, in_scope, user_scope
    from core.tenancy.units import Unit

    fs = Scope("440000/440600/")
    assert ALL.everything and not ALL.nothing and NOTHING.nothing and not NOTHING.everything
    assert not fs.everything and not fs.nothing and fs.path == "440000/440600/"
    assert fs.contains("440000/440600/440606/") and not fs.contains("440000/440300/")
    assert ALL.contains("440000/440300/") and not NOTHING.contains("440000/")
    with pytest.raises(TypeError):
        bool(NOTHING)  # no truth value: "" and None once meant opposite things
    assert Scope.of("") is NOTHING and Scope.of(fs) is fs and Scope.of("440000/440600/") == fs
    with app.app_context():
        s = app.appbuilder.session
        count = lambda scope: len(s.execute(in_scope(select(Unit.id), Unit, scope)).all())  # noqa: E731
        total = count(ALL)
        assert count(NOTHING) == 0 and 0 < count(fs) < total
        assert Scope.of(None) is ALL  # outside a request: everything (the CLI)
        sm = app.appbuilder.sm
        assert user_scope(sm.find_user(username="fs_clerk")) == fs
        assert user_scope(sm.find_user(username="admin")) is ALL
        assert user_scope(None) is NOTHING


def test_scope_is_computed_once_per_request(live, two_orgs, monkeypatch):
    """A list page asks for the scope many times (module gate, menu, list,
    count, pickers): the user's scope is worked out once."""
    from core.tenancy import scope as scoping

    calls = []
    real = scoping.Scope.for_user.__func__

    def counting(cls, user):
        calls.append(getattr(user, "username", None))
        return real(cls, user)

    fs = Client(live.url).login("fs_clerk")
    token = token_client(live, "fs_clerk")
    monkeypatch.setattr(scoping.Scope, "for_user", classmethod(counting))
    try:
        assert fs.get("/youthorg/list/").status_code == 200
        assert calls == ["fs_clerk"]
        calls.clear()
        assert token.get(ORGS).status_code == 200
        assert token.get(f"{ORGS}{two_orgs['440600']}").status_code == 200
        assert calls == ["fs_clerk", "fs_clerk"]
    finally:
        fs.close()
        token.close()
