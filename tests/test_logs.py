"""Logs: one structured line per request (time, user, unit, route, status,
duration) without query values or secrets; failed logins and permission
denials logged with time, user and address; timestamps on every line."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import PASSWORD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def sqlite_only(engine_name, request):
    if engine_name != "sqlite":
        pytest.skip("logging does not depend on the engine")
    return request


def lines(caplog, logger):
    return [r.getMessage() for r in caplog.records if r.name == logger]


def test_request_and_security_lines(sqlite_only, caplog):
    http = sqlite_only.getfixturevalue("http")
    as_user = sqlite_only.getfixturevalue("as_user")
    caplog.set_level(logging.INFO)
    clerk = as_user("fs_clerk")
    r = clerk.get("/memonoteview/list/", params={"_flt_0_title": "张三的秘密搜索"})
    assert r.status_code == 200
    req = lines(caplog, "qqh.request")
    listing = [l for l in req if "route=/memonoteview/list/" in l]
    assert len(listing) == 1, req
    assert re.fullmatch(r"method=GET route=/memonoteview/list/ status=200 ms=\d+\.\d user=fs_clerk unit=\S+",
                        listing[0]), listing[0]
    assert "unit=-" not in listing[0]
    r = clerk.get("/memonoteview/show/999999")
    assert any(re.search(r"route=/memonoteview/show/<pk> status=404 ", l) for l in lines(caplog, "qqh.request"))

    # failed login: event, user, address; the tried password nowhere
    r = http.post("/login/", data={"username": "fs_clerk", "password": "wrong-Secret-77"})
    sec = lines(caplog, "qqh.security")
    assert "event=login_failed user=fs_clerk addr=127.0.0.1 route=/login/" in sec, sec
    # permission denied: an inspector may not add, on a page or in the API
    inspector = as_user("fs_inspector")
    inspector.get("/memonoteview/add")
    assert inspector.post("/api/v1/memonote/", json={"title": "x"}).status_code == 403
    denials = [l for l in lines(caplog, "qqh.security") if l.startswith("event=permission_denied user=fs_inspector addr=127.0.0.1")]
    assert len(denials) == 2, lines(caplog, "qqh.security")

    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("张三的秘密搜索", "wrong-Secret-77", PASSWORD, "csrf_token", "session="):
        assert secret not in everything


def test_every_line_has_a_timestamp(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QQH_") or k == "QQH_PLUGIN_MODULES"}  # the fixture plugin
    env.update(QQH_INSTANCE_PATH=str(tmp_path), PYTHONPATH=ROOT)
    code = ("from core.app import create_app\n"
            "app = create_app()\n"
            "app.test_client().get('/health')\n"
            "import logging; logging.getLogger('core.anything').warning('a warning')\n")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = [l for l in r.stderr.splitlines() if l.strip()]
    assert any("qqh.request: method=GET route=/health status=503" in l for l in out), out
    assert any("a warning" in l for l in out)
    for line in out:
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ", line), line
