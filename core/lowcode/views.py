"""Pages and APIs of the low-code definitions, the values API, the CLI."""

from __future__ import annotations

import json

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from core.lowcode import registry, service
from core.lowcode.models import KINDS, CustomField, KpiRule
from core.tenancy.scope import InvalidInput, current_scope, scoped_get

FIELD_LABELS = {
    "list_name": _l("List"), "code": _l("Code"), "label": _l("Name"), "kind": _l("Type"), "options": _l("Options"),
    "required": _l("Required"), "help": _l("Help text"), "position": _l("Order"), "in_list": _l("Column in the list"),
    "removed": _l("Removed (hidden, data kept)"), "owner_unit": _l("Owner unit"),
}
RULE_LABELS = {
    "key": _l("Key"), "label": _l("Name"), "unit_of_measure": _l("Unit of measure"), "list_name": _l("List"),
    "measure": _l("Measure"), "measure_field": _l("Field counted or summed"), "date_field": _l("Dated by"),
    "conditions": _l("Conditions (JSON)"), "removed": _l("Removed"),
}


class OptionsField(TextAreaField):
    """Options as lines ``code=label``; stored as [[code, label], ...]."""

    def _value(self):
        if isinstance(self.data, list):
            return "\n".join(f"{c}={l}" for c, l in self.data)
        return self.data or ""


class JsonField(TextAreaField):
    def _value(self):
        if isinstance(self.data, (list, dict)):
            return json.dumps(self.data, ensure_ascii=False)
        return self.data or ""


class LowcodeInterface(SQLAInterface):
    """Definitions are checked (core.lowcode.service) before they are written."""

    check = None

    def _write(self, item, op):
        try:
            with self.session.no_autoflush:
                type(self).check(self.session, item)
            op(item)
            self.session.flush()
            if isinstance(item, CustomField):
                service.after_field_written(self.session, item)
            self.session.commit()
        except InvalidInput:
            self.session.rollback()
            registry.forget()
            raise

    def add(self, item, commit=True):
        self._write(item, self.session.add)
        return True

    def edit(self, item, commit=True):
        self._write(item, self.session.merge)
        return True

    def delete(self, item, commit=True):
        raise InvalidInput(gettext("A definition is not deleted: tick Removed (its data is kept)."))


class FieldInterface(LowcodeInterface):
    check = staticmethod(service.check_field)

    def _get_base_query(self, query, filters=None, order_column="", order_direction=""):
        # a unit administrator sees the province's fields and those of its subtree
        from core.tenancy.units import Unit

        scope = current_scope()
        if not scope.everything:
            from sqlalchemy import or_

            query = query.filter(or_(CustomField.owner_unit_id.is_(None),
                                     CustomField.owner_unit_id.in_(select(Unit.id).where(Unit.path.startswith(scope.path or "\x00")))))
        return super()._get_base_query(query, filters, order_column, order_direction)


class RuleInterface(LowcodeInterface):
    check = staticmethod(service.check_rule)


class _Refusing:
    """A refused definition shows the form again with the messages beside their fields."""

    def _refuse(self, form, exc):
        for field, msgs in exc.messages.items():
            if field in form:
                form[field].errors = list(form[field].errors or []) + msgs
            else:
                for m in msgs:
                    flash(m, "danger")

    add_row_message = edit_row_message = _l("Saved.")

    def _add(self):
        from core.web.fab import crud  # FAB's _add, a refused definition shown again (core/web/fab/crud.py)

        return crud.add(self, super()._add, self._refuse)

    def _edit(self, pk):
        from core.web.fab import crud

        return crud.edit(self, pk, super()._edit, self._refuse)


def _list_choices():
    return [("", "")] + sorted(service.lists().items(), key=lambda kv: kv[1])


class ListChoice(SelectField):
    def __init__(self, *a, **kw):
        super().__init__(*a, choices=[], **kw)

    def pre_validate(self, form):
        self.choices = [(k, v) for k, v in _list_choices()]
        super().pre_validate(form)

    def __call__(self, **kw):
        self.choices = [(k, v) for k, v in _list_choices()]
        return super().__call__(**kw)


class UnitAdminCustomFieldView(_Refusing, ModelView):
    datamodel = FieldInterface(CustomField)
    list_title = _l("Custom fields")
    add_title = _l("Add custom field")
    edit_title = _l("Edit custom field")
    show_title = _l("Custom field")
    list_columns = ["list_name", "code", "label", "kind", "required", "position", "owner_unit", "removed"]
    add_columns = ["list_name", "code", "label", "kind", "options", "required", "help", "position", "in_list"]
    edit_columns = add_columns + ["removed"]
    show_columns = edit_columns + ["owner_unit"]
    search_columns = ["list_name", "code", "label", "removed"]
    label_columns = FIELD_LABELS
    base_order = ("list_name", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]

    def __init__(self, **kwargs):
        kinds = service.kind_labels()
        self.add_form_extra_fields = {
            "list_name": ListChoice(FIELD_LABELS["list_name"], validators=[InputRequired()]),
            "kind": SelectField(FIELD_LABELS["kind"], choices=[(k, kinds[k]) for k in KINDS], validators=[InputRequired()]),
            "options": OptionsField(FIELD_LABELS["options"], description=_l("Single or multiple choice: one option a line, code=label, e.g. 1=是.")),
            "position": IntegerField(FIELD_LABELS["position"], validators=[Optional()], default=0),
            **{k: BooleanField(FIELD_LABELS[k]) for k in ("required", "in_list", "removed")},
        }
        self.edit_form_extra_fields = dict(self.add_form_extra_fields)
        super().__init__(**kwargs)


class AdminKpiRuleView(_Refusing, ModelView):
    datamodel = RuleInterface(KpiRule)
    list_title = _l("KPI checks as data")
    add_title = _l("Add KPI check")
    edit_title = _l("Edit KPI check")
    show_title = _l("KPI check")
    list_columns = ["key", "label", "list_name", "measure", "date_field", "removed"]
    add_columns = ["key", "label", "unit_of_measure", "list_name", "measure", "measure_field", "date_field", "conditions"]
    edit_columns = add_columns + ["removed"]
    show_columns = edit_columns
    search_columns = ["key", "label", "list_name", "removed"]
    label_columns = RULE_LABELS
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]

    def __init__(self, **kwargs):
        self.add_form_extra_fields = {
            "list_name": ListChoice(RULE_LABELS["list_name"], validators=[InputRequired()]),
            "measure": SelectField(RULE_LABELS["measure"], choices=[
                ("count", _l("Count of records")), ("distinct", _l("Count of distinct values")), ("sum", _l("Sum"))]),
            "conditions": JsonField(RULE_LABELS["conditions"], description=_l(
                'e.g. [{"field": "cf_member", "op": "bool", "value": true}, {"field": "kind", "op": "in", "value": ["a", "b"]}]')),
            "removed": BooleanField(RULE_LABELS["removed"]),
            "unit_of_measure": StringField(RULE_LABELS["unit_of_measure"], validators=[Optional(), Length(max=20)]),
            "measure_field": StringField(RULE_LABELS["measure_field"], validators=[Optional(), Length(max=60)],
                                         description=_l("A column of the list, or cf_ and a custom field's code")),
            "date_field": StringField(RULE_LABELS["date_field"], validators=[InputRequired(), Length(max=60)],
                                      description=_l("A date column of the list, or cf_ and a custom date field's code")),
        }
        self.edit_form_extra_fields = dict(self.add_form_extra_fields)
        super().__init__(**kwargs)


def _province() -> bool:
    return service._is_province()


class UnitAdminLowcodeView(BaseView):
    route_base = "/lowcode"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        st = registry.state(self.appbuilder.session)
        return self.render_template("qqh/lowcode.html", province=_province(), unit_admins_may=st.unit_admins_may)

    @expose("/export")
    @has_access
    def export(self):
        data = service.export_definitions(self.appbuilder.session)
        body = json.dumps(data, ensure_ascii=False, indent=1, default=str)
        return Response(body, mimetype="application/json",
                        headers={"Content-Disposition": "attachment; filename=qqh-lowcode.json"})

    @expose("/import", methods=["POST"])
    @has_access
    def import_file(self):
        if not _province():
            abort(403)
        upload = request.files.get("file")
        data = upload.read(5_000_000) if upload else b""
        try:
            counts = service.import_definitions(self.appbuilder.session, data)
        except InvalidInput as exc:
            flash(str(exc), "danger")
        else:
            flash(gettext("Definitions imported: %(a)d fields added, %(b)d updated; %(c)d checks added, %(d)d updated.",
                          a=counts["fields_added"], b=counts["fields_updated"], c=counts["checks_added"],
                          d=counts["checks_updated"]), "success")
        return redirect(url_for("UnitAdminLowcodeView.index"))

    @expose("/settings", methods=["POST"])
    @has_access
    def settings(self):
        if not _province():
            abort(403)
        session = self.appbuilder.session
        st = registry.state(session)
        st.unit_admins_may = request.form.get("unit_admins_may") == "1"
        st.version = (st.version or 0) + 1
        session.commit()
        flash(gettext("Saved."), "success")
        return redirect(url_for("UnitAdminLowcodeView.index"))


class LowcodeApi(BaseApi):
    """Definitions (export/import) and the custom values of any record."""

    resource_name = "lowcode"
    class_permission_name = "LowcodeValues"
    allow_browser_login = True
    openapi_spec_tag = "Low-code"

    @api_expose("/definitions", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def definitions(self):
        """Every custom field and KPI check defined as data (the export file).
        ---
        get:
          responses:
            200:
              description: the definitions
        """
        return self.response(200, result=json.loads(json.dumps(service.export_definitions(self.appbuilder.session), default=str)))

    @api_expose("/definitions", methods=["POST"])
    @protect()
    @safe
    @permission_name("put")
    def import_definitions(self):
        """Import definitions (an export file as the JSON body); province administrators only.
        ---
        post:
          responses:
            200:
              description: counts of what was added and updated
            422:
              description: refused, nothing written
        """
        if not _province():
            return self.response_403()
        try:
            counts = service.import_definitions(self.appbuilder.session, request.get_json(silent=True))
        except InvalidInput as exc:
            return self.response_422(message=exc.messages)
        return self.response(200, result=counts)

    @api_expose("/fields/<list_name>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def fields(self, list_name):
        """The custom fields of a list that apply to the caller's unit.
        ---
        get:
          parameters:
          - in: path
            name: list_name
            schema:
              type: string
          responses:
            200:
              description: the fields
        """
        defs = registry.fields_for(list_name, registry.user_path())
        return self.response(200, result=[dict(code=f.code, label=f.label, kind=f.kind, options=[list(o) for o in f.options],
                                               required=f.required, help=f.help, position=f.position) for f in defs])

    def _record(self, list_name, pk):
        from core.lowcode.sql import model_of_list

        model = model_of_list(list_name)
        if model is None or not str(pk).isdigit():
            return None
        return scoped_get(model, int(pk))

    @api_expose("/values/<list_name>/<pk>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get_values(self, list_name, pk):
        """The custom field values of one record (by field code).
        ---
        get:
          parameters:
          - in: path
            name: list_name
            schema:
              type: string
          - in: path
            name: pk
            schema:
              type: integer
          responses:
            200:
              description: the values
            404:
              description: no such record in the caller's scope
        """
        item = self._record(list_name, pk)
        if item is None:
            return self.response_404()
        defs = registry.fields_for(list_name, item.unit.path)
        return self.response(200, result={f.code: (item.qqh_fields or {}).get(f.code) for f in defs})

    @api_expose("/values/<list_name>/<pk>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put")
    def put_values(self, list_name, pk):
        """Set custom field values of one record: a JSON object by field code
        (null empties a value); checked like any write (422: nothing written).
        ---
        put:
          parameters:
          - in: path
            name: list_name
            schema:
              type: string
          - in: path
            name: pk
            schema:
              type: integer
          responses:
            200:
              description: the values now stored
            404:
              description: no such record in the caller's scope
            422:
              description: refused, nothing written
        """
        from core.tenancy.security import INSPECTOR, role_of
        from core.tenancy.records import check_item
        from core.tenancy.scope import current_user

        item = self._record(list_name, pk)
        if item is None:
            return self.response_404()
        if role_of(current_user()) == INSPECTOR:
            return self.response_403()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response_422(message={"_": [gettext("Send the record as a JSON object.")]})
        defs = {f.code: f for f in registry.fields_for(list_name, item.unit.path)}
        unknown = [k for k in body if k not in defs]
        if unknown:
            return self.response_422(message={k: [gettext("Unknown field.")] for k in unknown})
        session = self.appbuilder.session
        new = dict(item.qqh_fields or {})
        for code, value in body.items():
            if value is None:
                new.pop(code, None)
            else:
                new[code] = value
        item.qqh_fields = new or None
        try:
            check_item(session, item, current_scope())
            session.commit()
        except InvalidInput as exc:
            session.rollback()
            return self.response_422(message={k[3:] if k.startswith("cf_") else k: v for k, v in exc.messages.items()})
        return self.response(200, result={f.code: (item.qqh_fields or {}).get(f.code) for f in defs.values()})


def register(appbuilder) -> None:
    from core.web.views import ADMIN_CATEGORY, ADMIN_CATEGORY_LABEL

    appbuilder.add_view(UnitAdminLowcodeView, "UnitAdminLowcode", label=_l("Low-code definitions"), icon="fa-magic",
                        category=ADMIN_CATEGORY, category_label=ADMIN_CATEGORY_LABEL)
    appbuilder.add_view(UnitAdminCustomFieldView, "UnitAdminCustomFields", label=_l("Custom fields"), icon="fa-list",
                        category=ADMIN_CATEGORY, category_label=ADMIN_CATEGORY_LABEL)
    appbuilder.add_view(AdminKpiRuleView, "AdminKpiRules", label=_l("KPI checks as data"), icon="fa-calculator",
                        category=ADMIN_CATEGORY, category_label=ADMIN_CATEGORY_LABEL)
    appbuilder.add_api(LowcodeApi)
    from core.lowcode import list_views  # custom lists (自定义台账)

    list_views.register(appbuilder)

    @current_app.context_processor
    def _custom_filters():
        def qqh_custom_filters():
            from core.lowcode.forms import filter_controls

            endpoint = (request.endpoint or "").split(".", 1)[0]
            view = next((v for v in appbuilder.baseviews if v.endpoint == endpoint), None)
            if view is None or not hasattr(getattr(view.datamodel, "obj", None), "qqh_fields"):
                return []
            return filter_controls(view)

        return {"qqh_custom_filters": qqh_custom_filters}


def register_cli(cli) -> None:
    import click

    from core.web.commands import fail, with_app

    @cli.group()
    def lowcode():
        """Low-code definitions: export to and import from a JSON file."""

    @lowcode.command("export")
    @click.argument("path", type=click.Path(dir_okay=False, writable=True))
    @with_app
    def export_cmd(path):
        data = service.export_definitions(current_app.appbuilder.session)
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1, default=str)
        click.echo(gettext("%(n)d fields and %(m)d checks written to %(path)s", n=len(data["fields"]),
                           m=len(data["kpi_checks"]), path=path))

    @lowcode.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @with_app
    def import_cmd(path):
        with open(path, "rb") as fh:
            raw = fh.read()
        try:
            counts = service.import_definitions(current_app.appbuilder.session, raw)
        except InvalidInput as exc:
            fail(str(exc))
        click.echo(gettext("Definitions imported: %(a)d fields added, %(b)d updated; %(c)d checks added, %(d)d updated.",
                           a=counts["fields_added"], b=counts["fields_updated"], c=counts["checks_added"],
                           d=counts["checks_updated"]))
