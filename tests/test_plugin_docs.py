"""The plugin author's guide (docs/plugins.md) keeps up with the code, as
datasette's documentation test does for its plugin hooks: every hook of
core/hookspecs.py has a heading ``### `qqh_name(args)` `` and a Python code
block defining it, both with exactly the specification's arguments; a hook
named in the guide exists (in core or offered by a plugin); every name of
core.api.__all__ is named in the guide. Pure Python: no app, no import of
core.api (its __all__ is read from the source)."""

from __future__ import annotations

import ast
import inspect
import pathlib
import re
import textwrap

from core import hookspecs

ROOT = pathlib.Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"

HEADING = re.compile(r"^#{2,4} `(qqh_\w+)\(([^)]*)\)`\s*$", re.M)
FENCE = re.compile(r"^( *)```(\w*)[^\n]*\n(.*?)^\1```", re.M | re.S)


def core_specs() -> dict[str, list[str]]:
    return {
        name: list(inspect.signature(f).parameters)
        for name, f in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("qqh_")
    }


def offered_specs() -> dict[str, list[str]]:
    """Hooks the plugins offer (``qqh_add_hookspecs``): the ``@hookspec``
    functions of plugins/*/hookspecs.py, read without importing them."""
    out = {}
    for path in sorted((ROOT / "plugins").glob("*/hookspecs.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and any(
                (isinstance(d, ast.Name) and d.id == "hookspec")
                or (isinstance(d, ast.Call) and getattr(d.func, "id", None) == "hookspec")
                for d in node.decorator_list
            ):
                out[node.name] = params_of(node)
    return out


def api_all() -> list[str]:
    tree = ast.parse((ROOT / "core" / "api.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError("core/api.py has no __all__")


def params_of(fn: ast.FunctionDef) -> list[str]:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args]
    names += [f"*{a.vararg.arg}"] if a.vararg else []
    names += [x.arg for x in a.kwonlyargs]
    names += [f"**{a.kwarg.arg}"] if a.kwarg else []
    return names


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def problems(text: str, specs: dict[str, list[str]], offered: dict[str, list[str]], names: list[str]) -> list[str]:
    """Everything in the guide ``text`` that disagrees with the code."""
    known = {**offered, **specs}
    out: list[str] = []
    headings: dict[str, list[str]] = {}
    for m in HEADING.finditer(text):
        args = [p.strip() for p in m.group(2).split(",") if p.strip()]
        headings[m.group(1)] = args
        if m.group(1) not in known:
            out.append(f"line {line_of(text, m.start())}: heading of {m.group(1)}, which is no hook")
        elif args != known[m.group(1)]:
            out.append(f"line {line_of(text, m.start())}: heading {m.group(1)}({', '.join(args)}) "
                       f"but the hook is {m.group(1)}({', '.join(known[m.group(1)])})")
    defined: set[str] = set()
    for m in FENCE.finditer(text):
        if m.group(2) != "python":
            continue
        start = line_of(text, m.start()) + 1
        try:
            tree = ast.parse(textwrap.dedent(m.group(3)))
        except SyntaxError as exc:
            out.append(f"line {start + (exc.lineno or 1) - 1}: a python block that does not parse ({exc.msg})")
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("qqh_")):
                continue
            args, at = params_of(node), start + node.lineno - 1
            defined.add(node.name)
            if node.name not in known:
                out.append(f"line {at}: def {node.name}, which is no hook")
            elif args != known[node.name]:
                out.append(f"line {at}: def {node.name}({', '.join(args)}) "
                           f"but the hook is {node.name}({', '.join(known[node.name])})")
    for name, args in sorted(specs.items()):
        if name not in headings:
            out.append(f"hook {name}({', '.join(args)}) has no heading ### `{name}({', '.join(args)})`")
        if name not in defined:
            out.append(f"hook {name} has no python block with def {name}({', '.join(args)})")
    for name in names:
        if not re.search(rf"`{re.escape(name)}[`(\s]", text):
            out.append(f"core.api.{name} is not named in the guide (as `{name}`)")
    return out


def test_the_guide_names_every_hook_with_its_signature_and_every_public_name():
    specs, offered, names = core_specs(), offered_specs(), api_all()
    assert len(specs) >= 16 and "qqh_youthorg_profile_sections" in offered and len(names) > 60
    found = problems(GUIDE.read_text(encoding="utf-8"), specs, offered, names)
    assert not found, "docs/plugins.md disagrees with the code:\n" + "\n".join(found)
    assert "(docs/plugins.md)" in (ROOT / "README.md").read_text(encoding="utf-8"), "the README links the guide"


def test_the_checker_sees_a_missing_hook_a_changed_signature_and_a_missing_name():
    guide = textwrap.dedent('''\
        ### `qqh_demo_data(session)`

        ```python
        def qqh_demo_data(session):
            return 0
        ```

        ### `qqh_cli(group, extra)`

        - `Manifest` — what qqh_manifest returns.

          ```python
          @hookimpl
          def qqh_cli(grp):
              pass
          ```
        ''')
    specs = {"qqh_demo_data": ["session"], "qqh_cli": ["group"], "qqh_models": []}
    found = problems(guide, specs, {}, ["Manifest", "Page"])
    assert found == [
        "line 8: heading qqh_cli(group, extra) but the hook is qqh_cli(group)",
        "line 14: def qqh_cli(grp) but the hook is qqh_cli(group)",
        "hook qqh_models() has no heading ### `qqh_models()`",
        "hook qqh_models has no python block with def qqh_models()",
        "core.api.Page is not named in the guide (as `Page`)",
    ]
    broken = problems(guide.replace("return 0", "return ("), specs, {}, [])
    assert any(p.startswith("line 5: a python block that does not parse") for p in broken), broken
