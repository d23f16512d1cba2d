"""Database outages: 503 with a Chinese "retry" message on pages and API
(pages rendered without the database), one log line per failure, pool
pre-ping across a database restart, /health, and gunicorn refusing to start
against an unreachable or uninitialised database."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import Client, LiveServer, PASSWORD, initialise, make_app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNAVAILABLE = "数据库暂时无法连接"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(url: str, instance, timeout=60):
    """Start gunicorn as the README says; returns (process, port)."""
    port = _free_port()
    os.makedirs(instance, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QQH_") or k == "QQH_PLUGIN_MODULES"}  # the fixture plugin
    env.update(QQH_DATABASE_URL=url, QQH_INSTANCE_PATH=str(instance), PYTHONPATH=ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:core.gunicorn_conf", "-w", "1", "-b", f"127.0.0.1:{port}",
         "core.app:create_app()"],
        env=env, cwd=str(instance), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return proc, port


def assert_refuses(url, instance, words):
    proc, _ = gunicorn(url, instance)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in err
    errors = [l for l in err.splitlines() if "Error" in l or "错误" in l]
    assert len(errors) == 1 and words in errors[0], err


def test_health_and_gunicorn_refusal(engine_name, tmp_path, request):
    if engine_name != "sqlite":
        pytest.skip("the PostgreSQL case is test_outage_on_postgresql")
    http = request.getfixturevalue("http")
    r = http.get("/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] and body["database"] and body["migrations_at_head"]
    assert set(body["migrations"]) >= {"core", "memo"} and "memo" in body["plugins"]
    # an empty (uninitialised) database: 503 on /health, gunicorn refuses to start
    empty = make_app(f"sqlite:///{tmp_path}/empty.db", tmp_path / "i")
    r = empty.test_client().get("/health")
    assert r.status_code == 503 and r.json["database"] and not r.json["migrations_at_head"]
    assert_refuses(f"sqlite:///{tmp_path}/empty.db", tmp_path / "i", "not initialised")


@pytest.fixture(scope="module")
def own_pg():
    if not os.environ.get("QQH_TEST_PG_URL"):
        pytest.skip("PostgreSQL tests need QQH_TEST_PG_URL (bin/test)")
    from tests.pgserver import PgServer

    server = PgServer()
    yield server
    server.destroy()


def test_outage_on_postgresql(own_pg, tmp_path, caplog):
    url = own_pg.createdb("qqh_outage")
    app = make_app(url, tmp_path / "instance")
    initialise(app, {"admin": ("440000", "province_admin")})
    live = LiveServer(app)
    try:
        user = Client(live.url).login("admin", PASSWORD)
        anon = Client(live.url)
        assert user.get("/").status_code == 200
        assert anon.get("/health").status_code == 200

        # an idle restart costs no request (pool pre-ping)
        own_pg.stop()
        own_pg.start()
        assert user.get("/").status_code == 200
        assert user.get("/api/v1/plugins/").status_code == 200

        own_pg.stop()
        caplog.clear()
        caplog.set_level(logging.INFO)
        pages = [anon.get("/login/"), user.get("/"), user.get("/memonoteview/list/")]
        for r in pages:
            assert r.status_code == 503, r.text[:300]
            assert UNAVAILABLE in r.text and "<html" in r.text
            assert r.headers["Retry-After"]
        api = user.get("/api/v1/plugins/")
        assert api.status_code == 503 and UNAVAILABLE in api.json()["message"]
        health = anon.get("/health")
        assert health.status_code == 503 and health.json()["database"] is False
        failures = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
        assert len(failures) == 5, [rec.getMessage() for rec in failures]  # one line per failure
        assert not any(rec.exc_info for rec in caplog.records), "no traceback per request"

        # gunicorn refuses to start against the stopped server
        assert_refuses(url, tmp_path / "g1", "cannot reach the database")

        own_pg.start()
        assert user.get("/").status_code == 200  # recovered, no restart
        anon.close()
        user.close()

        # and starts, and answers /health, when the database is there
        proc, port = gunicorn(url, tmp_path / "g2")
        try:
            deadline = time.time() + 60
            while True:
                try:
                    r = requests.get(f"http://127.0.0.1:{port}/health", timeout=10)
                    break
                except requests.ConnectionError:
                    assert proc.poll() is None and time.time() < deadline, proc.communicate()[1]
                    time.sleep(0.3)
            assert r.status_code == 200 and r.json()["ok"]
        finally:
            proc.terminate()
            _out, err = proc.communicate(timeout=20)
        # the worker kept the app's objects out of garbage collection (core.app.freeze_heap)
        assert re.search(r"worker \d+: [1-9]\d{4,} objects of the app kept out of garbage collection", err), err[-2000:]
    finally:
        live.stop()
        with app.app_context():
            app.extensions["qqh_db"].session.remove()
            app.extensions["qqh_db"].engine.dispose()


@pytest.mark.parametrize("db_engine", ["sqlite", "postgresql"])
def test_uninitialised_database_says_run_init(db_engine, tmp_path_factory, tmp_path):
    """A database without the schema (``qqh init`` never run, or not after an
    upgrade) is not an outage: pages and API answer 503 with a Chinese message
    that says the schema is missing, not "database unavailable" (SQLite: no
    such table; PostgreSQL: undefined_table, which used to be a 500)."""
    from tests.conftest import PG_URL, new_database

    if db_engine == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL tests need QQH_TEST_PG_URL (bin/test)")
    url, drop = new_database(db_engine, tmp_path_factory)
    try:
        client = make_app(url, tmp_path / "i").test_client()
        page = client.get("/login/")
        api = client.get("/api/v1/unit/")
        for asset in ("/qqh-static/qqh/qqh.css", "/static/appbuilder/css/ab.css"):  # core's and FAB's files
            assert client.get(asset).status_code == 200, asset  # need no database
        assert page.status_code == 503 and api.status_code == 503, (page.status_code, api.status_code)
        text = page.get_data(as_text=True)
        assert "qqh init" in text and "尚未初始化" in text and UNAVAILABLE not in text
        assert "qqh init" in api.json["message"]
    finally:
        drop()
