"""The dashboard, KPI targets, assessment indicators and assessment pages, and what their APIs share.

KPI dashboard, targets, report API and the December assessment pages.
"""

from __future__ import annotations



import datetime
import json

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l
from jinja2.utils import htmlsafe_json_dumps
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from wtforms import IntegerField, SelectField
from wtforms.validators import Optional
from wtforms.fields.choices import SelectChoice

from core.kpi import assessment as asm
from core.values import clock
from core.kpi import engine as kpi
from core.kpi import present
from core.tenancy.scope import InvalidInput, current_scope, current_user
from core.web.province import ProvinceDataView
from core.web.scoped_views import ScopedInterface
from core.tenancy.units import Unit
from core.values.validators import ValidationError, format_date_zh, parse_date
from core.web.views import HomeView

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
    user = current_user()
    own = getattr(user, "unit", None) if user is not None else None  # loaded with the user
    if not code:
        unit = own if own is not None else kpi.top_unit(session)
    elif own is not None and own.code == code:
        unit = own
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
    user = current_user()
    if getattr(user, "unit", None) is unit:  # the landing page: the user's own unit, the first crumb
        return [unit]
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
        report = kpi.evaluate(session, year, unit, as_of, after_due=True)
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


class KpiTargetView(ProvinceDataView):
    datamodel = ScopedInterface(kpi.KpiTarget)
    class_permission_name = "KpiTarget"
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


# -- assessment: indicators, page and REST ----------------------------------------------------
class AssessmentIndicatorView(ProvinceDataView):
    datamodel = ScopedInterface(asm.AssessmentIndicator)
    class_permission_name = "AssessmentIndicator"
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
