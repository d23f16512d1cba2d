"""CSRF, no state change over GET, cookie flags and security headers, on an
app with CSRF protection ON (the real configuration; the rest of the suite
turns it off to post forms without tokens)."""

import re
import threading
import time
import uuid

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, Client, LiveServer, initialise, make_app, new_database

CJK = re.compile(r"[\u4e00-\u9fff]")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def csrf_app(engine_name, tmp_path_factory):
    url, drop = new_database(engine_name, tmp_path_factory)
    application = make_app(url, tmp_path_factory.mktemp("instance"), WTF_CSRF_ENABLED=True)
    initialise(application)
    server = LiveServer(application)
    yield application, server
    server.stop()
    with application.app_context():
        application.extensions["qqh_db"].session.remove()
        application.extensions["qqh_db"].engine.dispose()
    drop()


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, html[:500]
    return match.group(1)


def login(server, username="admin") -> tuple[Client, str]:
    c = Client(server.url)
    token = token_of(c.get("/login/").text)
    r = c.post("/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302 and "/login" not in r.headers["Location"], r.text[:300]
    return c, token


def fill(rule, value="1"):
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", value, rule.rule)


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        engine = app.extensions["qqh_db"].engine
        tables = sa.inspect(engine).get_table_names()
        with engine.connect() as conn:
            return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def add_note(client, token, title):
    with_token = {"X-CSRFToken": token}
    r = client.post("/api/v1/memonote/", json={"title": title, "noted_on": "2012-03-05", "unit": unit_id(client)}, headers=with_token)
    assert r.status_code == 201, r.text[:300]
    return r.json()["id"]


def unit_id(client):
    return client.get("/api/v1/unit/picker", params={"q": "佛山"}).json()["results"][0]["id"]


def test_real_configuration_has_csrf_on_and_lax_cookies(tmp_path, monkeypatch):
    from core.config import build_config

    monkeypatch.delenv("QQH_HTTPS", raising=False)
    config = build_config(str(tmp_path))
    assert config["WTF_CSRF_ENABLED"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax" and config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("QQH_HTTPS", "1")
    assert build_config(str(tmp_path))["SESSION_COOKIE_SECURE"] is True


def test_session_cookie_is_lax_and_secure_over_https(csrf_app):
    app, server = csrf_app
    c = Client(server.url)
    token = token_of(c.get("/login/").text)
    r = c.post("/login/", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    cookie = r.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie
    # the same request as it reaches the app behind an HTTPS proxy
    with app.test_client() as tc:
        page = tc.get("/login/", base_url="https://qqh.example")
        token = token_of(page.get_data(as_text=True))
        r = tc.post("/login/", base_url="https://qqh.example", headers={"Referer": "https://qqh.example/login/"},
                    data={"username": "admin", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 302 and "Secure" in r.headers["Set-Cookie"]


def test_every_state_changing_route_refuses_a_cookie_without_token(csrf_app):
    app, server = csrf_app
    client, token = login(server)
    failures, checked = [], 0
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & UNSAFE):
            url = fill(rule)
            kw = {"json": {"title": "x"}} if url.startswith("/api/") else {"data": {"title": "x", "name": "x"}}
            r = client.request(method, url, **kw)
            checked += 1
            text = r.json().get("message", "") if r.headers.get("Content-Type", "").startswith("application/json") else r.text
            if r.status_code not in (400, 403) or not CJK.search(str(text)):
                failures.append((method, rule.rule, r.status_code, r.text[:120]))
    assert checked > 50
    assert not failures, failures
    # still logged in, and nothing of it was written
    assert client.get("/api/v1/memonote/").status_code == 200


def test_token_lets_cookie_calls_through_and_bearer_needs_none(csrf_app):
    app, server = csrf_app
    client, token = login(server)
    title = "令牌" + uuid.uuid4().hex[:6]
    note = add_note(client, token, title)
    r = client.put(f"/api/v1/memonote/{note}", json={"title": title + "改"})
    assert r.status_code == 400 and CJK.search(r.json()["message"])
    assert client.put(f"/api/v1/memonote/{note}", json={"title": title + "改"}, headers={"X-CSRFToken": token}).status_code == 200
    # a bearer token is no cookie: no other site can send it, no CSRF token needed
    from flask_jwt_extended import create_access_token

    with app.app_context():
        user = app.appbuilder.sm.find_user(username="admin")
        jwt = create_access_token(identity=str(user.id), fresh=True)
    with requests.Session() as bare:
        r = bare.delete(f"{server.url}/api/v1/memonote/{note}", headers={"Authorization": f"Bearer {jwt}"}, timeout=30)
        # past the CSRF check (what the API then answers a bearer token is the API's business)
        assert r.status_code != 400 and "令牌" not in r.json().get("message", ""), r.text[:300]


def test_delete_by_post_with_token_only_and_no_get_changes_state(csrf_app):
    app, server = csrf_app
    client, token = login(server)
    note = add_note(client, token, "删" + uuid.uuid4().hex[:6])
    before = row_counts(app)
    ids = {"1", str(note)}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static") or "logout" in rule.rule:
            continue
        for value in ids:
            client.get(fill(rule, value))
    # the delete and action routes of every page class answer GET with 405
    posts_only = [r for r in app.url_map.iter_rules() if r.endpoint.rsplit(".", 1)[-1] in ("delete", "action") and not r.rule.startswith("/api/")]
    assert len(posts_only) > 10
    for rule in posts_only:
        assert "GET" not in rule.methods, rule
        assert client.get(fill(rule, str(note))).status_code == 405
    assert row_counts(app) == before
    assert client.post(f"/memonoteview/delete/{note}").status_code == 400
    assert row_counts(app) == before
    assert client.post(f"/memonoteview/delete/{note}", data={"csrf_token": token}).status_code == 302
    assert client.get(f"/api/v1/memonote/{note}").status_code == 404


def test_security_headers(csrf_app):
    app, server = csrf_app
    client, _token = login(server)
    page = client.get("/memonoteview/list/")
    assert page.status_code == 200
    for r in (page, client.get("/api/v1/memonote/"), client.get("/login/")):
        h = r.headers
        csp = h["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split("style-src-attr")[0]
        assert "frame-ancestors 'none'" in csp and h["X-Frame-Options"] == "DENY"
        assert h["X-Content-Type-Options"] == "nosniff" and h["Referrer-Policy"] == "same-origin"
        assert h["Cache-Control"] == "no-store"
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
    inline = [s for s in re.findall(r"<script\b[^>]*>", page.text) if "src=" not in s and "application/json" not in s]
    assert inline and all(f'nonce="{nonce}"' in s for s in inline), inline
    assert not re.search(r"<[^>]+\son[a-z]+=", page.text)  # no inline handler (it would not run)
    static = client.get("/qqh-static/qqh/qqh.js")
    assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"


def test_dev_server_announces_no_version(csrf_app):
    from core.web.headers import RequestHandler

    app, _server = csrf_app
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=RequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        r = requests.get(f"http://127.0.0.1:{server.server_port}/login/", timeout=30)
        assert r.status_code == 200 and "Server" not in r.headers, r.headers
    finally:
        server.shutdown()


def test_a_request_begun_before_a_post_does_not_drop_what_the_post_flashed(csrf_app):
    """The browser test's phone lost its "added" message under load: a unit-picker call begun
    before the form was posted answered after it, and its cookie (the session as it was before,
    sent again only to slide its expiry) replaced the one carrying the message. A response that
    changed nothing in the session sends no cookie; the session still ends QQH_SESSION_HOURS
    after login."""
    app, server = csrf_app
    c, _ = login(server)
    page = c.get("/memonoteview/add")
    token = token_of(page.text)
    before = c.cookies.get_dict()
    r = c.get("/api/v1/unit/picker", params={"q": "佛山"})
    assert r.status_code == 200 and "Set-Cookie" not in r.headers, r.headers.get("Set-Cookie")
    c.get("/")
    assert "Set-Cookie" not in c.get("/").headers  # the same page again: FAB assigns its page history unchanged

    title = "竞态记事" + uuid.uuid4().hex[:6]
    r = c.post("/memonoteview/add", data={"title": title, "noted_on": "2012-03-05", "unit": unit_id(c), "csrf_token": token})
    assert r.status_code == 302, r.text[:300]
    late = requests.get(server.url + "/api/v1/unit/picker", params={"q": "顺德"}, cookies=before, timeout=30)
    assert late.status_code == 200
    c.cookies.update(late.cookies)  # what a browser does with the late answer's Set-Cookie
    listed = c.get(r.headers["Location"])
    assert listed.status_code == 200 and "alert-success" in listed.text and title in listed.text

    # the cookie still expires QQH_SESSION_HOURS after login, not after the last request
    fresh = Client(server.url)
    r = fresh.post("/login/", data={"username": "admin", "password": PASSWORD, "csrf_token": token_of(fresh.get("/login/").text)})
    expires = [ck.expires for ck in fresh.cookies if ck.name == app.config["SESSION_COOKIE_NAME"]]
    assert expires and abs(expires[0] - (time.time() + app.config["QQH_SESSION_HOURS"] * 3600)) < 120
