"""Test fixtures: each app-level test runs on SQLite and, when
QQH_TEST_PG_URL names a server (bin/test starts one), on PostgreSQL.
Nothing is mocked: real databases, a real HTTP server, real browsers."""

from __future__ import annotations

from bench._support import PASSWORD, USERS, LiveServer, fresh_database, initialise  # noqa: F401 (shared with bench/)
# The fixtures (app, live, http, as_user, as_token, as_api_user, make_user, db, unit_ids, pages_once, browser)
# are core.testing's (the pytest plugin core.testing.plugin, imported by the checkout's conftest.py for core's
# tests and the plugins' alike: one session app per engine; docs/plugins.md "Testing"). The helpers below are
# imported here for core's tests that take them from tests.conftest. The tests' users get a cheap password
# hash (core.testing.support.TEST_PASSWORD_HASH): make_app is core.testing's (make_test_app).
from core.testing import Client, TokenClient, make_app, statements_of  # noqa: E402,F401
from core.testing.plugin import ENGINES, PG_URL, new_database  # noqa: E402,F401
from core.testing.support import TEST_PASSWORD_HASH, _fake_hash  # noqa: E402,F401

# core's tests use their own fixture plugin, tests/memo_plugin (not plugins/sample, the reference plugin, which
# has its own tests): bench._support, imported above, adds it (QQH_PLUGIN_MODULES) and sets QQH_PLUGINS to it
# and the three task plugins for every app and command these tests start, unless set already


# The slowest files start first (summed seconds on both engines, measured 2026-12-01 on 2 cores): with
# `--dist loadfile` xdist hands files out in collection order, and these came last alphabetically, so one
# worker ran them alone at the end. Order only: every test module is independent of the others. (The plugins'
# tests, plugins/NAME/tests/, take under 30 s a file since their demo tests use the contract's app.)
SLOW_FIRST = [
    "tests/test_no_500.py",  # ~480 s
    "tests/test_authorization_matrix.py",  # ~300 s
    "tests/test_xss_browser.py",  # ~115 s
    "tests/test_plugin_new.py",  # ~60-150 s (a virtual environment, two installs, the generated plugin's tests)
    "tests/test_api_contract.py",
    "tests/test_platform.py",
    "tests/test_web_hardening.py",
    "tests/test_migrations.py",
]


def pytest_collection_modifyitems(session, config, items):
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: files stay whole

