"""The plugin registry calls hooks through pluggy's own callers: marker
options, wrappers and firstresult behave as pluggy documents, unmarked
``qqh_*`` functions are hooks, and a unit's switched-off plugins are left
out through ``subset_hook_caller``. Pure registry tests need no app."""

import logging
import re
import types

import pytest

from core.api import Manifest, Page, hookimpl, hookspec, module_enabled, plugin_hook_callers, unit_hooks
from core.plugins import PluginError, PluginRegistry


def plugin(name, requires=(), api=">=0", example=False, **hooks):
    """A fake plugin module; its manifest hook is deliberately unmarked."""
    mod = types.ModuleType(f"fake_{name}")

    def qqh_manifest():
        return Manifest(name=name, version="1.0", label=name, requires=tuple(requires), core=">=0", api=api,
                        example=example)

    mod.qqh_manifest = qqh_manifest
    for k, v in hooks.items():
        setattr(mod, k, v)
    return mod


def registry(*plugins, enabled=None):
    return PluginRegistry(enabled=enabled, extra={p.__name__[5:]: p for p in plugins}, use_entry_points=False,
                          use_builtins=False)


def saying(word, **marks):
    def qqh_cli(group):
        group.append(word)

    return hookimpl(**marks)(qqh_cli) if marks else qqh_cli


def test_load_order_is_the_call_order():
    # discovery order (names) is alpha, mid, zeta; requires make it mid, zeta, alpha
    reg = registry(
        plugin("alpha", requires=["zeta"], qqh_cli=saying("alpha")),
        plugin("zeta", requires=["mid"], qqh_cli=saying("zeta")),
        plugin("mid", qqh_cli=saying("mid")),
    )
    assert reg.order == ["mid", "zeta", "alpha"]
    said = []
    reg.hook.qqh_cli(group=said)
    assert said == ["mid", "zeta", "alpha"]

    def qqh_demo_data(session):
        return len(session)

    reg = registry(plugin("b", requires=["a"], qqh_demo_data=qqh_demo_data), plugin("a", qqh_demo_data=qqh_demo_data))
    assert reg.call("qqh_demo_data", session=[1, 2]) == [("a", 2), ("b", 2)]  # dependencies first, named


def test_tryfirst_and_trylast_are_honoured():
    reg = registry(
        plugin("a", qqh_cli=saying("a", trylast=True)),
        plugin("b", qqh_cli=saying("b")),
        plugin("c", qqh_cli=saying("c", tryfirst=True)),
    )
    said = []
    reg.hook.qqh_cli(group=said)
    assert said == ["c", "b", "a"]


def test_wrappers_wrap_the_results():
    def qqh_kpi_checks():
        return ["plain"]

    @hookimpl(wrapper=True)
    def new_style():
        results = yield
        return [[f"{c}!" for c in r] for r in results] + [["added"]]

    @hookimpl(hookwrapper=True)
    def old_style():
        outcome = yield
        outcome.force_result(outcome.get_result() + [["old"]])

    reg = registry(plugin("a", qqh_kpi_checks=qqh_kpi_checks), plugin("w", qqh_kpi_checks=new_style))
    assert reg.hook.qqh_kpi_checks() == [["plain!"], ["added"]]
    reg = registry(plugin("a", qqh_kpi_checks=qqh_kpi_checks), plugin("w", qqh_kpi_checks=old_style))
    assert reg.hook.qqh_kpi_checks() == [["plain"], ["old"]]
    # core's per-plugin calls (which plugin gave what) never see a generator
    assert reg.call("qqh_kpi_checks") == [("a", ["plain"]), ("w", ["old"])]


def test_manifest_is_firstresult():
    reg = registry(plugin("b", requires=["a"]), plugin("a"))
    first = reg.hook.qqh_manifest()
    assert isinstance(first, Manifest) and first.name == "a"
    assert [m.name for _p, m in reg.call("qqh_manifest")] == ["a", "b"]


def test_unmarked_qqh_views_is_collected():
    class Notes:
        pass

    def qqh_views():  # no @hookimpl
        return [Page(Notes, "Notes", "Cat", "Cat")]

    reg = registry(plugin("a", qqh_views=qqh_views))
    assert [(p, page.view) for p, page in reg.collect("qqh_views", "page", key=lambda p: p.view.__name__)] == [("a", Notes)]


def test_misspelt_hooks_still_fail():
    def qqh_veiws():
        return []

    with pytest.raises(PluginError, match=r"qqh_veiws\(\), which is not a hook"):
        registry(plugin("a", qqh_veiws=qqh_veiws))

    @hookimpl(specname="qqh_views")
    def my_pages():
        return []

    with pytest.raises(PluginError, match="specname"):
        registry(plugin("a", my_pages=my_pages))

    def qqh_views(extra):  # an argument the hook does not have
        return []

    with pytest.raises(PluginError, match="'a' has a malformed hook: .*extra"):
        registry(plugin("a", qqh_views=qqh_views))
    same = plugin("a")
    with pytest.raises(PluginError, match="same module as the installed plugin 'a'"):
        PluginRegistry(extra={"a": same, "b": same}, use_entry_points=False)


def test_offered_hooks_and_disabled_plugins():
    specs = types.ModuleType("offered")

    @hookspec
    def qqh_offered(x):
        """A hook that plugin ``base`` offers."""

    specs.qqh_offered = qqh_offered

    def qqh_offered_impl(x):
        return x + 1

    def qqh_migrations():
        return "/somewhere/versions"

    def qqh_models():
        return ["a model"]

    reg = registry(
        plugin("base", qqh_add_hookspecs=lambda: specs),
        plugin("user", requires=["base"], qqh_offered=qqh_offered_impl),
        plugin("off", qqh_migrations=qqh_migrations, qqh_models=qqh_models),
        enabled=["base", "user"],
    )
    assert reg.hook.qqh_offered(x=1) == [2]
    assert "qqh_offered" in reg.hook_names
    assert reg.migration_dirs() == {"off": "/somewhere/versions"}  # a disabled plugin's revisions stay known
    assert reg.migration_dirs(enabled_only=True) == {}
    assert reg.call("qqh_models") == [] and reg.call_disabled("qqh_models") == [("off", ["a model"])]


def test_subset_caller_leaves_switched_off_plugins_out():
    def checks(key):
        return lambda: [key]

    reg = registry(plugin("a", qqh_kpi_checks=checks("a")), plugin("b", qqh_kpi_checks=checks("b")))
    assert reg.hook.qqh_kpi_checks() == [["a"], ["b"]]
    assert reg.hook_for({"b"}).qqh_kpi_checks() == [["a"]]
    assert reg.hook_for({"b", "not loaded"}).qqh_kpi_checks() == [["a"]]
    assert [n for n, _c in reg.callers("qqh_kpi_checks", off={"a"})] == ["b"]


def test_a_units_switched_off_plugin_is_left_out(app):
    from core.tenancy import modules
    from core.tenancy.units import unit_by_code

    with app.app_context():
        s = app.appbuilder.session
        foshan, shenzhen = unit_by_code(s, "440600"), unit_by_code(s, "440300")
        try:
            modules.set_module(s, foshan, "training", False)
            s.flush()
            assert not module_enabled("training", foshan) and module_enabled("training", shenzhen)
            assert not module_enabled("not-installed", shenzhen)
            keys = {c.key for checks in unit_hooks(foshan).qqh_kpi_checks() for c in checks}
            assert "camps" not in keys and "direct_contacts" in keys
            assert "camps" in {c.key for checks in unit_hooks(shenzhen).qqh_kpi_checks() for c in checks}
            names = [n for n, _label, _c in plugin_hook_callers("qqh_youthorg_profile_sections", foshan)]
            assert "training" not in names and "homes" in names
        finally:
            s.rollback()


def test_a_plugin_for_another_core_api_is_refused_naming_both_versions():
    from core.api import API_VERSION

    assert registry(plugin("ok", api=f">={API_VERSION}")).order == ["ok"]
    with pytest.raises(PluginError) as exc:
        registry(plugin("ok", api=f">={API_VERSION}"), plugin("future", api=">=99.0"))
    message = str(exc.value)
    assert message.startswith("Plugin 'future' 1.0 needs core API >=99.0, but this core offers API")
    assert f"API {API_VERSION} (core.api.API_VERSION)" in message and "\n" not in message
    with pytest.raises(PluginError, match=r"invalid core API version range '0\.2'"):
        registry(plugin("bare", api="0.2"))  # a bare version is no range


def test_an_example_plugin_is_enabled_only_by_name():
    """plugins/sample is the authors' example: a deployment that names no plugins does not show it."""
    plain, example = plugin("plain"), plugin("example", example=True)
    assert registry(plain, example).order == ["plain"]
    assert set(registry(plain, example, enabled=["plain", "example"]).order) == {"plain", "example"}
    assert {d["name"]: d["enabled"] for d in registry(plain, example).describe()} == {"plain": True, "example": False}
    from plugins.sample import qqh_manifest

    assert qqh_manifest().example


def test_plugin_modules_named_in_the_environment_are_installed(monkeypatch):
    """QQH_PLUGIN_MODULES adds plugins that have no entry point (core's test fixture plugin): installed as
    if by one, enabled like any other; a malformed list or a name taken is refused in one sentence."""
    from core import plugins as mod

    monkeypatch.setattr(mod, "_installed_entry_points", lambda: [("taken", lambda: plugin("taken"), "dist")])
    monkeypatch.setenv("QQH_PLUGIN_MODULES", " memo = tests.memo_plugin ,")
    reg = PluginRegistry(enabled=["memo"], use_builtins=False)
    assert reg.order == ["memo"] and reg.installed["memo"].source == "QQH_PLUGIN_MODULES"
    assert set(reg.installed) == {"memo", "taken"}
    for value, words in (("tests.memo_plugin", "name=module pairs"), ("taken=tests.memo_plugin", "installed already"),
                         ("ghost=tests.no_such_module", "could not be imported")):
        monkeypatch.setenv("QQH_PLUGIN_MODULES", value)
        with pytest.raises(PluginError, match=words):
            PluginRegistry(enabled=[], use_builtins=False)


def test_a_refused_plugin_stops_the_command_with_one_line(monkeypatch, capsys):
    from core import cli
    from core import plugins as mod

    future = plugin("future", api=">=99.0")
    monkeypatch.setattr(mod, "_installed_entry_points", lambda: [("future", lambda: future, "future-dist")])
    monkeypatch.delenv("QQH_PLUGINS", raising=False)
    with pytest.raises(SystemExit) as exc:
        cli.main(["plugins", "list"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("错误 Error: Plugin 'future' 1.0 needs core API >=99.0, but this core offers API 0.")


def test_qqh_trace_hooks_logs_every_hook_call_with_its_duration(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="qqh.hooks")

    def qqh_kpi_checks():
        raise ValueError("broken")

    monkeypatch.delenv("QQH_TRACE_HOOKS", raising=False)
    reg = registry(plugin("b", requires=["a"], qqh_cli=saying("b")), plugin("a", qqh_cli=saying("a")))
    reg.hook.qqh_cli(group=[])
    assert not [r for r in caplog.records if r.name == "qqh.hooks"]  # off unless asked for

    monkeypatch.setenv("QQH_TRACE_HOOKS", "1")
    reg = registry(plugin("b", requires=["a"], qqh_cli=saying("b"), qqh_kpi_checks=qqh_kpi_checks),
                   plugin("a", qqh_cli=saying("a")))
    loading = [r.getMessage() for r in caplog.records if r.name == "qqh.hooks"]
    assert any(re.fullmatch(r"qqh_manifest: a \d+\.\d\d ms", m) for m in loading)  # loading is traced too
    caplog.clear()
    reg.hook.qqh_cli(group=[])  # every enabled plugin, in load order
    reg.hook_for({"b"}).qqh_cli(group=[])  # a unit that switched b off
    reg.call("qqh_cli", group=[])  # plugin by plugin
    reg.hook.qqh_models()  # no plugin implements it: nothing to log
    with pytest.raises(ValueError):
        reg.hook.qqh_kpi_checks()
    lines = [r.getMessage() for r in caplog.records if r.name == "qqh.hooks"]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "qqh.hooks")
    pattern = [r"qqh_cli: a, b", r"qqh_cli: a", r"qqh_cli: a", r"qqh_cli: b", r"qqh_kpi_checks: b"]
    assert len(lines) == len(pattern), lines
    for line, start in zip(lines, pattern):
        assert re.fullmatch(start + r" \d+\.\d\d ms", line) or (
            start.startswith("qqh_kpi") and re.fullmatch(start + r" \d+\.\d\d ms raised ValueError", line)), line


def test_a_plugin_for_another_api_is_named_so_when_its_hooks_or_imports_do_not_fit(monkeypatch):
    from core import plugins as mod

    def qqh_views(unit):  # an argument this API's qqh_views does not have
        return []

    with pytest.raises(PluginError, match=r"'newer' 1\.0 needs core API >=99\.0, but this core offers API 0\."):
        registry(plugin("newer", api=">=99.0", qqh_views=qqh_views))
    with pytest.raises(PluginError, match="'same' has a malformed hook"):  # made for this API: the hook is wrong
        registry(plugin("same", qqh_views=qqh_views))

    def load():
        from core.api import qqh_no_such_name  # noqa: F401 (a name of another API)

    monkeypatch.setattr(mod, "_installed_entry_points", lambda: [("newer", load, "newer-dist")])
    with pytest.raises(PluginError) as exc:
        PluginRegistry(use_builtins=False)
    assert re.match(r"Plugin 'newer' could not be imported \(ImportError: cannot import name 'qqh_no_such_name' "
                    r"from 'core\.api'.*\); it may be made for another core API than this core's API 0\.\d+ "
                    r"\(core\.api\.API_VERSION; see its Manifest\.api\): fix or uninstall it", str(exc.value))


def test_a_module_switched_off_elsewhere_shows_at_the_next_request(app, as_user):
    """What a unit switched off is kept between requests while nothing is written anywhere (checked
    against the write counter, one query shared with the to-do list); a switch written from another
    connection — another gunicorn worker's — closes the module's pages at the very next request, and
    opening it again reopens them."""
    import sqlalchemy as sa

    from core.tenancy.modules import UnitModule
    from core.tenancy.units import unit_by_code

    fs = as_user("fs_clerk")
    assert fs.get("/memonoteview/list/").status_code == 200
    assert fs.get("/memonoteview/list/").status_code == 200  # kept
    with app.app_context():
        foshan = unit_by_code(app.appbuilder.session, "440600").id
        other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # not the app's engine: another process's
    table = UnitModule.__table__
    try:
        with other.begin() as c:
            c.execute(table.insert().values(unit_id=foshan, plugin="memo", enabled=False))
        assert fs.get("/memonoteview/list/").status_code == 404
        assert "memonoteview" not in fs.get("/todo/").text  # nor in the menu
        assert as_user("sz_clerk").get("/memonoteview/list/").status_code == 200  # 深圳's is not 佛山's
        with other.begin() as c:
            c.execute(table.update().where(table.c.unit_id == foshan, table.c.plugin == "memo").values(enabled=True))
        assert fs.get("/memonoteview/list/").status_code == 200
    finally:
        with other.begin() as c:
            c.execute(table.delete().where(table.c.unit_id == foshan, table.c.plugin == "memo"))
        other.dispose()
