"""The plugin's ``qqh`` command (added through the ``qqh_cli`` hook): ``qqh sample events``.

``with_app`` runs the command inside the app; its ``--as USER`` option (a parameter named ``as_user``)
runs it as that user's request, so the same scoping as on the pages applies. ``fail`` prints one clear
line and exits with 1.
"""

import click
from flask import current_app
from flask_babel import gettext
from sqlalchemy import func, select

from core.api import Unit, fail, format_date_zh, in_scope, unit_in_scope, current_scope, with_app
from plugins.sample.models import SampleEvent, SampleSignup


def register(group):
    @group.group("sample")
    def sample():
        """Sample events (the reference plugin)."""

    @sample.command("events")
    @click.option("--unit", "unit_code", default=None, help="Only the events of this unit's subtree (its code).")
    @click.option("--as", "as_user", default=None, metavar="USER", help="As this user: only their units.")
    @with_app
    def events(unit_code, as_user):
        """List the events, latest first, with their number of signups."""
        session = current_app.appbuilder.session
        counts = (select(SampleSignup.event_id, func.count(SampleSignup.id).label("n"))
                  .group_by(SampleSignup.event_id).subquery())
        stmt = (
            select(SampleEvent.title, SampleEvent.held_on, Unit.name, func.coalesce(counts.c.n, 0))
            .join(Unit, Unit.id == SampleEvent.unit_id)
            .outerjoin(counts, counts.c.event_id == SampleEvent.id)
            .order_by(SampleEvent.held_on.desc(), SampleEvent.id.desc())
        )
        if unit_code:
            unit = session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none()
            if unit is None or not unit_in_scope(session, unit.id, current_scope()):
                fail(gettext("No unit has the code %(code)s among your units.", code=unit_code))
            stmt = stmt.where(Unit.path.startswith(unit.path))
        rows = session.execute(in_scope(stmt, SampleEvent)).all()  # one query, scoped to the user
        for title, held_on, unit_name, n in rows:
            click.echo(f"{format_date_zh(held_on)}\t{title}\t{unit_name}\t"
                       + gettext("%(n)d signups", n=n))
        click.echo(gettext("%(n)d events.", n=len(rows)))
