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
NOTES = "/api/v1/samplenote/"
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
def unit_ids(app):
    from core.units import Unit

    with app.app_context():
        return dict(app.appbuilder.session.execute(select(Unit.code, Unit.id)).all())


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
def foshan_without_training(app):
    from core import modules
    from core.units import unit_by_code

    with app.app_context():
        s = app.appbuilder.session
        modules.set_module(s, unit_by_code(s, "440600"), "training", False)
        s.commit()
    yield
    with app.app_context():
        s = app.appbuilder.session
        modules.set_module(s, unit_by_code(s, "440600"), "training", True)
        s.commit()


@pytest.mark.parametrize("how", ["cookie", "token"])
def test_switched_off_module_is_closed_to_tokens_too(clients, foshan_without_training, how):
    assert clients("fs_clerk", how).get(LECTURERS).status_code == 404
    assert clients("sz_clerk", how).get(LECTURERS).status_code == 200
    assert clients("sd_clerk", how).get(LECTURERS).status_code == 404  # 顺德 is below 佛山
