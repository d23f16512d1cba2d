"""Pages and REST API of the reporting loop (core/reporting/reports.py)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select

from core.values import clock
from core.reporting import reports as rep
from core.excel.workbooks import XLSX_MIME
from core.tenancy.scope import InvalidInput, current_scope, current_user
from core.tenancy.units import Unit

CATEGORY, CATEGORY_LABEL = "Reporting", _l("Reporting")


def _year(raw) -> int:
    try:
        return rep.parse_year(raw) if raw else clock.today().year
    except InvalidInput:
        return clock.today().year


def _table_root(session, raw_code):
    """The unit whose table is shown: the user's (or one below it)."""
    user = current_user()
    root = rep._user_unit(session, user)
    if raw_code and root is not None:
        unit = session.execute(select(Unit).where(Unit.code == str(raw_code))).scalar_one_or_none()
        if unit is not None and current_scope().contains(unit):
            root = unit
    return root


def _xlsx(sub, item) -> Response:
    data = rep.snapshot_xlsx(sub, item)
    name = f"report-{sub.item_key}-{sub.plan_year}-{sub.unit.code}-r{sub.round}.xlsx"
    return Response(data, mimetype=XLSX_MIME, headers={"Content-Disposition": f'attachment; filename="{name}"'})


class ReportingView(BaseView):
    """报送: my unit's reports, reviews, the table of one item, a submission."""

    route_base = "/reporting"
    default_view = "mine"
    class_permission_name = "Reporting"

    def _unit(self):
        return rep._user_unit(self.appbuilder.session, current_user())

    @expose("/")
    @has_access
    @permission_name("list")
    def mine(self):
        session = self.appbuilder.session
        year = _year(request.args.get("year"))
        unit = self._unit()
        items = list(rep.registered_items().values())
        subs = {}
        if unit is not None:
            for s in session.execute(select(rep.Submission).where(rep.Submission.unit_id == unit.id,
                                                                  rep.Submission.plan_year == year)).scalars():
                subs[s.item_key] = s
        dues = rep.due_dates(session, items, year)
        return self.render_template("qqh/reporting/mine.html", year=year, unit=unit, items=items, subs=subs, dues=dues,
                                    today=clock.today(), states=rep.STATES, css=rep.STATE_CSS)

    @expose("/reviews")
    @has_access
    @permission_name("list")
    def reviews(self):
        session = self.appbuilder.session
        unit = self._unit()
        subs = []
        if unit is not None:
            subs = list(session.execute(
                select(rep.Submission).join(Unit, Unit.id == rep.Submission.unit_id)
                .where(Unit.parent_id == unit.id, rep.Submission.status == rep.SUBMITTED)
                .order_by(rep.Submission.submitted_on)).scalars())
        return self.render_template("qqh/reporting/reviews.html", subs=subs, items=rep.registered_items())

    @expose("/table")
    @has_access
    @permission_name("list")
    def table(self):
        session = self.appbuilder.session
        items = rep.registered_items()
        key = request.args.get("item") or next(iter(items), None)
        item = items.get(key or "")
        year = _year(request.args.get("year"))
        root = _table_root(session, request.args.get("unit"))
        if item is None or root is None:
            return self.render_template("qqh/reporting/table.html", item=None, items=items, year=year, rows=[], root=root,
                                        counts={}, due=None, states=rep.STATES, css=rep.STATE_CSS)
        due, rows = rep.state_table(session, item, year, root)
        counts = {s: 0 for s in rep.STATES}
        for r in rows:
            counts[r.state] += 1
        return self.render_template("qqh/reporting/table.html", item=item, items=items, year=year, rows=rows, root=root,
                                    counts=counts, due=due, states=rep.STATES, css=rep.STATE_CSS)

    @expose("/submission/<int:pk>")
    @has_access
    @permission_name("show")
    def submission(self, pk):
        session = self.appbuilder.session
        sub = rep.visible_submission(session, pk, current_scope())
        if sub is None:
            abort(404)
        item = rep.registered_items().get(sub.item_key)
        if item is None:
            abort(404)
        unit = self._unit()
        user = current_user()
        may_write = rep._may_write(user)
        reviewer = may_write and unit is not None and sub.unit.parent_id == unit.id and sub.submitted_by_fk != user.id
        owner = may_write and unit is not None and unit.id == sub.unit_id
        return self.render_template("qqh/reporting/submission.html", sub=sub, item=item, snap=sub.data,
                                    events=rep.events_of(session, sub), reviewer=reviewer, owner=owner,
                                    states=rep.STATES, css=rep.STATE_CSS)

    @expose("/submission/<int:pk>/xlsx")
    @has_access
    @permission_name("export")
    def export(self, pk):
        sub = rep.visible_submission(self.appbuilder.session, pk, current_scope())
        item = rep.registered_items().get(sub.item_key) if sub is not None else None
        if item is None:
            abort(404)
        return _xlsx(sub, item)

    def _do(self, fn, done, back):
        session = self.appbuilder.session
        try:
            result = fn(session)
        except InvalidInput as exc:
            session.rollback()
            flash(str(exc), "danger")
        else:
            flash(done(result) if callable(done) else done, "success")
        return redirect(back)

    @expose("/submit", methods=["POST"])
    @has_access
    @permission_name("post")
    def submit(self):
        f = request.form
        return self._do(lambda s: rep.submit(s, f.get("item"), f.get("year"), current_user(), f.get("comment", "")),
                        gettext("Submitted to the unit above for review."),
                        url_for("ReportingView.mine", year=_year(f.get("year"))))

    @expose("/review/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("post")
    def review(self, pk):
        f = request.form
        approve = f.get("decision") == "approve"
        return self._do(lambda s: rep.review(s, pk, current_user(), approve, f.get("reason", "")),
                        gettext("Approved.") if approve else gettext("Returned to the unit."),
                        url_for("ReportingView.submission", pk=pk))

    @expose("/reopen/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("post")
    def reopen(self, pk):
        return self._do(lambda s: rep.reopen(s, pk, current_user(), request.form.get("reason", "")),
                        gettext("The approval is withdrawn: the unit can correct and submit again."),
                        url_for("ReportingView.submission", pk=pk))

    @expose("/remind", methods=["POST"])
    @has_access
    @permission_name("post")
    def remind(self):
        f = request.form
        year = _year(f.get("year"))

        def run(s):
            root = _table_root(s, f.get("unit"))
            if root is None:
                raise InvalidInput(gettext("Not found"))
            return rep.remind_late(s, rep.get_item(f.get("item")), year, root, current_user())

        return self._do(run, lambda n: gettext("%(n)s late unit(s) reminded.", n=n),
                        url_for("ReportingView.table", item=f.get("item"), year=year, unit=f.get("unit") or None))


class ReportingApi(BaseApi):
    resource_name = "reporting"
    class_permission_name = "Reporting"
    allow_browser_login = True
    openapi_spec_tag = "Reporting"

    def _run(self, fn, status=200):
        session = self.appbuilder.session
        try:
            return self.response(status, **fn(session))
        except InvalidInput as exc:
            session.rollback()
            if exc.messages.get("_") == [gettext("Not found")]:
                return self.response_404()
            return self.response_422(message=exc.messages)

    @staticmethod
    def _payload() -> dict:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise InvalidInput(gettext("Send the parameters as a JSON object."))
        return data

    @staticmethod
    def _sub_json(sub, events=None) -> dict:
        out = {"id": sub.id, "item": sub.item_key, "year": sub.plan_year, "unit": sub.unit.code, "status": sub.status,
               "status_label": sub.status_label, "round": sub.round, "rows": sub.row_count, "comment": sub.comment,
               "review_reason": sub.review_reason, "submitted_on": sub.submitted_on.isoformat(),
               "reviewed_on": sub.reviewed_on.isoformat() if sub.reviewed_on else None}
        if events is not None:
            out["snapshot"] = sub.data
            out["history"] = [{"action": e.action, "action_label": e.action_label, "user": e.username,
                               "at": e.at.isoformat(), "comment": e.comment, "round": e.round} for e in events]
        return out

    @api_expose("/items", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def items(self):
        """The reporting items and their due dates for a year.
        ---
        get:
          parameters:
          - {in: query, name: year, schema: {type: integer}}
          responses:
            200:
              description: the items
            422:
              description: not a plan year
        """
        def run(s):
            raw = request.args.get("year")
            year = rep.parse_year(raw) if raw is not None else clock.today().year
            items = rep.registered_items().values()
            dues = rep.due_dates(s, items, year)
            return {"year": year, "result": [
                {"key": i.key, "label": str(i.label), "kind": i.kind, "locking": i.locking,
                 "due": dues[i.key].isoformat()} for i in items]}

        return self._run(run)

    @api_expose("/table", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def table(self):
        """Every unit below mine (or ``unit``) with its state for one item and year.
        ---
        get:
          parameters:
          - {in: query, name: item, required: true, schema: {type: string}}
          - {in: query, name: year, required: true, schema: {type: integer}}
          - {in: query, name: unit, schema: {type: string}}
          responses:
            200:
              description: the states
            404:
              description: no such unit
            422:
              description: no such item, or not a plan year
        """
        def run(s):
            item = rep.get_item(request.args.get("item"))
            year = rep.parse_year(request.args.get("year"))
            root = _table_root(s, request.args.get("unit"))
            if root is None:
                raise InvalidInput(gettext("Not found"))
            due, rows = rep.state_table(s, item, year, root)
            return {"item": item.key, "year": year, "unit": root.code, "due": due.isoformat(),
                    "result": [r.as_dict() for r in rows]}

        return self._run(run)

    @api_expose("/submission/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get_submission(self, pk):
        """A submission: its state, frozen snapshot and history.
        ---
        get:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: the submission
            404:
              description: not found
        """
        s = self.appbuilder.session
        sub = rep.visible_submission(s, pk, current_scope())
        if sub is None:
            return self.response_404()
        return self.response(200, **self._sub_json(sub, rep.events_of(s, sub)))

    @api_expose("/submission/<int:pk>/xlsx", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get_xlsx(self, pk):
        """The snapshot exactly as submitted, as an Excel workbook.
        ---
        get:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: an .xlsx file
        """
        sub = rep.visible_submission(self.appbuilder.session, pk, current_scope())
        item = rep.registered_items().get(sub.item_key) if sub is not None else None
        if item is None:
            return self.response_404()
        return _xlsx(sub, item)

    @api_expose("/submit", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def submit(self):
        """Submit an item of a year for my unit: ``{"item", "year", "comment"}``.
        ---
        post:
          responses:
            201:
              description: submitted
            422:
              description: refused (submitted already, approved, ...)
        """
        def run(s):
            p = self._payload()
            return self._sub_json(rep.submit(s, p.get("item"), p.get("year"), current_user(), str(p.get("comment") or "")))

        return self._run(run, 201)

    @api_expose("/review/<int:pk>", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def review(self, pk):
        """Approve or return a submission: ``{"decision": "approve"|"return", "reason"}``.
        ---
        post:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: reviewed
            422:
              description: refused
        """
        def run(s):
            p = self._payload()
            decision = p.get("decision")
            if decision not in ("approve", "return"):
                raise InvalidInput({"decision": [gettext("Choose approve or return.")]})
            return self._sub_json(rep.review(s, pk, current_user(), decision == "approve", str(p.get("reason") or "")))

        return self._run(run)

    @api_expose("/reopen/<int:pk>", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def reopen(self, pk):
        """Withdraw an approval (撤销审核): ``{"reason"}``.
        ---
        post:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: withdrawn
        """
        def run(s):
            p = request.get_json(silent=True) or {}
            return self._sub_json(rep.reopen(s, pk, current_user(), str(p.get("reason") or "") if isinstance(p, dict) else ""))

        return self._run(run)

    @api_expose("/remind", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def remind(self):
        """Remind the late units below mine: ``{"item", "year"}``.
        ---
        post:
          responses:
            200:
              description: how many units were reminded
        """
        def run(s):
            p = self._payload()
            item = rep.get_item(p.get("item"))
            year = rep.parse_year(p.get("year"))
            root = _table_root(s, p.get("unit"))
            if root is None:
                raise InvalidInput(gettext("Not found"))
            return {"reminded": rep.remind_late(s, item, year, root, current_user())}

        return self._run(run)


def register(appbuilder) -> None:
    common = dict(category=CATEGORY, category_label=CATEGORY_LABEL, category_icon="fa-paper-plane")
    appbuilder.add_view(ReportingView, "My reports", label=_l("My reports"), icon="fa-upload", **common)
    appbuilder.add_link("Reviews", href="/reporting/reviews", label=_l("Waiting for my review"), icon="fa-check-square-o", **common)
    appbuilder.add_link("Reporting table", href="/reporting/table", label=_l("Reporting status of the units below"),
                        icon="fa-table", **common)
    appbuilder.add_api(ReportingApi)
