"""KPI checks of the cultivation plugin and the notice's targets for them.

Each query is ONE grouped select of ``(unit_id, value)`` per owning unit;
core rolls the figures up the unit tree.
"""

from __future__ import annotations

import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.api import KpiCheck, TargetSpec
from plugins.cultivation.models import YouthOrg


def direct_contacts_query(plan_year: int, as_of: datetime.date):
    """Organizations on a direct-contact list (直接联系) on or before ``as_of``."""
    return (
        select(YouthOrg.unit_id, func.count(YouthOrg.id))
        .where(YouthOrg.directly_connected_on <= as_of)
        .group_by(YouthOrg.unit_id)
    )


def cultivated_query(plan_year: int, as_of: datetime.date):
    """Organizations cultivated (培育) within the plan year, on or before ``as_of``."""
    last = min(as_of, datetime.date(plan_year, 12, 31))
    return (
        select(YouthOrg.unit_id, func.count(YouthOrg.id))
        .where(YouthOrg.cultivated_on >= datetime.date(plan_year, 1, 1), YouthOrg.cultivated_on <= last)
        .group_by(YouthOrg.unit_id)
    )


def pilots_query(plan_year: int, as_of: datetime.date):
    """Pilots (试点) directly connected on or before ``as_of``."""
    return (
        select(YouthOrg.unit_id, func.count(YouthOrg.id))
        .where(YouthOrg.is_pilot.is_(True), YouthOrg.directly_connected_on <= as_of)
        .group_by(YouthOrg.unit_id)
    )


ORGS = _l("organizations")
CHECKS = [
    KpiCheck("direct_contacts", _l("Directly connected youth organizations"), ORGS, direct_contacts_query, position=1),
    KpiCheck("cultivated", _l("Youth organizations cultivated in the year"), ORGS, cultivated_query, position=4),
    KpiCheck("pilots", _l("Directly connected pilots"), ORGS, pilots_query, position=0),
]


# The December assessment's focus item (四(三)) that these checks score; ``position`` is its
# place in the notice's list of six (core/hookspecs.py: qqh_default_indicators).
DEFAULT_INDICATORS = [
    {"key": "cultivation", "label": _l("Organization incubation and cultivation"), "check": "cultivated", "weight": 20,
     "method": "ratio", "position": 2},
]


def default_targets(plan_year: int) -> list[TargetSpec]:
    """The notice's targets for these checks (四、推进步骤 and the launch phase).

    Pilots directly connected by 3-20: province 10, each city and each
    undergraduate university 5, each county 2. Direct-contact lists: PRD
    cities ≥30 by 3-end; PRD counties ≥10, non-PRD cities ≥20 and non-PRD
    counties ≥5 by 4-end. Cultivated in the year: 30 / 10 / 15 / 5.
    """
    y = plan_year
    mar20, mar31, apr30, dec31 = (datetime.date(y, 3, 20), datetime.date(y, 3, 31),
                                  datetime.date(y, 4, 30), datetime.date(y, 12, 31))
    return [
        TargetSpec("pilots", "province", 10, mar20),
        TargetSpec("pilots", "city", 5, mar20),
        TargetSpec("pilots", "undergraduate", 5, mar20),
        TargetSpec("pilots", "county", 2, mar20),
        TargetSpec("direct_contacts", "prd_city", 30, mar31),
        TargetSpec("direct_contacts", "prd_county", 10, apr30),
        TargetSpec("direct_contacts", "nonprd_city", 20, apr30),
        TargetSpec("direct_contacts", "nonprd_county", 5, apr30),
        TargetSpec("cultivated", "prd_city", 30, dec31),
        TargetSpec("cultivated", "prd_county", 10, dec31),
        TargetSpec("cultivated", "nonprd_city", 15, dec31),
        TargetSpec("cultivated", "nonprd_county", 5, dec31),
    ]
