"""KPI checks of the homes plugin and the notice's targets for them.

Each query is ONE select per owning unit; core rolls the figures up the unit
tree when a target counts 含下级.

* ``homes`` — 亲青家园 built: a base counts from its signage (挂牌) date once
  it meets every required item of the 《"亲青家园"标准化建设手册》 checklist
  (the items in use) by the as-of date. Campus "terminal stores" (学生活动室
  "终端门店") are not 亲青家园: they are ``terminal_stores``.
* ``funds`` — incubation funds established; ``fund_amount`` — what they
  committed, in 元 (the province's 500万元 fund).
* ``incubated_orgs`` has no target in the notice (it feeds the December
  assessment's "孵化培育状况").
"""

from __future__ import annotations

import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from core.api import KpiCheck, TargetSpec
from plugins.homes.models import ChecklistEntry, ChecklistItem, FUND_SOURCES, Home, IncubationFund, Residency

TERMINAL_STORE = "campus_room"  # 学生活动室"终端门店"


def homes_query(plan_year: int, as_of: datetime.date):
    """亲青家园 with their sign (挂牌) on or before ``as_of`` that meet every
    required (in use) checklist item by then, per owning unit; terminal
    stores are left out."""
    required = select(func.count(ChecklistItem.id)).where(ChecklistItem.active.is_(True)).scalar_subquery()
    met = (
        select(func.count(ChecklistEntry.id))
        .join(ChecklistItem, ChecklistItem.id == ChecklistEntry.item_id)
        .where(ChecklistEntry.home_id == Home.id, ChecklistItem.active.is_(True), ChecklistEntry.met_on <= as_of)
        .correlate(Home)
        .scalar_subquery()
    )
    return (
        select(Home.unit_id, func.count(Home.id))
        .where(Home.signage_on <= as_of, Home.kind != TERMINAL_STORE, met >= required)
        .group_by(Home.unit_id)
    )


def terminal_stores_query(plan_year: int, as_of: datetime.date):
    """Campus terminal stores (终端门店) opened on or before ``as_of``."""
    return (
        select(Home.unit_id, func.count(Home.id))
        .where(Home.kind == TERMINAL_STORE, Home.opened_on <= as_of)
        .group_by(Home.unit_id)
    )


def fund_amount_query(plan_year: int, as_of: datetime.date):
    """元 committed to the incubation funds established on or before ``as_of``."""
    committed = sum((getattr(IncubationFund, a) for a in FUND_SOURCES), start=0)
    return (
        select(IncubationFund.unit_id, func.sum(committed))
        .where(IncubationFund.established_on <= as_of)
        .group_by(IncubationFund.unit_id)
    )


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
    KpiCheck("homes", _l("Qinqing homes with their sign, meeting the handbook"), _l("homes"), homes_query, position=3),
    KpiCheck("terminal_stores", _l("Campus terminal stores"), _l("stores"), terminal_stores_query),
    KpiCheck("funds", _l("Incubation funds established"), _l("funds"), funds_query, position=2),
    KpiCheck("fund_amount", _l("Incubation fund money committed"), _l("yuan"), fund_amount_query),
    KpiCheck(
        "incubated_orgs", _l("Organizations incubated in Qinqing homes"), _l("organizations"),
        incubated_orgs_query, rollup="distinct",
    ),
]


# The December assessment's focus items (四(三)) that these checks score; ``position`` is its
# place in the notice's list of six (core/hookspecs.py: qqh_default_indicators).
DEFAULT_INDICATORS = [
    {"key": "homes", "label": _l("Qinqing home construction"), "check": "homes", "weight": 20, "method": "ratio",
     "position": 0},
    {"key": "funds", "label": _l("Incubation fund establishment"), "check": "funds", "weight": 15, "method": "reached",
     "position": 1},
]


def default_targets(plan_year: int) -> list[TargetSpec]:
    """The notice's targets for these checks (三(二) and 四、推进步骤), each
    on the unit's own records (本级: the city's own 市级 fund and 亲青家园).

    PRD cities: 1 fund and ≥1 亲青家园 by 5-end; non-PRD cities: both by
    6-end; PRD counties a 亲青家园 pilot by 5-end, non-PRD counties by 6-end;
    every town at least one in the year. The province: its 500万元 fund
    (省级青年社会组织培育发展基金) by the end of the plan year.
    """
    y = plan_year
    may31, jun30, dec31 = datetime.date(y, 5, 31), datetime.date(y, 6, 30), datetime.date(y, 12, 31)
    T = TargetSpec
    return [
        T("funds", "prd_city", 1, may31),
        T("funds", "nonprd_city", 1, jun30),
        T("fund_amount", "province", 5_000_000, dec31),
        T("homes", "prd_city", 1, may31),
        T("homes", "prd_county", 1, may31),
        T("homes", "nonprd_city", 1, jun30),
        T("homes", "nonprd_county", 1, jun30),
        T("homes", "town", 1, dec31),
    ]
