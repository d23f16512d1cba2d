"""通知公告 (notices): a unit publishes a notice to its subtree.

- A notice belongs to the unit that publishes it (the publisher's own unit)
  and goes to every user of that unit's subtree. Title, text, optional
  deadline, and attachments (core/ops/attachments.py: a notice is a unit-owned
  record like any other).
- Who sees a notice: its recipients (users of a unit in the subtree of the
  notice's unit: the notice's unit is an ancestor of, or is, their own) and
  whoever's scope holds the notice's unit (the publisher's unit and above;
  they also see who has read it). Anyone else gets 404, as for any record.
- A recipient has the notice in their 待办 until they press 已读 (a POST:
  no state changes over GET); the publisher sees, per unit and per user, who
  has read it and who has not (one query).
"""

from __future__ import annotations

import datetime

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, Model, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func, or_, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from core.values import clock
from core.tenancy.scope import InvalidInput, Scope, current_scope, current_user
from core.tenancy.records import UnitOwned
from core.tenancy.units import SEP, Unit, subtree_of

PERMISSION_VIEW = "Notice"
TITLE_MAX = 200
BODY_MAX = 20000


class Notice(UnitOwned, Model):
    """通知公告: published by ``unit`` to its subtree."""

    __tablename__ = "qqh_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    deadline: Mapped[datetime.date | None] = mapped_column(Date, nullable=True)

    def __repr__(self):
        return self.title or ""

    # its recipients read it (and its attachments), below the publisher's subtree
    __qqh_readable__ = staticmethod(lambda session, pk: get_visible(session, pk, current_user(), current_scope()))

    def validate(self) -> dict[str, str]:
        errors = {}
        self.title = (self.title or "").strip()
        self.body = (self.body or "").strip()
        if not self.title:
            errors["title"] = gettext("Enter the title of the notice.")
        elif len(self.title) > TITLE_MAX:
            errors["title"] = gettext("At most %(n)d characters.", n=TITLE_MAX)
        if len(self.body) > BODY_MAX:
            errors["body"] = gettext("At most %(n)d characters.", n=BODY_MAX)
        return errors


class NoticeRead(Model):
    """A recipient has read a notice (once; the first time counts)."""

    __tablename__ = "qqh_notice_read"
    __table_args__ = (UniqueConstraint("notice_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(Integer, ForeignKey("qqh_notice.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    read_on: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    notice = relationship(Notice, backref=backref("reads", cascade="all, delete-orphan", passive_deletes=True))


# -- who sees what -------------------------------------------------------------------
def ancestor_paths(path: str) -> list[str]:
    """The paths of a unit and of every unit above it ("440000/440600/" →
    ["440000/", "440000/440600/"])."""
    parts = [p for p in path.split(SEP) if p]
    return [SEP.join(parts[: i + 1]) + SEP for i in range(len(parts))]


def received_condition(user):
    """SQL: notices addressed to ``user`` (published by their unit or above)."""
    unit = getattr(user, "unit", None)
    if unit is None:
        return None
    return Notice.unit_id.in_(select(Unit.id).where(Unit.path.in_(ancestor_paths(unit.path))))


def visible_condition(user, scope: Scope):
    """SQL: notices ``user`` may open: received, or published inside their scope."""
    if scope.everything:
        return None
    conds = [c for c in (received_condition(user), scope.condition(Notice) if not scope.nothing else None) if c is not None]
    if not conds:
        from sqlalchemy import false

        return false()
    return or_(*conds)


def visible_notices(session, user, scope: Scope):
    stmt = select(Notice)
    cond = visible_condition(user, scope)
    return stmt if cond is None else stmt.where(cond)


def get_visible(session, pk, user, scope):
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**31:
        return None
    return session.execute(visible_notices(session, user, scope).where(Notice.id == pk)).scalars().first()


def is_recipient(notice: Notice, user) -> bool:
    unit = getattr(user, "unit", None)
    return (
        unit is not None
        and notice.unit is not None
        and unit.path.startswith(notice.unit.path)
        and notice.created_by_fk != getattr(user, "id", None)
    )


def unread_for(session, user) -> list[Notice]:
    """Notices addressed to ``user`` that they have not read (not their own)."""
    cond = received_condition(user)
    if cond is None:
        return []
    read = select(NoticeRead.notice_id).where(NoticeRead.user_id == user.id)
    stmt = (
        select(Notice)
        .where(cond, Notice.id.not_in(read), or_(Notice.created_by_fk.is_(None), Notice.created_by_fk != user.id))
        .order_by(Notice.created_on.desc())
    )
    return list(session.execute(stmt).scalars())


def mark_read(session, notice: Notice, user) -> bool:
    """Record that ``user`` read ``notice``; False when already recorded."""
    exists = session.execute(
        select(NoticeRead.id).where(NoticeRead.notice_id == notice.id, NoticeRead.user_id == user.id)
    ).first()
    if exists:
        return False
    session.add(NoticeRead(notice_id=notice.id, user_id=user.id, read_on=clock.now()))
    return True


def read_status(session, notice: Notice) -> dict:
    """Who has read ``notice``: every active recipient with their unit and the
    time they read it (None: not yet), and the totals per unit. One query."""
    from core.tenancy.security import QqhUser

    stmt = (
        select(QqhUser.id, QqhUser.username, QqhUser.first_name, QqhUser.last_name, Unit.code, Unit.name, Unit.path,
               NoticeRead.read_on)
        .join(Unit, QqhUser.unit_id == Unit.id)
        .outerjoin(NoticeRead, (NoticeRead.user_id == QqhUser.id) & (NoticeRead.notice_id == notice.id))
        .where(subtree_of(notice.unit.path), QqhUser.active.is_(True))
        .order_by(Unit.path, QqhUser.username)
    )
    users, units = [], {}
    for uid, username, first, last, code, uname, path, read_on in session.execute(stmt):
        if uid == notice.created_by_fk:
            continue
        users.append({"username": username, "name": f"{last or ''}{first or ''}", "unit": uname, "read_on": read_on})
        u = units.setdefault(code, {"code": code, "name": uname, "users": 0, "read": 0})
        u["users"] += 1
        u["read"] += read_on is not None
    return {"users": users, "units": list(units.values()),
            "read": sum(1 for u in users if u["read_on"]), "total": len(users)}


def publish(session, user, title, body, deadline, files) -> Notice:
    """A new notice of ``user``'s unit with its attachments; raises
    :class:`InvalidInput` (nothing written) on bad input."""
    from core.ops import attachments
    from core.tenancy.records import check_item

    if getattr(user, "unit", None) is None:
        raise InvalidInput(gettext("Only a user of a unit can publish a notice: your account has no unit."))
    notice = Notice(title=title, body=body, deadline=deadline, unit=user.unit)
    try:
        check_item(session, notice, current_scope())
        for name, data in files:
            attachments.check_file(name, data)  # every file checked before anything is written
        session.add(notice)
        session.flush()
        if files:
            attachments.add_files(session, notice, files)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return notice


def parse_deadline(text: str | None) -> datetime.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput({"deadline": gettext("Not a valid date: write it as 2012-03-31.")}) from None


# -- pages ------------------------------------------------------------------------------------
def _csrf_token() -> str:
    from core.excel.service import _csrf_token as token

    return token()


class NoticeView(BaseView):
    """通知公告: the list, publishing, a notice with its attachments and who has read it."""

    route_base = "/notices"
    class_permission_name = PERMISSION_VIEW
    default_view = "index"

    def _render(self, template, **kwargs):
        return self.render_template(template, csrf_token_value=_csrf_token(), **kwargs)

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        session = self.appbuilder.session
        user = current_user()
        stmt = visible_notices(session, user, current_scope()).order_by(Notice.created_on.desc(), Notice.id.desc()).limit(200)
        notices = list(session.execute(stmt).scalars())
        ids = [n.id for n in notices]
        mine = set()
        counts = {}
        if ids and user is not None:
            mine = set(session.execute(select(NoticeRead.notice_id).where(
                NoticeRead.user_id == user.id, NoticeRead.notice_id.in_(ids))).scalars())
            counts = dict(session.execute(select(NoticeRead.notice_id, func.count()).where(
                NoticeRead.notice_id.in_(ids)).group_by(NoticeRead.notice_id)).all())
        rows = [{"notice": n, "read": n.id in mine, "recipient": is_recipient(n, user), "reads": counts.get(n.id, 0)}
                for n in notices]
        can_add = self.appbuilder.sm.has_access("can_add", PERMISSION_VIEW) and getattr(user, "unit", None) is not None
        return self._render("qqh/notice_list.html", rows=rows, can_add=can_add, title=gettext("Notices"))

    @expose("/add", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def add(self):
        session = self.appbuilder.session
        user = current_user()
        form = {"title": "", "body": "", "deadline": ""}
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            form = {k: request.form.get(k, "") for k in form}
            from core.ops import attachments

            try:
                deadline = parse_deadline(form["deadline"])
                files = [attachments.read_upload(f) for f in request.files.getlist("file") if f and f.filename]
                notice = publish(session, user, form["title"], form["body"], deadline, files)
            except InvalidInput as exc:
                errors = exc.messages
            else:
                flash(gettext("The notice has been published to %(unit)s and the units below it.", unit=notice.unit.name), "success")
                return redirect(url_for("NoticeView.show", pk=notice.id))
        if getattr(user, "unit", None) is None:
            errors.setdefault("_", []).append(gettext("Only a user of a unit can publish a notice: your account has no unit."))
        from core.ops import attachments

        return self._render("qqh/notice_add.html", form=form, errors=errors, title=gettext("Publish a notice"),
                            unit=getattr(user, "unit", None), limit=attachments.max_bytes(),
                            accept=",".join("." + e for e in attachments.KINDS))

    @expose("/<pk>")
    @has_access
    @permission_name("show")
    def show(self, pk):
        session = self.appbuilder.session
        user = current_user()
        scope = current_scope()
        notice = get_visible(session, pk, user, scope)
        if notice is None:
            abort(404)
        from core.ops import attachments

        read = user is not None and session.execute(select(NoticeRead.read_on).where(
            NoticeRead.notice_id == notice.id, NoticeRead.user_id == user.id)).scalar()
        status = read_status(session, notice) if scope.contains(notice.unit) else None
        return self._render(
            "qqh/notice_show.html", notice=notice, read_on=read or None, recipient=is_recipient(notice, user),
            status=status, files=attachments.attachments_of(session, notice), title=notice.title,
        )

    # reading is what every recipient may do, inspectors included: it changes
    # nothing of the data, only the reader's own to-do, hence "show"
    @expose("/<pk>/read", methods=["POST"])
    @has_access
    @permission_name("show")
    def read(self, pk):
        session = self.appbuilder.session
        user = current_user()
        notice = get_visible(session, pk, user, current_scope())
        if notice is None:
            abort(404)
        if not is_recipient(notice, user):
            flash(gettext("This notice is not addressed to you."), "warning")
        elif mark_read(session, notice, user):
            session.commit()
            flash(gettext("Marked as read."), "success")
        return redirect(url_for("NoticeView.show", pk=notice.id))


def register(appbuilder) -> None:
    from core.web.views import ORG_CATEGORY, ORG_CATEGORY_LABEL

    appbuilder.add_view(
        NoticeView, "Notices", label=_l("Notices"), icon="fa-bullhorn",
        category=ORG_CATEGORY, category_label=ORG_CATEGORY_LABEL,
    )
