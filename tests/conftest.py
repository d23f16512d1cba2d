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
# The fixtures a plugin's tests also use live in core.testing (the pytest plugin core.testing.plugin,
# docs/plugins.md "Testing"); core's tests take them from there. The tests' users get a cheap password
# hash (core.testing.support.TEST_PASSWORD_HASH): make_app is core.testing's (make_test_app).
from core.testing import Client, TokenClient, make_app  # noqa: E402,F401
from core.testing.plugin import app, as_token, as_user, engine_name, http, live, make_user  # noqa: E402,F401
from core.testing.support import TEST_PASSWORD_HASH, _fake_hash  # noqa: E402,F401

from core.ops.jobs import stop_worker  # noqa: E402
from tests.browser import browser  # noqa: E402,F401 (one Chromium for the whole session)

# core's tests use their own fixture plugin, tests/memo_plugin (not plugins/sample, the reference plugin, which
# has its own tests): bench._support, imported above, adds it (QQH_PLUGIN_MODULES) and sets QQH_PLUGINS to it
# and the three task plugins for every app and command these tests start, unless set already

from core.testing.plugin import ENGINES, PG_URL, new_database  # noqa: E402,F401


# The slowest files start first (summed seconds on both engines, measured 2026-12-01 on 2 cores): with
# `--dist loadfile` xdist hands files out in collection order, and these came last alphabetically, so one
# worker ran them alone at the end. Order only: every test module is independent of the others.
SLOW_FIRST = [
    "tests/test_no_500.py",  # ~480 s
    "tests/test_authorization_matrix.py",  # ~300 s
    "tests/test_xss_browser.py",  # ~115 s
    "tests/test_plugin_new.py",  # ~60-150 s (a virtual environment, two installs, the generated plugin's tests)
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
