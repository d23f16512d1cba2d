"""The pytest plugin of 亲青汇 (entry point ``pytest11``: ``qqh = core.testing.plugin``): the fixtures a
plugin's tests need, and the session app the plugin contract (core.testing.contract) runs on.

Each app-level test runs on SQLite and, when ``QQH_TEST_PG_URL`` names a PostgreSQL server (any database
on it: each app gets a new database there, dropped afterwards), on PostgreSQL too; with
``QQH_TEST_REQUIRE_PG=1`` a missing URL stops the session instead of skipping PostgreSQL.
``QQH_PLUGINS`` (unset: every installed plugin but the examples) says which plugins the apps enable.
Nothing is mocked: real databases, a real HTTP server."""

from __future__ import annotations

import contextlib
import os
import uuid

import pytest

from core.testing.support import PASSWORD, close_app, fresh_database, initialise, make_test_app

__all__ = ["engine_name", "app", "live", "http", "as_user", "as_token", "as_api_user", "make_user", "db", "unit_ids",
           "module_off", "pages_once", "browser", "contract_app"]

PG_URL = os.environ.get("QQH_TEST_PG_URL")
ENGINES = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_sessionstart(session):
    if os.environ.get("QQH_TEST_REQUIRE_PG") and not os.environ.get("QQH_TEST_PG_URL"):
        raise pytest.UsageError("QQH_TEST_REQUIRE_PG is set but QQH_TEST_PG_URL is not: PostgreSQL tests cannot run.")


def new_database(engine: str, tmp_path_factory) -> tuple[str, callable]:
    """A fresh empty database on ``engine`` ("sqlite" or "postgresql"); returns its URL and a function that drops it."""
    if engine == "sqlite":
        return fresh_database(None, str(tmp_path_factory.mktemp("db")))
    return fresh_database(PG_URL)


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request):
    """"sqlite", then "postgresql" (when QQH_TEST_PG_URL is set): every app fixture follows it."""
    return request.param


@pytest.fixture(scope="session")
def app(engine_name, tmp_path_factory):
    """The session's app on a fresh database, initialised as `qqh init` does, with the users of
    ``core.testing.USERS`` (password ``core.testing.PASSWORD``)."""
    url, drop = new_database(engine_name, tmp_path_factory)
    application = make_test_app(url, tmp_path_factory.mktemp("instance"))
    initialise(application)
    yield application
    close_app(application)
    drop()


@pytest.fixture(scope="session")
def live(app):
    """A real HTTP server for ``app`` (``live.url``)."""
    from core.testing.support import LiveServer

    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def http(live):
    """A fresh anonymous HTTP client against the live server."""
    from core.testing.clients import Client  # requests: the `test` extra (this plugin loads without it)

    with Client(live.url) as c:
        yield c


@pytest.fixture
def as_user(live):
    """``as_user("fs_clerk")``: a client logged in with a cookie session."""
    from core.testing.clients import Client

    clients = []

    def make(username, password=PASSWORD):
        c = Client(live.url).login(username, password)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def as_token(live):
    """Like ``as_user``, with a bearer token (POST /api/v1/security/login) instead of a cookie session."""
    from core.testing.clients import TokenClient

    clients = []

    def make(username, password=PASSWORD):
        c = TokenClient(live.url).login(username, password)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


# With both engines, each REST test runs once per engine: with a bearer token on PostgreSQL (as the
# product's API clients meet it) and with a cookie session on SQLite; how a request is authenticated does
# not depend on the engine, and each pairing is covered. With SQLite alone, both ways on SQLite.
API_AUTH = ["by-engine"] if len(ENGINES) > 1 else ["session", "token"]


@pytest.fixture(params=API_AUTH)
def as_api_user(request, engine_name, as_user, as_token):
    """A REST test's client factory: ``as_user`` (cookie session) or ``as_token`` (bearer token) — the
    token on PostgreSQL and the cookie on SQLite, or both in turn with SQLite alone (``API_AUTH``)."""
    kind = request.param if request.param != "by-engine" else ("token" if engine_name == "postgresql" else "session")
    return as_user if kind == "session" else as_token


@pytest.fixture
def pages_once(engine_name):
    """For a browser story whose pages do not depend on the engine: it runs on SQLite only (the HTTP
    tests of the same code run on both engines); keeps the suite's time down."""
    if engine_name != "sqlite":
        pytest.skip("the pages are the same on both engines; once is enough for the suite's time (HTTP tests cover both)")


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session (core.testing.browser: Debian's, ``QQH_TEST_CHROMIUM``); its tests
    are skipped without one (failed under ``CI``)."""
    from core.testing.browser import launch

    yield from launch()


@pytest.fixture
def db(app):
    """``with db() as s:`` a session of the app's database, rolled back afterwards (for reading)."""

    @contextlib.contextmanager
    def session():
        with app.app_context():
            s = app.appbuilder.session
            try:
                yield s
            finally:
                s.rollback()

    return session


@pytest.fixture
def unit_ids(app):
    """Unit code → id, of the whole tree (REST payloads name units by id)."""
    from sqlalchemy import select

    from core.tenancy.units import Unit

    with app.app_context():
        return dict(app.appbuilder.session.execute(select(Unit.code, Unit.id)).all())


@pytest.fixture
def module_off(app):
    """``module_off(unit_code, plugin)``: the unit switches the plugin's module off (core.tenancy.modules) for
    the test; on again afterwards."""
    from core.tenancy import modules
    from core.tenancy.units import unit_by_code

    switched = []

    def switch(code: str, name: str, on: bool = False) -> None:
        with app.app_context():
            s = app.appbuilder.session
            modules.set_module(s, unit_by_code(s, code), name, on)
            s.commit()

    def off(code: str, name: str) -> None:
        switch(code, name)
        switched.append((code, name))

    yield off
    for code, name in reversed(switched):
        switch(code, name, on=True)


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



def _contract_plugins() -> list[str] | None:
    """What the contract's app enables: the plugins QQH_PLUGINS names (unset: every installed one) and
    the installed examples too (the reference plugin runs the contract like any other, although a
    deployment leaves it off)."""
    from core.config import plugin_names
    from core.plugins import PluginRegistry

    installed = PluginRegistry(enabled=[]).installed
    examples = [n for n, p in installed.items() if p.manifest.example and not p.builtin]
    names = plugin_names()
    if names is None:
        names = [n for n, p in installed.items() if not p.builtin and not p.manifest.example]
    return [*names, *(n for n in examples if n not in names)]


@pytest.fixture(scope="session")
def contract_app(engine_name, tmp_path_factory):
    """The plugin contract's app (core.testing.contract): a database of its own with every enabled
    plugin's demo data (the contract's migrations go down and up, its crawl posts garbage), shared by
    the contracts of all plugins in the session."""
    from core.testing.contract import ContractApp

    url, drop = new_database(engine_name, tmp_path_factory)
    application = make_test_app(url, tmp_path_factory.mktemp("contract"), QQH_PLUGINS=_contract_plugins())
    initialise(application)
    yield ContractApp(application, engine_name)
    close_app(application)
    drop()
