"""Custom fields as columns of a list's import template, imports and exports
(core.importing): checked like built-in columns, cell by cell."""

from __future__ import annotations

import dataclasses
import re

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from core.excel.declarations import Column, Importable
from core.lowcode import registry
from core.lowcode.values import display, list_name_of, youth_org_model
from core.values.validators import ValidationError

KIND = {"text": "str", "longtext": "str", "integer": "int", "amount": "decimal", "date": "date",
        "bool": "bool", "choice": "enum"}
SEPARATORS = re.compile(r"[、,，;；\n]+")


def _multi(f):
    by_text = {}
    for code, label in f.options:
        by_text[code] = code
        by_text[str(label)] = code

    def parse(text):
        out = []
        for part in (p.strip() for p in SEPARATORS.split(text)):
            if not part:
                continue
            if part not in by_text:
                raise ValidationError(gettext("Not one of the options of %(field)s: %(options)s", field=f.label,
                                              options="、".join(f"{c} {l}" for c, l in f.options)))
            out.append(by_text[part])
        return out or None

    return parse


def _by_text(model, attrs):
    """A parser finding a unit or organization by code, name (or credit code),
    from one query made at its first cell; only records in the user's scope."""
    cache = {}

    def load():
        from core.tenancy.scope import in_scope

        session = current_app.appbuilder.session
        cols = [getattr(model, "id")] + [getattr(model, a) for a in attrs if hasattr(model, a)]
        for row in session.execute(in_scope(select(*cols), model)):
            for text in row[1:]:
                if text:
                    cache.setdefault(str(text).strip(), row[0])
        cache["_loaded"] = True

    def parse(text):
        if "_loaded" not in cache:
            load()
        pk = cache.get(text.strip())
        if pk is None or text.strip() == "_loaded":
            raise ValidationError(gettext("The record does not exist: choose one from the list."))
        return pk

    return parse


def column_of(f) -> Column | None:
    if f.kind in KIND:
        choices = f.choices if f.kind == "choice" else None
        return Column(f.attr, f.label, kind=KIND[f.kind], required=f.required, choices=choices, help=f.help or "",
                      format=(lambda v, f=f: display(f, v)) if f.kind == "bool" else None)
    fmt = lambda v, f=f: display(f, v)  # noqa: E731
    if f.kind == "multichoice":
        return Column(f.attr, f.label, required=f.required, parse=_multi(f), format=fmt,
                      help=f.help or gettext("Several options separated by 、"))
    if f.kind == "unit":
        from core.tenancy.units import Unit

        return Column(f.attr, f.label, required=f.required, parse=_by_text(Unit, ("code", "name")), format=fmt,
                      help=f.help or "")
    if f.kind == "youthorg":
        model = youth_org_model()
        if model is None:
            return None
        return Column(f.attr, f.label, required=f.required, parse=_by_text(model, ("credit_code", "name")),
                      format=fmt, help=f.help or "")
    return None


def with_custom_columns(imp: Importable | None) -> Importable | None:
    """``imp`` with a column for each current custom field of its model."""
    if imp is None or not hasattr(imp.model, "qqh_fields"):
        return imp
    try:
        defs = registry.fields_for(list_name_of(imp.model), registry.user_path())
    except Exception:  # noqa: BLE001 — no request, no tables yet
        return imp
    extra = tuple(c for c in (column_of(f) for f in defs) if c is not None)
    if not extra:
        return imp
    return dataclasses.replace(imp, columns=imp.columns + extra)
