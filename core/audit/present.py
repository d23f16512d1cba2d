"""How an audit row's changes read (审计日志's 变更 column): as the model's
pages show the record, in the user's language.

- fields by the labels of the model's pages and APIs (``label_columns``),
  or of the model's own ``__qqh_labels__`` when no page shows it;
- codes by their labels: a column's :class:`core.values.choices.Choices`, or the
  model's ``<attr>_label`` property (``status`` → ``status_label``,
  ``check_key`` → ``check_label``), read on a transient copy;
- references by name: a foreign key to a unit by the unit's name, to a user
  by the user name, to any other mapped table by the record's label;
- dates as 2012年3月5日, yes/no as 是/否;
- account events' details (``reason``, ``from``, ...) by :data:`EVENT_FIELDS`
  and :data:`EVENT_VALUES` (a module may add its own).

References are looked up set-based: :func:`prefetch` reads every unit, user
and record a page of rows names, one statement per referenced table.
"""

from __future__ import annotations

import datetime
import json

from flask import g, has_app_context, has_request_context
from flask_appbuilder import Model
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, inspect as sa_inspect, select

from core.values.choices import choices_of
from core.web.display import display

MASK = "******"

EVENT_FIELDS = {
    "reason": _l("Reason"),
    "address": _l("Client address"),
    "by": _l("By"),
    "user": _l("User"),
    "user_id": _l("User id"),
    "from": _l("Roles before"),
    "to": _l("Roles after"),
    "roles": _l("Roles"),
    "own": _l("Own password"),
    "item": _l("Reporting item"),
    "year": _l("Plan year"),
    "units": _l("Units reminded"),
}


def _role_labels(value):
    from core.tenancy.security import ROLE_LABELS

    names = value if isinstance(value, list) else [value]
    return "、".join(str(ROLE_LABELS.get(n, n)) for n in names) or "—"


def _reporting_item(key):
    from core.reporting.reports import registered_items

    item = registered_items().get(key)
    return str(item.label) if item is not None else key


_REASONS = {"locked": _l("The account was locked")}

# detail key → its value as people read it
EVENT_VALUES = {
    "reason": lambda v: str(_REASONS.get(v, v)),
    "from": _role_labels,
    "to": _role_labels,
    "roles": _role_labels,
    "item": _reporting_item,
}


def model_of(table_name):
    """The most derived mapped class of a table (QqhUser for ab_user), or None."""
    table = Model.metadata.tables.get(table_name or "")
    if table is None:
        return None
    found = None
    for mapper in Model.registry.mappers:
        if mapper.local_table is table and (found is None or issubclass(mapper.class_, found)):
            found = mapper.class_
    return found


def row_model(table_name, *values: dict):
    """``model_of(table_name)``, or the kind of record the values name when the table holds
    several (single-table inheritance: a custom list's records, by their ``list_id``)."""
    model = model_of(table_name)
    mapper = sa_inspect(model) if model is not None else None
    if mapper is None or mapper.polymorphic_on is None:
        return model
    key = mapper.polymorphic_on.key
    for v in values:
        if not isinstance(v, dict) or v.get(key) is None:
            continue
        sub = mapper.polymorphic_map.get(v[key])
        if sub is not None:
            return sub.class_
        kind_of = getattr(model, "kind_of", None)  # a kind not mapped in this process yet
        return (kind_of(v[key]) if kind_of is not None else None) or model
    return model


def is_kind(model) -> bool:
    """A kind of record of a table that holds several (not the hierarchy's base class)."""
    mapper = sa_inspect(model, raiseerr=False) if model is not None else None
    return mapper is not None and mapper.polymorphic_on is not None and model is not mapper.base_mapper.class_


def _column(model, key):
    table = getattr(model, "__table__", None)
    return table.c[key] if table is not None and key in table.c else None


def _target_table(column):
    for fk in column.foreign_keys:
        return fk.column.table
    return None


def _refs() -> dict:
    """(table name, id) → label, for the current request."""
    if has_request_context():
        if "qqh_audit_refs" not in g:
            g.qqh_audit_refs = {}
        return g.qqh_audit_refs
    return {}


def _wanted(rows) -> dict:
    """table name → ids the rows' foreign keys name."""
    wanted: dict[str, set] = {}
    for row in rows:
        model = model_of(row.model)
        if model is None:
            continue
        for values in (row.before, row.after):
            for key, value in values.items():
                column = _column(model, key)
                target = _target_table(column) if column is not None else None
                if target is not None and isinstance(value, (int, str)) and value != MASK:
                    wanted.setdefault(target.name, set()).add(value)
    return wanted


def prefetch(rows) -> None:
    """Read the label of every record the rows' foreign keys name: one
    statement per referenced table, whatever the number of rows."""
    for table_name, ids in _wanted(rows).items():
        _read(table_name, ids)


def _read(table_name, ids) -> None:
    if not has_app_context():
        return
    from flask import current_app

    refs = _refs()
    ids = {i for i in ids if (table_name, str(i)) not in refs}
    model = model_of(table_name)
    pk = sa_inspect(model).primary_key if model is not None else ()
    if not ids or len(pk) != 1:
        return
    try:
        typed = {pk[0].type.python_type(i) for i in ids}
    except (TypeError, ValueError, NotImplementedError):
        return
    session = current_app.extensions["qqh_db"].session()
    for obj in session.execute(select(model).where(pk[0].in_(typed))).scalars():
        refs[(table_name, str(getattr(obj, pk[0].key)))] = _record_label(obj)
    for i in ids:  # a record deleted since: its id stays
        refs.setdefault((table_name, str(i)), None)


def _record_label(obj) -> str | None:
    for key in ("name", "username"):  # units, users: by name
        value = getattr(obj, key, None)
        if isinstance(value, str) and value:
            return value
    try:
        text = str(obj)
    except Exception:
        return None
    return text if text and not text.startswith("<") else None


def module_label(name: str) -> str:
    """A module (a plugin, or a custom list ``customlist:<code>``) as the modules page names it."""
    from flask import current_app

    from core.lowcode import registry as lowcode
    from core.lowcode.lists import MODULE_PREFIX

    if name.startswith(MODULE_PREFIX):
        d = lowcode.custom_list(name[len(MODULE_PREFIX):], removed=True)
        return gettext("Custom list: %(name)s", name=d.name) if d is not None else name
    plugins = current_app.extensions.get("qqh_plugins") if has_app_context() else None
    plugin = plugins.installed.get(name) if plugins is not None else None
    return str(plugin.manifest.label) if plugin is not None else name


def list_label(name: str) -> str:
    """A list custom fields and checks are added to (a table, or a custom list's code), by its title."""
    from core.lowcode import service

    if not has_request_context():
        return name
    if "qqh_audit_lists" not in g:  # once per page, not per row
        g.qqh_audit_lists = service.lists()
    return g.qqh_audit_lists.get(name, name)


# (table, column) → the label of a stored name, for columns that hold names of modules or lists
NAMED_VALUES = {
    ("qqh_unit_module", "plugin"): module_label,
    ("qqh_module_policy", "plugin"): module_label,
    ("qqh_custom_field", "list_name"): list_label,
    ("qqh_custom_check", "list_name"): list_label,
}


def record_label(row) -> str:
    """The record's stored name (``AuditLog.label``), a module's or list's by its label."""
    label = row.label or ""
    for (table, _key), named in NAMED_VALUES.items():
        if row.model == table and label:  # a name it does not know comes back unchanged
            try:
                return named(label)
            except Exception:
                return label
    return label


def _code_label(model, key, value):
    named = NAMED_VALUES.get((getattr(getattr(model, "__table__", None), "name", None), key))
    if named is not None and isinstance(value, str):
        return named(value)
    choices = choices_of(model, key)
    if choices is not None and value in choices:
        return choices.label(value)
    names = [f"{key}_label"] + ([f"{key[:-4]}_label"] if key.endswith("_key") else [])
    for name in names:
        if isinstance(getattr(model, name, None), property):
            try:
                copy = sa_inspect(model).class_manager.new_instance()
                setattr(copy, key, value)
                text = getattr(copy, name)
            except Exception:  # a label that needs more of the record than this column
                continue
            if text not in (None, ""):
                return str(text)
    return None


def _parsed(column, value):
    kind = column.type
    try:
        if isinstance(kind, DateTime) and isinstance(value, str):
            return datetime.datetime.fromisoformat(value)
        if isinstance(kind, Date) and isinstance(value, str):
            return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return value
    if isinstance(kind, Boolean) and value in (0, 1):
        return bool(value)
    return value


def _plain_text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "、".join(str(display(v)) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(display(value))


def value_text(model, key, value) -> str:
    """A stored value of ``model.key`` as the model's pages would show it."""
    if value is None or value == MASK:
        return "—" if value is None else value
    column = _column(model, key) if model is not None else None
    if column is None:
        if model is None and key in EVENT_VALUES:
            try:
                return EVENT_VALUES[key](value)
            except Exception:
                return _plain_text(value)
        return _plain_text(value)
    target = _target_table(column)
    if target is not None:
        refs = _refs()
        if (target.name, str(value)) not in refs:
            _read(target.name, [value])
        label = refs.get((target.name, str(value)))
        return label if label else f"#{value}"
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        label = _code_label(model, key, value)
        if label is not None:
            return label
    return _plain_text(_parsed(column, value))


def field_label(labels: dict, model, key: str, generic: dict) -> str:
    own = dict(getattr(model, "__qqh_labels__", None) or {}) if model is not None else {}
    label = None
    if key.endswith(("_id", "_fk")):  # the relation's label ("Unit"), not FAB's made-up "Unit Id"
        label = labels.get(key[:-3]) or own.get(key[:-3])
    label = label or generic.get(key) or labels.get(key) or own.get(key)
    if label is None and model is None:
        label = EVENT_FIELDS.get(key)
    return str(label) if label else key


CUSTOM = "qqh_fields"  # the custom (low-code) values of a record: one JSON column, shown field by field


def _custom_parts(action, model, before: dict, after: dict) -> list[str]:
    from core.lowcode import registry
    from core.lowcode.values import display as custom_display, from_json, list_name_of

    parts = []
    for code in list(before) + [c for c in after if c not in before]:
        try:
            f = registry.field_def(list_name_of(model), code)
        except Exception:  # no definitions table (a database without low-code)
            f = None

        def text(raw, f=f):
            if raw is None:
                return "—"
            try:
                return (custom_display(f, from_json(f.kind, raw)) or "—") if f is not None else _plain_text(raw)
            except Exception:
                return _plain_text(raw)

        name = str(f.label) if f is not None else code
        if action == "update":
            if before.get(code) != after.get(code):
                parts.append(f"{name}: {text(before.get(code))} → {text(after.get(code))}")
        else:
            parts.append(f"{name}: {text(after[code] if code in after else before.get(code))}")
    return parts


def changes_text(row, labels: dict, generic: dict) -> str:
    """``标题: 甲 → 乙；状态: 待审核 → 审核通过`` for an update, ``标题: 甲`` otherwise."""
    before, after = row.before, row.after
    model = row_model(row.model, after, before) if row.model else None
    if is_kind(model):  # a kind of record: its own labels first
        labels = {**labels, **dict(getattr(model, "__qqh_labels__", None) or {})}
    parts = []
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key) or {}, after.get(key) or {}
        if key == CUSTOM and model is not None and isinstance(old, dict) and isinstance(new, dict):
            parts += _custom_parts(row.action, model, old, new)
            continue
        name = field_label(labels, model, key, generic) if key else gettext("Stored value")
        if row.action == "update":
            if before.get(key) == after.get(key):  # unchanged: the kind of record, kept for its labels
                continue
            old, new = value_text(model, key, before.get(key)), value_text(model, key, after.get(key))
            parts.append(f"{name}: {old} → {new}")
        else:
            parts.append(f"{name}: {value_text(model, key, after[key] if key in after else before.get(key))}")
    return "；".join(parts)
