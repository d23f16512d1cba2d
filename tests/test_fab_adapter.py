"""Canaries of the Flask-AppBuilder adapter (core/web/fab/__init__.py lists the
touch points): one check per private name, copied template or patched
behaviour, read from the installed libraries' own source (ast) so that core's
patches do not hide a change. After an upgrade, the failing test names the
touch point to revisit. Then the start-up version check, and the refused edit
that lost where it was opened from (issue 15, point 5)."""

from __future__ import annotations

import ast
import configparser
import functools
import hashlib
import html
import importlib
import inspect
import logging
import os
import re
from urllib.parse import quote

import flask_appbuilder
import pytest

from core.web import fab
from core.web.fab import crud, patches
from core.values.resources import CORE_DIR

FAB_TEMPLATES = os.path.join(os.path.dirname(flask_appbuilder.__file__), "templates")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

patches.apply()  # idempotent: what create_app does first


@functools.lru_cache(maxsize=None)
def _parsed(module_name: str):
    source = inspect.getsource(importlib.import_module(module_name))
    return source, ast.parse(source)


def _definition(target: str):
    """(source, ast node) of ``module:Class.name`` (or ``module:name``) in the library's file."""
    module_name, qualname = target.split(":")
    source, node = _parsed(module_name)
    for part in qualname.split("."):
        node = next(
            (n for n in node.body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == part),
            None,
        )
        assert node is not None, f"{target}: {part} is gone"
    return source, node


def _params(node) -> str:
    a = node.args
    names = [p.arg for p in a.posonlyargs + a.args]
    names += [f"*{a.vararg.arg}"] if a.vararg else []
    names += [p.arg for p in a.kwonlyargs]
    names += [f"**{a.kwarg.arg}"] if a.kwarg else []
    return ", ".join(names)


def _self_calls(node) -> set[str]:
    return {
        n.func.attr for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"
    }


BV, VW, IF, API = "flask_appbuilder.baseviews", "flask_appbuilder.views", "flask_appbuilder.models.sqla.interface", "flask_appbuilder.api"
SM = "flask_appbuilder.security.manager"

# the private (or patched) callables core overrides, wraps or calls, with the parameters it passes
SIGNATURES = {
    f"{BV}:BaseView._register_urls": "self",
    f"{BV}:BaseCRUDView._init_forms": "self",
    f"{BV}:BaseCRUDView._get_add_widget": "self, form, exclude_cols, widgets",
    f"{BV}:BaseCRUDView._get_edit_widget": "self, form, exclude_cols, widgets",
    f"{BV}:BaseCRUDView._get_list_widget": "self, filters, actions, order_column, order_direction, page, page_size, widgets, **kwargs",
    f"{BV}:BaseCRUDView._get_show_widget": "self, pk, item, widgets, actions, show_fieldsets",
    f"{BV}:BaseCRUDView._fill_form_exclude_cols": "self, exclude_cols, form",
    f"{BV}:BaseCRUDView._get_related_views_widgets": "self, item, orders, pages, page_sizes, widgets, **args",
    f"{BV}:BaseCRUDView._add": "self",
    f"{BV}:BaseCRUDView._edit": "self, pk",
    f"{BV}:BaseCRUDView.prefill_form": "self, form, pk",
    f"{VW}:ModelView.action": "self, name, pk",
    f"{VW}:ModelView.action_post": "self",
    f"{VW}:ModelView.download": "self, filename",
    f"{VW}:ModelView.post_add_redirect": "self",
    f"{VW}:ModelView.post_edit_redirect": "self",
    f"{IF}:SQLAInterface._get_base_query": "self, query, filters, order_column, order_direction",
    f"{IF}:SQLAInterface.apply_filters": "self, query, filters",
    f"{IF}:SQLAInterface.query_count": "self, query, filters, select_columns",
    f"{IF}:SQLAInterface._apply_inner_all": "self, query, filters, order_column, order_direction, page, page_size, select_columns, aliases_mapping",
    f"{API}:ModelRestApi._init_model_schemas": "self",
    f"{API}:ModelRestApi._gen_labels_columns": "self, list_columns",
    f"{API}:ModelRestApi._init_titles": "self",
    f"{API}:ModelRestApi._get_field_info": "self, field, filter_rel_field, page, page_size",
    f"{API}:BaseApi.response": "code, **kwargs",
    f"{API}:BaseApi.response_400": "self, message",
    f"{API}:BaseApi.response_401": "self",
    f"{API}:BaseApi.response_403": "self",
    f"{API}:BaseApi.response_404": "self",
    f"{SM}:BaseSecurityManager._has_view_access": "self, user, permission_name, view_name",
    f"{SM}:BaseSecurityManager._has_access_builtin_roles": "self, role, permission_name, view_name",
    "flask_appbuilder.security.views:AuthView._get_authenticated_user": "self",
    "flask_appbuilder.api.manager:OpenApi._create_api_spec": "version",
    "flask_babel:_get_current_context": "",
    "flask_appbuilder.security.sqla.models:Role.__repr__": "self",
}


@pytest.mark.parametrize("target", sorted(SIGNATURES))
def test_private_callable_keeps_its_signature(target):
    _source, node = _definition(target)
    assert _params(node) == SIGNATURES[target], f"{target} changed: see core/web/fab/__init__.py"


# what the touch point relies on the library to do (method → the self.<calls> it must still make)
CALLS = {
    # scope: every read goes through apply_filters (core.web.scoped_views.ScopedInterface) — else other units' records show
    f"{IF}:SQLAInterface._apply_inner_all": {"apply_filters"},
    f"{IF}:SQLAInterface.apply_all": {"_apply_inner_all"},
    f"{IF}:SQLAInterface.query_count": {"_apply_inner_all"},
    f"{IF}:SQLAInterface.query": {"apply_all"},
    f"{IF}:SQLAInterface.get": {"apply_all"},
    f"{IF}:SQLAInterface.query_simple_group": {"_get_base_query"},
    # post-only routes: FAB registers every route through the blueprint in _register_urls
    f"{BV}:BaseView._register_urls": set(),
    # the pages render the widgets core's overrides decorate
    f"{VW}:ModelView.add": {"_add", "post_add_redirect"},
    f"{VW}:ModelView.edit": {"_edit", "post_edit_redirect"},
    f"{BV}:BaseCRUDView._edit": {"_get_edit_widget", "_get_related_views_widgets", "_fill_form_exclude_cols", "prefill_form"},
    f"{BV}:BaseCRUDView._add": {"_get_add_widget", "_fill_form_exclude_cols"},
    f"{BV}:BaseCRUDView._list": {"_get_list_widget"},
    f"{BV}:BaseCRUDView._show": {"_get_show_widget"},
    f"{SM}:BaseSecurityManager._has_view_access": {"_has_access_builtin_roles"},
}


@pytest.mark.parametrize("target", sorted(CALLS))
def test_library_still_calls_what_core_relies_on(target):
    _source, node = _definition(target)
    missing = CALLS[target] - _self_calls(node)
    assert not missing, f"{target} no longer calls {missing}: see core/web/fab/__init__.py"


# names read from the library's source text: attributes set or looked up at call time
TEXTS = {
    f"{BV}:BaseModelView._init_properties": ["self._base_filters =", "self._filters ="],
    f"{BV}:BaseCRUDView._init_properties": ["self._related_views ="],
    f"{BV}:BaseCRUDView._init_forms": ["self.add_form =", "self.edit_form ="],
    f"{BV}:BaseView._register_urls": ["self.blueprint.add_url_rule("],
    f"{VW}:ModelView.action": ["self.actions"],
    f"{SM}:BaseSecurityManager.__init__": ["self._builtin_roles ="],
    f"{SM}:BaseSecurityManager.builtin_roles": ["self._builtin_roles"],
    "flask_babel:_get_current_context": ["g._flask_babel"],
    "flask_babel:get_domain": ["_get_current_context()"],
}


@pytest.mark.parametrize("target", sorted(TEXTS))
def test_library_source_still_has(target):
    source, node = _definition(target)
    segment = ast.get_source_segment(source, node)
    for text in TEXTS[target]:
        assert text in segment, f"{target} no longer has {text!r}: see core/web/fab/__init__.py"


def test_module_level_names_core_replaces():
    from flask import globals as flask_globals
    from flask_appbuilder import api as fab_api, baseviews, urltools

    assert type(flask_globals._cv_app).__name__ == "ContextVar"
    # the rison decorator validates through the module's jsonschema name, found at call time (patch 1)
    assert "jsonschema.validate(" in inspect.getsource(fab_api) and fab_api.jsonschema._qqh_patched
    # the list's paging arguments are module globals of both modules (patch 5)
    for module in (baseviews, urltools):
        assert module.get_page_args.__module__ == "core.web.fab.patches", module
    imported = {a.name for n in ast.parse(inspect.getsource(baseviews)).body if isinstance(n, ast.ImportFrom) for a in n.names}
    assert {"get_page_args", "get_page_size_args"} <= imported


def test_patched_behaviour(app_free_context):
    from flask_appbuilder import urltools
    from flask_appbuilder.models.sqla.filters import FilterContains, FilterStartsWith, SQLAFilterConverter
    from flask_babel import get_locale

    import flask_babel

    # 3. Flask-Babel's per-request state, found without the g proxy, is the same object
    with app_free_context("/"):
        ctx = flask_babel._get_current_context()
        assert ctx is not None and ctx is flask_babel._get_current_context() and str(get_locale()) == "en"
    assert flask_babel._get_current_context() is None  # no app context: no translations
    # 5. paging arguments: not a number → ignored, too large → capped
    with app_free_context("/?page_V=abc&psize_V=100000&page_W=3"):
        assert urltools.get_page_args() == {"W": 3} and urltools.get_page_size_args() == {"V": 100}
    # 6. "contains" first wherever FAB offers both
    both = [f for _t, f in SQLAFilterConverter.conversion_table if FilterContains in f and FilterStartsWith in f]
    assert both and all(f.index(FilterContains) < f.index(FilterStartsWith) for f in both)


@pytest.fixture
def app_free_context():
    """A plain Flask app with Flask-Babel (no database)."""
    from flask import Flask
    from flask_babel import Babel

    plain = Flask("canary")
    Babel(plain)
    return plain.test_request_context


@pytest.mark.parametrize("target", sorted(crud.MIRRORED))
def test_mirrored_code_unchanged(target):
    module_name, qualname = target.split(":")
    obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    digest = hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()
    assert digest == crud.MIRRORED[target], f"{target} changed: diff core/web/fab/crud.py against it, then update MIRRORED"


def _fab_template(name: str) -> str:
    with open(os.path.join(FAB_TEMPLATES, name), encoding="utf-8") as f:
        return f.read()


def test_copied_templates_are_those_of_fab():
    ours = {
        os.path.relpath(os.path.join(d, f), os.path.join(CORE_DIR, "templates")).replace(os.sep, "/")
        for d, _dirs, files in os.walk(os.path.join(CORE_DIR, "templates", "appbuilder")) for f in files
    }
    assert ours == set(fab.COPIED_TEMPLATES), "a template that replaces FAB's must be listed in core/fab COPIED_TEMPLATES"
    for name, digest in fab.COPIED_TEMPLATES.items():
        assert hashlib.sha256(_fab_template(name).encode()).hexdigest() == digest, f"FAB's {name} changed: update core's copy"


def _blocks(env, name: str) -> tuple[str | None, set[str]]:
    """(the template it extends, every block it or its parents define)."""
    from jinja2 import nodes

    tree = env.parse(env.loader.get_source(env, name)[0])
    blocks = {b.name for b in tree.find_all(nodes.Block)}
    parent = next((e.template.value for e in tree.find_all(nodes.Extends) if isinstance(e.template, nodes.Const)), None)
    if parent is not None and parent.startswith("appbuilder/"):
        blocks |= _blocks(fab_env(), parent)[1]
    return parent, blocks


def fab_env():
    from jinja2 import Environment, FileSystemLoader

    return Environment(loader=FileSystemLoader(FAB_TEMPLATES))


@pytest.mark.parametrize("name", sorted(fab.EXTENDED_TEMPLATES))
def test_blocks_core_overrides_exist_in_fab(name):
    from jinja2 import Environment, FileSystemLoader

    parent, blocks = fab.EXTENDED_TEMPLATES[name]
    ours = Environment(loader=FileSystemLoader(os.path.join(CORE_DIR, "templates")))
    extends, own = _blocks(ours, name)
    assert extends == parent and set(blocks) <= own, name
    assert set(blocks) <= _blocks(fab_env(), parent)[1], f"FAB's {parent} lost a block core's {name} overrides"


# private attributes reached only through core/fab's named functions
ROUTED = ("._base_filters", "._has_view_access(", "._builtin_roles", "._get_authenticated_user(", "._create_api_spec(",
          "_cv_app", "_flask_babel", "_get_current_context", "._get_related_views_widgets(", "._fill_form_exclude_cols(",
          "._register_urls", "._init_forms", "._apply_inner_all(")


def test_private_names_go_through_core_fab():
    found = []
    for d, _dirs, files in os.walk(os.path.join(ROOT, "core")):
        if os.path.join("core", "web", "fab") in d:
            continue
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(d, f)
                text = open(path, encoding="utf-8").read()
                found += [f"{os.path.relpath(path, ROOT)}: {n}" for n in ROUTED if n in text]
    assert not found, found


# -- start-up version check -----------------------------------------------------------------
def test_installed_versions_are_those_core_fab_was_written_for():
    assert fab.version_problems() == [], fab.version_problems()


def test_supported_ranges_are_setup_cfg_pins():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    pins = {}
    for line in cfg["options"]["install_requires"].splitlines():
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*([<>=!~][^#]*)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2).replace(" ", "")
    for name, spec in fab.SUPPORTED.items():
        assert pins.get(name.lower()) == spec, (name, pins.get(name.lower()), spec)


def test_version_check_says_one_line(caplog, monkeypatch):
    monkeypatch.delenv(fab.STRICT_ENV, raising=False)
    ok = dict(fab.installed_versions())
    caplog.set_level(logging.WARNING, logger="core.web.fab")
    assert fab.check_versions(ok) == [] and not caplog.records

    newer = dict(ok, **{"Flask-AppBuilder": "5.4.1", "Flask-Babel": None})
    problems = fab.check_versions(newer)
    assert len(problems) == 2 and len(caplog.records) == 1
    line = caplog.records[0].getMessage()
    assert caplog.records[0].levelno == logging.WARNING
    assert "Flask-AppBuilder 5.4.1 is installed, core/fab expects Flask-AppBuilder==5.3.0" in line
    assert "Flask-Babel not installed" in line and "Flask " not in line.replace("Flask-", "")

    monkeypatch.setenv(fab.STRICT_ENV, "1")
    with pytest.raises(RuntimeError, match="Flask-AppBuilder 5.4.1"):
        fab.check_versions(newer)
    assert fab.check_versions(ok) == []
    assert fab.version_problems({**ok, "Flask": "not-a-version"}) != []


# -- the drift: a refused edit keeps where it was opened from --------------------------------
def _back(text: str) -> str | None:
    m = re.search(r'name="qqh_back" type="hidden" value="([^"]*)"', text)
    return html.unescape(m.group(1)) if m else None


def test_refused_edit_still_goes_back_where_it_was_opened(engine_name, request):
    if engine_name != "sqlite":
        pytest.skip("forms do not depend on the engine")
    app, live = request.getfixturevalue("app"), request.getfixturevalue("live")
    fs = request.getfixturevalue("as_user")("fs_clerk")
    from sqlalchemy import select

    from plugins.training.models import Camp
    from plugins.training.tests.test_pages import camp_form
    from tests.test_forms import ids

    units = ids(app, "440600", "440300")
    data = camp_form(units["440600"])
    assert fs.post("/trainingcamp/add", data=data).status_code == 302
    with app.app_context():
        pk = app.appbuilder.session.execute(select(Camp.id).where(Camp.title == data["title"])).scalar_one()
    edit = f"/trainingcamp/edit/{pk}"

    for opened_from, refusal, words in (
        ("/trainingcamp/list/?_flt_0_title=" + quote(data["title"][:4]), dict(capacity="0"), "名额须为1到10000之间的整数"),
        (f"/trainingcamp/show/{pk}", dict(unit=str(units["440300"])), "alert-danger"),  # outside the clerk's subtree
    ):
        form = fs.get(edit, headers={"Referer": live.url + opened_from}).text
        assert _back(form) == opened_from
        refused = fs.post(edit, data=dict(data, qqh_back=_back(form), **refusal), headers={"Referer": live.url + edit})
        assert refused.status_code == 200 and words in refused.text, refused.status_code
        assert 'id="EnrolmentView"' in refused.text  # the camp's enrolments tab, as on FAB's own refused edit page
        assert _back(refused.text) == opened_from
        saved = fs.post(edit, data=dict(data, note=opened_from, qqh_back=_back(refused.text)), headers={"Referer": live.url + edit})
        assert saved.status_code == 302 and saved.headers["Location"] == opened_from
    with app.app_context():
        camp = app.appbuilder.session.get(Camp, pk)
        assert (camp.unit.code, camp.capacity, camp.note) == ("440600", 40, f"/trainingcamp/show/{pk}")
