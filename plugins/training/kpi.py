"""KPI checks of the training plugin and the notice's targets for them.

* ``camps`` — camps held: camps that ended within the plan year on or before
  the as-of date and were not cancelled, counted by organizing unit (one
  grouped select; core sums them up the unit tree, and for the quarterly
  target "one camp every quarter" counts the quarter's window itself).
* ``trained_leaders`` — distinct people (trainees) who attended a camp that
  ended within the plan year on or before the as-of date, as
  ``(organizing unit, trainee)`` pairs (``rollup="distinct"``): a person
  trained by two counties is one person for their city.
"""

from __future__ import annotations

import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.kpi import KpiCheck, TargetSpec
from plugins.training.models import CANCELLED, Camp, Enrolment


def _window(plan_year: int, as_of: datetime.date) -> tuple[datetime.date, datetime.date]:
    return datetime.date(plan_year, 1, 1), min(as_of, datetime.date(plan_year, 12, 31))


def camps_query(plan_year: int, as_of: datetime.date):
    """Camps (not cancelled) whose last day lies in the plan year, on or
    before ``as_of``: ``(unit_id, count)`` per organizing unit."""
    first, last = _window(plan_year, as_of)
    return (
        select(Camp.unit_id, func.count(Camp.id))
        .where(Camp.ends_on >= first, Camp.ends_on <= last, Camp.status != CANCELLED)
        .group_by(Camp.unit_id)
    )


def trained_leaders_query(plan_year: int, as_of: datetime.date):
    """Distinct ``(unit_id, trainee_id)``: people who attended a camp of that
    unit that ended in the plan year on or before ``as_of``."""
    first, last = _window(plan_year, as_of)
    return (
        select(Camp.unit_id, Enrolment.trainee_id)
        .join(Camp, Camp.id == Enrolment.camp_id)
        .where(
            Enrolment.attended.is_(True),
            Camp.ends_on >= first,
            Camp.ends_on <= last,
            Camp.status != CANCELLED,
        )
        .distinct()
    )


CHECKS = [
    KpiCheck("camps", _l("Training camps held"), _l("camps"), camps_query),
    KpiCheck(
        "trained_leaders", _l("Organization leaders trained"), _l("people"), trained_leaders_query, rollup="distinct"
    ),
]


def default_targets(plan_year: int) -> list[TargetSpec]:
    """The notice's targets for these checks (三(三) and 四、推进步骤).

    Province: 10 camps and 1,000 leaders trained a year. Each city: at least
    one camp every quarter. Leaders trained in the year: PRD city 300, PRD
    county 100, non-PRD city 200, non-PRD county 50.
    """
    dec31 = datetime.date(plan_year, 12, 31)
    T = TargetSpec
    return [
        T("camps", "province", 10, dec31),
        T("camps", "city", 1, dec31, "quarter"),
        T("trained_leaders", "province", 1000, dec31),
        T("trained_leaders", "prd_city", 300, dec31),
        T("trained_leaders", "prd_county", 100, dec31),
        T("trained_leaders", "nonprd_city", 200, dec31),
        T("trained_leaders", "nonprd_county", 50, dec31),
    ]
