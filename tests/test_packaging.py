"""`pip install .` gives a working install: a wheel built from the checkout,
installed into a fresh virtual environment outside the checkout, runs
`qqh init`, `qqh demo` and serves the login page, with its instance data in
the current directory, not in site-packages."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    # offline: setuptools and wheel of this interpreter, no download
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), ROOT],
        check=True, cwd=tmp_path, capture_output=True,
    )
    wheels = list(dist.glob("qinqinghui-*.whl"))
    assert len(wheels) == 1
    # the dependencies are those of this interpreter; the project comes from the wheel
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", str(wheels[0])], check=True,
                   capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QQH_", "PYTHON"))}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"

    where = subprocess.run([py, "-c", "import core, plugins.sample; print(core.__file__); print(plugins.sample.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout.split()
    site = str(venv / "lib")
    assert all(p.startswith(site) for p in where), where

    def qqh(*args):
        r = subprocess.run([str(venv / "bin" / "qqh"), *args], cwd=work, env=env, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        return r.stdout

    assert "Units: 1901 (1901 added)" in qqh("init", "--admin-password", "pw-123456")
    demo = qqh("demo")
    assert "training:" in demo and "sample" not in demo  # a deployment does not load the example plugin
    # instance data in ./instance of the current directory, nothing in site-packages
    assert (work / "instance" / "qqh.db").exists() and (work / "instance" / "secret_key").exists()
    assert not any("instance" in d for _, dirs, _ in os.walk(venv / "lib") for d in dirs)

    port = _free_port()
    server = subprocess.Popen([str(venv / "bin" / "qqh"), "run", "--port", str(port)], cwd=work, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/login/", timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.time() < deadline, server.stdout.read()
                time.sleep(0.3)
        assert r.status_code == 200
        assert "登录" in r.text  # the Chinese catalog came with the wheel
        css = requests.get(f"http://127.0.0.1:{port}/qqh-static/qqh/qqh.css", timeout=5)
        assert css.status_code == 200 and len(css.content) > 100
        s = requests.Session()
        page = s.get(f"http://127.0.0.1:{port}/login/", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        r = s.post(f"http://127.0.0.1:{port}/login/",
                   data={"username": "admin", "password": "pw-123456", "csrf_token": token},
                   allow_redirects=False, timeout=10)
        assert r.status_code == 302 and "/login" not in r.headers["Location"]
        r = s.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert r.status_code == 200 and "亲青汇" in r.text
    finally:
        server.terminate()
        server.wait(10)
