"""Fixtures of the plugin's tests: an app with this plugin enabled on a fresh database, per engine (SQLite,
and PostgreSQL when QQH_TEST_PG_URL names a server), behind a live HTTP server; clients logged in by
cookie or by bearer token. They are built from core.testing's helpers (make_app, new_database, initialise,
LiveServer, Client, TokenClient): the session's ``app`` leaves this example plugin off."""

import os

import pytest

from core.testing import ENGINES, Client, LiveServer, TokenClient, initialise, make_app, new_database

PLUGIN = "sample"
# SQLite by default: what depends on the engine is core's, whose own tests run on both; an app costs ~15 s
# to set up, so the suite pays for one. QQH_SAMPLE_ENGINES=sqlite,postgresql runs them on both.
SAMPLE_ENGINES = [e for e in os.environ.get("QQH_SAMPLE_ENGINES", "sqlite").split(",") if e in ENGINES]


@pytest.fixture(scope="session", params=SAMPLE_ENGINES)
def sample_engine(request):
    return request.param


@pytest.fixture(scope="session")
def sample_app(sample_engine, tmp_path_factory):
    url, drop = new_database(sample_engine, tmp_path_factory)
    # this plugin alone; jobs (imports) run in the request, no worker thread
    application = make_app(url, tmp_path_factory.mktemp("instance"), QQH_PLUGINS=[PLUGIN], QQH_JOBS="inline")
    initialise(application)
    application.config["SAMPLE_TEST_URL"] = url
    yield application
    with application.app_context():
        application.extensions["qqh_db"].session.remove()
        application.extensions["qqh_db"].engine.dispose()
    drop()


@pytest.fixture(scope="session")
def sample_live(sample_app):
    server = LiveServer(sample_app)
    yield server
    server.stop()


@pytest.fixture
def clients(sample_live):
    """``clients(username, token=False)``: a client logged in by cookie session, or by bearer token."""
    made = []

    def make(username, token=False):
        c = (TokenClient if token else Client)(sample_live.url).login(username)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def qqh(sample_app, tmp_path):
    """``qqh(*args)``: the ``qqh`` command on the test database, with this plugin enabled."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("QQH_")}
    env.update(QQH_DATABASE_URL=sample_app.config["SAMPLE_TEST_URL"], QQH_INSTANCE_PATH=str(tmp_path),
               QQH_SECRET_KEY="s" * 40, QQH_PLUGINS=PLUGIN, PYTHONPATH=root)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "core", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    return run
