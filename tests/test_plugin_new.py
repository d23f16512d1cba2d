"""`qqh plugin new NAME`: a package generated from the reference plugin installs, passes its own tests (the
plugin contract of core.testing, found through the pytest11 entry point), is enabled, migrated and served —
all in a throwaway virtual environment (core installed there from this checkout), never in the shared one.
Bad names are refused in Chinese, writing nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from core.cli import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("name, words", [
    ("1bad", "不可用"), ("Bad-Name", "不可用"), ("class", "不可用"),  # not a lower-case identifier
    ("cultivation", "已有名为"), ("units", "已有名为"),  # an installed plugin, a built-in feature
    ("taken", "已存在"),  # its folder exists
])
def test_bad_names_are_refused_in_chinese_writing_nothing(tmp_path, name, words):
    (tmp_path / "qqh-taken").mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    r = CliRunner().invoke(cli, ["plugin", "new", name, "--dir", str(tmp_path)])
    assert r.exit_code != 0 and words in r.output, r.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_bad_title_is_refused(tmp_path):
    r = CliRunner().invoke(cli, ["plugin", "new", "okname", "--dir", str(tmp_path), "--title", '青年"创业'])
    assert r.exit_code != 0 and "中文名" in r.output, r.output
    assert not list(tmp_path.iterdir())


def test_not_inside_cores_checkout():
    r = CliRunner().invoke(cli, ["plugin", "new", "inside", "--dir", os.path.join(ROOT, "plugins")])
    assert r.exit_code != 0 and "之外" in r.output, r.output
    assert not os.path.exists(os.path.join(ROOT, "plugins", "qqh-inside"))


SERVE = r"""
import json, sys
from core.cli import main
try:
    main(["init", "--admin-password", "Gen-pass-2468"])  # migrates core and the enabled plugin's branch
except SystemExit as exc:
    assert not exc.code, exc.code
from core.app import create_app
app = create_app({"WTF_CSRF_ENABLED": False})  # the test client posts the login form without its token
name = sys.argv[1]
registry = app.extensions["qqh_plugins"]
assert name in registry.order, registry.order
views = [p.view for n, pages in registry.call("qqh_views") if n == name for p in pages]
apis = [a for n, items in registry.call("qqh_apis") if n == name for a in items]
page = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == views[0].__name__ + ".list")
api = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == apis[0].__name__ + ".get_list")
c = app.test_client()
assert c.post("/login/", data={"username": "admin", "password": "Gen-pass-2468"}).status_code == 302
html = c.get(page)
t = app.test_client()
token = t.post("/api/v1/security/login", json={"username": "admin", "password": "Gen-pass-2468", "provider": "db"})
answer = t.get(api, headers={"Authorization": "Bearer " + token.get_json()["access_token"]})
print(json.dumps({"page": page, "page_status": html.status_code, "html": html.get_data(as_text=True),
                  "api": api, "api_status": answer.status_code, "json": answer.get_json()}, ensure_ascii=False))
"""


@pytest.mark.venv
def test_a_generated_plugin_installs_passes_its_tests_and_serves(tmp_path):
    name, title = "ventures", "青年创业"
    r = CliRunner().invoke(cli, ["plugin", "new", name, "--dir", str(tmp_path), "--title", title])
    assert r.exit_code == 0, r.output
    project = tmp_path / f"qqh-{name}"
    package = project / f"qqh_{name}"
    assert (project / "pyproject.toml").exists() and (package / "translations/zh/LC_MESSAGES" / f"{name}.mo").exists()
    assert f'{name} = "qqh_{name}"' in (project / "pyproject.toml").read_text()
    revisions = list((package / "migrations").glob("*.py"))
    assert revisions and f"branch_labels = ('{name}',)" in "".join(p.read_text() for p in revisions)
    assert title in (package / "translations/zh/LC_MESSAGES" / f"{name}.po").read_text()

    # a throwaway environment: this checkout's core (its pytest11 entry point) and the generated package
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(pip + ["-e", ROOT], check=True, capture_output=True, cwd=tmp_path)
    subprocess.run(pip + [str(project)], check=True, capture_output=True, cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QQH_", "PYTHON"))}
    env.update(QQH_PLUGINS=name, PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    where = subprocess.run([py, "-c", f"import core, qqh_{name}; print(core.__file__, qqh_{name}.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert where[0].startswith(ROOT) and where[1].startswith(str(venv)), where

    # its tests as generated (SQLite: core's own tests cover PostgreSQL), fixtures from the pytest11 plugin
    tests = subprocess.run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings", "-x", str(project)],
                           cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    passed = re.search(r"(\d+) passed", tests.stdout)
    assert passed and int(passed.group(1)) >= 5, tests.stdout[-500:]  # the contract's five, and the copied tests

    # enabled (QQH_PLUGINS), migrated by `qqh init`, its page and its API with a bearer token
    env.update(QQH_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", QQH_INSTANCE_PATH=str(tmp_path / "instance"),
               QQH_SECRET_KEY="s" * 40)
    served = subprocess.run([py, "-c", SERVE, name], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert served.returncode == 0, served.stderr[-3000:]
    seen = json.loads(served.stdout.strip().splitlines()[-1])
    assert seen["page_status"] == 200 and title in seen["html"], (seen["page"], seen["html"][:500])
    assert seen["api_status"] == 200 and "result" in seen["json"], seen
