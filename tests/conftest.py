"""Test fixtures: each app-level test runs on SQLite and, when
QQH_TEST_PG_URL names a server (bin/test starts one), on PostgreSQL.
Nothing is mocked: real databases, a real HTTP server, real browsers."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid

import pytest
import requests
import sqlalchemy as sa

from bench._support import PASSWORD, USERS, LiveServer, fresh_database, initialise  # noqa: F401 (shared with bench/)
from bench._support import make_app as _make_app

# The tests' users get a cheap password hash, as Django's test settings do (MD5PasswordHasher): FAB's
# default, scrypt, costs ~0.1–0.8 s a login on this 2-core machine, and the suite logs in thousands of
# times. Production keeps scrypt: tests/test_accounts.py::test_production_hashes_passwords_with_scrypt.
TEST_PASSWORD_HASH = "pbkdf2:sha256:1000"


def make_app(url: str, instance, **overrides):
    overrides.setdefault("FAB_PASSWORD_HASH_METHOD", TEST_PASSWORD_HASH)
    overrides.setdefault("AUTH_DB_FAKE_PASSWORD_HASH_CHECK", _fake_hash())
    return _make_app(url, instance, **overrides)


def _fake_hash() -> str:
    # what FAB checks an unknown user's password against (so that timing does not tell who exists)
    from werkzeug.security import generate_password_hash

    return generate_password_hash("not a password", method=TEST_PASSWORD_HASH)

from core.ops.jobs import stop_worker  # noqa: E402
from tests.browser import browser  # noqa: E402,F401 (one Chromium for the whole session)

# core's tests use their own fixture plugin, tests/memo_plugin (not plugins/sample, the reference plugin, which
# has its own tests): bench._support, imported above, adds it (QQH_PLUGIN_MODULES) and sets QQH_PLUGINS to it
# and the three task plugins for every app and command these tests start, unless set already

PG_URL = os.environ.get("QQH_TEST_PG_URL")
ENGINES = ["sqlite"] + (["postgresql"] if PG_URL else [])


# The slowest files start first (summed seconds on both engines, measured 2026-12-01 on 2 cores): with
# `--dist loadfile` xdist hands files out in collection order, and these came last alphabetically, so one
# worker ran them alone at the end. Order only: every test module is independent of the others.
SLOW_FIRST = [
    "tests/test_no_500.py",  # ~480 s
    "tests/test_authorization_matrix.py",  # ~300 s
    "tests/test_xss_browser.py",  # ~115 s
    "tests/plugins/homes/test_migrations_and_demo.py",
    "tests/test_api_contract.py",
    "tests/plugins/cultivation/test_migrations_and_demo.py",
    "tests/test_platform.py",
    "tests/plugins/training/test_migrations_and_demo.py",
    "tests/test_web_hardening.py",
    "tests/test_migrations.py",
]


def pytest_collection_modifyitems(session, config, items):
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: files stay whole


def pytest_sessionstart(session):
    if os.environ.get("QQH_TEST_REQUIRE_PG") and not PG_URL:
        raise pytest.UsageError("QQH_TEST_REQUIRE_PG is set but QQH_TEST_PG_URL is not: PostgreSQL tests cannot run.")


def new_database(engine: str, tmp_path_factory) -> tuple[str, callable]:
    """A fresh empty database; returns its URL and a function that drops it."""
    if engine == "sqlite":
        return fresh_database(None, str(tmp_path_factory.mktemp("db")))
    return fresh_database(PG_URL)


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request):
    return request.param


@pytest.fixture(scope="session")
def app(engine_name, tmp_path_factory):
    url, drop = new_database(engine_name, tmp_path_factory)
    application = make_app(url, tmp_path_factory.mktemp("instance"))
    initialise(application)
    yield application
    stop_worker(application)  # its thread would reconnect to a database about to be dropped
    with application.app_context():
        application.extensions["qqh_db"].session.remove()
        application.extensions["qqh_db"].engine.dispose()
    drop()


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


@pytest.fixture
def make_user(app):
    """Throwaway users (unique names) made with FAB's security manager;
    deleted afterwards. ``make(unit_code, role)`` returns (id, username)."""
    made = []

    def make(unit_code: str, role: str) -> tuple[int, str]:
        from core.tenancy.units import unit_by_code

        name = f"u{uuid.uuid4().hex[:8]}"
        with app.app_context():
            sm, session = app.appbuilder.sm, app.appbuilder.session
            user = sm.add_user(name, name, "测试", f"{name}@t.local", sm.find_role(role), password=PASSWORD)
            assert user, name
            user.unit = unit_by_code(session, unit_code)
            session.commit()
            made.append(user.id)
            return user.id, name

    yield make
    with app.app_context():
        from core.tenancy.security import QqhUser

        session = app.appbuilder.session
        for pk in made:
            user = session.get(QqhUser, pk)
            if user is not None:
                session.delete(user)
        session.commit()


# With both engines, each REST test runs once per engine: with a bearer token on PostgreSQL (as the
# product's API clients meet it) and with a cookie session on SQLite; how a request is authenticated does
# not depend on the engine, and each pairing is covered. With SQLite alone, both ways on SQLite.
API_AUTH = ["by-engine"] if len(ENGINES) > 1 else ["session", "token"]


@pytest.fixture(params=API_AUTH)
def as_api_user(request, engine_name, as_user, as_token):
    """A REST test's client factory: cookie session or bearer token (see API_AUTH)."""
    kind = request.param if request.param != "by-engine" else ("token" if engine_name == "postgresql" else "session")
    return as_user if kind == "session" else as_token


@contextlib.contextmanager
def statements_of(engine, every_thread: bool = False):
    """The SQL statements ``engine`` runs within the block, as a list filled meanwhile: by default only
    this thread's (the job worker's polling and the live server's requests are not the code under test;
    counting them made the set-based tests fail now and then)."""
    seen: list[str] = []
    me = threading.get_ident()

    def listen(conn, cursor, statement, parameters, context, executemany):
        if every_thread or threading.get_ident() == me:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


@pytest.fixture
def pages_once(engine_name):
    """For a browser story whose pages do not depend on the engine: it runs on SQLite only (the HTTP
    tests of the same code run on both engines); keeps the suite's time down."""
    if engine_name != "sqlite":
        pytest.skip("the pages are the same on both engines; once is enough for the suite's time (HTTP tests cover both)")
