"""Plugin discovery, the enabled set, load order and introspection.

Plugins are found through the entry-point group ``qqh.plugins`` (the shipped
ones too, see setup.cfg). ``QQH_PLUGINS`` names the enabled ones (default: all
installed). Core's own features are built-in plugins (core/builtins): always
enabled, loaded first. Every failure raises :class:`PluginError` with one
clear sentence.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Iterable

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from core import __version__ as CORE_VERSION
from core import builtins, hookspecs

ENTRY_POINT_GROUP = "qqh.plugins"


class PluginError(RuntimeError):
    """A plugin cannot be loaded; the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    label: Any  # lazy gettext string
    requires: tuple[str, ...] = ()
    core: str = ">=0"
    description: Any = ""


@dataclass
class Page:
    """A menu entry of a plugin: a view class shown under a menu category."""

    view: type
    label: Any
    category: str
    category_label: Any
    icon: str = "fa-table"
    category_icon: str = "fa-folder"


@dataclass
class InstalledPlugin:
    name: str
    module: Any
    manifest: Manifest
    enabled: bool = False
    source: str = ""  # distribution that installed it

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.manifest.version,
            "label": str(self.manifest.label),
            "requires": list(self.manifest.requires),
            "core": self.manifest.core,
            "enabled": self.enabled,
            "source": self.source,
            "builtin": self.builtin,
        }

    @property
    def builtin(self) -> bool:
        """One of core's own features (core/builtins): always enabled."""
        return self.source == builtins.SOURCE


HOOK_NAMES = frozenset(n for n in dir(hookspecs) if n.startswith("qqh_"))


def _installed_entry_points() -> list[tuple[str, Callable[[], Any], str]]:
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    seen: dict[str, str] = {}
    out = []
    for ep in sorted(eps, key=lambda e: e.name):
        dist = ep.dist.name if ep.dist else "?"
        if ep.name in seen and seen[ep.name] != ep.value:
            raise PluginError(
                f"Two installed plugins are both named {ep.name!r} "
                f"({seen[ep.name]} and {ep.value}): uninstall one of them."
            )
        if ep.name in seen:
            continue
        seen[ep.name] = ep.value
        out.append((ep.name, ep.load, dist))
    return out


class PluginRegistry:
    """The plugins of one app: what is installed, what is enabled, in what order."""

    def __init__(
        self,
        enabled: Iterable[str] | None = None,
        extra: dict[str, Any] | None = None,
        use_entry_points: bool = True,
    ):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.installed: dict[str, InstalledPlugin] = {}
        self.order: list[str] = []

        sources: list[tuple[str, Callable[[], Any], str]] = list(builtins.sources())
        builtin_names = [s[0] for s in sources]
        if use_entry_points:
            for ep in _installed_entry_points():
                if ep[0] in builtin_names:
                    raise PluginError(
                        f"The installed plugin {ep[0]!r} has the name of one of core's built-in features: rename it."
                    )
                sources.append(ep)
        for name, obj in (extra or {}).items():
            if any(s[0] == name for s in sources):
                raise PluginError(f"Two plugins are both named {name!r}: rename one of them.")
            sources.append((name, (lambda o=obj: o), "extra"))

        for name, load, dist in sources:
            try:
                module = load()
            except Exception as exc:  # a broken plugin must not give a bare traceback
                raise PluginError(
                    f"Plugin {name!r} could not be imported ({type(exc).__name__}: {exc}); "
                    f"fix or uninstall it, or leave it out of QQH_PLUGINS."
                ) from exc
            manifest = self._manifest_of(name, module)
            self.installed[name] = InstalledPlugin(name, module, manifest, source=dist)

        wanted = list(self.installed) if enabled is None else [n for n in enabled if n]
        for n in wanted:
            if n not in self.installed:
                raise PluginError(
                    f"QQH_PLUGINS names {n!r}, which is not installed "
                    f"(installed: {', '.join(sorted(self.installed)) or 'none'})."
                )
        # the built-in plugins: always enabled, first, in their list's order
        wanted = [n for n in wanted if n not in builtin_names]
        self.order = builtin_names + [n for n in self._load_order(builtin_names + wanted) if n not in builtin_names]
        # hooks that plugins declare for each other (like pytest_addhooks)
        self.hook_names = set(HOOK_NAMES)
        for n in self.order:
            add = getattr(self.installed[n].module, "qqh_add_hookspecs", None)
            if add is not None:
                specs = add()
                self.pm.add_hookspecs(specs)
                self.hook_names |= {a for a in dir(specs) if a.startswith("qqh_")}
        for n in self.order:
            p = self.installed[n]
            p.enabled = True
            self._check_hook_names(p, self.hook_names)
            self.pm.register(p.module, name=n)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"Plugin {exc.plugin_name!r} implements an unknown hook: {exc}") from exc

    # -- loading ---------------------------------------------------------
    @staticmethod
    def _manifest_of(name: str, module: Any) -> Manifest:
        fn = getattr(module, "qqh_manifest", None)
        if fn is None:
            raise PluginError(f"Plugin {name!r} has no qqh_manifest() hook.")
        manifest = fn()
        if not isinstance(manifest, Manifest):
            raise PluginError(f"Plugin {name!r}: qqh_manifest() must return core.plugins.Manifest.")
        if manifest.name != name:
            raise PluginError(
                f"Plugin registered as {name!r} calls itself {manifest.name!r} in its manifest: "
                f"make the entry-point name and the manifest name the same."
            )
        try:
            spec = SpecifierSet(manifest.core)
        except InvalidSpecifier as exc:
            raise PluginError(f"Plugin {name!r}: invalid core version range {manifest.core!r}.") from exc
        if CORE_VERSION not in spec:
            raise PluginError(
                f"Plugin {name!r} {manifest.version} needs core {manifest.core}, "
                f"but this is core {CORE_VERSION}: upgrade one of them."
            )
        return manifest

    @staticmethod
    def _check_hook_names(p: InstalledPlugin, known: set[str]) -> None:
        for attr in dir(p.module):
            if attr.startswith("qqh_") and attr not in known:
                raise PluginError(
                    f"Plugin {p.name!r} defines {attr}(), which is not a hook "
                    f"(known hooks: {', '.join(sorted(known))}): check its spelling."
                )

    def _load_order(self, wanted: list[str]) -> list[str]:
        wanted_set = set(wanted)
        for n in wanted:
            for req in self.installed[n].manifest.requires:
                if req not in self.installed:
                    raise PluginError(f"Plugin {n!r} requires plugin {req!r}, which is not installed.")
                if req not in wanted_set:
                    raise PluginError(
                        f"Plugin {n!r} requires plugin {req!r}, which is disabled: "
                        f"add {req} to QQH_PLUGINS or leave {n} out."
                    )
        order: list[str] = []
        visiting: set[str] = set()

        def visit(n: str, chain: tuple[str, ...]) -> None:
            if n in order:
                return
            if n in visiting:
                raise PluginError(f"Plugins require each other in a circle: {' -> '.join(chain + (n,))}.")
            visiting.add(n)
            for req in self.installed[n].manifest.requires:
                visit(req, chain + (n,))
            visiting.discard(n)
            order.append(n)

        for n in sorted(wanted):
            visit(n, ())
        return order

    # -- calling hooks ---------------------------------------------------
    def call(self, hook: str, **kwargs) -> list[tuple[str, Any]]:
        """Call ``hook`` on each enabled plugin in load order; return
        ``[(plugin name, result), ...]`` for the plugins that implement it."""
        impls = {i.plugin_name: i for i in getattr(self.pm.hook, hook).get_hookimpls()}
        out = []
        for name in self.order:
            impl = impls.get(name)
            if impl is None:
                continue
            args = {a: kwargs[a] for a in impl.argnames}
            out.append((name, impl.function(**args)))
        return out

    def collect(self, hook: str, kind: str, key: Callable[[Any], str], **kwargs) -> list[tuple[str, Any]]:
        """Flatten list-returning hooks and fail loudly on a name used twice."""
        seen: dict[str, str] = {}
        out = []
        for plugin, items in self.call(hook, **kwargs):
            for item in items or ():
                k = key(item)
                if k in seen:
                    raise PluginError(
                        f"Plugins {seen[k]!r} and {plugin!r} both register the {kind} {k!r}: rename one."
                    )
                seen[k] = plugin
                out.append((plugin, item))
        return out

    def migration_dirs(self, enabled_only: bool = False) -> dict[str, str]:
        """Alembic versions folders of installed plugins (all of them by
        default, so that a disabled plugin's revisions stay known)."""
        out = {}
        for name, p in self.installed.items():
            if enabled_only and not p.enabled:
                continue
            fn = getattr(p.module, "qqh_migrations", None)
            if fn is not None:
                out[name] = fn()
        return out

    def describe(self) -> list[dict]:
        return [self.installed[n].as_dict() for n in sorted(self.installed)]

    def switchable(self) -> list[str]:
        """The enabled plugins other than the built-in ones, in load order:
        those a unit may switch off."""
        return [n for n in self.order if not self.installed[n].builtin]


def module_dir(module: ModuleType | str, *parts: str) -> str:
    """Folder of a plugin module joined with ``parts`` (for hooks that return paths)."""
    import os

    mod = importlib.import_module(module) if isinstance(module, str) else module
    return os.path.join(os.path.dirname(mod.__file__), *parts)
