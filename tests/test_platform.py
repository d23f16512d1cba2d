"""Platform: plugin system, configuration errors, the qqh command, two apps."""

import inspect
import os
import re
import subprocess
import sys
import types

import pytest

from core import hookspecs
from core.hookspecs import hookimpl
from core.plugins import Manifest, PluginError, PluginRegistry


def plugin(name, requires=(), core=">=0", **hooks):
    mod = types.ModuleType(f"fake_{name}")

    @hookimpl
    def qqh_manifest():
        return Manifest(name=name, version="1.0", label=name, requires=tuple(requires), core=core)

    mod.qqh_manifest = qqh_manifest
    for k, v in hooks.items():
        setattr(mod, k, v)
    return mod


def test_every_hook_has_a_docstring():
    hooks = [f for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("qqh_")]
    assert len(hooks) >= 10
    for f in hooks:
        assert (f.__doc__ or "").strip(), f"hook {f.__name__} has no docstring"


def test_load_order_follows_requires_not_discovery():
    reg = PluginRegistry(
        extra={"alpha": plugin("alpha", requires=["zeta"]), "zeta": plugin("zeta", requires=["mid"]), "mid": plugin("mid")},
        use_entry_points=False,
    )
    assert reg.switchable() == ["mid", "zeta", "alpha"]


@pytest.mark.parametrize(
    "extra, enabled, words",
    [
        ({"a": plugin("a", requires=["b"])}, None, "requires plugin 'b', which is not installed"),
        ({"a": plugin("a", requires=["b"]), "b": plugin("b")}, ["a"], "which is disabled"),
        ({"a": plugin("a")}, ["a", "ghost"], "'ghost', which is not installed"),
        ({"a": plugin("a", requires=["b"]), "b": plugin("b", requires=["a"])}, None, "circle"),
        ({"a": plugin("b")}, None, "make the entry-point name and the manifest name the same"),
        ({"a": plugin("a", core=">=99")}, None, "needs core >=99"),
    ],
)
def test_plugin_failures_are_clear(extra, enabled, words):
    with pytest.raises(PluginError) as exc:
        PluginRegistry(enabled=enabled, extra=extra, use_entry_points=False)
    assert words in str(exc.value)


def test_misspelt_hooks_fail_loudly():
    @hookimpl
    def qqh_modles():
        return []

    with pytest.raises(PluginError, match="unknown hook|not a hook"):
        PluginRegistry(extra={"a": plugin("a", qqh_modles=qqh_modles)}, use_entry_points=False)

    def qqh_view():  # not even marked
        return []

    with pytest.raises(PluginError, match="qqh_view\\(\\), which is not a hook"):
        PluginRegistry(extra={"a": plugin("a", qqh_view=qqh_view)}, use_entry_points=False)


def test_two_plugins_registering_the_same_name_fail():
    @hookimpl
    def qqh_kpi_checks():
        return [types.SimpleNamespace(key="same")]

    reg = PluginRegistry(
        extra={"a": plugin("a", qqh_kpi_checks=qqh_kpi_checks), "b": plugin("b", qqh_kpi_checks=qqh_kpi_checks)},
        use_entry_points=False,
    )
    with pytest.raises(PluginError, match="both register the KPI check 'same'"):
        reg.collect("qqh_kpi_checks", "KPI check", key=lambda c: c.key)


def test_broken_plugin_import_is_reported():
    def boom():
        raise ImportError("no module named nothing")

    class Broken:
        pass

    # an entry point that fails to load is reported with the plugin's name
    from core import plugins as mod

    real = mod._installed_entry_points
    mod._installed_entry_points = lambda: [("broken", boom, "dist")]
    try:
        with pytest.raises(PluginError, match="Plugin 'broken' could not be imported"):
            PluginRegistry()
    finally:
        mod._installed_entry_points = real


def test_builtin_sample_is_found_through_entry_points():
    reg = PluginRegistry()
    assert "sample" in reg.installed
    assert reg.installed["sample"].source == "qinqinghui"


def run_qqh(*args, env=None, cwd=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QQH_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", "from core.cli import main; main()", *args],
        capture_output=True, text=True, env=full_env, cwd=cwd, timeout=120,
    )


@pytest.mark.parametrize(
    "env, args, words",
    [
        ({"QQH_DATABASE_URL": "not a url"}, ["db", "upgrade"], "QQH_DATABASE_URL is not a database URL"),
        ({"QQH_DATABASE_URL": "mysql://u@h/db"}, ["db", "upgrade"], "only postgresql and sqlite"),
        ({"QQH_DATABASE_URL": "postgresql://qqh@127.0.0.1:1/none"}, ["db", "upgrade"], "cannot use the database"),
        ({"QQH_INSTANCE_PATH": "/proc/qqh-cannot-exist"}, ["db", "upgrade"], "Cannot create the instance folder"),
        ({"QQH_PLUGINS": "sample,ghost"}, ["plugins", "list"], "'ghost', which is not installed"),
        ({"QQH_SECRET_KEY": "short"}, ["db", "upgrade"], "at least 32 characters"),
    ],
)
def test_bad_configuration_gives_one_clear_line(env, args, words, tmp_path):
    env.setdefault("QQH_INSTANCE_PATH", str(tmp_path))
    r = run_qqh(*args, env=env)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert words in lines[0]


def test_qqh_init_demo_and_plugins_list(tmp_path):
    env = {"QQH_INSTANCE_PATH": str(tmp_path)}
    r = run_qqh("init", "--admin-password", "pw-123456", env=env)
    assert r.returncode == 0, r.stderr
    assert "Units: 1901 (1901 added)" in r.stdout
    r = run_qqh("init", env=env)  # idempotent
    assert r.returncode == 0 and "Units: 1901 (0 added)" in r.stdout
    demo = run_qqh("demo", env=env).stdout
    assert "training:" in demo and "sample" not in demo  # the example plugin is enabled only by name
    named = {**env, "QQH_PLUGINS": "cultivation,homes,sample,training"}
    assert run_qqh("db", "upgrade", env=named).returncode == 0  # the example's tables, once it is named
    assert re.search(r"^sample: [1-9]", run_qqh("demo", env=named).stdout, re.M)
    assert "sample: 0" in run_qqh("demo", env=named).stdout  # idempotent
    def listed(extra_env):
        out = run_qqh("plugins", "list", env={**env, **extra_env}).stdout
        return {line.split()[0]: line.split()[1:3] for line in out.splitlines()}

    assert listed({})["sample"] == ["0.2.0", "disabled"] and listed({})["training"][1] == "enabled"
    assert listed({"QQH_PLUGINS": "sample"})["sample"] == ["0.2.0", "enabled"]
    assert listed({"QQH_PLUGINS": "none"})["training"][1] == "disabled"
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 32
    r = run_qqh("db", "check", env=env)
    assert r.returncode == 0 and "agree" in r.stdout


HOMES_LABEL_ZH = "挂牌并达到建设手册要求的“亲青家园”"


def test_two_apps_in_one_process_do_not_interfere(tmp_path):
    from tests.conftest import initialise, make_app

    a = make_app(f"sqlite:///{tmp_path}/a.db", tmp_path / "ia", QQH_PLUGINS=["memo"])
    b = make_app(f"sqlite:///{tmp_path}/b.db", tmp_path / "ib", QQH_PLUGINS=[])
    initialise(a, {"admin": ("440000", "province_admin")})
    initialise(b, {"admin": ("440000", "province_admin")})
    assert a.extensions["qqh_plugins"].switchable() == ["memo"]
    assert b.extensions["qqh_plugins"].switchable() == []
    assert "MemoNoteApi.get_list" in {r.endpoint for r in a.url_map.iter_rules()}
    assert "MemoNoteApi.get_list" not in {r.endpoint for r in b.url_map.iter_rules()}
    for app in (a, b):
        c = app.test_client()
        assert c.post("/login/", data={"username": "admin", "password": "Test-pass-123"}).status_code == 302
        assert c.get("/api/v1/plugins/").status_code == 200
    # a target of a check whose plugin is installed but not enabled keeps the check's label (not its key)
    from core.kpi import engine as kpi

    with a.test_request_context(headers={"Accept-Language": "zh"}):
        assert kpi.check_label("homes") == HOMES_LABEL_ZH
    with b.test_request_context():
        assert kpi.check_label("no_such_check") == "no_such_check"


def test_plugins_api_and_admin_page(as_user):
    admin = as_user("admin")
    r = admin.get("/api/v1/plugins/")
    assert r.status_code == 200
    rows = {p["name"]: p for p in r.json()["result"]}
    assert rows["memo"]["enabled"] is True and rows["memo"]["version"] == "0.1.0"
    page = admin.get("/admin/plugins/")
    assert page.status_code == 200 and "测试记事" in page.text and "加载顺序" in page.text
    clerk = as_user("fs_clerk")
    assert clerk.get("/admin/plugins/").status_code in (302, 403)


def test_list_rows_link_to_their_record_whatever_the_route(app, as_user):
    """Core's list widget builds each row's show/edit/delete link once per page
    (core/templates/appbuilder/general/widgets/list.html): it must work for
    FAB's default /show/<pk> and for views exposing /show/<int:pk>."""
    import re

    admin = as_user("admin")
    unit = admin.get("/api/v1/unit/", params={"q": "(filters:!((col:code,opr:eq,value:'440600')))"}).json()["ids"][0]
    note = admin.post("/api/v1/memonote/", json={"title": "链接检查", "noted_on": "2012-03-05", "unit": unit}).json()["id"]
    try:
        page = admin.get("/memonoteview/list/", params={"_flt_0_title": "链接检查"}).text
        for link in (f"/memonoteview/show/{note}", f"/memonoteview/edit/{note}", f"btn-delete-/memonoteview/delete/{note}"):
            assert link in page
        with app.app_context():
            clerk = app.appbuilder.sm.find_user(username="fs_clerk").id
        page = as_user("fs_admin").get("/unitusers/list/", params={"psize_UnitAdminUserView": 100}).text
        assert re.search(rf'href="/unitusers/show/{clerk}"', page) and re.search(rf'href="/unitusers/edit/{clerk}"', page)
    finally:
        admin.delete(f"/api/v1/memonote/{note}")
