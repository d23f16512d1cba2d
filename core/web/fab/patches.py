"""Small corrections to Flask-AppBuilder 5.3.0 and its Flask-Babel, applied once at start-up.

1. FAB's ``@rison`` decorator calls ``jsonschema.validate(instance, schema)``
   on every REST request, which re-checks the (constant) schema itself each
   time: measured at ~30 ms of a ~38 ms REST list request on this machine
   (bench/list_page.py). We keep the validation but build each schema's
   validator once. Bad ``q`` arguments are still refused with 400.
2. Every FAB ModelView answers 500 to an unknown action name
   (``/action/<name>/<pk>``, ``/action_post``) and to a file that does not
   exist (``/download/<filename>``): they answer 404 instead.
3. Flask-Babel 4 finds its per-request state through three ``g`` proxies per
   lookup, three lookups per translated string: ~23 µs a string, and a list
   page translates ~370 of them (~8 ms). The same state, found through the
   application context directly, costs ~4 µs. Behaviour is unchanged: no
   application context still means "no translations".
4. State changes by POST only: FAB routes ``/delete/<pk>`` and
   ``/action/<name>/<pk>`` for GET and POST (refusing GET only when CSRF is
   on, with a redirect). Every view's ``delete`` and ``action`` routes are
   registered for POST alone (405 to a GET), however a view redeclares them.
5. HTML list paging: ``?psize_<View>=abc`` or ``?page_<View>=abc`` raised
   ValueError (500): a value that is not a non-negative number is ignored
   (the default applies), and page sizes are capped at ``QQH_MAX_PAGE_SIZE``
   (100) as the API caps its own (``FAB_API_MAX_PAGE_SIZE``).
6. List search of text: FAB offers "Starts with" first, so searching 志愿者
   finds nothing of 青年志愿者协会. "Contains" is first (the default), and
   "Starts with" takes its place (``_flt_2_``): the lists of the converter are
   changed in place, so every converter built on FAB's (ours too) follows.
7. After saving a form: back to the list or record page it was opened from
   (core/web/back.py), not FAB's session-wide page history.
"""

from __future__ import annotations

import types

import jsonschema
from flask.globals import _cv_app

_validators: dict[int, jsonschema.protocols.Validator] = {}


def _validate(instance, schema, *args, **kwargs):
    key = id(schema)
    validator = _validators.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _validators[key] = cls(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


def _guard_actions_and_downloads() -> None:
    import functools
    import os

    from flask import abort, current_app, request
    from flask_appbuilder.views import ModelView

    action, action_post, download = ModelView.action, ModelView.action_post, ModelView.download

    @functools.wraps(action)
    def guarded_action(self, name, pk):
        if name not in self.actions:
            abort(404)
        return action(self, name, pk)

    @functools.wraps(action_post)
    def guarded_action_post(self):
        if request.form.get("action") not in self.actions:
            abort(404)
        return action_post(self)

    @functools.wraps(download)
    def guarded_download(self, filename):
        folder = current_app.config.get("UPLOAD_FOLDER")
        if not folder or not os.path.isfile(os.path.join(folder, os.path.basename(filename))):
            abort(404)
        return download(self, filename)

    ModelView.action, ModelView.action_post, ModelView.download = guarded_action, guarded_action_post, guarded_download


POST_ONLY_ROUTES = {"delete", "action"}


def _post_only_mutations() -> None:
    from flask_appbuilder.baseviews import BaseView

    register = BaseView._register_urls

    def _register_urls(self):
        blueprint = self.blueprint
        add = blueprint.add_url_rule

        def add_url_rule(rule, endpoint=None, view_func=None, **options):
            if endpoint in POST_ONLY_ROUTES and options.get("methods"):
                options["methods"] = [m for m in options["methods"] if m.upper() not in ("GET", "HEAD")] or ["POST"]
            return add(rule, endpoint, view_func, **options)

        blueprint.add_url_rule = add_url_rule
        try:
            return register(self)
        finally:
            del blueprint.add_url_rule

    BaseView._register_urls = _register_urls


def _sane_paging() -> None:
    import re

    from flask import current_app, request
    from flask_appbuilder import baseviews, urltools

    def numbers(prefix: str) -> dict[str, int]:
        found = {}
        for arg in request.args:
            match = re.findall(prefix + "(.*)", arg)
            if match:
                value = request.args.get(arg, "").strip()
                if value.isdigit() and len(value) < 10:
                    found[match[0]] = int(value)
        return found

    def get_page_args():
        return numbers("page_")

    def get_page_size_args():
        cap = current_app.config.get("QQH_MAX_PAGE_SIZE", 100)
        return {k: min(v, cap) for k, v in numbers("psize_").items() if v > 0}

    for module in (baseviews, urltools):
        module.get_page_args, module.get_page_size_args = get_page_args, get_page_size_args


def _contains_first() -> None:
    from flask_appbuilder.models.sqla.filters import FilterContains, FilterStartsWith, SQLAFilterConverter

    for _test, filters in SQLAFilterConverter.conversion_table:
        if FilterContains in filters and FilterStartsWith in filters:
            i, j = filters.index(FilterStartsWith), filters.index(FilterContains)
            if i < j:
                filters[i], filters[j] = FilterContains, FilterStartsWith


def _back_where_opened() -> None:
    """7. Every add and edit form carries the hidden ``qqh_back`` field, filled
    when the form is shown; a save redirects there (core/web/back.py)."""
    import functools

    from flask import redirect, request
    from flask_appbuilder.baseviews import BaseCRUDView
    from flask_appbuilder.views import ModelView

    from core.web.back import FIELD, BackField, origin, target

    init_forms = BaseCRUDView._init_forms

    @functools.wraps(init_forms)
    def _init_forms(self):
        init_forms(self)
        for name in ("add_form", "edit_form"):
            form = getattr(self, name, None)
            if form is not None and not hasattr(form, FIELD):
                setattr(form, FIELD, BackField())

    def remember(method):
        @functools.wraps(method)
        def wrapped(self, form, *args, **kwargs):
            field = getattr(form, FIELD, None) if form is not None else None
            if field is not None and not field.data and request.method == "GET":
                field.data = origin() or ""
            model = getattr(getattr(self, "datamodel", None), "obj", None)
            if form is not None and model is not None:
                from core.web.fields import mark_required

                mark_required(form, model)  # the * of required fields, on every form (core/web/fields.py)
            return method(self, form, *args, **kwargs)

        return wrapped

    BaseCRUDView._init_forms = _init_forms
    BaseCRUDView._get_add_widget = remember(BaseCRUDView._get_add_widget)
    BaseCRUDView._get_edit_widget = remember(BaseCRUDView._get_edit_widget)
    ModelView.post_add_redirect = lambda self: redirect(target(self))
    ModelView.post_edit_redirect = lambda self: redirect(target(self))


def _babel_context():
    """flask_babel._get_current_context without the ``g`` proxy (same result)."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return None
    g = app_ctx.g
    try:
        return g._flask_babel
    except AttributeError:
        g._flask_babel = types.SimpleNamespace()
        return g._flask_babel


def apply() -> None:
    import flask_appbuilder.api as fab_api
    import flask_babel

    if getattr(fab_api.jsonschema, "_qqh_patched", False):
        return
    _guard_actions_and_downloads()
    _post_only_mutations()
    _sane_paging()
    _contains_first()
    _back_where_opened()
    flask_babel._get_current_context = _babel_context
    shim = types.SimpleNamespace(
        validate=_validate, ValidationError=jsonschema.ValidationError, _qqh_patched=True
    )
    fab_api.jsonschema = shim
