"""KPI dashboard, targets, report API and the December assessment pages."""

from __future__ import annotations

import datetime
import json
import unicodedata

import click
from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l
from jinja2.utils import htmlsafe_json_dumps
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from wtforms import IntegerField, SelectField
from wtforms.validators import Optional
from wtforms.fields.choices import SelectChoice

from core import assessment as asm
from core import clock, kpi
from core import kpi_present as present
from core.scoping import InvalidInput, ScopedInterface, ScopedModelRestApi, current_scope, current_user
from core.units import Unit
from core.validators import ValidationError, format_date_zh, parse_date
from core.views import HomeView

CATEGORY = "Progress"
CATEGORY_LABEL = _l("Progress and assessment")
# writes to targets, indicators and the assessment: province administrators
# only (the other roles' permission patterns do not match "can_manage")
MANAGE = "manage"

TARGET_LABELS = {
    "plan_year": _l("Plan year"),
    "check_key": _l("Check"),
    "check_label": _l("Check"),
    "tier": _l("Tier"),
    "tier_label": _l("Tier"),
    "threshold": _l("Threshold"),
    "due": _l("Due"),
    "period": _l("Period"),
    "period_label": _l("Period"),
    "scope": _l("Records counted"),
    "scope_label": _l("Records counted"),
    "first_quarter": _l("First quarter that counts"),
    "counts": _l("Counts"),
}
INDICATOR_LABELS = {
    "plan_year": _l("Plan year"),
    "key": _l("Key"),
    "label": _l("Indicator"),
    "check_key": _l("Check"),
    "check_label": _l("Check"),
    "weight": _l("Weight"),
    "method": _l("Scoring"),
    "method_label": _l("Scoring"),
    "target": _l("Target (empty: the unit's KPI target)"),
    "position": _l("Order"),
}


class BadRequest(ValueError):
    """A request parameter is wrong; the message says how to write it."""


# -- who asks for which unit --------------------------------------------------------------
def parse_year(raw, required: bool = True) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise BadRequest(gettext("Give the plan year, e.g. year=2012."))
        return None
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise BadRequest(gettext("The plan year must be a four-digit year between 2000 and 2100, e.g. year=2012."))
    return int(raw)


def parse_as_of(raw, plan_year: int) -> datetime.date:
    raw = (raw or "").strip()
    if not raw:
        return kpi.default_as_of(plan_year)
    try:
        day = parse_date(raw)
    except ValidationError as exc:
        raise BadRequest(gettext("The as-of date is not a date: %(error)s", error=str(exc))) from None
    if day is None or not 2000 <= day.year <= 2100:
        raise BadRequest(gettext("The as-of date must be a date such as 2012-03-31."))
    return day


def scoped_unit(session, code: str | None) -> Unit:
    """The unit asked for, if the current user may see it (else NotFound);
    without a code, the user's own unit (the province for administrators)."""
    scope = current_scope()
    if scope.nothing:
        raise NotFound()
    code = (code or "").strip()
    if not code:
        user = current_user()
        unit = getattr(user, "unit", None) if user is not None else None
        if unit is None:
            unit = kpi.top_unit(session)
    else:
        unit = session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if unit is None or not scope.contains(unit):
        raise NotFound()
    return unit


# -- the dashboard --------------------------------------------------------------------
def dashboard_data(report: kpi.Report) -> dict:
    """Table and chart data: the root's children × target columns. Columns
    whose every cell is "not applicable" (module not installed) are listed
    apart instead of filling the table with grey."""
    root = report.root
    children = [u for u in report.units if u.depth == root.depth + 1]
    columns: dict[tuple[str, str], dict] = {}
    cells: dict[tuple[int, tuple[str, str]], list] = {}
    for r in report.rows:
        col = (r.target.check_key, r.target.period)
        if col not in columns:
            columns[col] = {
                "key": f"{col[0]}:{col[1]}", "check": col[0], "label": r.label, "uom": r.unit_of_measure,
                "quarterly": col[1] == "quarter", "counts": {s: 0 for s in kpi.STATUSES}, "applicable": False,
                "for_children": False,
            }
        cells.setdefault((r.unit.id, col), []).append(r)
        if r.status != kpi.NOT_APPLICABLE:
            columns[col]["applicable"] = True
        if r.unit.id != root.id:
            columns[col]["counts"][r.status] += 1
            columns[col]["for_children"] = True
    ordered = sorted(columns, key=lambda c: (kpi.check_order(c[0]), c[1]))
    cols = [columns[c] | {"id": c} for c in ordered if columns[c]["applicable"]]
    na_cols = [columns[c] for c in ordered if not columns[c]["applicable"]]
    lines = []
    for u in [root] + children:
        lines.append({"unit": u, "is_root": u.id == root.id, "cells": [cells.get((u.id, c["id"]), []) for c in cols]})
    chart = {
        "units": [u.name for u in children],
        "codes": [u.code for u in children],
        "statusLabels": {k: str(v) for k, v in kpi.STATUSES.items()},
        "colours": kpi.STATUS_COLOURS,
        "text": {
            "value": gettext("Value"), "target": gettext("Target"), "units": gettext("units"),
            "quarterly": gettext("every quarter"),
        },
        "columns": [],
    }
    for i, c in enumerate(cols):
        if not c["for_children"]:
            continue
        values, targets, statuses = [], [], []
        for line in lines[1:]:
            rs = line["cells"][i]
            values.append(rs[0].value if rs else None)
            targets.append(rs[0].threshold if rs else None)
            statuses.append(rs[0].status if rs else None)
        chart["columns"].append(
            {"key": c["key"], "label": c["label"], "uom": c["uom"], "quarterly": c["quarterly"], "values": values,
             "targets": targets, "statuses": statuses, "counts": c["counts"]}
        )
    return {"columns": cols, "na_columns": na_cols, "lines": lines, "children": children, "chart": chart}


def breadcrumbs(session, unit: Unit) -> list[Unit]:
    """The units from the user's own unit down to ``unit`` (one query)."""
    scope = current_scope()
    codes = [c for c in unit.path.split("/") if c]
    units = session.execute(select(Unit).where(Unit.code.in_(codes)).order_by(Unit.depth)).scalars()
    return [u for u in units if scope.contains(u)]


class DashboardView(HomeView):
    """The landing page: the user's unit, its children × targets as traffic
    lights, charts, drill-down and export. Anonymous users get the login prompt."""

    dashboard_template = "qqh/dashboard.html"

    @expose("/")
    def index(self):
        user = current_user()
        if user is None:
            return super().index()
        self.update_redirect()
        session = self.appbuilder.session
        years = kpi.plan_years(session)
        try:
            year = parse_year(request.args.get("year"), required=False) or kpi.default_plan_year(session)
            as_of = parse_as_of(request.args.get("as_of"), year)
        except BadRequest as exc:
            flash(str(exc), "warning")
            year = kpi.default_plan_year(session)
            as_of = kpi.default_as_of(year)
        try:
            unit = scoped_unit(session, request.args.get("unit"))
        except NotFound:
            if not request.args.get("unit"):
                return super().index()  # a user without any unit sees the plain home page
            abort(404)
        report = kpi.evaluate(session, year, unit, as_of)
        data = dashboard_data(report)
        sort = present.rank_lines(data["lines"], data["columns"], (request.args.get("sort") or "code").strip())
        after_due = present.after_due(session, report)
        drill = url_for("DashboardView.index", unit="QQHUNIT", year=year, as_of=as_of.isoformat())
        rows_html = present.table_rows_html(data["lines"], after_due, kpi.SCOPES, drill, "QQHUNIT")
        year_end = datetime.date(year, 12, 31)
        year_over = clock.today() > year_end
        return self.render_template(
            self.dashboard_template,
            user=user,
            unit=unit,
            year=year,
            years=sorted(set(years) | {year}),
            as_of=as_of,
            year_over=year_over,
            year_end_text=format_date_zh(year_end),
            report=report,
            data=data,
            sort=sort,
            rows_html=rows_html,
            crumbs=breadcrumbs(session, unit),
            statuses=kpi.STATUSES,
            status_help=kpi.STATUS_HELP,
            css=kpi.STATUS_CSS,
            chart_json=htmlsafe_json_dumps(data["chart"], dumps=json.dumps, ensure_ascii=False),
        )


# -- REST: the report --------------------------------------------------------------------
class KpiApi(BaseApi):
    resource_name = "kpi"
    class_permission_name = "Kpi"
    allow_browser_login = True
    openapi_spec_tag = "KPI"

    def _report(self):
        session = self.appbuilder.session
        year = parse_year(request.args.get("year"))
        as_of = parse_as_of(request.args.get("as_of"), year)
        unit = scoped_unit(session, request.args.get("unit"))
        return kpi.evaluate(session, year, unit, as_of)

    def _guarded(self, fn):
        try:
            return fn(self._report())
        except BadRequest as exc:
            return self.response_400(message=str(exc))
        except NotFound:
            return self.response(404, message=gettext("No unit of yours has this code."))

    @api_expose("/report", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def report(self):
        """KPI status of a unit and its children: value, target, due date and
        status (met, in_progress, overdue, n_a) of every target of the year.
        ---
        get:
          parameters:
          - {in: query, name: year, required: true, schema: {type: integer}}
          - {in: query, name: unit, schema: {type: string}, description: unit code (default your unit)}
          - {in: query, name: as_of, schema: {type: string, format: date}}
          responses:
            200:
              description: one row per unit and target
            400:
              description: a parameter is wrong
            404:
              description: the unit is not in your subtree
        """

        def answer(rep):
            return self.response(
                200, year=rep.plan_year, unit=rep.root.code, unit_name=rep.root.name, as_of=rep.as_of.isoformat(),
                result=rep.as_dicts(),
            )

        return self._guarded(answer)

    @api_expose("/report/xlsx", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def report_xlsx(self):
        """The same report as an Excel workbook.
        ---
        get:
          parameters:
          - {in: query, name: year, required: true, schema: {type: integer}}
          - {in: query, name: unit, schema: {type: string}}
          - {in: query, name: as_of, schema: {type: string, format: date}}
          responses:
            200:
              description: an .xlsx file
        """

        def answer(rep):
            return _xlsx_response(kpi.report_xlsx(rep), f"kpi-{rep.plan_year}-{rep.root.code}-{rep.as_of.isoformat()}.xlsx")

        return self._guarded(answer)

    @api_expose("/checks", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def checks(self):
        """The registered KPI checks.
        ---
        get:
          responses:
            200:
              description: key, label, unit of measure and roll-up of every check
        """
        rows = [
            {"key": c.key, "label": str(c.label), "unit_of_measure": str(c.unit_of_measure), "rollup": c.rollup}
            for c in kpi.registered_checks().values()
        ]
        return self.response(200, result=rows)


def _xlsx_response(data: bytes, filename: str):
    import io

    return send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=filename,
    )


# -- targets: pages and REST ---------------------------------------------------------------
def _check_choices():
    keys = sorted(kpi.registered_checks(), key=lambda k: kpi.check_order(k)[0])  # the notice's first, then as registered
    return [(k, f"{kpi.check_label(k)}（{k}）") for k in keys]


class _DynamicSelect(SelectField):
    """A select whose choices are made at request time (in the user's
    language; check keys include those of the enabled plugins)."""

    def __init__(self, label, make_choices, **kwargs):
        super().__init__(label, choices=[], widget=Select2Widget(), **kwargs)
        self._make_choices = make_choices

    def _refresh(self):
        self.choices = [SelectChoice(k, str(v)) for k, v in self._make_choices()]

    def iter_choices(self):
        self._refresh()
        return super().iter_choices()

    def pre_validate(self, form):
        self._refresh()
        return super().pre_validate(form)


def _check_field(label):
    return _DynamicSelect(label, _check_choices)


def _choice_field(label, choices: dict, **kwargs):
    return _DynamicSelect(label, lambda: choices.items(), **kwargs)


class KpiTargetView(ModelView):
    datamodel = ScopedInterface(kpi.KpiTarget)
    class_permission_name = "KpiTarget"
    method_permission_name = {"add": MANAGE, "edit": MANAGE, "delete": MANAGE}
    list_title = _l("KPI targets")
    show_title = _l("KPI target")
    add_title = _l("Add KPI target")
    edit_title = _l("Edit KPI target")
    list_columns = ["plan_year", "check_label", "tier_label", "threshold", "due", "period_label", "scope_label"]
    add_columns = ["plan_year", "check_key", "tier", "threshold", "due", "period", "scope", "first_quarter", "counts"]
    edit_columns = add_columns
    show_columns = [
        "plan_year", "check_label", "check_key", "tier_label", "threshold", "due", "period_label", "scope_label",
        "first_quarter", "counts",
    ]
    search_columns = ["plan_year", "check_key", "tier", "period"]
    order_columns = ["plan_year", "check_key", "tier", "due"]
    base_order = ("plan_year", "desc")
    label_columns = TARGET_LABELS
    page_size = 50

    def __init__(self, **kwargs):
        fields = {
            "check_key": _check_field(_l("Check")),
            "tier": _choice_field(_l("Tier"), kpi.TARGET_TIERS),
            "period": _choice_field(_l("Period"), kpi.PERIODS),
            "scope": _choice_field(_l("Records counted"), kpi.SCOPES, default=kpi.OWN),
            "counts": _choice_field(_l("Counts"), kpi.COUNTS, default=kpi.ENTERED),
            "first_quarter": IntegerField(
                _l("First quarter that counts"), default=1, validators=[Optional()],
                description=_l("Quarterly targets only: the quarters before it are not counted (e.g. 2 when the plan began in March)."),
            ),
        }
        self.add_form_extra_fields = dict(fields)
        self.edit_form_extra_fields = dict(fields)
        super().__init__(**kwargs)


class KpiTargetApi(ScopedModelRestApi):
    datamodel = ScopedInterface(kpi.KpiTarget)
    resource_name = "kpitarget"
    class_permission_name = "KpiTarget"
    method_permission_name = {"post": MANAGE, "put": MANAGE, "delete": MANAGE}
    list_columns = ["id", "plan_year", "check_key", "tier", "threshold", "due", "period", "scope", "first_quarter", "counts"]
    show_columns = list_columns
    add_columns = ["plan_year", "check_key", "tier", "threshold", "due", "period", "scope", "first_quarter", "counts"]
    edit_columns = add_columns
    search_columns = ["plan_year", "check_key", "tier", "period"]
    order_columns = ["plan_year", "check_key", "tier", "due"]
    label_columns = TARGET_LABELS


# -- assessment: indicators, page and REST ----------------------------------------------------
class AssessmentIndicatorView(ModelView):
    datamodel = ScopedInterface(asm.AssessmentIndicator)
    class_permission_name = "AssessmentIndicator"
    method_permission_name = {"add": MANAGE, "edit": MANAGE, "delete": MANAGE}
    list_title = _l("Assessment indicators")
    show_title = _l("Assessment indicator")
    add_title = _l("Add assessment indicator")
    edit_title = _l("Edit assessment indicator")
    list_columns = ["plan_year", "position", "label", "check_label", "weight", "method_label", "target"]
    add_columns = ["plan_year", "position", "key", "label", "check_key", "weight", "method", "target"]
    edit_columns = add_columns
    show_columns = ["plan_year", "position", "key", "label", "check_label", "weight", "method_label", "target"]
    search_columns = ["plan_year", "key", "label", "check_key"]
    order_columns = ["plan_year", "position", "weight"]
    base_order = ("plan_year", "desc")
    label_columns = INDICATOR_LABELS

    def __init__(self, **kwargs):
        fields = {"check_key": _check_field(_l("Check")), "method": _choice_field(_l("Scoring"), asm.METHODS)}
        self.add_form_extra_fields = dict(fields)
        self.edit_form_extra_fields = dict(fields)
        super().__init__(**kwargs)

    def pre_delete(self, item):
        if asm.is_published(self.datamodel.session, item.plan_year):
            raise asm.AssessmentLocked(item.plan_year)


class AssessmentIndicatorApi(ScopedModelRestApi):
    datamodel = ScopedInterface(asm.AssessmentIndicator)
    resource_name = "assessmentindicator"
    class_permission_name = "AssessmentIndicator"
    method_permission_name = {"post": MANAGE, "put": MANAGE, "delete": MANAGE}
    list_columns = ["id", "plan_year", "position", "key", "label", "check_key", "weight", "method", "target"]
    show_columns = list_columns
    add_columns = ["plan_year", "position", "key", "label", "check_key", "weight", "method", "target"]
    edit_columns = add_columns
    search_columns = ["plan_year", "key", "check_key"]
    order_columns = ["plan_year", "position"]
    label_columns = INDICATOR_LABELS

    def pre_delete(self, item):
        if asm.is_published(self.datamodel.session, item.plan_year):
            raise asm.AssessmentLocked(item.plan_year)  # answered 422 by ScopedModelRestApi


def _year_or_default(session, raw) -> int:
    return parse_year(raw, required=False) or kpi.default_plan_year(session)


class AssessmentView(BaseView):
    """督查考核: scores, ranking per tier, adjustments, publish, export."""

    route_base = "/assessment"
    default_view = "show"
    class_permission_name = "Assessment"

    def _back(self, year):
        return redirect(url_for("AssessmentView.show", year=year))

    def _year(self):
        try:
            return _year_or_default(self.appbuilder.session, request.values.get("year"))
        except BadRequest as exc:
            flash(str(exc), "warning")
            return kpi.default_plan_year(self.appbuilder.session)

    @expose("/")
    @has_access
    @permission_name("list")
    def show(self):
        session = self.appbuilder.session
        year = self._year()
        data = asm.results(session, year, current_scope())
        years = sorted(set(kpi.plan_years(session)) | {year})
        can_manage = self.appbuilder.sm.has_access("can_" + MANAGE, self.class_permission_name)
        return self.render_template(
            "qqh/assessment.html", year=year, years=years, data=data, can_manage=can_manage,
            not_installed=asm.not_installed(data["indicators"]), full_points=asm.full_points(data["indicators"]),
            not_installed_text=str(asm.NOT_INSTALLED),
            tier_label=lambda t: str(kpi.TARGET_TIERS.get(t, t)), statuses=asm.ASSESSMENT_STATUSES,
        )

    def _do(self, fn, done_message):
        year = self._year()
        try:
            fn(year)
        except InvalidInput as exc:
            self.appbuilder.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(done_message, "success")
        return self._back(year)

    @expose("/compute", methods=["POST"])
    @has_access
    @permission_name(MANAGE)
    def compute(self):
        def run(year):
            as_of = parse_as_of(request.form.get("as_of"), year) if request.form.get("as_of") else None
            asm.compute(self.appbuilder.session, year, as_of)

        try:
            return self._do(run, gettext("Scores computed."))
        except BadRequest as exc:
            flash(str(exc), "danger")
            return self._back(self._year())

    @expose("/adjust", methods=["POST"])
    @has_access
    @permission_name(MANAGE)
    def adjust(self):
        f = request.form
        return self._do(
            lambda year: asm.add_adjustment(
                self.appbuilder.session, year, f.get("unit"), f.get("points"), f.get("reason"), current_user(), current_scope()
            ),
            gettext("Adjustment recorded."),
        )

    @expose("/publish", methods=["POST"])
    @has_access
    @permission_name(MANAGE)
    def publish(self):
        return self._do(
            lambda year: asm.publish(self.appbuilder.session, year, current_user()),
            gettext("Results published: the scores are now final."),
        )


class AssessmentApi(BaseApi):
    resource_name = "assessment"
    class_permission_name = "Assessment"
    allow_browser_login = True
    openapi_spec_tag = "Assessment"

    def _run(self, fn):
        session = self.appbuilder.session
        try:
            return fn(session)
        except BadRequest as exc:
            return self.response_400(message=str(exc))
        except asm.AssessmentLocked as exc:
            session.rollback()
            return self.response(409, message=str(exc))
        except InvalidInput as exc:
            session.rollback()
            return self.response_422(message=exc.messages)

    @staticmethod
    def _payload() -> dict:
        data = request.get_json(silent=True)
        if data is None:
            data = request.form.to_dict()
        if not isinstance(data, dict):
            raise BadRequest(gettext("Send the parameters as a JSON object."))
        return data

    @staticmethod
    def _result_json(data: dict) -> dict:
        a = data["assessment"]
        rows = [{k: v for k, v in r.items() if k != "path"} for r in data["rows"]]
        return {
            "year": data["plan_year"],
            "status": a.status if a else None,
            "hidden": data.get("hidden", False),  # a draft: the province's only
            "as_of": a.as_of.isoformat() if a else None,
            "published_on": a.published_on.isoformat() if a and a.published_on else None,
            "indicators": [
                {"key": i.key, "label": i.label, "check": i.check_key, "weight": i.weight, "method": i.method, "target": i.target}
                for i in data["indicators"]
            ],
            "not_assessed": [
                {"key": i.key, "label": i.label, "check": i.check_key, "weight": i.weight, "reason": str(asm.NOT_INSTALLED)}
                for i in asm.not_installed(data["indicators"])
            ],
            "full_points": asm.full_points(data["indicators"]),
            "result": rows,
            "adjustments": [
                {"unit": u.code, "points": x.points, "reason": x.reason, "made_by": x.made_by.username if x.made_by else None,
                 "made_on": x.made_on.isoformat()}
                for x, u in data["adjustments"]
            ],
        }

    @api_expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get_results(self):
        """Scores, adjustments and ranks (within each tier) of a plan year.
        ---
        get:
          parameters:
          - {in: query, name: year, required: true, schema: {type: integer}}
          responses:
            200:
              description: the assessment of the year
        """
        return self._run(
            lambda s: self.response(200, **self._result_json(asm.results(s, parse_year(request.args.get("year")), current_scope())))
        )

    @api_expose("/compute", methods=["POST"])
    @protect()
    @safe
    @permission_name(MANAGE)
    def compute(self):
        """(Re)compute the scores of a year (province administrators).
        ---
        post:
          requestBody:
            content:
              application/json:
                schema: {type: object, properties: {year: {type: integer}, as_of: {type: string, format: date}}}
          responses:
            200:
              description: computed
            409:
              description: the year's assessment is published
        """

        def run(s):
            p = self._payload()
            year = parse_year(str(p.get("year") or ""))
            as_of = parse_as_of(str(p.get("as_of") or ""), year) if p.get("as_of") else None
            asm.compute(s, year, as_of)
            return self.response(200, **self._result_json(asm.results(s, year, current_scope())))

        return self._run(run)

    @api_expose("/adjustment", methods=["POST"])
    @protect()
    @safe
    @permission_name(MANAGE)
    def adjustment(self):
        """Adjust a unit's score: year, unit (code), points, reason (all required).
        ---
        post:
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties: {year: {type: integer}, unit: {type: string}, points: {type: number}, reason: {type: string}}
          responses:
            201:
              description: recorded
            409:
              description: the year's assessment is published
            422:
              description: a value is missing or wrong
        """

        def run(s):
            p = self._payload()
            year = parse_year(str(p.get("year") or ""))
            adj = asm.add_adjustment(s, year, str(p.get("unit") or ""), p.get("points"), str(p.get("reason") or ""), current_user(), current_scope())
            return self.response(201, id=adj.id, points=adj.points, reason=adj.reason)

        return self._run(run)

    @api_expose("/publish", methods=["POST"])
    @protect()
    @safe
    @permission_name(MANAGE)
    def publish(self):
        """Publish (lock) a year's results: afterwards nothing can change.
        ---
        post:
          requestBody:
            content:
              application/json:
                schema: {type: object, properties: {year: {type: integer}}}
          responses:
            200:
              description: published
            409:
              description: already published
        """

        def run(s):
            year = parse_year(str(self._payload().get("year") or ""))
            asm.publish(s, year, current_user())
            return self.response(200, **self._result_json(asm.results(s, year, current_scope())))

        return self._run(run)

    @api_expose("/export", methods=["GET"])
    @protect()
    @safe
    @permission_name("export")
    def export(self):
        """Ranking and adjustments of a year as an Excel workbook (for awards).
        ---
        get:
          parameters:
          - {in: query, name: year, required: true, schema: {type: integer}}
          responses:
            200:
              description: an .xlsx file
        """

        def run(s):
            year = parse_year(request.args.get("year"))
            return _xlsx_response(asm.export_xlsx(s, year, current_scope()), f"assessment-{year}.xlsx")

        return self._run(run)


def register(appbuilder) -> None:
    """Add the KPI and assessment pages and APIs to ``appbuilder``."""
    register_kpi(appbuilder)
    register_assessment(appbuilder)


_COMMON = dict(category=CATEGORY, category_label=CATEGORY_LABEL, category_icon="fa-line-chart")


def register_kpi(appbuilder) -> None:
    """The dashboard, the targets' page and their APIs (built-in plugin ``kpi``)."""
    common = _COMMON
    appbuilder.add_link("Dashboard", href="/", label=_l("Progress dashboard"), icon="fa-dashboard", **common)
    appbuilder.add_view(KpiTargetView, "KPI targets", label=_l("KPI targets"), icon="fa-bullseye", **common)
    appbuilder.add_api(KpiApi)
    appbuilder.add_api(KpiTargetApi)


def register_assessment(appbuilder) -> None:
    """The December assessment's pages and APIs (built-in plugin ``assessment``), after the KPI ones."""
    common = _COMMON
    appbuilder.add_view(AssessmentView, "December assessment", label=_l("December assessment"), icon="fa-trophy", **common)
    appbuilder.add_view(
        AssessmentIndicatorView, "Assessment indicators", label=_l("Assessment indicators"), icon="fa-balance-scale", **common
    )
    appbuilder.add_api(AssessmentIndicatorApi)
    appbuilder.add_api(AssessmentApi)


# -- the qqh command --------------------------------------------------------------------
def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers: list[str], rows: list[list]) -> str:
    def cell(v):
        if v is None:
            return "—"
        if isinstance(v, datetime.date):
            return v.isoformat()
        return str(v)

    data = [[cell(v) for v in r] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in data]) for i, h in enumerate(headers)]
    line = lambda vals: "  ".join(v + " " * (w - _width(v)) for v, w in zip(vals, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in data])


def _cli_unit(session, code):
    if code:
        unit = session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
        if unit is None:
            raise click.ClickException(f"no unit has the code {code}.")
        return unit
    unit = kpi.top_unit(session)
    if unit is None:
        raise click.ClickException("there is no unit yet: run `qqh init` first.")
    return unit


def _cli_date(value, year):
    try:
        return parse_as_of(value, year)
    except BadRequest as exc:
        raise click.ClickException(str(exc)) from None


def register_cli(cli) -> None:
    """Add ``qqh kpi ...``, ``qqh targets ...`` and ``qqh assessment ...``."""
    register_kpi_cli(cli)
    register_assessment_cli(cli)


def register_kpi_cli(cli) -> None:
    """Add ``qqh kpi ...`` and ``qqh targets ...``."""
    from core.cli import with_app

    @cli.group("kpi")
    def kpi_group():
        """KPI reports."""

    @kpi_group.command("report")
    @click.option("--year", type=int, required=True, help="Plan year, e.g. 2012.")
    @click.option("--unit", "unit_code", default=None, help="Unit code (default: the province).")
    @click.option("--as-of", "as_of", default=None, help="Date, e.g. 2012-06-30 (default: today or the year's end).")
    @click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx"]), default="table", show_default=True)
    @click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to this file (xlsx: required).")
    @click.option("--all", "whole", is_flag=True, help="Every unit of the subtree, not only the children.")
    @with_app
    def kpi_report(year, unit_code, as_of, fmt, out, whole):
        """Status of every target for a unit and its children."""
        session = current_app.appbuilder.session
        unit = _cli_unit(session, unit_code)
        rep = kpi.evaluate(session, year, unit, _cli_date(as_of, year), depth=None if whole else 1)
        if fmt == "xlsx":
            out = out or f"kpi-{year}-{unit.code}.xlsx"
            with open(out, "wb") as fh:
                fh.write(kpi.report_xlsx(rep))
            click.echo(f"{out}: {len(rep.rows)} rows")
            return
        if fmt == "json":
            text = json.dumps(rep.as_dicts(), ensure_ascii=False, indent=2)
        else:
            text = _table(kpi.report_headers(), kpi.report_table(rep))
        if out:
            with open(out, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            click.echo(f"{out}: {len(rep.rows)} rows")
        else:
            click.echo(text)

    @cli.group("targets")
    def targets_group():
        """KPI targets (data)."""

    @targets_group.command("load")
    @click.option("--year", type=int, required=True, help="Plan year, e.g. 2012.")
    @with_app
    def targets_load(year):
        """Load the notice's targets and assessment indicators for a plan year (idempotent)."""
        if not 2000 <= year <= 2100:
            raise click.ClickException("the plan year must lie between 2000 and 2100.")
        n = kpi.load_default_targets(year)
        click.echo(f"Targets for {year}: {n} added.")

    @targets_group.command("list")
    @click.option("--year", type=int, required=True)
    @with_app
    def targets_list(year):
        """Show the targets of a plan year."""
        session = current_app.appbuilder.session
        targets = session.execute(select(kpi.KpiTarget).where(kpi.KpiTarget.plan_year == year)).scalars()
        rows = [
            [t.check_label, t.check_key, t.tier_label, kpi._number(t.threshold), t.due, t.period_label, t.scope_label]
            for t in sorted(targets, key=lambda t: (kpi.check_order(t.check_key), t.due, t.tier))
        ]
        keys = ("check_key", "check_key", "tier", "threshold", "due", "period", "scope")
        click.echo(_table([str(TARGET_LABELS[k]) for k in keys], rows))


def register_assessment_cli(cli) -> None:
    """Add ``qqh assessment ...``."""
    from core.cli import with_app

    @cli.group("assessment")
    def assessment_group():
        """The December assessment (督查考核)."""

    def _guard(fn):
        try:
            return fn()
        except InvalidInput as exc:
            current_app.appbuilder.session.rollback()
            raise click.ClickException(str(exc)) from None

    @assessment_group.command("compute")
    @click.option("--year", type=int, required=True)
    @click.option("--as-of", "as_of", default=None)
    @with_app
    def assessment_compute(year, as_of):
        """Compute every city's and county's score."""
        session = current_app.appbuilder.session
        day = _cli_date(as_of, year) if as_of else None
        _guard(lambda: asm.compute(session, year, day))
        click.echo(f"{len(asm.results(session, year)['rows'])} units scored.")

    @assessment_group.command("show")
    @click.option("--year", type=int, required=True)
    @with_app
    def assessment_show(year):
        """Ranking within each tier."""
        data = asm.results(current_app.appbuilder.session, year)
        full = asm.full_points(data["indicators"])
        rows = [[r["tier_label"], r["rank"], r["unit_name"], r["unit"], r["points"], r["adjustment"], r["total"], r["max_points"], full]
                for r in data["rows"]]
        headers = [gettext("KPI tier"), gettext("Rank"), gettext("Unit"), gettext("Code"), gettext("Computed score"),
                   gettext("Adjustment"), gettext("Total"), gettext("Maximum"), gettext("Full marks")]
        click.echo(_table(headers, rows))
        missing = asm.not_installed(data["indicators"])
        if missing:
            click.echo(f"{asm.NOT_INSTALLED}: " + "、".join(f"{i.label}（{i.weight:g}）" for i in missing))

    @assessment_group.command("adjust")
    @click.option("--year", type=int, required=True)
    @click.option("--unit", "unit_code", required=True)
    @click.option("--points", required=True)
    @click.option("--reason", required=True)
    @with_app
    def assessment_adjust(year, unit_code, points, reason):
        """Adjust a unit's score (with the reason)."""
        _guard(lambda: asm.add_adjustment(current_app.appbuilder.session, year, unit_code, points, reason))
        click.echo("Adjustment recorded.")

    @assessment_group.command("publish")
    @click.option("--year", type=int, required=True)
    @with_app
    def assessment_publish(year):
        """Publish the results: afterwards the scores cannot change."""
        _guard(lambda: asm.publish(current_app.appbuilder.session, year))
        click.echo(f"The {year} assessment is published.")

    @assessment_group.command("export")
    @click.option("--year", type=int, required=True)
    @click.option("--out", type=click.Path(dir_okay=False), required=True)
    @with_app
    def assessment_export(year, out):
        """Ranking and adjustments as an Excel workbook (for awards)."""
        with open(out, "wb") as fh:
            fh.write(asm.export_xlsx(current_app.appbuilder.session, year))
        click.echo(out)
