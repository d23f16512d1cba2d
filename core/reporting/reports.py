"""The reporting loop (报送): a unit submits to the unit above, which reviews.

Plugins declare what can be reported through the hook
``qqh_reporting_items()`` (:class:`ReportingItem`): a *list* (the records of
a model whose date lies in the plan year, e.g. a plugin's list of the
organizations a unit works with) or a set of *figures* (KPI checks). A unit submits an item for a plan
year to the unit above: the snapshot (rows as JSON) is frozen, later edits do
not change it. The unit directly above reviews: approve (通过) or return
(退回, with a reason); a returned submission is corrected and submitted again.
Every step is a :class:`SubmissionEvent` (who, when, what); every write is in
the audit log.

Multi-level (like DHIS2's data approval): a unit's snapshot carries the state
of each unit directly below it and, for those approved, their approved
snapshots (which carry theirs in turn).

Locking (``ReportingItem.locking``): once approved, the item's records of that
plan year at that unit and below refuse every edit (pages, API, import,
scripts) until the reviewer withdraws the approval (撤销审核). Checked once,
in core: :func:`check_write` (on every checked add or edit) and a
``before_flush`` guard on every flush.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context, url_for
from flask_appbuilder import Model
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import (DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, and_, event, func,
                        inspect as sa_inspect, select)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.values import clock
from core.tenancy.scope import InvalidInput, Scope, user_scope
from core.tenancy.units import Unit, subtree_of
from core.tenancy.unique import batch_cache

LIST, FIGURES = "list", "figures"
SUBMITTED, RETURNED, APPROVED = "submitted", "returned", "approved"
NOT_SUBMITTED, OVERDUE = "not_submitted", "overdue"
STATES = {
    NOT_SUBMITTED: _l("Not submitted"),
    SUBMITTED: _l("Waiting for review"),
    RETURNED: _l("Returned"),
    APPROVED: _l("Passed review"),
    OVERDUE: _l("Overdue, not submitted"),
}
STATE_CSS = {NOT_SUBMITTED: "default", SUBMITTED: "info", RETURNED: "warning", APPROVED: "success", OVERDUE: "danger"}
ACTIONS = {
    "submit": _l("Submitted"),
    "return": _l("Returned"),
    "approve": _l("Review passed"),
    "reopen": _l("Approval withdrawn"),
}


@dataclass(frozen=True)
class ReportingItem:
    """报送事项 a plugin declares.

    ``kind`` LIST: the records of ``model`` that the unit owns itself whose
    ``date_attr`` lies in the plan year, with ``columns`` ((attribute,
    label), ...) frozen; FIGURES: the values of the KPI ``checks`` for the unit
    (本级 and 含下级). Due date: the earliest due date of the plan year's KPI
    targets on ``due_check`` (for FIGURES the first of ``checks`` when not
    given), else ``due`` (month, day) of the plan year. ``locking``: an
    approval locks the records (LIST items only)."""

    key: str
    label: Any
    kind: str = LIST
    model: type | None = None
    date_attr: str | None = None
    columns: tuple = ()
    checks: tuple = ()
    due_check: str | None = None
    due: tuple = (12, 31)
    locking: bool = False

    @property
    def check_for_due(self) -> str | None:
        return self.due_check or (self.checks[0] if self.kind == FIGURES and self.checks else None)


# -- storage ---------------------------------------------------------------------------
class Submission(Model):
    """The current submission of an item for a plan year by a unit (one row
    per item, year and unit; its rounds are its events)."""

    __tablename__ = "qqh_submission"
    __table_args__ = (UniqueConstraint("item_key", "plan_year", "unit_id"),)
    __qqh_personal__ = ("snapshot",)  # the audit log keeps its size, not the frozen rows twice
    __qqh_title__ = _l("Submissions")  # no page lists the table: how the audit log names it and its columns
    __qqh_labels__ = {
        "item_key": _l("Reporting item"), "plan_year": _l("Plan year"), "unit": _l("Unit"), "status": _l("Status"),
        "round": _l("Round"), "snapshot": _l("Submitted records"), "row_count": _l("Records"),
        "comment": _l("Comment"), "submitted_by": _l("Submitted by"), "submitted_on": _l("Submitted on"),
        "reviewed_by": _l("Reviewed by"), "reviewed_on": _l("Reviewed on"), "review_reason": _l("Review comment"),
    }

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    plan_year: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_id: Mapped[int] = mapped_column(Integer, ForeignKey("qqh_unit.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    snapshot: Mapped[str] = mapped_column(Text, nullable=False)
    row_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_by_fk: Mapped[int | None] = mapped_column(Integer, ForeignKey("ab_user.id"))
    submitted_on: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    reviewed_by_fk: Mapped[int | None] = mapped_column(Integer, ForeignKey("ab_user.id"))
    reviewed_on: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    review_reason: Mapped[str | None] = mapped_column(Text)

    unit = relationship(Unit, lazy="joined")
    submitted_by = relationship("User", foreign_keys=[submitted_by_fk])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_fk])

    @property
    def data(self) -> dict:
        return json.loads(self.snapshot)

    @property
    def status_label(self) -> str:
        return str(STATES.get(self.status, self.status))

    @property
    def item_label(self) -> str:
        item = registered_items().get(self.item_key)
        return str(item.label) if item is not None else (self.item_key or "")


class SubmissionEvent(Model):
    """One step of a submission: who did what when (a submit keeps the
    snapshot of that round)."""

    __tablename__ = "qqh_submission_event"
    __qqh_personal__ = ("snapshot",)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(Integer, ForeignKey("qqh_submission.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(12), nullable=False)
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("ab_user.id"))
    username: Mapped[str | None] = mapped_column(String(256))
    at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    snapshot: Mapped[str | None] = mapped_column(Text)

    @property
    def action_label(self) -> str:
        return str(ACTIONS.get(self.action, self.action))


# -- the items -------------------------------------------------------------------------------
def registered_items(app=None) -> dict[str, ReportingItem]:
    app = app or current_app
    cached = app.extensions.get("qqh_reporting_items")
    if cached is None:
        cached = {}
        for plugin, item in app.extensions["qqh_plugins"].collect("qqh_reporting_items", "reporting item", key=lambda i: i.key):
            cached[item.key] = item
        app.extensions["qqh_reporting_items"] = cached
    return cached


def get_item(key) -> ReportingItem:
    item = registered_items().get(str(key or ""))
    if item is None:
        raise InvalidInput({"item": [gettext("There is no such reporting item.")]})
    return item


def due_dates(session, items, plan_year: int) -> dict[str, datetime.date]:
    """Each item's due date (key → date): the earliest due date of its check's year targets of
    ``plan_year``, else its own default; one query whatever the number of items."""
    from core.kpi.engine import KpiTarget

    items = list(items)
    checks = {i.check_for_due for i in items if i.check_for_due}
    first = dict(session.execute(
        select(KpiTarget.check_key, func.min(KpiTarget.due)).where(
            KpiTarget.plan_year == plan_year, KpiTarget.check_key.in_(checks), KpiTarget.period == "year")
        .group_by(KpiTarget.check_key)).all()) if checks else {}
    return {i.key: first.get(i.check_for_due) or _default_due(i, plan_year) for i in items}


def _default_due(item, plan_year) -> datetime.date:
    month, day = item.due
    return datetime.date(plan_year, month, day)


def _due_select(item, plan_year):
    from core.kpi.engine import KpiTarget

    check = item.check_for_due
    return select(func.min(KpiTarget.due)).where(
        KpiTarget.plan_year == plan_year, KpiTarget.check_key == (check or ""), KpiTarget.period == "year"
    )


# -- snapshots -------------------------------------------------------------------------------
def _json_value(v):
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, set):
        return len(v)
    if v is None or isinstance(v, (int, float, str, bool)):
        return v
    return str(v)


def _year_range(plan_year):
    return datetime.date(plan_year, 1, 1), datetime.date(plan_year, 12, 31)


def list_rows(session, item: ReportingItem, unit_id: int, plan_year: int) -> list[list]:
    """The records a LIST item reports for a unit: one query, columns only."""
    model = item.model
    start, end = _year_range(plan_year)
    date_col = getattr(model, item.date_attr)
    cols = [getattr(model, attr) for attr, _label in item.columns]
    stmt = (select(*cols).where(model.unit_id == unit_id, date_col >= start, date_col <= end)
            .order_by(sa_inspect(model).primary_key[0]))
    return [[_json_value(v) for v in row] for row in session.connection().execute(stmt)]


def figure_values(session, item: ReportingItem, unit: Unit, plan_year: int) -> list[dict]:
    """The values of a FIGURES item's checks for ``unit`` (本级 and 含下级),
    records dated up to today (or the end of the plan year)."""
    from core.kpi.engine import compute_values, registered_checks

    checks = registered_checks()
    known = {k: checks[k] for k in item.checks if k in checks}
    cutoff = min(clock.today(), datetime.date(plan_year, 12, 31))
    own: dict = {}
    values = compute_values(session, plan_year, {k: [cutoff] for k in known}, known, unit, {unit.code}, own=own)
    out = []
    for k in item.checks:
        check = known.get(k)
        out.append({
            "check": k,
            "label": str(check.label) if check else k,
            "unit_of_measure": str(check.unit_of_measure) if check else "",
            "own": _json_value(own.get((k, cutoff, unit.code), 0)) if check else None,
            "subtree": _json_value(values.get((k, cutoff, unit.code), 0)) if check else None,
        })
    return out


def build_snapshot(session, item: ReportingItem, unit: Unit, plan_year: int) -> dict:
    """What a submission freezes: the unit's rows (or figures) and, for each
    unit directly below, its state and, when approved, its approved snapshot."""
    snap: dict = {"item": item.key, "plan_year": plan_year, "unit": unit.code, "unit_name": unit.name,
                  "taken_on": clock.now().isoformat(timespec="seconds")}
    if item.kind == LIST:
        snap["columns"] = [str(label) for _attr, label in item.columns]
        snap["rows"] = list_rows(session, item, unit.id, plan_year)
    else:
        snap["figures"] = figure_values(session, item, unit, plan_year)
    children = session.execute(
        select(Unit.id, Unit.code, Unit.name, Submission.status, Submission.snapshot)
        .outerjoin(Submission, and_(Submission.unit_id == Unit.id, Submission.item_key == item.key,
                                    Submission.plan_year == plan_year))
        .where(Unit.parent_id == unit.id).order_by(Unit.code)
    ).all()
    snap["children"] = [
        {"unit": c.code, "unit_name": c.name, "status": c.status or NOT_SUBMITTED,
         "snapshot": json.loads(c.snapshot) if c.status == APPROVED else None}
        for c in children
    ]
    return snap


def snapshot_count(snap: dict) -> int:
    return len(snap.get("rows") or snap.get("figures") or ())


# -- who may do what ---------------------------------------------------------------------------
def _user_unit(session, user) -> Unit | None:
    """The unit a user acts for (a province administrator without a unit: the root)."""
    unit = getattr(user, "unit", None)
    if unit is None and user_scope(user).everything:
        from core.kpi.engine import top_unit

        unit = top_unit(session)
    return unit


def _may_write(user) -> bool:
    from core.tenancy.security import CLERK, PROVINCE_ADMIN, UNIT_ADMIN

    return bool({r.name for r in getattr(user, "roles", ())} & {CLERK, UNIT_ADMIN, PROVINCE_ADMIN})


def _event(session, sub: Submission, action: str, user, comment=None, snapshot=None) -> None:
    session.add(SubmissionEvent(submission_id=sub.id, action=action, user_id=getattr(user, "id", None),
                                username=getattr(user, "username", None), at=clock.now(), comment=comment,
                                round=sub.round, snapshot=snapshot))


def _users_of(session, unit_id) -> list[int]:
    from core.tenancy.security import QqhUser

    return list(session.execute(select(QqhUser.id).where(QqhUser.unit_id == unit_id, QqhUser.active.is_(True))).scalars())


def _link(sub: Submission) -> str:
    try:
        return url_for("ReportingView.submission", pk=sub.id)
    except Exception:  # outside a request (CLI)
        return ""


def current_submission(session, item_key: str, plan_year: int, unit_id: int) -> Submission | None:
    return session.execute(select(Submission).where(
        Submission.item_key == item_key, Submission.plan_year == plan_year, Submission.unit_id == unit_id)).scalar_one_or_none()


def parse_year(raw) -> int:
    try:
        year = int(str(raw))
    except (TypeError, ValueError):
        raise InvalidInput({"year": [gettext("The plan year must be a year between 2000 and 2100.")]}) from None
    if not 2000 <= year <= 2100:
        raise InvalidInput({"year": [gettext("The plan year must be a year between 2000 and 2100.")]})
    return year


def submit(session, item_key, plan_year, user, comment: str = "") -> Submission:
    """Submit ``item_key`` of ``plan_year`` for the user's unit to the unit
    above; commits. Refused (InvalidInput, nothing written): waiting for
    review already, approved already, no unit above, a user who may not write."""
    item = get_item(item_key)
    plan_year = parse_year(plan_year)
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise InvalidInput({"comment": [gettext("At most %(max)s characters.", max=2000)]})
    unit = _user_unit(session, user)
    if unit is None or not _may_write(user):
        raise InvalidInput(gettext("You may not submit reports."))
    if unit.parent_id is None:
        raise InvalidInput(gettext("%(unit)s has no unit above it to submit to.", unit=unit.name))
    sub = current_submission(session, item.key, plan_year, unit.id)
    if sub is not None and sub.status == SUBMITTED:
        raise InvalidInput(gettext("This report has been submitted already and is waiting for review."))
    if sub is not None and sub.status == APPROVED:
        raise InvalidInput(gettext("This report has been approved: it cannot be submitted again unless the approval is withdrawn."))
    snap = build_snapshot(session, item, unit, plan_year)
    text = json.dumps(snap, ensure_ascii=False, separators=(",", ":"))
    now = clock.now()
    if sub is None:
        sub = Submission(item_key=item.key, plan_year=plan_year, unit_id=unit.id, round=1)
        session.add(sub)
    else:
        sub.round += 1
    sub.status, sub.snapshot, sub.row_count, sub.comment = SUBMITTED, text, snapshot_count(snap), comment or None
    sub.submitted_by_fk, sub.submitted_on = getattr(user, "id", None), now
    sub.reviewed_by_fk = sub.reviewed_on = sub.review_reason = None
    session.flush()
    _event(session, sub, "submit", user, comment or None, text)
    from core.reporting.notify import notify

    notify(session, _users_of(session, unit.parent_id),
           gettext("%(unit)s submitted %(item)s %(year)s for review", unit=unit.name, item=item.label, year=plan_year),
           comment, _link(sub))
    session.commit()
    return sub


def _reviewable(session, sub_id, user) -> tuple[Submission, ReportingItem]:
    sub = session.get(Submission, sub_id) if isinstance(sub_id, int) else None
    scope = user_scope(user)
    if sub is None or not scope.contains(sub.unit):
        raise InvalidInput(gettext("Not found"))
    item = get_item(sub.item_key)
    unit = _user_unit(session, user)
    if not _may_write(user):
        raise InvalidInput(gettext("You may not review reports."))
    if unit is not None and unit.id == sub.unit_id or sub.submitted_by_fk == getattr(user, "id", None):
        raise InvalidInput(gettext("You cannot review your own unit's submission: the unit above reviews it."))
    if unit is None or sub.unit.parent_id != unit.id:
        raise InvalidInput(gettext("Only the unit directly above %(unit)s reviews its submissions.", unit=sub.unit.name))
    return sub, item


def review(session, sub_id, user, approve: bool, reason: str = "") -> Submission:
    """通过 (approve) or 退回 (return, with a reason) a submission waiting for
    review, by a user of the unit directly above; commits."""
    sub, item = _reviewable(session, sub_id, user)
    reason = (reason or "").strip()
    if sub.status != SUBMITTED:
        raise InvalidInput(gettext("Only a submission waiting for review can be approved or returned."))
    if not approve and not reason:
        raise InvalidInput({"reason": [gettext("Say why the submission is returned.")]})
    if len(reason) > 2000:
        raise InvalidInput({"reason": [gettext("At most %(max)s characters.", max=2000)]})
    sub.status = APPROVED if approve else RETURNED
    sub.reviewed_by_fk, sub.reviewed_on, sub.review_reason = getattr(user, "id", None), clock.now(), reason or None
    _event(session, sub, "approve" if approve else "return", user, reason or None)
    from core.reporting.notify import notify

    title = (gettext("%(item)s %(year)s was approved", item=item.label, year=sub.plan_year) if approve else
             gettext("%(item)s %(year)s was returned: %(reason)s", item=item.label, year=sub.plan_year, reason=reason))
    notify(session, _users_of(session, sub.unit_id), title, reason, _link(sub))
    session.commit()
    return sub


def reopen(session, sub_id, user, reason: str = "") -> Submission:
    """撤销审核: the reviewer withdraws an approval; the submission is
    returned (and its records unlocked); commits."""
    sub, item = _reviewable(session, sub_id, user)
    if sub.status != APPROVED:
        raise InvalidInput(gettext("Only an approved submission can have its approval withdrawn."))
    reason = (reason or "").strip() or gettext("Approval withdrawn")
    sub.status = RETURNED
    sub.reviewed_by_fk, sub.reviewed_on, sub.review_reason = getattr(user, "id", None), clock.now(), reason
    _event(session, sub, "reopen", user, reason)
    from core.reporting.notify import notify

    notify(session, _users_of(session, sub.unit_id),
           gettext("The approval of %(item)s %(year)s was withdrawn", item=item.label, year=sub.plan_year), reason, _link(sub))
    session.commit()
    return sub


def visible_submission(session, sub_id, scope) -> Submission | None:
    sub = session.get(Submission, sub_id) if isinstance(sub_id, int) else None
    if sub is None or not Scope.of(scope).contains(sub.unit):
        return None
    return sub


def events_of(session, sub: Submission) -> list[SubmissionEvent]:
    return list(session.execute(select(SubmissionEvent).where(SubmissionEvent.submission_id == sub.id)
                                .order_by(SubmissionEvent.id)).scalars())


# -- the table of one item over all units -------------------------------------------------------
@dataclass
class TableRow:
    unit_id: int
    code: str
    name: str
    level: str
    depth: int
    state: str
    submission_id: int | None
    submitted_on: datetime.datetime | None
    reviewed_on: datetime.datetime | None
    row_count: int | None

    @property
    def state_label(self) -> str:
        return str(STATES[self.state])

    def as_dict(self) -> dict:
        return {"unit": self.code, "unit_name": self.name, "level": self.level, "state": self.state,
                "state_label": self.state_label, "submission": self.submission_id, "rows": self.row_count,
                "submitted_on": self.submitted_on.isoformat() if self.submitted_on else None,
                "reviewed_on": self.reviewed_on.isoformat() if self.reviewed_on else None}


def state_table(session, item: ReportingItem, plan_year: int, root: Unit, today: datetime.date | None = None,
                depth: int | None = None) -> tuple[datetime.date, list[TableRow]]:
    """Every unit below ``root`` (``depth`` levels; None: all) with its state
    for the item and year, and the due date: ONE statement."""
    today = today or clock.today()
    due_col = _due_select(item, plan_year).scalar_subquery().label("due")
    stmt = (
        select(Unit.id, Unit.code, Unit.name, Unit.level, Unit.depth, Submission.id.label("sid"), Submission.status,
               Submission.submitted_on, Submission.reviewed_on, Submission.row_count, due_col)
        .outerjoin(Submission, and_(Submission.unit_id == Unit.id, Submission.item_key == item.key,
                                    Submission.plan_year == plan_year))
        .where(subtree_of(root.path), Unit.id != root.id)
        .order_by(Unit.path)
    )
    if depth is not None:
        stmt = stmt.where(Unit.depth <= root.depth + depth)
    rows = session.connection().execute(stmt).all()
    due = (rows[0].due if rows and rows[0].due else None) or _default_due(item, plan_year)
    if isinstance(due, str):  # SQLite answers a scalar subquery's date as text
        due = datetime.date.fromisoformat(due)
    out = []
    for r in rows:
        state = r.status or (OVERDUE if today > due else NOT_SUBMITTED)
        out.append(TableRow(r.id, r.code, r.name, r.level, r.depth, state, r.sid, r.submitted_on, r.reviewed_on, r.row_count))
    return due, out


def remind_late(session, item: ReportingItem, plan_year: int, root: Unit, user=None) -> int:
    """Notify the users of every unit below ``root`` that is overdue (or whose
    submission was returned). Returns the number of units reminded; commits."""
    due, rows = state_table(session, item, plan_year, root)
    late = [r.unit_id for r in rows if r.state in (OVERDUE, RETURNED)]
    if not late:
        return 0
    from core.reporting.notify import notify
    from core.tenancy.security import QqhUser

    users = []
    for i in range(0, len(late), 500):
        users += session.execute(select(QqhUser.id).where(QqhUser.unit_id.in_(late[i:i + 500]), QqhUser.active.is_(True))).scalars().all()
    from core.values.validators import format_date_zh

    try:
        link = url_for("ReportingView.mine", item=item.key, year=plan_year)
    except Exception:
        link = ""
    notify(session, users, gettext("Reminder: submit %(item)s %(year)s (due %(date)s)", item=item.label, year=plan_year,
                                   date=format_date_zh(due)), "", link)
    from core.audit.trail import log_event

    session.commit()
    log_event("reporting_remind", detail={"item": item.key, "year": plan_year, "units": len(late)})
    return len(late)


# -- export -------------------------------------------------------------------------------------
def snapshot_xlsx(sub: Submission, item: ReportingItem) -> bytes:
    """The snapshot exactly as submitted: the unit's sheet, then one sheet per
    approved unit below it carried along."""
    from openpyxl import Workbook

    from core.excel.workbooks import save_workbook

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()

    def sheet(snap: dict):
        title = (snap.get("unit_name") or snap.get("unit") or "?")[:28]
        while title in used:
            title = title[:26] + "_" + str(len(used))
        used.add(title)
        ws = wb.create_sheet(title)
        ws.append([f"{item.label} {snap.get('plan_year')} · {snap.get('unit_name')}（{snap.get('unit')}）"])
        if "rows" in snap:
            ws.append(list(snap.get("columns") or ()))
            for row in snap["rows"]:
                ws.append(list(row))
        else:
            ws.append([gettext("Check"), gettext("Unit of measure"), gettext("Own records only"), gettext("Including the units below")])
            for f in snap.get("figures") or ():
                ws.append([f["label"], f["unit_of_measure"], f["own"], f["subtree"]])
        if snap.get("children"):
            ws.append([])
            ws.append([gettext("Units below"), gettext("State")])
            for c in snap["children"]:
                ws.append([c["unit_name"], str(STATES.get(c["status"], c["status"]))])
        for c in snap.get("children") or ():
            if c.get("snapshot"):
                sheet(c["snapshot"])

    sheet(sub.data)
    return save_workbook(wb)


# -- what counts "as approved" ------------------------------------------------------------------
def approved_figures(session, plan_year: int, check_keys, unit_ids=None) -> dict[tuple[str, int], dict]:
    """{(check key, unit id): {"own": .., "subtree": ..}} from the approved
    submissions of FIGURES items that report those checks: one query."""
    items = [i for i in registered_items().values() if i.kind == FIGURES and set(i.checks) & set(check_keys)]
    if not items:
        return {}
    stmt = select(Submission.unit_id, Submission.snapshot).where(
        Submission.status == APPROVED, Submission.plan_year == plan_year,
        Submission.item_key.in_([i.key for i in items]))
    if unit_ids is not None:
        stmt = stmt.where(Submission.unit_id.in_(list(unit_ids)))
    out = {}
    for unit_id, text in session.execute(stmt):
        for f in json.loads(text).get("figures") or ():
            if f["check"] in check_keys and f.get("own") is not None:
                out[(f["check"], unit_id)] = {"own": f["own"], "subtree": f["subtree"]}
    return out


# -- locking ------------------------------------------------------------------------------------
def _lock_items_of(model) -> list[ReportingItem]:
    if not has_app_context() or "qqh_plugins" not in current_app.extensions:
        return []
    return [i for i in registered_items().values() if i.locking and i.kind == LIST and i.model is model]


def _locks(session, keys: tuple[str, ...]) -> list[tuple[str, int, str]]:
    """(item key, plan year, unit path) of the approved submissions of
    ``keys``, read once per transaction."""
    from core.tenancy.locks import unwritten

    box = unwritten(session, "qqh_reporting_locks")
    if keys not in box:
        box[keys] = session.execute(
            select(Submission.item_key, Submission.plan_year, Unit.path).join(Unit, Unit.id == Submission.unit_id)
            .where(Submission.status == APPROVED, Submission.item_key.in_(keys))
        ).all()
    return box[keys]


def _values(item_obj, attr):
    """The current and the stored value of ``attr`` (what an edit changes from)."""
    state = sa_inspect(item_obj)
    if attr not in state.attrs:
        return []
    hist = state.attrs[attr].history
    return [v for v in list(hist.added or ()) + list(hist.deleted or ()) + list(hist.unchanged or ())]


def _unit_paths(session, obj) -> list[str]:
    paths = []
    for u in _values(obj, "unit"):
        if u is not None and u.path:
            paths.append(u.path)
    for uid in _values(obj, "unit_id"):
        if uid is not None:
            u = session.get(Unit, uid)
            if u is not None:
                paths.append(u.path)
    return paths


def locked_by(session, obj) -> tuple[ReportingItem, int, str] | None:
    """The approved submission (item, year, unit path) that locks ``obj``, if any."""
    cache = batch_cache(session)  # an import checking its rows: the model's items looked up once for the batch
    if cache is None:
        items = _lock_items_of(type(obj))
    else:
        by_model = cache.setdefault("reporting_lock_items", {})
        if type(obj) not in by_model:
            by_model[type(obj)] = _lock_items_of(type(obj))
        items = by_model[type(obj)]
    if not items:
        return None
    with session.no_autoflush:
        locks = _locks(session, tuple(sorted(i.key for i in items)))
        if not locks:
            return None
        by_key = {i.key: i for i in items}
        paths = _unit_paths(session, obj)
        for key, year, path in locks:
            item = by_key[key]
            years = {d.year for d in _values(obj, item.date_attr) if isinstance(d, datetime.date)}
            if year in years and any(p.startswith(path) for p in paths):
                return item, year, path
    return None


def locked_message(session, lock) -> str:
    item, year, path = lock
    unit = session.execute(select(Unit.name).where(Unit.path == path)).scalar() or path
    return gettext("%(item)s %(year)s of %(unit)s has been approved: its records are locked and cannot be changed "
                   "until the approval is withdrawn (撤销审核).", item=item.label, year=year, unit=unit)


def check_write(session, obj, errors: dict) -> None:
    """A checked add or edit (pages, API, import): refused when locked."""
    lock = locked_by(session, obj)
    if lock is not None:
        errors.setdefault("_", []).append(locked_message(session, lock))


@event.listens_for(Session, "before_flush")
def _guard_locked(session, _context, _instances) -> None:
    """Whatever writes (a delete, a script): a locked record is not changed."""
    if not has_app_context() or "qqh_plugins" not in current_app.extensions:
        return
    models = {i.model for i in registered_items().values() if i.locking and i.kind == LIST}
    if not models:
        return
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if type(obj) in models and (obj in session.deleted or obj in session.new or session.is_modified(obj)):
            lock = locked_by(session, obj)
            if lock is not None:
                raise InvalidInput(locked_message(session, lock))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_locks(session) -> None:
    session.info.pop("qqh_reporting_locks", None)


# -- to-do (wired into the to-do list by the lead) ---------------------------------------------
def todo_items(user) -> list[dict]:
    """The user's reporting to-dos: submissions waiting for my review, my
    returned submissions, my unit's reporting deadlines (not yet submitted),
    unread notifications. Each {"kind", "title", "url", "due", "count"}."""
    from core.reporting.notify import unread_count

    session = current_app.appbuilder.session
    out: list[dict] = []
    unit = _user_unit(session, user) if user is not None else None
    items = registered_items()
    if unit is not None and _may_write(user):
        waiting = session.execute(
            select(func.count(Submission.id)).join(Unit, Unit.id == Submission.unit_id)
            .where(Unit.parent_id == unit.id, Submission.status == SUBMITTED)).scalar()
        if waiting:
            out.append({"kind": "reporting_review", "title": gettext("Submissions waiting for my review"),
                        "url": url_for("ReportingView.reviews"), "due": None, "count": waiting})
        mine = session.execute(select(Submission.item_key, Submission.plan_year, Submission.status).where(
            Submission.unit_id == unit.id)).all()
        returned = [m for m in mine if m.status == RETURNED]
        if returned:
            out.append({"kind": "reporting_returned", "title": gettext("My returned submissions"),
                        "url": url_for("ReportingView.mine"), "due": None, "count": len(returned)})
        if unit.parent_id is not None:
            year = clock.today().year
            done = {(m.item_key, m.plan_year) for m in mine if m.status in (SUBMITTED, APPROVED)}
            due = [item for item in items.values() if (item.key, year) not in done]
            dues = due_dates(session, due, year)
            for item in due:
                out.append({"kind": "reporting_due", "title": gettext("Submit %(item)s %(year)s", item=item.label, year=year),
                            "url": url_for("ReportingView.mine", year=year), "due": dues[item.key], "count": 1})
    n = unread_count(session, getattr(user, "id", None))
    if n:
        out.append({"kind": "messages", "title": gettext("Unread messages"), "url": url_for("MessagesView.mine"),
                    "due": None, "count": n})
    return out


from core.tenancy.records import WRITE_CHECKS  # noqa: E402

if check_write not in WRITE_CHECKS:
    WRITE_CHECKS.append(check_write)
