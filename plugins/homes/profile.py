"""Sections of a youth organization's profile page (cultivation's hook
``qqh_youthorg_profile_sections``): the bases it lives or lived in, and the
grants it received from incubation funds — both limited to the user's scope."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.api import in_scope
from plugins.cultivation.profile import ProfileSection
from plugins.homes.models import Grant, Home, Residency


def sections(org, session, scope) -> list[ProfileSection]:
    residencies = session.execute(
        in_scope(
            select(Residency)
            .options(joinedload(Residency.home).joinedload(Home.unit))
            .where(Residency.org_id == org.id)
            .order_by(Residency.entered_on.desc(), Residency.id.desc()),
            Residency,
            scope,
        )
    ).unique().scalars().all()
    grants = session.execute(
        in_scope(
            select(Grant).options(joinedload(Grant.fund)).where(Grant.org_id == org.id)
            .order_by(Grant.applied_on.desc(), Grant.id.desc()),
            Grant,
            scope,
        )
    ).unique().scalars().all()
    return [
        ProfileSection(
            _l("Qinqing homes"),
            columns=(_l("Qinqing home"), _l("Owning unit"), _l("Status"), _l("Entered on"), _l("Graduated or left on")),
            rows=[(r.home.name, r.home.unit.name, r.status_label, r.entered_on, r.ended_on) for r in residencies],
            order=30,
            empty=_l("Not resident in any Qinqing home."),
        ),
        ProfileSection(
            _l("Incubation fund grants"),
            columns=(_l("Incubation fund"), _l("Purpose"), _l("Applied on"), _l("Amount (yuan)"), _l("Approval")),
            rows=[(g.fund.name, g.purpose, g.applied_on, g.amount, g.status_label) for g in grants],
            order=31,
            empty=_l("No grants from incubation funds."),
        ),
    ]
