"""Custom fields in a list's pages: its add and edit forms, its record
page, its list columns and its search (core.web.scoped_views.ScopedModelView calls in)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.fieldwidgets import (
    BS3TextAreaFieldWidget, BS3TextFieldWidget, DatePickerWidget, Select2ManyWidget, Select2Widget,
)
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField, DateField, DecimalField, IntegerField, SelectField, SelectMultipleField, StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from core.lowcode import registry
from core.lowcode.values import MAX_LONG_TEXT, MAX_TEXT, INT_MAX, display, list_name_of, youth_org_model

_forms: dict = {}


def _picker(cls_load, endpoint, label, validators, description):
    from core.web.pickers import PickerField

    class IdPicker(PickerField):
        def process_data(self, value):  # the stored id → the record, for the widget
            self.data = cls_load(value) if isinstance(value, int) else value

    return IdPicker(label, validators=validators, endpoint=endpoint, load=cls_load, description=description)


def form_field(f):
    req = [InputRequired()] if f.required and f.kind != "bool" else [Optional()]
    kw = dict(label=f.label, description=f.help or "")
    k = f.kind
    if k == "text":
        return StringField(validators=req + [Length(max=MAX_TEXT)], widget=BS3TextFieldWidget(), **kw)
    if k == "longtext":
        return TextAreaField(validators=req + [Length(max=MAX_LONG_TEXT)], widget=BS3TextAreaFieldWidget(), **kw)
    if k == "integer":
        return IntegerField(validators=req + [NumberRange(-INT_MAX, INT_MAX)], widget=BS3TextFieldWidget(), **kw)
    if k == "amount":
        return DecimalField(validators=req, places=2, widget=BS3TextFieldWidget(), **kw)
    if k == "date":
        return DateField(validators=req, widget=DatePickerWidget(), **kw)
    if k == "choice":
        return SelectField(choices=[("", "")] + [tuple(o) for o in f.options], validators=req, widget=Select2Widget(), **kw)
    if k == "multichoice":
        return SelectMultipleField(choices=[tuple(o) for o in f.options], validators=req, widget=Select2ManyWidget(), **kw)
    if k == "bool":
        return BooleanField(**kw)
    if k in ("unit", "youthorg"):
        picker = record_picker(k)
        return _picker(*picker, f.label, req, f.help or "") if picker else None
    return None


def record_picker(kind: str):
    """(load, endpoint) of a unit or youth-organization field: ``load(pk)`` is the record when the user
    may see it (else None), ``endpoint`` the scoped search-as-you-type picker; None without such a list."""
    from core.tenancy.scope import scoped_get

    if kind == "unit":
        from core.tenancy.units import Unit

        return (lambda pk: scoped_get(Unit, pk)), "UnitApi.picker"
    model = youth_org_model()
    return ((lambda pk: scoped_get(model, pk)), "YouthOrgApi.picker") if model is not None else None


def fields_of_view(view):
    from flask import has_request_context

    if not has_request_context():
        return ()
    try:
        return registry.fields_for(list_name_of(view.datamodel.obj), registry.user_path())
    except Exception:  # noqa: BLE001 — outside a request, before the tables exist
        return ()


def with_fields(view, base):
    """``base`` (the form class FAB made) with the current custom fields."""
    if base is None:
        return None
    defs = fields_of_view(view)
    if not defs:
        return base
    key = (id(base), registry.version(), defs)
    form = _forms.get(key)
    if form is None:
        extra = {}
        for f in defs:
            field = form_field(f)
            if field is not None:
                extra[f.attr] = field
        form = type(base.__name__, (base,), extra)
        if len(_forms) > 500:
            _forms.clear()
        _forms[key] = form
    return form


def columns(view, cols, form=None) -> list:
    defs = fields_of_view(view)
    return list(cols) + [f.attr for f in defs if form is None or f.attr in form]


def show_values(view, item, include, labels, values):
    defs = [f for f in fields_of_view(view) if f.applies_to(item.unit.path if item.unit else None)]
    include = list(include) + [f.attr for f in defs]
    labels = {**labels, **{f.attr: f.label for f in defs}}
    values = list(values) + [display(f, getattr(item, f.attr)) for f in defs]
    return include, labels, values


# -- the list page: search by custom fields, optional columns ---------------------------------
FILTER_KINDS = ("text", "integer", "date", "choice", "multichoice", "bool", "unit", "youthorg")
TRUE_TEXTS, FALSE_TEXTS = {"1", "true", "y", "yes", "是"}, {"0", "false", "n", "no", "否"}


def request_filters(query, model):
    """``?cf_<code>=value`` on a list page (and on its export, which passes
    the page's arguments on): records whose field equals the value (holds it,
    for a multiple choice). A value that cannot be the field's matches nothing."""
    from flask import has_request_context

    if not has_request_context() or request.method != "GET" or not hasattr(model, "qqh_fields"):
        return query
    args = [(k[3:], v) for k, v in request.args.items() if k.startswith("cf_") and v != ""]
    if not args:
        return query
    from sqlalchemy import false

    from core.lowcode.sql import condition
    from core.lowcode.values import coerce

    defs = {f.code: f for f in registry.fields_for(list_name_of(model), registry.user_path())}
    for code, raw in args:
        f = defs.get(code)
        if f is None or f.kind not in FILTER_KINDS:
            continue
        try:
            if f.kind == "bool":
                if raw.lower() not in TRUE_TEXTS | FALSE_TEXTS:
                    raise ValueError(raw)
                value = raw.lower() in TRUE_TEXTS
            elif f.kind == "multichoice":
                value = coerce(f, [raw])[0]
            else:
                value = coerce(f, raw)
        except (ValueError, IndexError):
            query = query.filter(false())
            continue
        query = query.filter(condition(model, f.attr, "eq", value))
    return query


def filter_controls(view) -> list[dict]:
    """The search controls of the list page's custom fields."""
    from flask import url_for

    out = []
    for f in fields_of_view(view):
        if f.kind not in FILTER_KINDS:
            continue
        value = request.args.get(f.attr, "")
        control = dict(name=f.attr, label=f.label, options=None, value=value, type="date" if f.kind == "date" else "text")
        if f.kind in ("unit", "youthorg"):  # the same scoped picker as the form's, the chosen record shown
            picker = record_picker(f.kind)
            if picker is None:
                continue
            load, endpoint = picker
            chosen = load(int(value)) if value.isdigit() else None
            control.update(picker=url_for(endpoint), chosen=str(chosen) if chosen is not None else "",
                           value=value if chosen is not None else "")
        elif f.kind in ("choice", "multichoice"):
            control["options"] = list(f.options)
        elif f.kind == "bool":
            control["options"] = [("1", str(_l("Yes"))), ("0", str(_l("No")))]
        out.append(control)
    return out


def list_columns(view, widget) -> None:
    """Custom fields marked "column in the list": added to the list shown."""
    custom = getattr(view.datamodel.obj, "__qqh_list_name__", None)  # a custom list's fields are its columns
    defs = [f for f in fields_of_view(view) if f.in_list or (custom and f.kind != "longtext")][:8]
    args = widget.template_args
    if not defs or not args.get("pks"):
        return
    from sqlalchemy import select

    model = view.datamodel.obj
    pk = model.__mapper__.primary_key[0]
    stored = dict(view.datamodel.session.execute(select(pk, model.qqh_fields).where(pk.in_(args["pks"]))).all())
    from core.lowcode.values import from_json

    args["include_columns"] = list(args["include_columns"]) + [f.attr for f in defs]
    args["label_columns"] = {**args["label_columns"], **{f.attr: f.label for f in defs}}
    rows = []
    for key, row in zip(args["pks"], args["value_columns"]):
        values = stored.get(key) or {}
        rows.append({**row, **{f.attr: display(f, from_json(f.kind, values.get(f.code))) for f in defs}})
    args["value_columns"] = rows
