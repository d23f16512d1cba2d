import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.api import KpiCheck
from tests.memo_plugin.models import MemoNote


def notes_query(plan_year: int, as_of: datetime.date):
    """Notes dated within the plan year, on or before ``as_of``, per owning unit."""
    return (
        select(MemoNote.unit_id, func.count(MemoNote.id))
        .where(MemoNote.noted_on >= datetime.date(plan_year, 1, 1), MemoNote.noted_on <= as_of)
        .group_by(MemoNote.unit_id)
    )


CHECKS = [KpiCheck("memo_notes", _l("Notes written"), _l("notes"), notes_query)]
