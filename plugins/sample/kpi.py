"""The plugin's KPI check (set-based: one grouped query, never one per unit) and its default target."""

import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.api import KpiCheck, TargetSpec
from plugins.sample.models import SampleSignup


def signups_query(plan_year: int, as_of: datetime.date):
    """Signups dated within the plan year, on or before ``as_of``, per owning unit (the event's)."""
    return (
        select(SampleSignup.unit_id, func.count(SampleSignup.id))
        .where(SampleSignup.signed_on >= datetime.date(plan_year, 1, 1), SampleSignup.signed_on <= as_of)
        .group_by(SampleSignup.unit_id)
    )


CHECKS = [KpiCheck("sample_signups", _l("Sample signup count"), _l("signups"), signups_query)]


def default_targets(plan_year: int) -> list[TargetSpec]:
    """What ``qqh targets load`` and ``qqh init --plan-year`` write: every city, 10 signups by 31 December."""
    return [TargetSpec("sample_signups", "city", 10, datetime.date(plan_year, 12, 31))]
