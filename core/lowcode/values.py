"""Values of custom fields: stored in the record's ``qqh_fields`` JSON
column (dates as ISO text, amounts as text, units and organizations by id),
read and written as the attributes ``cf_<code>``, checked like built-in
columns on every write (pages, API, import)."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext
from sqlalchemy import inspect as sa_inspect

from core.lowcode import registry

MAX_TEXT, MAX_LONG_TEXT = 200, 5000
INT_MAX = 2**31 - 1
CENT = Decimal("0.01")


def list_name_of(model) -> str:
    """The list's name: its table, or a custom list's code (core.lowcode.lists)."""
    return getattr(model, "__qqh_list_name__", None) or model.__table__.name


def _def(item, code):
    return registry.field_def(list_name_of(type(item)), code)


def from_json(kind: str, raw):
    """The Python value of a stored JSON value."""
    if raw is None:
        return None
    try:
        if kind == "date":
            return datetime.date.fromisoformat(raw)
        if kind == "amount":
            return Decimal(str(raw))
    except (ValueError, TypeError, InvalidOperation):
        return None
    if kind == "multichoice":
        return list(raw) if isinstance(raw, list) else [raw]
    return raw


def get_value(item, code: str):
    stored = item.__dict__.get("qqh_fields") if "qqh_fields" in item.__dict__ else item.qqh_fields
    raw = (stored or {}).get(code)
    f = _def(item, code)
    return from_json(f.kind if f else "", raw)


def to_json(kind: str, value):
    """The JSON value stored for a Python value (None for empty)."""
    if value is None or value == "" or value == []:
        return None
    if hasattr(value, "__table__"):  # a unit or a youth organization
        return sa_inspect(value).identity[0]
    if kind == "date" and isinstance(value, datetime.date):
        return value.isoformat()
    if kind == "amount" and isinstance(value, (Decimal, int, float)):
        return str(Decimal(str(value)).quantize(CENT))
    if kind == "multichoice" and isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    return value


def set_value(item, code: str, value) -> None:
    f = _def(item, code)
    new = dict(item.qqh_fields or {})
    stored = to_json(f.kind if f else "", value)
    if stored is None:
        new.pop(code, None)
    else:
        new[code] = stored
    if new != (item.qqh_fields or {}):
        item.qqh_fields = new or None


def coerce(f, value):
    """A value sent through the API or a form for field ``f``, as stored;
    raises ValueError with the user's message."""
    if value is None or value == "" or value == []:
        return None
    k = f.kind
    if k in ("text", "longtext"):
        if not isinstance(value, str):
            raise ValueError(gettext("Not valid text."))
        limit = MAX_TEXT if k == "text" else MAX_LONG_TEXT
        if len(value) > limit:
            raise ValueError(gettext("At most %(n)d characters (this cell has %(got)d).", n=limit, got=len(value)))
        return value
    if k in ("integer", "unit", "youthorg"):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                value = int(value.strip())
            else:
                raise ValueError(gettext("Not a valid whole number."))
        if abs(value) > INT_MAX:
            raise ValueError(gettext("The number is too large."))
        return value
    if k == "amount":
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(gettext("Not a valid number.")) from None
        if isinstance(value, bool) or not d.is_finite() or d.as_tuple().exponent < -2 or abs(d) >= Decimal(10) ** 12:
            raise ValueError(gettext("An amount in yuan with at most two decimals."))
        return str(d.quantize(CENT))
    if k == "date":
        if isinstance(value, datetime.date):
            return value.isoformat()
        try:
            return datetime.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(gettext("Not a valid date: write it as 2012-03-31.")) from None
    if k == "bool":
        if not isinstance(value, bool):
            raise ValueError(gettext("Write true or false."))
        return value
    if k == "choice":
        if str(value) not in f.choices:
            raise ValueError(_not_an_option(f))
        return str(value)
    if k == "multichoice":
        values = value if isinstance(value, (list, tuple)) else [value]
        bad = [str(v) for v in values if str(v) not in f.choices]
        if bad:
            raise ValueError(_not_an_option(f))
        return [str(v) for v in values]
    return value


def _not_an_option(f) -> str:
    return gettext("Not one of the options of %(field)s: %(options)s",
                   field=f.label, options="、".join(f"{c} {l}" for c, l in f.options))


def validate_values(session, item) -> dict[str, list[str]]:
    """Messages (by ``cf_<code>``) about the custom values of ``item``: each
    stored value fits its field, a required field of the record's unit is
    filled, a unit or organization it names exists and is in the user's scope."""
    from core.tenancy.scope import current_scope, unit_in_scope
    from core.tenancy.units import Unit

    from core.tenancy.unique import batch_cache

    model = type(item)
    cache = batch_cache(session)  # an import checking its rows: the definitions read once for the batch
    if cache is None:
        defs = registry.all_fields(list_name_of(model), session)
    else:
        by_model = cache.setdefault("lowcode_fields", {})
        if model not in by_model:
            by_model[model] = registry.all_fields(list_name_of(model), session)
        defs = by_model[model]
    if not defs:
        return {}
    unit = item.unit if item.unit is not None else (session.get(Unit, item.unit_id) if item.unit_id else None)
    path = unit.path if unit is not None else None
    stored = dict(item.qqh_fields or {})
    errors: dict[str, list[str]] = {}
    changed = False
    for f in defs:
        if not f.applies_to(path):
            continue
        raw = stored.get(f.code)
        if raw is None:
            if f.required:
                errors.setdefault(f.attr, []).append(gettext("%(field)s is required.", field=f.label))
            continue
        try:
            value = coerce(f, raw)
        except ValueError as exc:
            errors.setdefault(f.attr, []).append(f"{f.label}：{exc}")
            continue
        if value != raw:
            stored[f.code], changed = value, True
        if f.kind == "unit" and not unit_in_scope(session, value, current_scope()):
            errors.setdefault(f.attr, []).append(f"{f.label}：" + gettext("The record does not exist: choose one from the list."))
        if f.kind == "youthorg" and not _org_in_scope(session, value):
            errors.setdefault(f.attr, []).append(f"{f.label}：" + gettext("The record does not exist: choose one from the list."))
    if changed and not errors:
        item.qqh_fields = stored
    return errors


def youth_org_model():
    from flask_appbuilder import Model

    for mapper in Model.registry.mappers:
        if mapper.local_table.name == "cultivation_youth_org":
            return mapper.class_
    return None


def _org_in_scope(session, pk) -> bool:
    from core.tenancy.scope import current_scope, unit_in_scope

    model = youth_org_model()
    if model is None:
        return False
    org = session.get(model, pk)
    return org is not None and unit_in_scope(session, org.unit_id, current_scope())


def display(f, value) -> str:
    """The text shown for a value on record pages and in lists."""
    if value is None or value == [] or value == "":
        return ""
    if f.kind == "choice":
        return f.choices.get(value, value)
    if f.kind == "multichoice":
        return "、".join(f.choices.get(v, v) for v in value)
    if f.kind == "bool":
        return gettext("Yes") if value else gettext("No")
    if f.kind == "date":
        return f"{value.year}年{value.month}月{value.day}日"
    if f.kind == "amount":
        return f"{value:,.2f}"
    if f.kind == "unit":
        from flask import current_app

        from core.tenancy.units import Unit

        u = current_app.appbuilder.session.get(Unit, value)
        return u.name if u else str(value)
    if f.kind == "youthorg":
        from flask import current_app

        model = youth_org_model()
        o = current_app.appbuilder.session.get(model, value) if model else None
        return str(o) if o else str(value)
    return str(value)
