"""KPI checks defined as data (qqh_kpi_rule): offered for targets and the
assessment like a plugin's ``qqh_kpi_checks``, one statement per check."""

from __future__ import annotations

import datetime

from sqlalchemy import and_, func, select

from core.kpi.engine import KpiCheck
from core.lowcode import registry
from core.lowcode.sql import condition, date_bound, date_expr, model_of_list, number_expr

MEASURES = ("count", "distinct", "sum")
OPS = ("eq", "in", "bool")


def build_query(rule: dict):
    model = model_of_list(rule["list_name"])

    def query(plan_year: int, as_of: datetime.date):
        d = date_expr(model, rule["date_field"])
        where = [d >= date_bound(rule["date_field"], datetime.date(plan_year, 1, 1)),
                 d <= date_bound(rule["date_field"], as_of)]
        where += [condition(model, c["field"], c.get("op", "eq"), c.get("value")) for c in rule["conditions"]]
        if rule["measure"] == "distinct":
            member = _member(model, rule["measure_field"])
            return select(model.unit_id, member).where(and_(*where), member.is_not(None)).distinct()
        if rule["measure"] == "sum":
            value = func.sum(number_expr(model, rule["measure_field"]))
        else:
            value = func.count(model.id)
        return select(model.unit_id, value).where(and_(*where)).group_by(model.unit_id)

    return query


def _member(model, field):
    from core.lowcode.sql import value_expr

    return value_expr(model, field[3:]) if field.startswith("cf_") else getattr(model, field)


def data_checks(session=None) -> dict[str, KpiCheck]:
    """The checks defined as data that are not removed and whose list exists."""
    out = {}
    try:
        rules = registry.rules(session)
    except Exception:  # noqa: BLE001 — no request or no tables yet
        return out
    for r in rules:
        if r["removed"] or model_of_list(r["list_name"]) is None:
            continue
        out[r["key"]] = KpiCheck(r["key"], r["label"], r["unit_of_measure"], build_query(r),
                                 rollup="distinct" if r["measure"] == "distinct" else "sum")
    return out
