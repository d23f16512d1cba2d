"""`qqh plugin new NAME`: a new plugin package, generated outside the repository from the reference plugin.

The reference is the installed example plugin (``Manifest.example``): its files are copied at run time
(not a frozen template, so the generator follows the reference as it changes) with a rename map — its
name, CamelName and UPPER_NAME, its Chinese title (the word before 插件 in its manifest's label), its
package (``plugins.<ref>`` becomes ``qqh_NAME``), its migration revision ids (made fresh) — plus a
``pyproject.toml`` with the ``qqh.plugins`` entry point, a README and the compiled catalog. The new
package is enabled by default (not an example) and runs the plugin contract in its tests
(core.testing.contract)."""

from __future__ import annotations

import importlib.metadata
import keyword
import os
import re
import shutil
import uuid

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,29}$")
SKIP_DIRS = {"__pycache__", ".pytest_cache"}
SKIP_FILES = (".pyc", ".pyo", ".mo")  # the catalog is compiled again from the renamed .po
TEXT_FILES = (".py", ".po", ".pot", ".html", ".js", ".css", ".txt", ".md", ".cfg", ".toml", ".csv", ".mako")


class ScaffoldError(ValueError):
    """A name or folder refused: the message says why (in Chinese, then English); nothing was written."""


def camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def installed_names() -> set[str]:
    """Every plugin name taken: core's built-in features and the installed plugins."""
    from core import builtins

    names = {s[0] for s in builtins.sources()}
    names |= {ep.name for ep in importlib.metadata.entry_points(group="qqh.plugins")}
    # plugins added by module name, not installed (QQH_PLUGIN_MODULES: name=module pairs)
    names |= {item.partition("=")[0].strip() for item in os.environ.get("QQH_PLUGIN_MODULES", "").split(",") if "=" in item}
    return names


def reference_plugin():
    """(name, package folder, Chinese title) of the installed example plugin the generator copies."""
    from core.plugins import PluginRegistry

    registry = PluginRegistry(enabled=[])
    packaged = {ep.name for ep in importlib.metadata.entry_points(group="qqh.plugins")}  # installed, not a test's
    examples = sorted(n for n, p in registry.installed.items() if p.manifest.example and n in packaged)
    if not examples:
        raise ScaffoldError("没有找到参考插件（Manifest.example）：请重新安装亲青汇。 "
                            "No reference plugin (an installed plugin with Manifest.example): reinstall core.")
    name = examples[0]
    module = registry.installed[name].module
    folder = os.path.dirname(os.path.abspath(module.__file__))
    return name, module.__name__, folder, _chinese_title(registry.installed[name].manifest.label, folder, name)


def _chinese_title(label, folder: str, name: str) -> str | None:
    """The reference's Chinese title: its manifest label's translation in its catalog, up to 插件 or 记事."""
    from babel.messages.pofile import read_po

    msgid = str(label)  # outside a request a lazy string is its msgid
    po = os.path.join(folder, "translations", "zh", "LC_MESSAGES", f"{name}.po")
    if not os.path.exists(po):
        return None
    with open(po, "rb") as f:
        message = read_po(f).get(msgid)
    text = (message.string if message else "") or ""
    m = re.match(r"^(.+?)(插件|记事|模块)?$", text)
    return m.group(1) if m and m.group(1) else None


TITLE_RE = re.compile(r"^[\w\u4e00-\u9fff·（）()、 -]{1,20}$")


def check_title(title: str) -> None:
    if not TITLE_RE.match(title):
        raise ScaffoldError(f"中文名 {title!r} 不可用：最多 20 个字，不含引号、反斜杠或换行。 "
                            f"The title {title!r} is not usable: at most 20 characters, no quotes, backslashes or line breaks.")


def check_name(name: str, target: str) -> None:
    if not NAME_RE.match(name or "") or keyword.iskeyword(name):
        raise ScaffoldError(
            f"插件名 {name!r} 不可用：须以小写字母开头，只含小写字母、数字和下划线（2–30 个字符），且不是 Python 关键字。 "
            f"The plugin name {name!r} is not a lower-case identifier of 2–30 characters (a-z, 0-9, _).")
    if name in installed_names():
        raise ScaffoldError(f"已有名为 {name!r} 的插件（内置功能或已安装的插件），请另取一个名字。 "
                            f"A plugin named {name!r} exists already (built-in or installed): choose another name.")
    if os.path.lexists(target):
        raise ScaffoldError(f"目录 {target} 已存在，未写入任何内容：请换一个 --dir 或删除它。 "
                            f"The folder {target} exists already; nothing was written.")
    core_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.exists(os.path.join(core_root, "setup.cfg")):
        inside = os.path.commonpath([os.path.abspath(target), core_root]) == core_root
        if inside:
            raise ScaffoldError(f"新插件须生成在亲青汇源代码目录 {core_root} 之外（用 --dir 指定）。 "
                                f"Generate the plugin outside core's checkout {core_root} (--dir).")


def rename_map(ref: str, ref_module: str, ref_title: str | None, name: str, title: str) -> list[tuple[str, str]]:
    """Longest first: the package, the slash path, the names, the Chinese title."""
    pairs = [
        (ref_module, f"qqh_{name}"),
        (ref_module.replace(".", "/"), f"qqh_{name}"),
        (camel(ref), camel(name)),
        (ref.upper(), name.upper()),
        (ref, name),
    ]
    if ref_title:
        pairs.append((ref_title, title))
    return pairs


def substitute(text: str, pairs) -> str:
    pattern = re.compile("|".join(re.escape(old) for old, _new in pairs))
    table = dict(pairs)
    return pattern.sub(lambda m: table[m.group(0)], text)


def generate(name: str, folder: str, title: str | None = None) -> str:
    """Write the plugin ``name`` into ``folder``/qqh-NAME; returns that path. Refuses (ScaffoldError,
    nothing written) a bad name, a name taken, an existing folder or one inside core's checkout."""
    target = os.path.abspath(os.path.join(folder, f"qqh-{name}"))
    check_name(name, target)
    title = (title or "").strip() or name
    check_title(title)
    ref, ref_module, source, ref_title = reference_plugin()
    pairs = rename_map(ref, ref_module, ref_title, name, title)
    tmp = target + f".tmp-{uuid.uuid4().hex[:6]}"
    try:
        _write(source, os.path.join(tmp, f"qqh_{name}"), pairs, name, title)
        _write_project(tmp, name, title)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write(source: str, package: str, pairs, name: str, title: str) -> None:
    for here, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        rel = os.path.relpath(here, source)
        out_dir = os.path.join(package, substitute(rel, pairs)) if rel != "." else package
        os.makedirs(out_dir, exist_ok=True)
        for f in sorted(files):
            if f.endswith(SKIP_FILES):
                continue
            src, dst = os.path.join(here, f), os.path.join(out_dir, substitute(f, pairs))
            if f.endswith(TEXT_FILES):
                with open(src, encoding="utf-8") as fh:
                    text = substitute(fh.read(), pairs)
                if rel == "." and f == "__init__.py":
                    text = re.sub(r",\s*example=True", "", text)  # a real plugin: enabled by default
                with open(dst, "w", encoding="utf-8") as fh:
                    fh.write(text)
            else:
                shutil.copyfile(src, dst)
    _fresh_revisions(os.path.join(package, "migrations"))
    _tests(package, name)
    _compile_catalogs(package)


def _fresh_revisions(folder: str) -> None:
    """New revision ids for the copied revisions (down_revision and headers follow)."""
    if not os.path.isdir(folder):
        return
    paths = [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith(".py")]
    texts = {p: open(p, encoding="utf-8").read() for p in paths}
    ids = {}
    for text in texts.values():
        m = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
        if m:
            ids[m.group(1)] = uuid.uuid4().hex[:12]
    if not ids:
        return
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r")(?![\w-])")
    for p, text in texts.items():
        with open(p, "w", encoding="utf-8") as fh:
            fh.write(pattern.sub(lambda m: ids[m.group(1)], text))


def _tests(package: str, name: str) -> None:
    """The copied tests (they take core.testing's fixtures), with the plugin contract."""
    folder = os.path.join(package, "tests")
    os.makedirs(folder, exist_ok=True)
    init = os.path.join(folder, "__init__.py")
    if not os.path.exists(init):
        open(init, "w").close()
    contract = os.path.join(folder, "test_contract.py")  # the example's own, renamed, when it has one
    if os.path.exists(contract):
        return
    with open(contract, "w", encoding="utf-8") as fh:
        fh.write(f'"""The plugin contract (core.testing.contract): migrations, demo data, no 500, no English, scoping."""\n\n'
                 f"from core.testing import contract_tests\n\n"
                 f"globals().update(contract_tests({name!r}))\n")


def _compile_catalogs(package: str) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for here, _dirs, files in os.walk(os.path.join(package, "translations")):
        for f in files:
            if f.endswith(".po"):
                with open(os.path.join(here, f), "rb") as fh:
                    catalog = read_po(fh)
                with open(os.path.join(here, f[:-3] + ".mo"), "wb") as fh:
                    write_mo(fh, catalog)


def _write_project(root: str, name: str, title: str) -> None:
    from core import __version__

    major_minor = ".".join(__version__.split(".")[:2])
    with open(os.path.join(root, "pyproject.toml"), "w", encoding="utf-8") as fh:
        fh.write(f'''[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "qqh-{name}"
version = "0.1.0"
description = "亲青汇插件：{title}"
requires-python = ">=3.11"
dependencies = ["qinqinghui>={major_minor}"]

[project.entry-points."qqh.plugins"]
{name} = "qqh_{name}"

[tool.setuptools.packages.find]
include = ["qqh_{name}", "qqh_{name}.*"]

[tool.setuptools.package-data]
"*" = ["migrations/*.py", "translations/*.pot", "translations/*/LC_MESSAGES/*.po", "translations/*/LC_MESSAGES/*.mo",
       "templates/**/*", "static/**/*"]

[tool.pytest.ini_options]
testpaths = ["qqh_{name}/tests"]
''')
    with open(os.path.join(root, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(f'''# qqh-{name} — 亲青汇插件：{title}

Generated by `qqh plugin new {name}` from core's reference plugin (the plugin author's guide: core's
docs/plugins.md).

```bash
pip install -e .                      # into the environment of 亲青汇 (entry point qqh.plugins: {name})
QQH_PLUGINS=...,{name} qqh db upgrade  # its migration branch "{name}"
python3 -m pytest                     # its tests and the plugin contract (core.testing), SQLite and PostgreSQL (QQH_TEST_PG_URL)
```

Translations: `pybabel extract -k _l -k lazy_gettext -k gettext -k _ -o qqh_{name}/translations/{name}.pot qqh_{name}`,
`pybabel update -D {name} -l zh -i qqh_{name}/translations/{name}.pot -d qqh_{name}/translations`, fill the msgstr,
`pybabel compile -D {name} -d qqh_{name}/translations`.
''')
