"""Issue 12, point 3, over a live server of its own (its lock-outs must not
lock the rest of the suite out): one password policy wherever a password is
set, e-mail checked, login throttling per account and per address held in
the database (login page and token login), unlock by an admin, logout by
POST only, logout and password change revoke sessions and tokens."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from tests.conftest import ENGINES, PASSWORD, Client, LiveServer, initialise, make_app, new_database

MAX_FAILURES, MAX_PER_ADDRESS = 3, 10
USERS = {"admin": ("440000", "province_admin"), "fs_admin": ("440600", "unit_admin"), "sd_clerk": ("440606", "clerk")}


@pytest.fixture(scope="module", params=ENGINES)
def acc(request, tmp_path_factory):
    url, drop = new_database(request.param, tmp_path_factory)
    app = make_app(url, tmp_path_factory.mktemp("instance"), QQH_LOGIN_MAX_FAILURES=MAX_FAILURES,
                   QQH_LOGIN_MAX_FAILURES_PER_ADDRESS=MAX_PER_ADDRESS, QQH_LOGIN_LOCK_MINUTES=10)
    initialise(app, USERS)
    server = LiveServer(app)
    yield app, server.url
    server.stop()
    with app.app_context():
        app.extensions["qqh_db"].session.remove()
        app.extensions["qqh_db"].engine.dispose()
    drop()


def new_user(app, role="clerk", unit="440606", password=PASSWORD) -> tuple[int, str]:
    from core.tenancy.units import unit_by_code

    name = f"u{uuid.uuid4().hex[:8]}"
    with app.app_context():
        sm, session = app.appbuilder.sm, app.appbuilder.session
        user = sm.add_user(name, name, "测试", f"{name}@t.local", sm.find_role(role), password=password)
        user.unit = unit_by_code(session, unit)
        session.commit()
        return user.id, name


def clear_throttle(app):
    from core.tenancy.accounts import LoginThrottle

    with app.app_context():
        session = app.appbuilder.session
        session.execute(delete(LoginThrottle))
        session.commit()


def page_login(base, username, password=PASSWORD) -> Client | None:
    c = Client(base)
    r = c.post("/login/", data={"username": username, "password": password})
    if r.status_code == 302 and "/login" not in r.headers.get("Location", ""):
        return c
    c.close()
    return None


def token_login(base, username, password=PASSWORD):
    with Client(base) as c:
        return c.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"})


def bearer(base, token) -> Client:
    c = Client(base)
    c.headers["Authorization"] = f"Bearer {token}"
    return c


def qqh(app, *args):
    from core.cli import cli

    return CliRunner().invoke(cli, list(args), obj={"app": app})


# -- the password policy -----------------------------------------------------------------
WEAK = ["1", "123456", "Passw0rd", "PASSWORD1", "woaini1314", "qwertyuiop"]


def test_one_password_policy_everywhere(acc):
    app, base = acc
    # the command line
    for pw in WEAK:
        r = qqh(app, "user", "add", f"w{uuid.uuid4().hex[:6]}", "--password", pw, "--unit", "440606", "--role", "clerk")
        assert r.exit_code == 1 and "密码" in r.output, (pw, r.output)
    name = f"w{uuid.uuid4().hex[:9]}"
    r = qqh(app, "user", "add", name, "--password", name.upper(), "--unit", "440606", "--role", "clerk")
    assert r.exit_code == 1 and "用户名" in r.output
    assert qqh(app, "user", "add", name, "--password", "Long-enough-42", "--unit", "440606", "--role", "clerk").exit_code == 0
    r = qqh(app, "init", "--admin-password", "123456")
    assert r.exit_code == 1 and "密码" in r.output
    # FAB's user pages (province admin), with the e-mail checked
    admin = page_login(base, "admin")
    form = {"first_name": "新", "last_name": "用户", "username": f"n{uuid.uuid4().hex[:6]}", "active": "y",
            "email": "not-an-email", "roles": "1", "password": "Long-enough-42", "conf_password": "Long-enough-42"}
    r = admin.post("/users/add", data=form)
    assert r.status_code == 200 and "电子邮件" in r.text
    r = admin.post("/users/add", data={**form, "email": "n@t.local", "password": "123456", "conf_password": "123456"})
    assert r.status_code == 200 and "至少" in r.text
    with app.app_context():
        assert app.appbuilder.sm.find_user(username=form["username"]) is None
    # /unitusers add (unit admin) and reset
    fs_admin = page_login(base, "fs_admin")
    with app.app_context():
        clerk_role = app.appbuilder.sm.find_role("clerk").id
        from core.tenancy.units import unit_by_code

        sd = unit_by_code(app.appbuilder.session, "440606").id
    uform = {**form, "email": "ok@t.local", "roles": str(clerk_role), "unit": str(sd), "password": "12345678", "conf_password": "12345678"}
    r = fs_admin.post("/unitusers/add", data=uform)
    assert r.status_code == 200 and "常见" in r.text
    pk, victim = new_user(app)
    r = fs_admin.post(f"/unitusers/resetpassword/{pk}", data={"password": victim, "conf_password": victim})
    assert r.status_code == 200 and "用户名" in r.text
    assert page_login(base, victim) is not None  # unchanged
    # my own password
    me = page_login(base, victim)
    r = me.post("/resetmypassword/form", data={"password": "123456", "conf_password": "123456"})
    assert r.status_code == 200 and "至少" in r.text
    assert page_login(base, victim) is not None
    for c in (admin, fs_admin, me):
        c.close()


# -- throttling ------------------------------------------------------------------------------
def test_lock_out_after_failures_and_unlock(acc, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="qqh.security")
    app, base = acc
    pk, name = new_user(app)
    for _ in range(MAX_FAILURES):
        assert page_login(base, name, "wrong-password") is None
    # locked: the right password no longer logs in, on the page nor for a token
    assert page_login(base, name) is None
    assert token_login(base, name).status_code == 401
    security = [r.getMessage() for r in caplog.records if r.name == "qqh.security"]
    assert any(m.startswith(f"event=locked_out user={name} addr=127.0.0.1") for m in security), security
    assert any(m.startswith(f"event=login_refused_locked user={name}") for m in security), security
    with app.app_context():
        from core.tenancy.security import QqhUser

        assert app.appbuilder.session.get(QqhUser, pk).fail_login_count == MAX_FAILURES  # not reset by the right password
    with Client(base) as c:
        r = c.post("/login/", data={"username": name, "password": PASSWORD}, allow_redirects=True)
        assert "锁定" in r.text
    # unlocked by a province admin's page action
    admin = page_login(base, "admin")
    r = admin.post(f"/users/action/unlock/{pk}", allow_redirects=True)  # list and row actions are POST only
    assert r.status_code == 200
    assert page_login(base, name) is not None
    # by the command line
    for _ in range(MAX_FAILURES):
        token_login(base, name, "wrong-password")
    assert token_login(base, name).status_code == 401
    r = qqh(app, "user", "unlock", name)
    assert r.exit_code == 0 and "unlocked" in r.output
    assert token_login(base, name).status_code == 200
    # a unit admin unlocks a user of its subtree
    for _ in range(MAX_FAILURES):
        page_login(base, name, "wrong-password")
    fs_admin = page_login(base, "fs_admin")
    assert fs_admin.post(f"/unitusers/action/unlock/{pk}", allow_redirects=True).status_code == 200
    assert page_login(base, name) is not None
    admin.close()
    fs_admin.close()
    clear_throttle(app)


def test_lock_out_per_address(acc):
    app, base = acc
    pk, name = new_user(app)
    try:
        for i in range(MAX_PER_ADDRESS):
            assert page_login(base, f"nobody{i}", "wrong-password") is None
        assert page_login(base, name) is None  # a good account, but from the locked address
        assert token_login(base, name).status_code == 401
    finally:
        clear_throttle(app)
    assert page_login(base, name) is not None


# -- logout and revocation ----------------------------------------------------------------------
def test_logout_is_a_post_and_revokes_sessions_and_tokens(acc):
    app, base = acc
    _pk, name = new_user(app)
    c = page_login(base, name)
    stolen = Client(base)
    stolen.cookies.update(c.cookies)
    token = token_login(base, name).json()["access_token"]
    assert stolen.get("/unitview/list/").status_code == 200
    r = c.get("/logout/")  # a link, an <img>: asks, does not log out
    assert r.status_code == 200 and 'method="post"' in r.text and "退出" in r.text
    assert c.get("/unitview/list/").status_code == 200
    with bearer(base, token) as t:
        assert t.get("/api/v1/unit/").status_code == 200
    r = c.post("/logout/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert "/login" in stolen.get("/unitview/list/", allow_redirects=False).headers.get("Location", "")
    with bearer(base, token) as t:
        r = t.get("/api/v1/unit/")
        assert r.status_code == 401 and "重新登录" in r.json()["message"]
    # a new login works again
    assert page_login(base, name) is not None
    assert token_login(base, name).status_code == 200
    c.close()
    stolen.close()


def test_password_change_revokes_other_sessions_and_tokens(acc):
    app, base = acc
    _pk, name = new_user(app)
    mine, other = page_login(base, name), page_login(base, name)
    token = token_login(base, name).json()["access_token"]
    r = mine.post("/resetmypassword/form", data={"password": "Brand-new-pass-77", "conf_password": "Brand-new-pass-77"})
    assert r.status_code == 302
    assert mine.get("/unitview/list/").status_code == 200  # the session that changed it stays
    assert "/login" in other.get("/unitview/list/", allow_redirects=False).headers.get("Location", "")
    with bearer(base, token) as t:
        assert t.get("/api/v1/unit/").status_code == 401
    assert page_login(base, name) is None
    assert page_login(base, name, "Brand-new-pass-77") is not None
    fresh = token_login(base, name, "Brand-new-pass-77").json()["access_token"]
    with bearer(base, fresh) as t:
        assert t.get("/api/v1/unit/").status_code == 200
    # an admin's reset of the password ends the user's sessions too
    admin = page_login(base, "admin")
    with app.app_context():
        pk = app.appbuilder.sm.find_user(username=name).id
    r = admin.post(f"/resetpassword/form?pk={pk}", data={"password": "Admin-set-pass-88", "conf_password": "Admin-set-pass-88"})
    assert r.status_code == 302
    assert "/login" in mine.get("/unitview/list/", allow_redirects=False).headers.get("Location", "")
    for c in (mine, other, admin):
        c.close()
    clear_throttle(app)


def test_session_lifetime_is_configurable(monkeypatch, tmp_path):
    import datetime

    from core.config import ConfigError, build_config

    monkeypatch.setenv("QQH_SESSION_HOURS", "3")
    monkeypatch.setenv("QQH_SECRET_KEY", "k" * 40)
    cfg = build_config(str(tmp_path))
    assert cfg["PERMANENT_SESSION_LIFETIME"] == datetime.timedelta(hours=3) and cfg["QQH_SESSION_HOURS"] == 3
    monkeypatch.setenv("QQH_LOGIN_MAX_FAILURES", "many")
    with pytest.raises(ConfigError):
        build_config(str(tmp_path))


def test_production_hashes_passwords_with_scrypt(tmp_path):
    """The tests' apps use a cheap hash (tests/conftest.py); the product's configuration must not."""
    from core.app import create_app
    from core.config import build_config

    assert "FAB_PASSWORD_HASH_METHOD" not in build_config(str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db", "QQH_INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "p" * 40})
    with app.app_context():
        from werkzeug.security import generate_password_hash

        method = app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
        assert method == "scrypt" and generate_password_hash("x", method=method).startswith("scrypt:")
        assert app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"].startswith("scrypt:")
