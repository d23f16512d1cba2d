"""KPI checks of the homes plugin.

Each query is ONE select per owning unit; core rolls the figures up the unit
tree. The notice's targets for ``homes`` and ``funds`` (PRD cities by 5-end,
non-PRD cities by 6-end, county pilots, every town) ship with core
(``core.kpi.default_targets``), so this plugin registers no targets of its
own; ``incubated_orgs`` has no target in the notice (it feeds the December
assessment's "孵化培育状况").
"""

from __future__ import annotations

import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from core.kpi import KpiCheck
from plugins.homes.models import Home, IncubationFund, Residency


def homes_query(plan_year: int, as_of: datetime.date):
    """亲青家园 opened on or before ``as_of``, per owning unit."""
    return select(Home.unit_id, func.count(Home.id)).where(Home.opened_on <= as_of).group_by(Home.unit_id)


def funds_query(plan_year: int, as_of: datetime.date):
    """Incubation funds established on or before ``as_of``, per owning unit."""
    return (
        select(IncubationFund.unit_id, func.count(IncubationFund.id))
        .where(IncubationFund.established_on <= as_of)
        .group_by(IncubationFund.unit_id)
    )


def incubated_orgs_query(plan_year: int, as_of: datetime.date):
    """Distinct (unit, organization) pairs: organizations resident in a base
    of the unit on some day of the plan year up to ``as_of`` — entered on or
    before ``as_of`` and not gone before the plan year began. Distinct, so an
    organization living in two bases of a city counts once for the city."""
    year_start = datetime.date(plan_year, 1, 1)
    return (
        select(Residency.unit_id, Residency.org_id)
        .where(
            Residency.entered_on <= as_of,
            or_(Residency.ended_on.is_(None), Residency.ended_on >= year_start),
        )
        .distinct()
    )


CHECKS = [
    KpiCheck("homes", _l("Qinqing homes opened"), _l("homes"), homes_query),
    KpiCheck("funds", _l("Incubation funds established"), _l("funds"), funds_query),
    KpiCheck(
        "incubated_orgs", _l("Organizations incubated in Qinqing homes"), _l("organizations"),
        incubated_orgs_query, rollup="distinct",
    ),
]
