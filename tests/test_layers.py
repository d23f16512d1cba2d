"""Core's layers and the one direction of imports (docs/architecture.md):
values → tenancy → web → features → app. A module may import from its own
layer and the layers below it. A layer is a subpackage of core (values,
tenancy, web), the feature packages (excel, kpi, reporting, lowcode, audit,
ops), and core's top-level modules (the app factory, CLI, plugins, public
API). The imports that still go upward are listed in KNOWN_UPWARD: a new
upward import fails this test, and so does an entry of the list that is no
longer there (the list only shrinks)."""

from __future__ import annotations

import ast
import pathlib

CORE = pathlib.Path(__file__).resolve().parent.parent / "core"

LAYERS = {
    "values": "values",
    "tenancy": "tenancy",
    "web": "web",
    "features": "excel kpi reporting lowcode audit ops",
    "app": "app cli config migrate health logs plugins hookspecs builtins api gunicorn_conf __main__ testing scaffold",
}
ORDER = list(LAYERS)
LAYER_OF = {m: layer for layer, mods in LAYERS.items() for m in mods.split()}

# (importing module, imported package or module of core): to be removed, not added to
KNOWN_UPWARD = {
    ("excel/declarations", "plugins"), ("kpi/assessment", "plugins"),  # the registry is read where a helper would do
    ("ops/backup", "health"), ("ops/jobs", "app"),  # a backup checks the database; the worker builds the app
    ("tenancy/accounts", "audit"), ("tenancy/accounts", "logs"), ("tenancy/accounts", "web"),
    ("tenancy/security", "audit"), ("tenancy/security", "web"),  # the user pages live beside the roles
    ("tenancy/records", "lowcode"),  # a record's custom values are checked with it
    ("web/menu", "lowcode"), ("web/openapi", "lowcode"), ("web/scoped_api", "lowcode"),
    ("web/scoped_views", "lowcode"), ("web/views", "lowcode"),  # custom fields and lists in every page and API
}


def imports_of(path: pathlib.Path) -> set[str]:
    """Top-level core modules that ``path`` imports (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "core":
                found |= {a.name for a in node.names if a.name in LAYER_OF}
            elif node.module.startswith("core."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("core.")}
    return found


def upward_imports() -> set[tuple[str, str]]:
    out = set()
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(CORE).with_suffix("")
        if rel.parts[0] == "__init__":
            continue
        top = rel.parts[0]
        assert top in LAYER_OF, f"core/{top} is in no layer: add it to LAYERS (and to docs/architecture.md)"
        name = "/".join(rel.parts)
        for target in imports_of(path):
            assert target in LAYER_OF, f"core/{rel}.py imports core.{target}, which is in no layer"
            if ORDER.index(LAYER_OF[target]) > ORDER.index(LAYER_OF[top]):
                out.add((name, target))
    return out


def test_every_module_of_core_has_a_layer():
    tops = {p.relative_to(CORE).parts[0].removesuffix(".py") for p in CORE.glob("*") if p.suffix == ".py" or p.is_dir()}
    tops -= {"__init__", "__pycache__", "templates", "static", "data"}
    assert tops <= set(LAYER_OF), sorted(tops - set(LAYER_OF))


def test_imports_go_one_way():
    found = upward_imports()
    new = found - KNOWN_UPWARD
    assert not new, "imports against the layers (values → tenancy → web → features → app): " + ", ".join(
        f"core/{a} imports core.{b} ({LAYER_OF[b]} above {LAYER_OF[a.split('/')[0]]})" for a, b in sorted(new))
    gone = KNOWN_UPWARD - found
    assert not gone, f"no longer imported upward, remove from KNOWN_UPWARD: {sorted(gone)}"


def module_level_imports() -> dict[str, set[str]]:
    """Each module of core and the modules of core it imports when it is imported (not inside functions)."""
    modules = {}
    for path in CORE.rglob("*.py"):
        name = ".".join(("core",) + path.relative_to(CORE).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {m for m in [node.module] + [f"{node.module}.{a.name}" for a in node.names] if m in modules}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name in modules}
        graph[name] = found - {name}
    return graph


def test_no_import_cycle_when_core_is_imported():
    """Importing any module of core never comes back to a module being imported: the upward
    imports of KNOWN_UPWARD are all inside functions (run when called, not when imported)."""
    graph = module_level_imports()
    assert "core.kpi.engine" in graph and "core.tenancy.scope" in graph["core.excel.engine"]
    state, cycles = {}, []

    def visit(module, trail):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" → ".join(trail[trail.index(target):] + [target]) if target in trail else target)
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles
