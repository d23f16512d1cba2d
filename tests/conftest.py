"""Test fixtures: each app-level test runs on SQLite and, when
QQH_TEST_PG_URL names a server (bin/test starts one), on PostgreSQL.
Nothing is mocked: real databases, a real HTTP server, real browsers."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests.browser import browser  # noqa: E402,F401 (one Chromium for the whole session)

PG_URL = os.environ.get("QQH_TEST_PG_URL")
ENGINES = ["sqlite"] + (["postgresql"] if PG_URL else [])

USERS = {
    # username: (unit code, role)
    "admin": ("440000", "province_admin"),
    "fs_clerk": ("440600", "clerk"),
    "sd_clerk": ("440606", "clerk"),
    "sz_clerk": ("440300", "clerk"),
    "fs_inspector": ("440600", "inspector"),
    "fs_admin": ("440600", "unit_admin"),
}
PASSWORD = "Test-pass-123"


def pytest_sessionstart(session):
    if os.environ.get("QQH_TEST_REQUIRE_PG") and not PG_URL:
        raise pytest.UsageError("QQH_TEST_REQUIRE_PG is set but QQH_TEST_PG_URL is not: PostgreSQL tests cannot run.")


def new_database(engine: str, tmp_path_factory) -> tuple[str, callable]:
    """A fresh empty database; returns its URL and a function that drops it."""
    if engine == "sqlite":
        path = tmp_path_factory.mktemp("db") / "qqh.db"
        return f"sqlite:///{path}", lambda: None
    name = "qqh_t_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as c:
            c.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url, drop


def make_app(url: str, instance, **overrides):
    from core.app import create_app

    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "QQH_INSTANCE_PATH": str(instance),
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "t" * 40,
        # requests wait this long for their import job (run by the real worker thread) before they
        # show its progress instead: long enough on a loaded machine for the tests' small files
        "QQH_JOB_WAIT_SECONDS": 30,
    }
    config.update(overrides)
    return create_app(config)


def initialise(app, users=USERS):
    """What `qqh init` does, plus the test users."""
    from click.testing import CliRunner

    from core.cli import cli

    with app.app_context():
        from core import migrate
        from core.cli import sync_roles_and_permissions
        from core.units import load_divisions, unit_by_code

        migrate.upgrade(app)
        session = app.appbuilder.session
        load_divisions(session)
        session.commit()
        sync_roles_and_permissions()
        sm = app.appbuilder.sm
        for username, (code, role) in users.items():
            if sm.find_user(username=username):
                continue
            u = sm.add_user(username, username, "测试", f"{username}@t.local", sm.find_role(role), password=PASSWORD)
            u.unit = unit_by_code(session, code)
        session.commit()


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request):
    return request.param


@pytest.fixture(scope="session")
def app(engine_name, tmp_path_factory):
    url, drop = new_database(engine_name, tmp_path_factory)
    application = make_app(url, tmp_path_factory.mktemp("instance"))
    initialise(application)
    yield application
    with application.app_context():
        application.extensions["qqh_db"].session.remove()
        application.extensions["qqh_db"].engine.dispose()
    drop()


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="session")
def live(app):
    server = LiveServer(app)
    yield server
    server.stop()


class Client(requests.Session):
    """requests.Session bound to the live server's base URL."""

    def __init__(self, base):
        super().__init__()
        self.base = base

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, self.base + url, *args, **kwargs)

    def login(self, username, password=PASSWORD):
        r = self.post("/login/", data={"username": username, "password": password})
        assert r.status_code == 302, r.text[:500]
        assert "/login" not in r.headers.get("Location", ""), f"login of {username} failed"
        return self


@pytest.fixture
def http(live):
    """A fresh anonymous HTTP client against the live server."""
    with Client(live.url) as c:
        yield c


@pytest.fixture
def as_user(live):
    clients = []

    def make(username):
        c = Client(live.url).login(username)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


class TokenClient(Client):
    """A client as a machine client is: a bearer token from
    POST /api/v1/security/login on every request, no cookie."""

    def login(self, username, password=PASSWORD):
        r = self.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"})
        assert r.status_code == 200, r.text[:500]
        self.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        self.cookies.clear()
        return self


@pytest.fixture
def as_token(live):
    """Like ``as_user``, with a bearer token instead of a cookie session."""
    clients = []

    def make(username):
        c = TokenClient(live.url).login(username)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture(params=["session", "token"])
def as_api_user(request, as_user, as_token):
    """REST tests run twice: with a cookie session and with a bearer token."""
    return as_user if request.param == "session" else as_token
