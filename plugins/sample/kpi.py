import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.api import KpiCheck
from plugins.sample.models import SampleNote


def notes_query(plan_year: int, as_of: datetime.date):
    """Notes dated within the plan year, on or before ``as_of``, per owning unit."""
    return (
        select(SampleNote.unit_id, func.count(SampleNote.id))
        .where(SampleNote.noted_on >= datetime.date(plan_year, 1, 1), SampleNote.noted_on <= as_of)
        .group_by(SampleNote.unit_id)
    )


CHECKS = [KpiCheck("sample_notes", _l("Notes written"), _l("notes"), notes_query)]
