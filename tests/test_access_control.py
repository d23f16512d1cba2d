"""Issue 12, points 1 and 5, tried as the attacks of the issue over the live
server: roles are explicit permission sets (FAB's security pages, whatever
their class is called, are the province admins'), /unitusers guards every
change by role, only province admins change a unit's tier, region or level,
every menu entry answers its user, refusals are in Chinese, and draft
assessment results are the province's until published."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, Client


def roles_of(app, pk) -> set[str] | None:
    with app.app_context():
        from core.tenancy.security import QqhUser

        session = app.appbuilder.session
        session.expire_all()
        user = session.get(QqhUser, pk)
        return None if user is None else {r.name for r in user.roles}


def role_id(app, name) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_role(name).id


def token_of(live, username) -> str:
    with Client(live.url) as c:
        r = c.post("/api/v1/security/login", json={"username": username, "password": PASSWORD, "provider": "db"})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]


def refused(r) -> bool:
    """Refused: 403, 404 or 405 (never a page of the thing, never a redirect that did it)."""
    return r.status_code in (403, 404, 405)


# -- FAB's security pages ---------------------------------------------------------------
SECURITY_PAGES = ["/users/list/", "/users/show/1", "/users/add", "/users/edit/1", "/roles/list/", "/roles/edit/1",
                  "/roles/show/1", "/groups/list/", "/groups/add", "/resetpassword/form?pk=1"]


@pytest.mark.parametrize("username", ["sd_clerk", "fs_inspector", "fs_admin"])
def test_security_pages_are_the_province_admins(app, as_user, username):
    c = as_user(username)
    for url in SECURITY_PAGES:
        r = c.get(url)
        assert r.status_code == 403, (username, url, r.status_code)
        assert "您无权" in r.text and 'class="navbar' in r.text, url  # Chinese, in the app's layout
    assert as_user("admin").get("/users/list/").status_code == 200


def test_clerk_cannot_make_itself_province_admin_nor_delete_the_admin(app, live, make_user):
    pk, name = make_user("440606", "clerk")
    clerk = Client(live.url).login(name)
    r = clerk.post(f"/users/edit/{pk}", data={"first_name": name, "last_name": "x", "username": name, "email": f"{name}@t.local",
                                             "active": "y", "roles": str(role_id(app, "province_admin")), "unit": ""})
    assert refused(r), r.status_code
    assert roles_of(app, pk) == {"clerk"}
    admin_id = app_user_id(app, "admin")
    assert refused(clerk.get(f"/users/delete/{admin_id}"))
    assert refused(clerk.post(f"/users/delete/{admin_id}"))
    assert roles_of(app, admin_id) == {"province_admin"}
    clerk.close()


def app_user_id(app, username) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_user(username=username).id


def test_no_security_api_for_tokens(app, live):
    """FAB's security REST API is not registered; with a clerk's token nothing of users or roles answers."""
    token = token_of(live, "sd_clerk")
    with Client(live.url) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        for url in ("/api/v1/security/users/", "/api/v1/security/roles/", "/api/v1/user/", "/api/v1/role/"):
            r = c.get(url)
            assert r.status_code in (403, 404), (url, r.status_code)
            assert r.headers["Content-Type"].startswith("application/json")


# -- /unitusers ----------------------------------------------------------------------------
def test_clerks_do_not_manage_users(app, as_user, make_user):
    pk, name = make_user("440606", "unit_admin")
    clerk = as_user("sd_clerk")
    assert refused(clerk.get("/unitusers/list/"))
    assert refused(clerk.get("/unitusers/add"))
    r = clerk.post("/unitusers/add", data={"first_name": "x", "last_name": "y", "username": f"x{uuid.uuid4().hex[:6]}",
                                            "email": "x@t.local", "active": "y", "roles": str(role_id(app, "clerk")),
                                            "password": "Good-pass-987", "conf_password": "Good-pass-987"})
    assert refused(r)
    assert refused(clerk.get(f"/unitusers/delete/{pk}")) and refused(clerk.post(f"/unitusers/delete/{pk}"))
    assert roles_of(app, pk) == {"unit_admin"}


def test_unit_admin_never_touches_a_user_above_it(app, as_user, make_user):
    high, high_name = make_user("440606", "province_admin")  # a province admin placed in 佛山's subtree
    low, low_name = make_user("440606", "clerk")
    fs_admin = as_user("fs_admin")
    form = lambda name, role: {"first_name": name, "last_name": "测试", "username": name, "email": f"{name}@t.local",
                               "active": "y", "roles": str(role_id(app, role)), "unit": str(unit_id(app, "440606"))}
    r = fs_admin.post(f"/unitusers/edit/{high}", data=form(high_name, "clerk"))
    assert r.status_code == 302 and f"/unitusers/show/{high}" in r.headers["Location"]
    assert roles_of(app, high) == {"province_admin"}
    r = fs_admin.post(f"/unitusers/edit/{high}", data={**form(high_name, "province_admin"), "active": ""})
    assert roles_of(app, high) == {"province_admin"} and user_active(app, high)
    fs_admin.post(f"/unitusers/delete/{high}")
    assert roles_of(app, high) == {"province_admin"}
    assert refused(fs_admin.get(f"/unitusers/action/unlock/{high}")) and refused(fs_admin.post(f"/unitusers/action/unlock/{high}"))
    # never raises anyone, itself included, above its own role
    fs_admin.post(f"/unitusers/edit/{low}", data=form(low_name, "province_admin"))
    assert roles_of(app, low) == {"clerk"}
    me = app_user_id(app, "fs_admin")
    fs_admin.post(f"/unitusers/edit/{me}", data={**form("fs_admin", "province_admin"), "unit": str(unit_id(app, "440600"))})
    assert roles_of(app, me) == {"unit_admin"}
    # a user below it: still managed as before
    r = fs_admin.post(f"/unitusers/edit/{low}", data=form(low_name, "inspector"))
    assert r.status_code == 302 and roles_of(app, low) == {"inspector"}
    fs_admin.post(f"/unitusers/delete/{low}")
    assert roles_of(app, low) is None


def unit_id(app, code) -> int:
    from core.tenancy.units import unit_by_code

    with app.app_context():
        return unit_by_code(app.appbuilder.session, code).id


def user_active(app, pk) -> bool:
    with app.app_context():
        from core.tenancy.security import QqhUser

        session = app.appbuilder.session
        session.expire_all()
        return session.get(QqhUser, pk).active


# -- units: tier, region, level ------------------------------------------------------------
def unit_state(app, code):
    from core.tenancy.units import Unit

    with app.app_context():
        session = app.appbuilder.session
        session.expire_all()
        u = session.execute(select(Unit).where(Unit.code == code)).scalar_one()
        return u.name, u.tier, u.prd, u.level


def test_only_province_admins_change_tier_region_level(app, live, as_user):
    fs = unit_id(app, "440600")
    before = unit_state(app, "440600")
    fs_admin = as_user("fs_admin")
    for change in ({"tier": "town"}, {"prd": not before[2]}, {"level": "county"}, {"tier": "town", "prd": False}):
        r = fs_admin.put(f"/api/v1/unit/{fs}", json=change)
        assert r.status_code == 422, (change, r.status_code, r.text)
        assert "省级管理员" in str(r.json()["message"])
    assert unit_state(app, "440600") == before
    # the page: the same check
    r = fs_admin.post(f"/unitview/edit/{fs}", data={"code": "440600", "name": before[0], "level": before[3], "tier": "town",
                                                    "prd": "y" if before[2] else "", "undergraduate": ""})
    assert unit_state(app, "440600") == before
    # a unit admin still renames its units
    r = fs_admin.put(f"/api/v1/unit/{fs}", json={"name": "佛山市（改）"})
    assert r.status_code == 200, r.text
    admin = as_user("admin")
    r = admin.put(f"/api/v1/unit/{fs}", json={"name": before[0], "tier": "county"})
    assert r.status_code == 200, r.text
    assert unit_state(app, "440600")[1] == "county"
    assert admin.put(f"/api/v1/unit/{fs}", json={"tier": before[1]}).status_code == 200
    assert unit_state(app, "440600") == before
    # with a bearer token: refused too
    with Client(live.url) as c:
        c.headers["Authorization"] = f"Bearer {token_of(live, 'sd_clerk')}"
        r = c.put(f"/api/v1/unit/{fs}", json={"tier": "town"})
        assert r.status_code == 403 and r.json()["message"] == "您无权执行此操作。"
    assert unit_state(app, "440600") == before


# -- the menu --------------------------------------------------------------------------------
MENU_LINK = re.compile(r'<a tabindex="-1" href="([^"#]+)"')


@pytest.mark.parametrize("username", ["sd_clerk", "fs_inspector", "fs_admin", "admin"])
def test_every_menu_entry_answers_and_my_account_is_there(as_user, username):
    c = as_user(username)
    home = c.get("/")
    assert home.status_code == 200
    links = set(MENU_LINK.findall(home.text))
    assert "/users/userinfo/" in home.text and "/resetmypassword/form" in home.text
    assert 'action="/logout/"' in home.text and 'method="post"' in home.text
    links |= {"/users/userinfo/", "/resetmypassword/form", "/userinfoeditview/form"}
    for url in sorted(links):
        r = c.get(url)
        assert r.status_code in (200, 302), (username, url, r.status_code)
        assert "Forbidden" not in r.text
    if username == "sd_clerk":
        assert "/unitusers/" not in home.text and "/modules/" not in home.text and "/users/list/" not in home.text


def test_my_password_and_profile_for_every_role(app, live, make_user):
    pk, name = make_user("440606", "inspector")
    C = Client
    c = C(live.url).login(name)
    page = c.get("/users/userinfo/")
    assert page.status_code == 200 and name in page.text
    assert f'action="/users/action/resetmypassword/{pk}" method="POST"' in page.text  # actions are POST only
    r = c.post(f"/users/action/resetmypassword/{pk}", allow_redirects=True)
    assert r.status_code == 200 and r.url.endswith("/resetmypassword/form")
    r = c.post("/resetmypassword/form", data={"password": "Fresh-pass-2468", "conf_password": "Fresh-pass-2468"})
    assert r.status_code == 302, re.findall(r"(?s)help-block.{0,300}|alert-.{0,300}", r.text)
    c.close()
    C(c.base).login(name, "Fresh-pass-2468").close()


# -- refusals in Chinese -------------------------------------------------------------------
def test_404_and_api_refusals_in_chinese(live, http, as_user):
    r = http.get("/no/such/page")
    assert r.status_code == 404 and "未找到" in r.text and 'class="navbar' in r.text
    r = http.get("/api/v1/no_such_thing/")
    assert r.status_code == 404 and r.json() == {"message": "未找到"}
    r = http.get("/api/v1/unit/")
    assert r.status_code == 401 and r.json()["message"].startswith("请先登录")  # core/web/api_errors.py says how: a bearer token
    clerk = as_user("sd_clerk")
    r = clerk.post("/api/v1/unit/", json={"code": "X1", "name": "x", "level": "town", "tier": "town", "prd": True})
    assert r.status_code == 403 and r.json() == {"message": "您无权执行此操作。"}


# -- point 5: draft assessment results ---------------------------------------------------------
DRAFT_YEAR = 2031


@pytest.fixture(scope="module")
def draft(app):
    from core.kpi import assessment as asm

    with app.app_context():
        session = app.appbuilder.session
        asm.load_default_indicators(DRAFT_YEAR, session)
        session.commit()
        asm.compute(session, DRAFT_YEAR)
        asm.add_adjustment(session, DRAFT_YEAR, "440606", 3, "草稿加分")
    return DRAFT_YEAR


def test_draft_results_are_the_provinces_until_published(app, live, as_user, draft):
    from core.kpi import assessment as asm

    admin = as_user("admin")
    body = admin.get(f"/api/v1/assessment/?year={draft}").json()
    assert body["status"] == "draft" and len(body["result"]) > 100 and body["adjustments"]
    for username in ("sd_clerk", "fs_admin", "fs_inspector"):
        c = as_user(username)
        body = c.get(f"/api/v1/assessment/?year={draft}").json()
        assert body["result"] == [] and body["adjustments"] == [] and body["hidden"] is True, username
        page = c.get(f"/assessment/?year={draft}")
        assert page.status_code == 200 and 'id="qqh-assess-hidden"' in page.text and "草稿加分" not in page.text
    with Client(live.url) as t:
        t.headers["Authorization"] = f"Bearer {token_of(live, 'fs_admin')}"
        assert t.get(f"/api/v1/assessment/?year={draft}").json()["result"] == []
    with app.app_context():
        asm.publish(app.appbuilder.session, draft)
    body = as_user("fs_admin").get(f"/api/v1/assessment/?year={draft}").json()
    assert body["hidden"] is False and body["result"]
    assert all(r["unit"].startswith("4406") for r in body["result"])
    assert [a["reason"] for a in body["adjustments"]] == ["草稿加分"]


def test_anonymous_visitors_hold_no_permission_even_if_granted_to_public(app, live, http):
    """The Public role is an explicit empty set: a permission given to it in the database (as FAB's role
    pages allow) opens nothing to a visitor who is not logged in."""
    with app.app_context():
        sm = app.appbuilder.sm
        public = sm.add_role(app.config["AUTH_ROLE_PUBLIC"])  # FAB's: the role, made if missing
        granted = [sm.add_permission_view_menu(p, "Unit") for p in ("can_list", "can_get")]
        for pv in granted:
            sm.add_permission_role(public, pv)
        try:
            assert sm.is_item_public("can_get", "Unit") is False
            r = http.get("/api/v1/unit/")
            assert r.status_code == 401, r.status_code
            r = http.get("/unitview/list/", allow_redirects=False)
            assert r.status_code == 302 and r.headers["Location"].startswith("/login/"), r.status_code  # to log in
        finally:
            for pv in granted:
                sm.del_permission_role(public, pv)


def test_the_user_kept_between_requests_follows_writes_from_elsewhere(app, as_user, as_token, make_user):
    """Every request's user (with unit, roles, groups) is kept between requests while nothing is written
    anywhere — no query of its own —; a change written from another connection (another gunicorn worker's,
    a script's) holds at the very next request: a user switched off is out, a user moved to another unit
    sees that unit's records, a password change (valid_after) ends the tokens issued before it."""
    import datetime

    import sqlalchemy as sa

    from core.tenancy.security import QqhUser
    from core.tenancy.units import Unit

    pk, name = make_user("440606", "clerk")  # 顺德区
    cookie, token = as_user(name), as_token(name)
    assert cookie.get("/todo/").status_code == 200 and cookie.get("/todo/").status_code == 200  # kept
    assert token.get("/api/v1/todo/").status_code == 200
    users = QqhUser.__table__
    with app.app_context():
        other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # not the app's engine: another process's
    try:
        with other.begin() as c:
            c.execute(users.update().where(users.c.id == pk).values(active=False))
        assert cookie.get("/todo/", allow_redirects=False).status_code == 302  # to the login page
        assert token.get("/api/v1/todo/").status_code == 401
        with other.begin() as c:
            c.execute(users.update().where(users.c.id == pk).values(active=True))
        assert cookie.get("/todo/").status_code == 200

        def unit_seen() -> str:
            r = cookie.get("/api/v1/unit/", params={"q": "(page_size:1,order_column:depth,order_direction:asc)"})
            assert r.status_code == 200, r.text[:300]
            return r.json()["result"][0]["code"]

        assert unit_seen() == "440606"
        with other.begin() as c:
            nanhai = c.execute(sa.select(Unit.__table__.c.id).where(Unit.__table__.c.code == "440605")).scalar()
            c.execute(users.update().where(users.c.id == pk).values(unit_id=nanhai))
        assert unit_seen() == "440605"
        with other.begin() as c:
            c.execute(users.update().where(users.c.id == pk).values(
                valid_after=datetime.datetime.utcnow() + datetime.timedelta(seconds=5)))  # as accounts.revoke writes it
        assert token.get("/api/v1/todo/").status_code == 401
    finally:
        other.dispose()


def test_the_request_s_permission_look_up_answers_as_fab_s_check(app):
    """QqhSecurityManager.has_access answers, for a user of built-in roles only, from the union of their
    permission sets made once per request — the very answers of FAB's own check for every pair any role
    holds and for pairs none holds; a user with a role stored in the database, an inactive user and
    nobody logged in go FAB's way; a user who logs in during the request is asked about afresh."""
    import flask_login
    from flask import g
    from flask_appbuilder.security.sqla.manager import SecurityManager

    from core.tenancy.security import QqhUser

    sm = app.appbuilder.sm
    pairs = sorted(set().union(*sm.builtin_roles.values())) + [("MemoNoteView", "can_nothing"), ("NoSuchView", "can_list")]
    with app.app_context():
        users = {u.username: u for u in app.appbuilder.session.query(QqhUser).filter(QqhUser.username.in_(("admin", "fs_clerk", "sd_clerk")))}
    assert len(users) == 3
    for name, user in users.items():
        with app.test_request_context("/"):
            user = app.appbuilder.session.merge(user)
            flask_login.login_user(user)
            g.user = flask_login.current_user
            ours = [sm.has_access(p, v) for v, p in pairs]
            theirs = [SecurityManager.has_access(sm, p, v) for v, p in pairs]
            assert ours == theirs, name
            assert any(ours) and not all(ours)
            assert g._qqh_pairs[1] is not None  # answered from the union
            # a user who logs in during the request (another one here) is asked about afresh
            other = app.appbuilder.session.merge(users["fs_clerk" if name != "fs_clerk" else "admin"])
            flask_login.login_user(other)
            assert [sm.has_access(p, v) for v, p in pairs] == [SecurityManager.has_access(sm, p, v) for v, p in pairs]
            g._qqh_pairs = None
            other.active = False  # an inactive user holds nothing, as with FAB
            assert not any(sm.has_access(p, v) for v, p in pairs)
            app.appbuilder.session.rollback()
    with app.test_request_context("/"):
        assert [sm.has_access(p, v) for v, p in pairs] == [SecurityManager.has_access(sm, p, v) for v, p in pairs]
    with app.test_request_context("/"):
        clerk = app.appbuilder.session.merge(users["fs_clerk"])
        clerk.roles.append(sm.role_model(name="区县自定义角色" + str(id(clerk))))  # stored, never committed
        flask_login.login_user(clerk)
        g.user = flask_login.current_user
        assert [sm.has_access(p, v) for v, p in pairs] == [SecurityManager.has_access(sm, p, v) for v, p in pairs]
        assert g._qqh_pairs[1] is None  # FAB's way
        app.appbuilder.session.rollback()
