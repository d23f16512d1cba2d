"""KPI checks of the training plugin and the notice's targets for them.

* ``camps`` — camps held: camps that ended within the plan year on or before
  the as-of date, were not cancelled and had at least one attendee (a camp
  planned that nobody attended was not held), counted by organizing unit (one
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

from core.api import KpiCheck, TargetSpec
from plugins.training.models import CANCELLED, Camp, Enrolment


def _window(plan_year: int, as_of: datetime.date) -> tuple[datetime.date, datetime.date]:
    return datetime.date(plan_year, 1, 1), min(as_of, datetime.date(plan_year, 12, 31))


def camps_query(plan_year: int, as_of: datetime.date):
    """Camps held: not cancelled, last day in the plan year on or before
    ``as_of``, at least one attendee: ``(unit_id, count)`` per organizing unit."""
    first, last = _window(plan_year, as_of)
    attended = select(Enrolment.camp_id).where(Enrolment.camp_id == Camp.id, Enrolment.attended.is_(True)).exists()
    return (
        select(Camp.unit_id, func.count(Camp.id))
        .where(Camp.ends_on >= first, Camp.ends_on <= last, Camp.status != CANCELLED, attended)
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
    KpiCheck("camps", _l("Training camps held"), _l("camps"), camps_query, position=6),
    KpiCheck(
        "trained_leaders", _l("Organization leaders trained"), _l("people"), trained_leaders_query, rollup="distinct",
        position=5,
    ),
]


# The December assessment's focus item (四(三)) that these checks score; ``position`` is its
# place in the notice's list of six (core/hookspecs.py: qqh_default_indicators).
DEFAULT_INDICATORS = [
    {"key": "training", "label": _l("Number of leaders trained"), "check": "trained_leaders", "weight": 20,
     "method": "ratio", "position": 3},
]


def default_targets(plan_year: int) -> list[TargetSpec]:
    """The notice's targets for these checks (三(三) and 四、推进步骤).

    Province: 10 camps and 1,000 leaders trained a year, its own (本级).
    Each city: at least one camp every quarter, from Q2 (the notice came out
    in March; its implementation phase runs from April). Leaders trained in
    the year: PRD city 300, PRD county 100, non-PRD city 200, non-PRD county
    50. A city's camps and trained leaders include its counties' (含下级,
    each person once: "县域范围内的青年社会组织骨干培训纳入市级培训序列");
    everything else counts the unit's own.
    """
    dec31 = datetime.date(plan_year, 12, 31)
    T = TargetSpec
    return [
        T("camps", "province", 10, dec31),
        T("camps", "city", 1, dec31, "quarter", scope="subtree", first_quarter=2),
        T("trained_leaders", "province", 1000, dec31),
        T("trained_leaders", "prd_city", 300, dec31, scope="subtree"),
        T("trained_leaders", "prd_county", 100, dec31),
        T("trained_leaders", "nonprd_city", 200, dec31, scope="subtree"),
        T("trained_leaders", "nonprd_county", 50, dec31),
    ]
