"""core.api is the one module plugins import from core (the policy of CKAN's
plugins toolkit, enforced): every module under plugins/, its migrations and
demo data included, imports from core only through it; what it offers exists
and is documented."""

import ast
import inspect
import pathlib
import re

import core
from core import api

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"

# modules under plugins/ allowed to import a core internal, with the reason each (none today)
ALLOWED: dict[tuple[str, str], str] = {}


def core_imports(path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, module) of every import of core in ``path``, inside functions too."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name == "core" or a.name.startswith("core.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "core":
                out += [(node.lineno, f"core.{a.name}") for a in node.names]
            elif node.module.startswith("core."):
                out.append((node.lineno, node.module))
    return out


def core_testing_import(path: pathlib.Path, module: str) -> bool:
    """A plugin's tests (its tests/ folder, a conftest) take core's test API, core.testing (docs/plugins.md, Testing)."""
    is_test = "tests" in path.relative_to(PLUGINS).parts or path.name == "conftest.py"
    return is_test and (module == "core.testing" or module.startswith("core.testing."))


def test_plugins_import_core_only_through_core_api():
    files = sorted(PLUGINS.rglob("*.py"))
    assert len(files) > 30 and any("migrations" in f.parts for f in files)
    bad = [
        f"{f.relative_to(ROOT)}:{line} imports {mod}"
        for f in files
        for line, mod in core_imports(f)
        if mod != "core.api" and (str(f.relative_to(ROOT)), mod) not in ALLOWED and not core_testing_import(f, mod)
    ]
    assert not bad, "plugins must import from core.api only:\n" + "\n".join(bad)


def test_the_checker_sees_imports_inside_functions(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from core.scoping import in_scope\n    import core.tenancy.units\nfrom core import clock, api\n")
    assert core_imports(f) == [(4, "core.clock"), (4, "core.api"), (2, "core.scoping"), (3, "core.tenancy.units")]


def test_api_names_exist_and_are_documented():
    assert re.fullmatch(r"\d+\.\d+", api.API_VERSION)
    assert api.__version__ == core.__version__
    assert len(api.__all__) == len(set(api.__all__)) > 40
    doc = api.__doc__ or ""
    for group in ("Plugin declaration", "Hooks and markers", "Records and scope", "Views and APIs", "KPI", "Commands",
                  "Import and export", "Reporting", "Low-code", "Clock", "Locks", "Personal data"):
        assert group in doc, group
    for name in api.__all__:
        obj = getattr(api, name)  # AttributeError: listed but missing
        if name.startswith("__") or name == "API_VERSION":
            continue
        own_doc = (inspect.isroutine(obj) or inspect.isclass(obj) or inspect.ismodule(obj)) and (obj.__doc__ or "").strip()
        assert f"``{name}" in doc or own_doc, f"{name} is documented neither in core.api's docstring nor by itself"


# -- a plugin's tests live in its own folder ----------------------------------------------------------
def test_imports(path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in ``path``; a relative one above its package as ``..``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.lineno, node.module or "") if node.level == 0 else (node.lineno, "..") if node.level > 1 else None)
    return [x for x in out if x]


test_imports.__test__ = False  # a helper, not a test


def foreign_test_import(plugin: str, module: str, requires) -> bool:
    """An import a plugin's tests may not make: core's tests (``tests``), or a test module (a ``test_*``
    module, a conftest, a ``tests`` package) of another plugin than itself and the plugins it requires,
    whose conftest holds their public test helpers (cultivation's ``make_org``, ``org_payload``); core's
    test API is core.testing."""
    parts = module.split(".")
    if module == ".." or parts[0] == "tests":
        return True
    if parts[:2] == ["plugins", plugin]:
        return False  # its own package and tests
    if parts[0] == "plugins" and len(parts) > 1:
        testing = "tests" in parts or any(p == "conftest" or p.startswith("test_") for p in parts)
        return testing and not (parts[1] in requires and parts[2:] == ["tests", "conftest"])
    return parts[0] != "core" and any(p == "conftest" or p.startswith("test_") for p in parts)


def test_a_plugins_tests_import_no_test_module_outside_its_folder():
    from core.plugins import PluginRegistry

    installed = PluginRegistry(enabled=[]).installed
    assert not list((ROOT / "tests" / "plugins").rglob("*.py")), "tests/plugins/ is gone: a plugin's tests are plugins/NAME/tests/"
    folders = sorted(p.parent for p in PLUGINS.glob("*/tests/__init__.py"))
    assert {f.parent.name for f in folders} >= {"cultivation", "homes", "training", "sample"}
    bad, seen = [], 0
    for folder in folders:
        plugin = folder.parent.name
        requires = set(installed[plugin].manifest.requires) if plugin in installed else set()
        for f in sorted(folder.rglob("*.py")):
            for line, module in test_imports(f):
                seen += 1
                if foreign_test_import(plugin, module, requires):
                    bad.append(f"{f.relative_to(ROOT)}:{line} imports {module}")
    assert seen > 100
    assert not bad, "a plugin's tests import core.testing and their own folder, not other tests:\n" + "\n".join(bad)


def test_the_test_import_checker_refuses_other_tests(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from tests.conftest import PASSWORD\nimport tests.browser\nfrom .. import x\nfrom . import y\n")
    assert sorted(test_imports(f)) == [(2, "tests.conftest"), (3, "tests.browser"), (4, "..")]
    no = {"cultivation"}
    assert all(foreign_test_import("homes", m, no) for m in ("tests.conftest", "tests", "..", "plugins.training.tests.conftest",
                                                              "plugins.cultivation.tests.test_api", "bench.conftest"))
    assert not any(foreign_test_import("homes", m, no) for m in (
        "core.testing", "core.testing.browser", "core.api", "plugins.homes.tests.conftest", "plugins.homes.models",
        "plugins.cultivation.tests.conftest", "plugins.cultivation.models", "sqlalchemy", "pytest"))
