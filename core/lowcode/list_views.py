"""Pages and REST API of the custom lists (core.lowcode.lists).

Flask-AppBuilder registers views at start-up, and a list an administrator
defines later must answer at once in every worker. So one page class and one
REST API class are registered once, with the list's code in their URL
(``/customlist/<code>/list/``, ``/api/v1/customlist/<code>/``): a URL value
preprocessor finds the list (404 for an unknown or removed list, or for a
user whose unit does not use it or switched it off), and their data model's
``obj`` is, for that request, the list's mapped class. Everything else —
scoping, custom fields as columns, checks, audit, import and export, KPI
checks — is core's, unchanged.
"""

from __future__ import annotations

import re
import threading

from flask import abort, current_app, flash, g, has_app_context, has_request_context, url_for
from flask_appbuilder import ModelView
from flask_babel import gettext, lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, select
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from core.lowcode import registry
from core.lowcode.lists import CustomList, CustomRecord, model_for
from core.tenancy.scope import InvalidInput, current_scope, current_user
from core.web.scoped_views import ScopedInterface, ScopedModelView
from core.web.scoped_api import ScopedModelRestApi

CURRENT = "_qqh_custom_list"
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
LIST_LABELS = {
    "code": _l("Code"), "name": _l("Name"), "title_label": _l("Name column"), "description": _l("Description"),
    "units": _l("Units that use it"), "position": _l("Order"), "removed": _l("Removed (hidden, data kept)"),
}


# -- the list of the request -------------------------------------------------------------
def current_list():
    return g.get(CURRENT) if has_app_context() else None


def current_model():
    d = current_list()
    return model_for(d.id, d.code) if d is not None else None


def _user_path():
    scope = current_scope()
    return None if scope.everything else (scope.path or "")


def visible(d) -> bool:
    """Whether the current user's unit uses list ``d`` (or a unit below it
    does) and has not switched it off."""
    from core.tenancy.modules import current_switched_off

    if d is None or d.removed:
        return False
    if current_user() is None:
        return True  # the page's own check sends the visitor to the login
    return d.used_by(_user_path()) and d.module not in current_switched_off()


def visible_lists() -> list:
    try:
        return [d for d in registry.custom_lists() if visible(d)]
    except Exception:  # noqa: BLE001 — before the tables exist
        return []


def module_choices(unit) -> list[dict]:
    """The custom lists a unit uses, as modules of its module choice (core.web.views)."""
    try:
        lists = registry.custom_lists()
    except Exception:  # noqa: BLE001 — before the tables exist
        return []
    return [dict(name=d.module, label=gettext("Custom list: %(name)s", name=d.name), enabled=True)
            for d in lists if d.used_by(unit.path)]


def enter(code) -> None:
    """The request's list, from its URL; an unknown one answers 404 in the
    blueprint's before_request (here, the app's have not run: no user yet)."""
    d = registry.custom_list(str(code or ""))
    if d is not None:
        g.setdefault(CURRENT, d)


def enter_model(model) -> bool:
    """For code that has a custom list's class (an export): make it the request's list."""
    name = getattr(model, "__qqh_list_name__", None)
    if not name or not has_request_context():
        return False
    d = registry.custom_list(name)
    if d is None:
        return False
    setattr(g, CURRENT, d)  # the Excel page names each list in turn
    return True


def _install_code(bp) -> None:
    @bp.url_value_preprocessor
    def _pull(_endpoint, values):
        enter((values or {}).pop("list_code", None))

    @bp.before_request  # after the app's: the user is known
    def _gate():
        if current_list() is None or not visible(current_list()):
            abort(404)

    @bp.url_defaults
    def _push(_endpoint, values):
        if "list_code" not in values and current_list() is not None:
            values["list_code"] = current_list().code


class CustomRecordInterface(ScopedInterface):
    """Scoped like any unit-owned list; its model is the request's list."""

    def _obj(self):
        base = self.__dict__["_base_obj"]
        return (current_model() or base) if base is CustomRecord else base  # FAB makes one for a related model too

    obj = property(_obj, lambda self, value: self.__dict__.__setitem__("_base_obj", value))


def _per_list(name, fallback=None):
    def get(self):
        d = current_list()
        return self.__dict__.get("_qqh_" + name) if d is None else name_of(name, d)

    def name_of(kind, d):
        return {"list_title": d.name, "show_title": d.name,
                "add_title": gettext("Add to %(name)s", name=d.name),
                "edit_title": gettext("Edit in %(name)s", name=d.name)}[kind]

    return property(get, lambda self, value: self.__dict__.__setitem__("_qqh_" + name, value))


def _labels(self):
    base = self.__dict__.get("_qqh_labels") or {}
    d = current_list()
    return {**base, "title": d.title_label} if d is not None and d.title_label else base


LABELS = {"title": _l("Name"), "unit": _l("Unit"), "created_on": _l("Created on"), "changed_on": _l("Changed on")}


class CustomRecordView(ScopedModelView):
    route_base = "/customlist/<list_code>"
    datamodel = CustomRecordInterface(CustomRecord)
    list_columns = ["title", "unit"]
    add_columns = ["title", "unit"]
    edit_columns = add_columns
    show_columns = ["title", "unit", "changed_on"]
    search_columns = ["title"]
    base_order = ("id", "desc")
    label_columns = property(_labels, lambda self, v: self.__dict__.__setitem__("_qqh_labels", v))
    list_title = _per_list("list_title")
    show_title = _per_list("show_title")
    add_title = _per_list("add_title")
    edit_title = _per_list("edit_title")

    def __init__(self, **kwargs):
        self.label_columns = dict(LABELS)
        super().__init__(**kwargs)

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        bp = super().create_blueprint(appbuilder, endpoint=endpoint, static_folder=static_folder)
        _install_code(bp)
        return bp

    # the name column is labelled as the list says
    add_form = property(lambda self: _titled(self, "_qqh_add_form"), lambda self, f: setattr(self, "_qqh_add_form", f))
    edit_form = property(lambda self: _titled(self, "_qqh_edit_form"), lambda self, f: setattr(self, "_qqh_edit_form", f))


_titled_forms: dict = {}


def _titled(view, attr):
    from core.lowcode.forms import with_fields

    form = with_fields(view, view.__dict__.get(attr))
    d = current_list()
    if form is None or d is None or not d.title_label:
        return form
    key = (form, d.title_label)
    found = _titled_forms.get(key)
    if found is None:
        found = type(form.__name__, (form,), {"title": _title_field(d.title_label)})
        if len(_titled_forms) > 500:
            _titled_forms.clear()
        _titled_forms[key] = found
    return found


def _title_field(label):
    from flask_appbuilder.fieldwidgets import BS3TextFieldWidget

    return StringField(label, validators=[InputRequired(), Length(max=200)], widget=BS3TextFieldWidget())


_schema_lock = threading.Lock()
SCHEMAS = ("list_model_schema", "add_model_schema", "edit_model_schema", "show_model_schema")


def _schema_property(name):
    def get(self):
        model = current_model()
        cache = self.__dict__.setdefault("_qqh_schemas", {})
        if model is None or self.__dict__.get("_qqh_building") is not None:
            return cache.get((self.__dict__.get("_qqh_building"), name))
        if (model, name) not in cache:
            with _schema_lock:
                if (model, name) not in cache:
                    self.__dict__["_qqh_building"] = model
                    try:
                        self._init_model_schemas()  # the marshmallow schemas load records of this list's class
                    finally:
                        self.__dict__["_qqh_building"] = None
        return cache.get((model, name))

    def set_(self, value):
        self.__dict__.setdefault("_qqh_schemas", {})[(self.__dict__.get("_qqh_building"), name)] = value

    return property(get, set_)


class CustomRecordApi(ScopedModelRestApi):
    """The records of a custom list: ``/api/v1/customlist/<code>/`` — list,
    get, add, edit, delete, scoped, with the list's fields as ``cf_<code>``."""

    resource_name = "customlist"
    route_base = "/api/v1/customlist/<list_code>"
    datamodel = CustomRecordInterface(CustomRecord)
    openapi_spec_tag = "Custom lists"
    list_columns = ["id", "title", "unit.id", "unit.code", "changed_on"]
    show_columns = ["id", "title", "unit.id", "unit.code", "created_on", "changed_on"]
    add_columns = ["title", "unit"]
    edit_columns = add_columns
    search_columns = ["title", "unit"]
    order_columns = ["id", "title", "changed_on"]
    label_columns = dict(LABELS)
    list_model_schema = _schema_property("list_model_schema")
    add_model_schema = _schema_property("add_model_schema")
    edit_model_schema = _schema_property("edit_model_schema")
    show_model_schema = _schema_property("show_model_schema")

    def __init__(self):
        self.__dict__["_qqh_building"] = None
        super().__init__()

    def create_blueprint(self, appbuilder, *args, **kwargs):
        bp = super().create_blueprint(appbuilder, *args, **kwargs)
        _install_code(bp)
        return bp


# -- the menu -----------------------------------------------------------------------------
def menu_html() -> Markup:
    """The 自定义台账 dropdown of the navbar: the lists the user's unit uses."""
    lists = visible_lists()
    if not lists or current_user() is None:
        return Markup("")
    sm = current_app.appbuilder.sm
    if not sm.has_access("can_list", "CustomRecordView"):
        return Markup("")
    items = "".join(
        f'<li><a tabindex="-1" href="{escape(url_for("CustomRecordView.list", list_code=d.code))}">'
        f'<i class="fa fa-fw fa-table"></i>&nbsp;{escape(d.name)}</a></li>' for d in lists)
    return Markup(f'<li class="dropdown qqh-custom-lists"><a class="dropdown-toggle" data-toggle="dropdown" href="#">'
                  f'<i class="fa fa-table"></i>&nbsp;{escape(gettext("Custom lists"))}<b class="caret"></b></a>'
                  f'<ul class="dropdown-menu">{items}</ul></li>')


# -- import and export ------------------------------------------------------------------
def custom_importables() -> dict:
    """name → (module, Importable) of every custom list, for core.import_views."""
    from core.excel.declarations import Column, Importable

    out = {}
    try:
        lists = registry.custom_lists()
    except Exception:  # noqa: BLE001 — no tables yet
        return out
    for d in lists:
        if has_request_context() and current_user() is not None and not visible(d):
            continue  # a unit that does not use the list has no Excel for it
        out[d.code] = (d.module, Importable(
            name=d.code, model=model_for(d.id, d.code), label=d.name,
            columns=(Column("title", d.title_label or gettext("Name"), required=True, help=gettext(
                         "Unique within a unit: a record with the same unit and name is the same record.")),
                     Column("unit", _l("Unit"), kind="unit", required=True)),
            natural_key=("unit", "title"), defaults={"list_id": d.id}))
    return out


# -- definitions --------------------------------------------------------------------------
def parse_units(session, value) -> list[str]:
    from core.tenancy.units import Unit

    if value is None or value == "":
        return []
    codes = value if isinstance(value, (list, tuple)) else [c for c in re.split(r"[\s,，、;；]+", str(value)) if c]
    codes = [str(c).strip() for c in codes if str(c).strip()]
    found = set(session.execute(select(Unit.code).where(Unit.code.in_(codes))).scalars()) if codes else set()
    missing = [c for c in codes if c not in found]
    if missing:
        raise InvalidInput({"units": gettext("No unit with the code %(codes)s.", codes="、".join(missing))})
    return list(dict.fromkeys(codes))


def holds_records(session, list_id) -> int:
    return session.execute(select(func.count()).select_from(CustomRecord.__table__).where(
        CustomRecord.__table__.c.list_id == list_id)).scalar() or 0


def check_list(session, d: CustomList) -> None:
    """What must hold before a list definition is written (InvalidInput: nothing written)."""
    from flask_appbuilder import Model
    from sqlalchemy import inspect as sa_inspect

    from core.lowcode import service

    errors: dict[str, list[str]] = {}

    def bad(attr, msg):
        errors.setdefault(attr, []).append(msg)

    if not service._is_province():
        raise InvalidInput(gettext("Only province administrators define custom lists."))
    d.code = (d.code or "").strip()
    d.name = (d.name or "").strip()
    d.title_label = (d.title_label or "").strip() or "名称"
    state = sa_inspect(d)
    new = state.transient or state.pending
    if not CODE_RE.match(d.code):
        bad("code", gettext("A list code is 2 to 40 lowercase letters, digits or _, starting with a letter."))
    else:
        taken = set(Model.metadata.tables) | set(current_app.extensions.get("qqh_importables", {})) | set(service.lists())
        other = session.execute(select(CustomList.id).where(CustomList.code == d.code)).scalar()
        if (other is not None and other != d.id) or (new and d.code in taken) or (
                not new and d.code in taken and d.code != (state.attrs.code.history.deleted or [d.code])[0]):
            bad("code", gettext("The code %(code)s is already used by a list or a table: choose another.", code=d.code))
    if not d.name:
        bad("name", gettext("Enter the list's name."))
    try:
        d.units = parse_units(session, d.units)
    except InvalidInput as exc:
        errors.update(exc.messages)
    d.position = d.position or 0
    if not new and state.attrs.code.history.has_changes():
        old = (state.attrs.code.history.deleted or [None])[0]
        from core.lowcode.models import CustomField

        if holds_records(session, d.id) or session.execute(select(CustomField.id).where(CustomField.list_name == old)).first():
            bad("code", gettext("The list holds records or fields: its code cannot change."))
    if errors:
        raise InvalidInput(errors)


def _interface_base():
    from core.lowcode.views import LowcodeInterface  # checked before written, like fields and checks

    return LowcodeInterface


class ListInterface(_interface_base()):  # definitions are not unit-owned
    check = staticmethod(check_list)

    def delete(self, item, commit=True):
        n = holds_records(self.session, item.id)
        if n:
            raise InvalidInput(gettext(
                "The list holds %(n)d records: it is not deleted. Tick Removed to hide it (its records are kept).", n=n))
        from core.lowcode.models import CustomField

        if self.session.execute(select(CustomField.id).where(CustomField.list_name == item.code)).first():
            raise InvalidInput(gettext("The list has fields: tick Removed to hide it (its fields are kept)."))
        self.session.delete(item)
        self.session.commit()
        return True


class UnitsField(TextAreaField):
    def _value(self):
        if isinstance(self.data, list):
            return " ".join(self.data)
        return self.data or ""

    def process_formdata(self, valuelist):
        self.data = valuelist[0] if valuelist else ""


def _list_view_base():
    from core.lowcode.views import _Refusing

    return _Refusing


class AdminCustomListView(_list_view_base(), ModelView):
    datamodel = ListInterface(CustomList)
    list_title = _l("Custom lists")
    add_title = _l("Add custom list")
    edit_title = _l("Edit custom list")
    show_title = _l("Custom list")
    list_columns = ["code", "name", "title_label", "units", "position", "removed"]
    add_columns = ["code", "name", "title_label", "description", "units", "position"]
    edit_columns = add_columns + ["removed"]
    show_columns = edit_columns
    search_columns = ["code", "name", "removed"]
    label_columns = LIST_LABELS
    base_order = ("position", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    description_columns = {
        "code": _l("Lowercase letters, digits and _; part of the list's address; the fields of the list are defined on the custom fields page."),
        "units": _l("Codes of the units whose subtrees use the list, separated by spaces (empty: every unit)."),
        "title_label": _l("The label of the record's name column, e.g. 活动名称."),
    }

    def __init__(self, **kwargs):
        self.add_form_extra_fields = {
            "units": UnitsField(LIST_LABELS["units"], description=self.description_columns["units"]),
            "title_label": StringField(LIST_LABELS["title_label"], validators=[Optional(), Length(max=40)], default="名称",
                                       description=self.description_columns["title_label"]),
            "position": IntegerField(LIST_LABELS["position"], validators=[Optional()], default=0),
            "description": StringField(LIST_LABELS["description"], validators=[Optional(), Length(max=500)]),
        }
        self.edit_form_extra_fields = dict(self.add_form_extra_fields)
        super().__init__(**kwargs)

    def _delete(self, pk):
        item = self.datamodel.get(pk)
        if item is None:
            abort(404)
        try:
            self.datamodel.delete(item)
        except InvalidInput as exc:
            flash(str(exc), "danger")
        else:
            flash(gettext("Deleted."), "success")


def register(appbuilder) -> None:
    """Register the custom lists' definition page, their one page class and their one API."""
    from core.web.views import ADMIN_CATEGORY, ADMIN_CATEGORY_LABEL

    appbuilder.add_view(AdminCustomListView, "AdminCustomLists", label=_l("Custom lists"), icon="fa-table",
                        category=ADMIN_CATEGORY, category_label=ADMIN_CATEGORY_LABEL)
    appbuilder.add_view_no_menu(CustomRecordView)
    appbuilder.add_api(CustomRecordApi)
