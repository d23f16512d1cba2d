"""Core's own features as built-in plugins (like datasette's DEFAULT_PLUGINS).

Each module of :data:`BUILTIN_PLUGINS` is a plugin: a ``qqh_manifest`` and
hook implementations, registered through the same hooks as the plugins that
are installed. Built-in plugins are always enabled, load first (in this
list's order, which is also the order of their menu entries), cannot be
disabled by ``QQH_PLUGINS`` nor switched off by a unit, and are listed with
the source ``built-in``. Their modules are light: they import the feature
they register only when a hook is called (views need the app context).
"""

from __future__ import annotations

from core import __version__

SOURCE = "built-in"  # InstalledPlugin.source of every built-in plugin

BUILTIN_PLUGINS = (
    "core.builtins.units",
    "core.builtins.excel",
    "core.builtins.kpi",
    "core.builtins.assessment",
    "core.builtins.audit",
    "core.builtins.notices",
    "core.builtins.attachments",
    "core.builtins.todo",
    "core.builtins.reporting",
    "core.builtins.messages",
    "core.builtins.lowcode",
    "core.builtins.backup",
)


def manifest(name: str, label):
    """The manifest of the built-in plugin ``name``: core's version."""
    from core.plugins import Manifest

    return Manifest(name=name, version=__version__, label=label)


def sources() -> list[tuple[str, object, str]]:
    """(name, loader, source) of every built-in plugin, in load order; the
    name is the module's last part."""
    import importlib

    return [(path.rsplit(".", 1)[1], (lambda p=path: importlib.import_module(p)), SOURCE) for path in BUILTIN_PLUGINS]
