"""Custom fields in a list's pages: its add and edit forms, its record
page, its list columns and its search (core.scoping.ScopedModelView calls in)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget, DatePickerWidget, Select2ManyWidget, Select2Widget
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from core.lowcode import registry
from core.lowcode.values import MAX_LONG_TEXT, MAX_TEXT, INT_MAX, display, list_name_of, youth_org_model

_forms: dict = {}


def _picker(cls_load, endpoint, label, validators, description):
    from core.pickers import PickerField

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
    if k == "unit":
        from core.scoping import scoped_get
        from core.units import Unit

        return _picker(lambda pk: scoped_get(Unit, pk), "UnitApi.picker", f.label, req, f.help or "")
    if k == "youthorg":
        model = youth_org_model()
        if model is None:
            return None
        from core.scoping import scoped_get

        return _picker(lambda pk: scoped_get(model, pk), "YouthOrgApi.picker", f.label, req, f.help or "")
    return None


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
