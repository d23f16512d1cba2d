"""Several app servers: two app processes with their own instance folders on
one database and a shared upload folder (QQH_UPLOAD_PATH): an import checked
on one is confirmed on the other; pending files are the app user's only."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from urllib.parse import urlsplit

import requests

from tests.conftest import PASSWORD, Client
from tests.test_importing import delete_notes, notes, tag, xlsx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url, instance, uploads, secret):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QQH_")}
    env.update(QQH_DATABASE_URL=url, QQH_INSTANCE_PATH=str(instance), QQH_UPLOAD_PATH=str(uploads),
               QQH_SECRET_KEY=secret, QQH_JOB_WAIT_SECONDS="30", PYTHONPATH=ROOT,
               QQH_PLUGINS=os.environ["QQH_PLUGINS"],  # the memo list: core's test fixture plugin, named
               QQH_PLUGIN_MODULES=os.environ["QQH_PLUGIN_MODULES"])
    proc = subprocess.Popen([sys.executable, "-m", "core", "run", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, f"http://127.0.0.1:{port}"


def csrf(client, path) -> str:
    page = client.get(path).text
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def login(client, username):
    r = client.post("/login/", data={"username": username, "password": PASSWORD, "csrf_token": csrf(client, "/login/")})
    assert r.status_code == 302 and "/login" not in r.headers["Location"]


def check(client, rows):
    token = csrf(client, "/excel/memonote/import")
    return client.post("/excel/memonote/import", data={"on_duplicate": "update", "csrf_token": token},
                       files={"file": ("名单.xlsx", xlsx(rows))})


def wait_up(proc, base):
    deadline = time.time() + 90
    while True:
        try:
            return requests.get(base + "/health", timeout=10)
        except requests.ConnectionError:
            assert proc.poll() is None and time.time() < deadline, proc.stdout.read()
            time.sleep(0.3)


def test_import_checked_on_one_server_confirmed_on_the_other(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    uploads = tmp_path / "shared-uploads"
    secret = "s" * 48  # one key for every server (README)
    servers = [serve(url, tmp_path / f"instance{i}", uploads, secret) for i in (1, 2)]
    try:
        for proc, base in servers:
            assert wait_up(proc, base).status_code == 200
        (_, a), (_, b) = servers
        t = tag()
        with Client(a) as on_a, Client(b) as on_b:
            login(on_a, "fs_clerk")
            login(on_b, "fs_clerk")
            rows = [(f"{t}-1", "", "2012-03-01", "440600"), (f"{t}-2", "", "2012-03-02", "440600")]
            r = check(on_a, rows)
            assert r.status_code == 302, r.text[:300]
            report_url = urlsplit(r.headers["Location"]).path
            assert "所有行都正确" in on_b.get(report_url).text
            r = on_b.post(report_url, data={"csrf_token": csrf(on_b, report_url)})
            assert r.status_code == 302 and "/memonoteview/list" in r.headers["Location"], r.text[:300]
        assert sorted(notes(app, t)) == [f"{t}-1", f"{t}-2"]
        # nothing in the per-server instance folders; the shared folder is the app user's only
        assert not (tmp_path / "instance1" / "imports").exists()
        assert stat.S_IMODE(os.stat(uploads).st_mode) == 0o700
        with Client(a) as on_a:
            login(on_a, "fs_clerk")
            assert check(on_a, rows).status_code == 302
        pending = list(uploads.iterdir())
        assert pending and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in pending)
        delete_notes(app, t)
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(20)
