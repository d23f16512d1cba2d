"""REST APIs of unit-owned records limited to the user's scope: ``ScopedModelRestApi``."""

from __future__ import annotations




from flask import current_app, request
from flask_appbuilder import ModelRestApi
from flask_babel import LazyString, lazy_gettext as _l
from marshmallow import fields
from marshmallow.validate import Length, Range
from marshmallow_sqlalchemy.fields import Related

from core.tenancy.personal import PersonalDataApi
from core.values.validators import too_big
from core.tenancy.scope import InvalidInput

# marshmallow's own messages are English: what a REST schema says instead
DATE_MESSAGE = _l("Not a valid date: write it as 2012-03-31.")
NUMBER_MESSAGE = _l("Not a valid number.")
WHOLE_NUMBER_MESSAGE = _l("Not a valid whole number.")
TYPE_MESSAGES = (  # (field type, {marshmallow's message key: ours}); the first match counts
    (fields.Date, {"invalid": DATE_MESSAGE}),
    (fields.DateTime, {"invalid": _l("Not a valid date and time: write it as 2012-03-31T14:05:00.")}),
    (fields.Integer, {"invalid": WHOLE_NUMBER_MESSAGE, "too_large": WHOLE_NUMBER_MESSAGE}),
    (fields.Number, {"invalid": NUMBER_MESSAGE, "special": NUMBER_MESSAGE, "too_large": NUMBER_MESSAGE}),
    (fields.Boolean, {"invalid": _l("Write true or false.")}),
    (fields.String, {"invalid": _l("Not valid text."), "invalid_utf8": _l("Not valid text.")}),
    (Related, {"invalid": _l("Choose a record from the list (by its id).")}),
    (fields.List, {"invalid": _l("Write a list.")}),
)
TOO_LONG = _l("At most {max} characters.")
INTEGER_RANGE = (  # what an INTEGER column holds
    Range(max=2**31 - 1, error=_l("The number is too large.")),
    Range(min=-(2**31), error=_l("The number is too small.")),
)


class RelatedById(Related):
    """A related record given by its id, a whole number: anything else is
    refused before it reaches the database (PostgreSQL would fail on it)."""

    def _deserialize(self, value, *args, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int) or too_big(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, *args, **kwargs)


class AmountNumber(fields.Decimal):
    """A sum in 元 in the REST API: a number, or text as an office writes it
    (50,000.00, 5万, 5万元), read as the forms and the import read it."""

    def _deserialize(self, value, attr, data, **kwargs):
        from core.values.validators import ValidationError as Refused, parse_amount

        if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            try:
                return parse_amount(value)
            except Refused as exc:
                raise self.make_error("amount", message=str(exc)) from None
        return super()._deserialize(value, attr, data, **kwargs)

    def make_error(self, key, **kwargs):
        if key == "amount":
            from marshmallow.exceptions import ValidationError as SchemaError

            return SchemaError([kwargs["message"]])
        return super().make_error(key, **kwargs)


def _in_users_language(field, label) -> None:
    """Make a schema field answer in the user's language: a required field
    missing (or null) is named by its ``label``, type errors say what to
    write, an over-long text says the limit. Numbers are taken as sent or
    refused, never rounded (1.5 is no whole number; 1.005 is no amount,
    which the model's validate() says), nor too large for their column."""
    messages = {**field.error_messages, "validator_failed": _l("Not a valid value.")}
    messages["required"] = messages["null"] = _l("%(field)s is required.", field=label)
    messages.update(next((m for kind, m in TYPE_MESSAGES if isinstance(field, kind)), {}))
    # in a list, as validate()'s: marshmallow would pass a lazy message on bare
    field.error_messages = {key: [m] if isinstance(m, LazyString) else m for key, m in messages.items()}
    for validator in field.validators:
        if isinstance(validator, Length) and validator.min is None and validator.equal is None:
            validator.error = TOO_LONG
    if isinstance(field, fields.Integer):
        field.strict = True
        field.validators.extend(INTEGER_RANGE)
    if isinstance(field, fields.Decimal):
        field.places = None
    if type(field) is Related and [key.columns[0].type.python_type for key in field.related_keys] == [int]:
        field.__class__ = RelatedById
    if isinstance(field, fields.List):
        _in_users_language(field.inner, label)


def _static_sibling(pk):
    """PUT or DELETE /<pk> where ``pk`` is a sibling route (``/_info``,
    ``/picker``): 405 with what that route allows, as for any URL."""
    if str(pk).isdigit():
        return None
    from werkzeug.exceptions import MethodNotAllowed

    allowed = {m for rule in current_app.url_map.iter_rules() if rule.rule == request.path for m in rule.methods}
    if allowed:
        from core.web.api_errors import http_error_response

        return http_error_response(MethodNotAllowed(valid_methods=sorted(allowed)))
    return None


class ScopedModelRestApi(PersonalDataApi, ModelRestApi):
    """Base REST API class for unit-owned data: answers bad input with 422 and
    a message in the user's language, and records outside the scope with 404.

    The schema checks what a JSON value can tell (present, of its type, not
    too long) and the model's ``validate()`` the rest."""

    allow_browser_login = True

    def __init__(self):
        if self.base_order is None and isinstance(self.datamodel.get_pk_name(), str):
            # a list asked for in no order comes by primary key: FAB sends no ORDER BY then, and the
            # database may return a row on two pages (PostgreSQL moves an updated row) or on none
            self.base_order = (self.datamodel.get_pk_name(), "asc")
        super().__init__()

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for schema in (self.add_model_schema, self.edit_model_schema):
            if not hasattr(schema, "fields"):
                continue  # an API without add or edit
            schema.error_messages = {
                **schema.error_messages,
                "unknown": _l("Unknown field."),
                "type": _l("Send the record as a JSON object."),
            }
            from core.web.fields import amount_columns

            amounts = set(amount_columns(self.datamodel.obj))
            for name, field in schema.fields.items():
                _in_users_language(field, self.label_columns.get(name, name))
                if name in amounts and type(field) is fields.Decimal:
                    field.__class__ = AmountNumber

    def _gen_labels_columns(self, list_columns) -> None:
        # in the user's language (core/web/api_labels.py), on a copy: FAB would write into the declared dict
        from core.web.api_labels import column_labels

        self.label_columns = column_labels(self.label_columns, list(list_columns) + list(self.list_columns or []) + list(self.show_columns or []))
        super()._gen_labels_columns(list_columns)

    def _init_titles(self) -> None:
        from core.web.api_labels import page_title

        for kind in ("list", "show", "add", "edit"):
            if not getattr(self, f"{kind}_title"):
                setattr(self, f"{kind}_title", page_title(self.datamodel.obj, kind))
        super()._init_titles()

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except InvalidInput as exc:
            return self.response_422(message=exc.messages)

    # custom fields (core/lowcode/rest.py): cf_<code> in GET answers, POST/PUT bodies and the OpenAPI document
    def post_headless(self):
        from core.lowcode import rest

        return rest.add_to_answer(self, rest.write(self, lambda: self._guard(super(ScopedModelRestApi, self).post_headless)))

    def put_headless(self, pk):
        from core.lowcode import rest

        return _static_sibling(pk) or rest.add_to_answer(
            self, rest.write(self, lambda: self._guard(super(ScopedModelRestApi, self).put_headless, pk)), pk)

    def pre_get(self, data):
        from core.lowcode.rest import add_to_show

        super().pre_get(data)
        add_to_show(self, data)

    def pre_get_list(self, data):
        from core.lowcode.rest import add_to_list

        super().pre_get_list(data)
        add_to_list(self, data)

    def delete_headless(self, pk):
        return _static_sibling(pk) or self._guard(super().delete_headless, pk)

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        ret = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        # gettext("") answers with the catalog's header: never show it
        label = self.label_columns.get(field.name, "")
        desc = self.description_columns.get(field.name, "")
        ret["label"] = str(label) if label else field.name
        ret["description"] = str(desc) if desc else ""
        from core.web.openapi import field_info_extras

        ret.update(field_info_extras(self.datamodel.obj, field))
        return ret
