"""Plugin discovery, the enabled set, load order and introspection.

Plugins are found through the entry-point group ``qqh.plugins`` (the shipped
ones too, see setup.cfg), and in ``QQH_PLUGIN_MODULES`` (``name=module`` pairs: plugins
importable but not installed, such as core's test fixture plugin). ``QQH_PLUGINS`` names the enabled ones (default: all
installed but the examples, ``Manifest.example``). Core's own features are built-in plugins (core/builtins): always
enabled, loaded first. Every failure raises :class:`PluginError` with one
clear sentence.

Hooks are called through pluggy's own callers, never by looping over the
implementations, so ``tryfirst``/``trylast``, wrappers (``wrapper=True``,
``hookwrapper=True``) and ``firstresult`` behave as pluggy documents:

* ``registry.hook.NAME(**kwargs)`` — every enabled plugin. Plugins are
  registered in reverse load order, so (pluggy calling the last registered
  first) implementations run in load order: a plugin after the plugins it
  requires (``qqh_demo_data`` relies on it).
* ``registry.hook_for(off).NAME(**kwargs)`` — the same without the plugins in
  ``off`` (a unit's switched-off modules): ``pm.subset_hook_caller``.
* ``registry.call(NAME, **kwargs)`` / ``registry.collect(...)`` — for the
  hooks where core must know WHICH plugin gave a result (start-up
  registration: pages and APIs gated by the module switch, duplicate names
  reported with both plugins, translation domains, migration branches, demo
  counts): one subset caller per plugin, called in load order. Marker options
  act within each plugin's own call (a plugin's wrapper wraps its own result).

Unmarked functions named ``qqh_*`` are hook implementations too (as pytest
collects ``pytest_*``); a ``qqh_*`` name that is no hook fails at start-up.
``qqh_manifest``, ``qqh_add_hookspecs`` and ``qqh_migrations`` are called
through a second manager that holds every installed plugin, enabled or not.

A plugin is refused at start when core's version is outside its
``Manifest.core`` or core's ``API_VERSION`` outside its ``Manifest.api``.
``QQH_TRACE_HOOKS=1`` logs every hook call with its duration (logger
``qqh.hooks``, :func:`trace_hooks`). The plugin author's guide is
docs/plugins.md.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
import os
import threading
import time
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
    # the versions of core's public API (core.api.API_VERSION) this plugin works with, a PEP 440
    # specifier such as ">=0.2,<0.3"; a core whose API_VERSION is outside it refuses the plugin at start
    api: str = ">=0"
    # an example for plugin authors: installed with core, enabled only where QQH_PLUGINS names it
    example: bool = False


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
            "api": self.manifest.api,
            "example": self.manifest.example,
            "enabled": self.enabled,
            "source": self.source,
            "builtin": self.builtin,
        }

    @property
    def builtin(self) -> bool:
        """One of core's own features (core/builtins): always enabled."""
        return self.source == builtins.SOURCE


HOOK_NAMES = frozenset(n for n in dir(hookspecs) if n.startswith("qqh_"))


class PluginManager(pluggy.PluginManager):
    """pluggy's manager for the ``qqh`` project with core's hook specifications.

    Like pytest with ``pytest_*``, it collects every function named ``qqh_*``
    as a hook implementation, marked with ``@hookimpl`` or not (so a lost
    decorator cannot silently drop a hook). ``specname`` is refused: a hook is
    implemented under its own name (the per-plugin and per-unit callers find a
    plugin's implementation by that name)."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)

    def parse_hookimpl_opts(self, plugin, name: str):
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("qqh_") and inspect.isroutine(getattr(plugin, name, None)):
            opts = {}  # pluggy fills in the defaults
        if opts is not None and opts.get("specname"):
            raise pluggy.PluginValidationError(
                plugin, f"{name} uses specname={opts['specname']!r}: name the function after its hook instead"
            )
        return opts

    def caller_of(self, plugin_name: str, hook: str):
        """pluggy's caller of ``hook`` limited to the plugin ``plugin_name``."""
        others = [p for n, p in self.list_name_plugin() if n != plugin_name and p is not None]
        return self.subset_hook_caller(hook, remove_plugins=others)

    def implements(self, plugin_name: str, hook: str) -> bool:
        caller = getattr(self.hook, hook, None)
        return caller is not None and any(i.plugin_name == plugin_name for i in caller.get_hookimpls())


def _register(pm: PluginManager, name: str, module: Any) -> None:
    try:
        pm.register(module, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"Plugin {name!r} has a malformed hook: {' '.join(str(exc).split())}") from exc
    except ValueError as exc:  # the same object installed under two names
        raise PluginError(
            f"Plugin {name!r} is the same module as the installed plugin {pm.get_name(module)!r}: "
            f"install it once."
        ) from exc


MODULES_ENV = "QQH_PLUGIN_MODULES"


def _env_modules() -> list[tuple[str, Callable[[], Any], str]]:
    """Plugins importable but not installed as a distribution, named in ``QQH_PLUGIN_MODULES`` as
    ``name=module`` pairs separated by commas (an entry point's syntax): core's test fixture plugin
    (tests/memo_plugin) is added so, for the tests' apps and the commands and servers they start."""
    out = []
    for item in os.environ.get(MODULES_ENV, "").split(","):
        if not item.strip():
            continue
        name, sep, module = (part.strip() for part in item.partition("="))
        if not sep or not name or not module:
            raise PluginError(f"{MODULES_ENV} must list name=module pairs separated by commas, not {item.strip()!r}.")
        out.append((name, (lambda m=module: importlib.import_module(m)), MODULES_ENV))
    return out


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
        use_builtins: bool = True,
    ):
        """``use_entry_points``/``use_builtins`` False: only ``extra`` (the
        registry's own tests, which exercise the machinery on fake plugins)."""
        self.pm = PluginManager()  # the enabled plugins
        self.all_pm = PluginManager()  # every installed plugin (manifests, hook specs, migrations)
        if tracing_wanted():  # QQH_TRACE_HOOKS=1: one log line per hook call (logger qqh.hooks)
            from core.logs import configure_logging

            configure_logging()  # the calls made while loading are logged too (the app does it later)
            trace_hooks(self.pm)
            trace_hooks(self.all_pm)
        self._subsets: dict[tuple[str, frozenset], Any] = {}
        self.installed: dict[str, InstalledPlugin] = {}
        self.order: list[str] = []

        sources: list[tuple[str, Callable[[], Any], str]] = list(builtins.sources()) if use_builtins else []
        builtin_names = [s[0] for s in sources]
        if use_entry_points:
            for ep in _installed_entry_points():
                if ep[0] in builtin_names:
                    raise PluginError(
                        f"The installed plugin {ep[0]!r} has the name of one of core's built-in features: rename it."
                    )
                sources.append(ep)
            for env in _env_modules():
                if any(s[0] == env[0] for s in sources):
                    raise PluginError(f"{MODULES_ENV} names {env[0]!r}, which is installed already: rename one of them.")
                sources.append(env)
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
                    f"{_other_api_hint(exc)}fix or uninstall it, or leave it out of QQH_PLUGINS."
                ) from exc
            try:
                _register(self.all_pm, name, module)
            except PluginError:  # a hook with other arguments: if it was made for another API, say that
                _check_api_version(name, _own_manifest(module))
                raise
            manifest = self._manifest_of(name, module, self.all_pm.caller_of(name, "qqh_manifest"))
            self.installed[name] = InstalledPlugin(name, module, manifest, source=dist)

        if enabled is None:  # every installed plugin but the examples, which are enabled only by name
            wanted = [n for n, p in self.installed.items() if not p.manifest.example]
        else:
            wanted = [n for n in enabled if n]
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
            for specs in self.all_pm.caller_of(n, "qqh_add_hookspecs")():
                self.pm.add_hookspecs(specs)
                self.hook_names |= {a for a in dir(specs) if a.startswith("qqh_")}
        for n in self.order:
            p = self.installed[n]
            p.enabled = True
            self._check_hook_names(p, self.hook_names)
        for n in reversed(self.order):  # pluggy calls the last registered first: load order
            _register(self.pm, n, self.installed[n].module)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"Plugin {self.pm.get_name(exc.plugin)!r} implements an unknown hook: {exc}") from exc

    # -- loading ---------------------------------------------------------
    @staticmethod
    def _manifest_of(name: str, module: Any, caller) -> Manifest:
        manifest = caller()  # firstresult
        if manifest is None:
            raise PluginError(f"Plugin {name!r} has no qqh_manifest() hook.")
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
        _check_api_version(name, manifest)
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
    @property
    def hook(self):
        """pluggy's relay of every enabled plugin: ``registry.hook.qqh_cli(group=g)``."""
        return self.pm.hook

    def hook_for(self, off: Iterable[str] = ()):
        """A relay like :attr:`hook` without the plugins named in ``off`` (a
        unit's switched-off modules): each hook is pluggy's ``subset_hook_caller``."""
        off = frozenset(n for n in off if self.pm.get_plugin(n) is not None)
        return self.hook if not off else _SubsetRelay(self, off)

    def _subset(self, hook: str, off: frozenset):
        key = (hook, off)
        caller = self._subsets.get(key)
        if caller is None:
            caller = self._subsets[key] = self.pm.subset_hook_caller(hook, [self.pm.get_plugin(n) for n in off])
        return caller

    def callers(self, hook: str, off: Iterable[str] = ()) -> list[tuple[str, Any]]:
        """``[(plugin name, its own caller of hook), ...]`` in load order, for
        the enabled plugins not in ``off`` that implement ``hook``; each caller
        is pluggy's subset caller limited to that plugin."""
        off = set(off)
        return [
            (n, self.pm.caller_of(n, hook))
            for n in self.order
            if n not in off and self.pm.implements(n, hook)
        ]

    def call(self, hook: str, **kwargs) -> list[tuple[str, Any]]:
        """Call ``hook`` plugin by plugin in load order, each through its own
        pluggy caller; return ``[(plugin name, result), ...]`` (a result per
        implementation that did not return None; a firstresult hook: one)."""
        return _results(self.pm, self.callers(hook), hook, kwargs)

    def call_disabled(self, hook: str, **kwargs) -> list[tuple[str, Any]]:
        """Like :meth:`call` for the installed plugins that are NOT enabled
        (through the manager of every installed plugin; core hooks only), for
        what core must know of them (their tables, their migrations)."""
        pairs = [
            (n, self.all_pm.caller_of(n, hook))
            for n, p in sorted(self.installed.items())
            if not p.enabled and self.all_pm.implements(n, hook)
        ]
        return _results(self.all_pm, pairs, hook, kwargs)

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
            for path in self.all_pm.caller_of(name, "qqh_migrations")():
                out.setdefault(name, path)
        return out

    def describe(self) -> list[dict]:
        return [self.installed[n].as_dict() for n in sorted(self.installed)]

    def switchable(self) -> list[str]:
        """The enabled plugins other than the built-in ones, in load order:
        those a unit may switch off."""
        return [n for n in self.order if not self.installed[n].builtin]


def _results(pm: PluginManager, pairs, hook: str, kwargs: dict) -> list[tuple[str, Any]]:
    spec = getattr(pm.hook, hook).spec
    firstresult = bool(spec and spec.opts.get("firstresult"))
    out = []
    for name, caller in pairs:
        result = caller(**kwargs)
        if firstresult:
            if result is not None:
                out.append((name, result))
        else:
            out.extend((name, r) for r in result)
    return out


class _SubsetRelay:
    """``registry.hook_for(off).NAME``: pluggy's subset caller of NAME."""

    def __init__(self, registry: PluginRegistry, off: frozenset):
        self._registry, self._off = registry, off

    def __getattr__(self, hook: str):
        if not hook.startswith("qqh_"):
            raise AttributeError(hook)
        return self._registry._subset(hook, self._off)


def module_dir(module: ModuleType | str, *parts: str) -> str:
    """Folder of a plugin module joined with ``parts`` (for hooks that return paths)."""
    import os

    mod = importlib.import_module(module) if isinstance(module, str) else module
    return os.path.join(os.path.dirname(mod.__file__), *parts)


def _check_api_version(name: str, manifest: Manifest) -> None:
    """Refuse a plugin whose ``Manifest.api`` does not admit core's
    ``API_VERSION`` (the version of core.api, the only module plugins use)."""
    from core.api import API_VERSION  # core.api imports this module: read it when a plugin is loaded

    try:
        spec = SpecifierSet(manifest.api)
    except InvalidSpecifier as exc:
        raise PluginError(
            f"Plugin {name!r}: invalid core API version range {manifest.api!r} in its manifest "
            f"(write a version range such as api=\">={API_VERSION}\")."
        ) from exc
    if API_VERSION not in spec:
        raise PluginError(
            f"Plugin {name!r} {manifest.version} needs core API {manifest.api}, but this core offers "
            f"API {API_VERSION} (core.api.API_VERSION): install a version of the plugin made for "
            f"API {API_VERSION}, or a core whose API it needs, or leave it out of QQH_PLUGINS."
        )


def _other_api_hint(exc: Exception) -> str:
    """For a plugin that imports a name core.api does not have: the likely cause."""
    if isinstance(exc, ImportError) and (exc.name or "").startswith("core"):
        from core.api import API_VERSION

        return (
            f"it may be made for another core API than this core's API {API_VERSION} "
            f"(core.api.API_VERSION; see its Manifest.api): "
        )
    return ""


def _own_manifest(module: Any) -> Manifest:
    """The manifest of a module that pluggy refused, read from its own
    ``qqh_manifest`` (a manifest that cannot be read admits any API)."""
    try:
        manifest = module.qqh_manifest()
    except Exception:
        manifest = None
    return manifest if isinstance(manifest, Manifest) else Manifest("?", "?", "?")


TRACE_ENV = "QQH_TRACE_HOOKS"
trace_log = logging.getLogger("qqh.hooks")


def trace_hooks(pm: pluggy.PluginManager) -> Callable[[], None]:
    """Log every hook call of ``pm`` to the logger ``qqh.hooks``, one line
    per call once it returns: hook name, the plugins pluggy was given (in
    call order; a firstresult hook stops at the first answer) and the time
    in ms. Per-plugin and per-unit (subset) callers are traced too; a call
    that reaches no implementation is not logged. Returns
    pluggy's undo function. On when ``QQH_TRACE_HOOKS=1`` (see PluginRegistry)."""
    local = threading.local()

    def before(hook_name, hook_impls, kwargs):
        stack = getattr(local, "stack", None)
        if stack is None:
            stack = local.stack = []
        stack.append(time.perf_counter())

    def after(outcome, hook_name, hook_impls, kwargs):
        ms = (time.perf_counter() - local.stack.pop()) * 1000
        if not hook_impls:  # a per-plugin caller of a plugin without that hook: nothing was called
            return
        names = ", ".join(i.plugin_name for i in reversed(hook_impls))
        failed = f" raised {type(outcome.exception).__name__}" if outcome.exception is not None else ""
        trace_log.info("%s: %s %.2f ms%s", hook_name, names, ms, failed)

    return pm.add_hookcall_monitoring(before, after)


def tracing_wanted() -> bool:
    return os.environ.get(TRACE_ENV, "").strip().lower() in ("1", "true", "yes", "on")
