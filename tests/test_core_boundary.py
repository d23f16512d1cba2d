"""Core names no task area, and its own features are built-in plugins.

Pure checks (no app, no database): the source of core against the installed
plugins' names and check keys (read from the registry, not hard-coded) and
the notice's areas; the built-in plugins' place in the registry.
"""

from __future__ import annotations

import pathlib
import re
import types

import pytest

from core import builtins
from core.hookspecs import hookimpl
from core.plugins import Manifest, PluginError, PluginRegistry

CORE = pathlib.Path(__file__).resolve().parent.parent / "core"
# the notice's areas, also those no plugin provides yet (their plugins bring their own keys)
NOTICE_AREAS = {"weibo", "weibo_posts", "league_building", "visit_days",
                "亲青家园", "孵化基金", "训练营", "微博", "团建", "两进三同"}
# (file relative to core/, word): why core may say it. Empty: keep it so.
ALLOWED: dict[tuple[str, str], str] = {}


def forbidden_words() -> set[str]:
    registry = PluginRegistry(enabled=list(PluginRegistry().installed))  # the examples too
    words = set(registry.switchable()) | set(NOTICE_AREAS)
    for _plugin, check in registry.collect("qqh_kpi_checks", "KPI check", key=lambda c: c.key):
        words.add(check.key)
    return words


def pattern(words) -> re.Pattern:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    # an identifier-like word on its own (memo_notes does not contain memo); Chinese anywhere
    return re.compile(rf"(?<![A-Za-z0-9_])({alternatives})(?![A-Za-z0-9_])", re.IGNORECASE)


def core_files():
    for path in sorted(CORE.rglob("*")):
        if path.suffix in (".py", ".html", ".js", ".css", ".txt") and "vendor" not in path.parts and path.is_file():
            yield path


def test_no_module_of_core_names_a_plugin_or_a_task_area():
    words = forbidden_words()
    # the registry answered (plugin names and their check keys)
    assert {"memo", "cultivation", "homes", "training", "direct_contacts", "trained_leaders"} <= words
    found = pattern(words)
    assert found.search("e.g. homes's pages") and found.search("“亲青家园”")
    assert not found.search("memo_notes_x")
    hits = []
    for path in core_files():
        rel = str(path.relative_to(CORE))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in found.finditer(line):
                if (rel, m.group(1).lower()) not in ALLOWED:
                    hits.append(f"core/{rel}:{n}: {m.group(1)!r} in {line.strip()[:120]}")
    assert not hits, "core names plugins or task areas (use a neutral example):\n" + "\n".join(hits)


def test_app_factory_and_cli_only_call_hooks():
    """No hand-wired ``x.register(appbuilder)`` / ``x.register_cli(cli)``
    of a feature in create_app or the qqh command: core/builtins does it."""
    for name in ("app.py", "cli.py"):
        text = (CORE / name).read_text(encoding="utf-8")
        assert not re.search(r"\w+\.register(_cli)?\(", text), name
    for path in builtins.BUILTIN_PLUGINS:
        assert (CORE / "builtins" / (path.rsplit(".", 1)[1] + ".py")).is_file()


def _plugin(name, **hooks):
    mod = types.ModuleType(f"fake_{name}")
    requires = tuple(hooks.get("requires", ()))

    @hookimpl
    def qqh_manifest():
        return Manifest(name=name, version="1.0", label=name, requires=requires)

    mod.qqh_manifest = qqh_manifest
    return mod


def test_builtins_load_first_always_enabled_and_listed_as_builtin():
    names = [p.rsplit(".", 1)[1] for p in builtins.BUILTIN_PLUGINS]
    reg = PluginRegistry(enabled=["b", "kpi"], extra={"b": _plugin("b"), "a": _plugin("a")}, use_entry_points=False)
    assert reg.order == names + ["b"]  # QQH_PLUGINS may name a built-in; leaving one out disables nothing
    assert reg.switchable() == ["b"]
    rows = {r["name"]: r for r in reg.describe()}
    assert rows["kpi"]["builtin"] and rows["kpi"]["enabled"] and rows["kpi"]["source"] == builtins.SOURCE
    assert not rows["b"]["builtin"] and not rows["a"]["enabled"]
    # a plugin may require a built-in one; it still loads after all of them
    reg = PluginRegistry(enabled=["z"], extra={"z": _plugin("z", requires=("units",))}, use_entry_points=False)
    assert reg.order == names + ["z"] and reg.switchable() == ["z"]
    assert PluginRegistry(enabled=[], use_entry_points=False).switchable() == []
    with pytest.raises(PluginError, match="both named 'kpi'"):
        PluginRegistry(extra={"kpi": _plugin("kpi")}, use_entry_points=False)


def test_builtins_register_in_their_order(app, engine_name):
    """The menu is the same as when core wired its features by hand: the
    built-in plugins' ``qqh_register`` runs in BUILTIN_PLUGINS order, before
    the plugins' pages."""
    if engine_name != "sqlite":
        pytest.skip("the menu does not depend on the engine")
    menu = {item.name: [c.name for c in item.childs or []] for item in app.appbuilder.menu.get_list()}
    # (core/web/menu.py then regroups it to fit one row: FAB's security pages under Administration,
    # the notices first under Reporting)
    assert list(menu)[:4] == ["Organization", "Administration", "Progress", "Reporting"]
    assert menu["Organization"] == ["League units", "UnitAdminModules", "UnitAdminUsers", "Excel import and export"]
    assert menu["Administration"] == ["List Users", "List Roles", "List Groups", "AdminPlugins", "UnitAdminAudit",
                                      "UnitAdminLowcode", "UnitAdminCustomFields", "AdminKpiRules", "AdminCustomLists"]
    assert menu["Progress"] == ["Dashboard", "KPI targets", "December assessment", "Assessment indicators"]
    assert menu["Reporting"] == ["Notices", "My reports", "Reviews", "Reporting table", "My messages"]
