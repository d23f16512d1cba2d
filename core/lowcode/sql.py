"""SQL over custom field values: the expression of a value, conditions on it
(used by KPI checks as data and by list filters)."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import Numeric, bindparam, cast, false, literal_column, or_, text, true

from core.lowcode import registry

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def dialect() -> str:
    return current_app.extensions["qqh_db"].engine.dialect.name


def model_of_list(list_name: str):
    """The unit-owned model whose table is ``list_name``, or the class of the
    custom list of that code (None if unknown)."""
    from flask_appbuilder import Model

    from core.lowcode.lists import CustomRecord, model_for

    try:
        found = registry.custom_list(list_name, removed=True)
    except Exception:  # noqa: BLE001 — no tables yet
        found = None
    if found is not None:
        return model_for(found.id, found.code)
    for mapper in Model.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, CustomRecord):
            continue
        if mapper.local_table.name == list_name and getattr(cls, "__qqh_unit_owned__", False) and hasattr(cls, "qqh_fields"):
            return cls
    return None


def value_expr(model, code: str, qualified: bool = True):
    """The stored value of custom field ``code`` (text on PostgreSQL; the
    JSON scalar on SQLite). The code is checked, so it may be inlined: an
    expression index on exactly this text serves the filter."""
    if not CODE_RE.match(code):
        raise ValueError(code)
    column = f"{model.__table__.name}.qqh_fields" if qualified else "qqh_fields"
    if dialect() == "postgresql":
        return literal_column(f"({column} ->> '{code}')")
    return literal_column(f"json_extract({column}, '$.{code}')")


def scalar(value):
    """A stored JSON scalar as ``value_expr`` yields it."""
    if dialect() == "postgresql":
        if isinstance(value, bool):
            return "true" if value else "false"
        return None if value is None else str(value)
    if isinstance(value, bool):
        return 1 if value else 0
    return value


def contains(model, code: str, value):
    """A multiple-choice field holds ``value`` among its codes."""
    table = model.__table__.name
    if not CODE_RE.match(code):
        raise ValueError(code)
    if dialect() == "postgresql":
        return text(f"({table}.qqh_fields -> '{code}') @> to_jsonb(CAST(:v AS text))").bindparams(
            bindparam("v", str(value), unique=True))
    return text(f"EXISTS (SELECT 1 FROM json_each({table}.qqh_fields, '$.{code}') WHERE json_each.value = :v)").bindparams(
        bindparam("v", str(value), unique=True))


def condition(model, field: str, op: str, value):
    """SQL for one condition: ``field`` is a column of the model or ``cf_<code>``;
    ``op``: eq, in, bool."""
    if field.startswith("cf_"):
        from core.lowcode.values import list_name_of

        f = registry.field_def(list_name_of(model), field[3:])
        if f is None:
            return false()
        values = value if isinstance(value, (list, tuple)) else [value]
        if f.kind == "multichoice":
            return or_(*[contains(model, f.code, v) for v in values]) if values else false()
        expr = value_expr(model, f.code)
        if op == "bool":
            return expr == scalar(bool(value))
        if op == "in":
            return expr.in_([scalar(v) for v in values]) if values else false()
        return expr == scalar(value)
    col = getattr(model, field)
    if op == "bool":
        return col.is_(true()) if value else or_(col.is_(false()), col.is_(None))
    if op == "in":
        return col.in_(list(value))
    return col == value


def date_expr(model, field: str):
    """A date column, or a custom date (ISO text: compared as text)."""
    if field.startswith("cf_"):
        return value_expr(model, field[3:])
    return getattr(model, field)


def date_bound(field: str, day):
    return day.isoformat() if field.startswith("cf_") else day


def number_expr(model, field: str):
    if field.startswith("cf_"):
        return cast(value_expr(model, field[3:]), Numeric(14, 2))
    return getattr(model, field)


def ensure_index(session, model, code: str) -> None:
    """An expression index on the field's value, so that filtering a long
    list by it costs about what the unfiltered list does."""
    if not CODE_RE.match(code):
        return
    table = model.__table__.name
    name = f"ix_qqhcf_{table}_{code}"[:63]
    expr = str(value_expr(model, code, qualified=False).compile())
    session.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({expr})"))


def drop_values_column(op, table: str) -> None:
    """A migration's downgrade: drop ``table``'s ``qqh_fields`` with the
    custom fields' indexes on it. A plain ALTER TABLE … DROP COLUMN (SQLite
    ≥ 3.35 too): batch mode would copy the table, and dropping the old copy
    fails its foreign keys while other tables refer to it."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        names = bind.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql LIKE '%qqh_fields%'",
            (table,),
        ).scalars().all()
        for name in names:
            op.execute(f'DROP INDEX IF EXISTS "{name}"')
    op.drop_column(table, "qqh_fields")  # PostgreSQL drops the column's indexes with it
