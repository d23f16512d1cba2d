"""The "trainings of its leaders" section of a youth organization's profile
page (cultivation's hook ``qqh_youthorg_profile_sections``).

The organization is in the viewer's scope (cultivation checks it before
calling the hook); its leaders' enrolments are listed as far as the viewer
may see them (the rosters of camps organized in the viewer's subtree: another
unit's roster is not shown, as everywhere): camp, dates, organizer, person,
role and attendance. No phone or ID number is shown here.
"""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select

from core.api import ALL, in_scope
from plugins.cultivation.profile import ProfileSection
from plugins.training.models import Camp, Enrolment

NAME = "training"


def sections(org, session, scope=ALL) -> list[ProfileSection]:
    stmt = (
        select(Enrolment, Camp)
        .join(Camp, Camp.id == Enrolment.camp_id)
        .where(Enrolment.youth_org_id == org.id)
        .order_by(Camp.starts_on.desc(), Camp.id.desc(), Enrolment.name)
    )
    rows = session.execute(in_scope(stmt, Enrolment, scope)).all()
    table = [
        (repr(camp), camp.dates_text, camp.unit.name, e.name, e.role or "",
         gettext("Attended") if e.attended else gettext("Enrolled, not attended"))
        for e, camp in rows
    ]
    trained = len({e.trainee_id for e, _c in rows if e.attended})
    title = _l("Leaders' training (亲青汇训练营)")
    if rows:
        title = gettext("Leaders' training (亲青汇训练营): %(n)d people trained", n=trained)
    return [
        ProfileSection(
            title,
            columns=(_l("Training camp"), _l("Dates"), _l("Organizing unit"), _l("Trainee name"),
                     _l("Role in the organization"), _l("Attendance")),
            rows=table,
            order=30,
            empty=_l("None of its leaders has been enrolled in a training camp yet."),
        )
    ]
