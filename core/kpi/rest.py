"""The KPI and assessment REST APIs."""

from __future__ import annotations




from flask import request, send_file
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext
from werkzeug.exceptions import NotFound

from core.kpi import assessment as asm
from core.kpi import engine as kpi
from core.tenancy.scope import InvalidInput, current_scope, current_user
from core.web.scoped_views import ScopedInterface
from core.web.scoped_api import ScopedModelRestApi
from core.kpi.pages import BadRequest, INDICATOR_LABELS, MANAGE, TARGET_LABELS, parse_as_of, parse_year, scoped_unit

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
