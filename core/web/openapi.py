"""The OpenAPI document at ``/api/v1/_openapi``: Flask-AppBuilder's, made
true to what the API answers and complete about what it accepts.

Flask-AppBuilder builds the document from each API's marshmallow schemas and
each route's docstring YAML (after ``---``). On top of that, :func:`polish`

* gives every enumerated column its codes (``enum``) and their labels in the
  request's language (``x-labels``), and every column its limits
  (``minimum``/``maximum``, ``pattern`` of the stored form), read from the
  model's one declaration (:mod:`core.values.choices`);
* documents the answers as they are: a 422's ``message`` is a text or an
  object of field → messages; ``_info``'s ``add_columns``/``edit_columns``
  are arrays; ``id``/``ids`` are integers; a related record may be null;
* documents on every operation the error codes any of them can give (400,
  401, 403, 404, 405 with its ``Allow`` header, 422 for writes), and a JSON
  body for answers whose docstring gave none.
"""

from __future__ import annotations

import copy

from flask import current_app
from flask_appbuilder import ModelRestApi
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.api.manager import OpenApi
from flask_babel import gettext

from core.values.choices import choices_of, length_of, limits_of

MESSAGE = {
    "description": "Chinese unless Accept-Language: en",
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "description": "field name (or _ for the whole record) → its messages",
            "additionalProperties": {
                "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}, {"type": "string"}]
            },
        },
    ],
}
ERROR_BODY = {
    "application/json": {
        "schema": {"type": "object", "properties": {"message": MESSAGE}, "required": ["message"]}
    }
}
ERRORS = {
    "400": "Bad request: a parameter or the body is malformed",
    "401": "No valid access token (or session)",
    "403": "The role may not do this",
    "404": "No such record in your subtree, or no such resource",
    "405": "Method not allowed; the Allow header lists the allowed methods",
    "422": "Invalid input; nothing was written",
    "500": "Server error",
}
FIELD_INFO = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "label": {"type": "string"},
            "description": {"type": "string"},
            "required": {"type": "boolean"},
            "unique": {"type": "boolean"},
            "type": {"type": "string"},
            "enum": {"type": "array", "items": {"type": "string"}},
            "x-labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "maxLength": {"type": "integer"},
            "minimum": {"type": "number"},
            "maximum": {"type": "number"},
            "pattern": {"type": "string"},
            "count": {"type": "integer"},
            "values": {"type": "array", "items": {"type": "object"}},
            "validate": {"type": "array", "items": {"type": "string"}},
        },
    },
}
BINARY_SUFFIXES = ("/xlsx", "/template", "/signin-sheet")


class QqhOpenApi(OpenApi):
    """FAB's OpenAPI view, polished (same URL, same permission)."""

    class_permission_name = "OpenApi"
    # FAB's Swagger page is off (it loads scripts from a CDN); the document is JSON only

    @expose("/<version>/_openapi")
    @protect()
    @safe
    def get(self, version):
        """The OpenAPI 3 document of every API of ``version``.
        ---
        get:
          description: >-
            The OpenAPI document of the REST API (labels in the request's language)
          parameters:
          - in: path
            schema:
              type: string
            name: version
            required: true
          responses:
            200:
              description: The OpenAPI document
              content:
                application/json:
                  schema:
                    type: object
            404:
              $ref: '#/components/responses/404'
        """
        from core.web import fab

        api_spec = fab.api_spec(self, version)
        found = False
        for base_api in current_app.appbuilder.baseviews:
            if getattr(base_api, "version", None) == version and hasattr(base_api, "add_api_spec"):
                base_api.add_api_spec(api_spec)
                found = True
        if not found:
            return self.response_404()
        return self.response(200, **polish(api_spec.to_dict(), current_app.appbuilder.baseviews))


def _model_apis(baseviews):
    for view in baseviews:
        if isinstance(view, ModelRestApi):
            yield view


def _nullable(prop: dict) -> bool:
    return bool(prop.get("nullable"))


def _declare_column(prop: dict, model, name: str, request: bool) -> None:
    if prop.get("format") == "date-time":
        # stored and sent without a zone offset (local time of QQH_TIME_ZONE): no RFC 3339 date-time
        del prop["format"]
        prop["pattern"] = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"
    choices = choices_of(model, name)
    if choices is not None:
        prop["enum"] = list(choices) + ([None] if _nullable(prop) else [])
        prop["x-labels"] = choices.labels()
    if prop.get("type") == "string" and "maxLength" not in prop and "format" not in prop and length_of(model, name):
        prop["maxLength"] = length_of(model, name)
    found = limits_of(model, name)
    for key in ("minimum", "maximum"):
        if key in found:
            prop[key] = found[key]
    if request and "pattern" in found and prop.get("type") == "string":
        prop["pattern"] = found["pattern"]


def _enrich_model_schemas(spec: dict, baseviews) -> None:
    schemas = spec.get("components", {}).get("schemas", {})
    for api in _model_apis(baseviews):
        model = api.datamodel.obj
        for suffix, request in (("post", True), ("put", True), ("get", False), ("get_list", False)):
            schema = schemas.get(f"{type(api).__name__}.{suffix}")
            if not schema:
                continue
            for name, prop in schema.get("properties", {}).items():
                if "$ref" in prop and not request:
                    # a related record may be empty (a unit without parent)
                    schema["properties"][name] = {"allOf": [{"$ref": prop.pop("$ref")}], "nullable": True, **prop}
                    continue
                _declare_column(prop, model, name, request)


def _integers(node) -> None:
    """``id`` and ``ids`` of our records are integers (FAB says strings)."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            if props.get("id", {}).get("type") == "string":
                props["id"] = {"type": "integer"}
            if props.get("ids", {}).get("items", {}).get("type") == "string":
                props["ids"] = {"type": "array", "items": {"type": "integer"}}
            for key in ("add_columns", "edit_columns"):
                if props.get(key, {}).get("type") == "object":
                    props[key] = copy.deepcopy(FIELD_INFO)
        for value in node.values():
            _integers(value)
    elif isinstance(node, list):
        for value in node:
            _integers(value)


def _responses(spec: dict) -> None:
    components = spec.setdefault("components", {}).setdefault("responses", {})
    for code, text in ERRORS.items():
        components[code] = {"description": text, "content": copy.deepcopy(ERROR_BODY)}
    components["405"]["headers"] = {
        "Allow": {"description": "the methods this URL allows", "schema": {"type": "string"}}
    }
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "year" and parameter.get("schema", {}).get("type") == "integer":
                    parameter["schema"].update(minimum=2000, maximum=2100)  # a plan year (core.kpi.engine)
                if parameter.get("in") == "path" and parameter.get("name") == "pk":
                    parameter["schema"] = {"type": "integer", "minimum": 1}  # ids count from 1
            responses = operation["responses"]
            for code in list(responses):
                if str(code) != code:
                    responses[str(code)] = responses.pop(code)
            codes = ["400", "401", "403", "404", "405"]
            if method in ("post", "put", "delete") or "422" in responses:
                codes.append("422")
            if path.endswith("/security/login") or path.endswith("/security/refresh"):
                codes = [c for c in codes if c != "403"]
            for code in codes:
                given = responses.get(code)
                if given is None or "$ref" in given or "content" not in given:
                    responses[code] = {"$ref": f"#/components/responses/{code}"}
            for code, given in responses.items():
                if code[0] in "45" and "$ref" not in given and "content" not in given:
                    given["content"] = copy.deepcopy(ERROR_BODY)
                elif code.startswith("2") and "$ref" not in given and "content" not in given:
                    if path.endswith(BINARY_SUFFIXES) or "/export" in path:
                        given["content"] = {
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        }
                    else:
                        given["content"] = {"application/json": {"schema": {"type": "object"}}}


def polish(spec: dict, baseviews) -> dict:
    spec.setdefault("info", {})["description"] = gettext(
        "REST API of 亲青汇: get a token at POST /api/v1/security/login and send Authorization: Bearer <token>. See docs/api.md."
    )
    _enrich_model_schemas(spec, baseviews)
    from core.lowcode.rest import custom_lists_openapi, openapi as custom_fields  # custom fields and lists (core/lowcode)

    custom_fields(spec, baseviews)
    custom_lists_openapi(spec)
    _integers(spec)
    _responses(spec)
    return spec


def field_info_extras(model, field) -> dict:
    """What ``_info`` tells of a field of an add or edit form besides FAB's
    name/label/type: its codes and their labels, its limits, and its checks as
    text (FAB shows validator objects' repr)."""
    from marshmallow.validate import Length, Range

    extras: dict = {}
    choices = choices_of(model, field.name)
    if choices is not None:
        extras["enum"] = list(choices)
        extras["x-labels"] = choices.labels()
    for validator in getattr(field, "validators", []):
        if isinstance(validator, Length) and validator.max is not None:
            extras["maxLength"] = validator.max
        if isinstance(validator, Range):
            if validator.min is not None:
                extras["minimum"] = max(validator.min, extras.get("minimum", validator.min))
            if validator.max is not None:
                extras["maximum"] = min(validator.max, extras.get("maximum", validator.max))
    if "maxLength" not in extras and isinstance(length_of(model, field.name), int):
        extras["maxLength"] = length_of(model, field.name)
    extras.update(limits_of(model, field.name))
    extras["validate"] = [k for k in ("enum", "maxLength", "minimum", "maximum", "pattern") if k in extras]
    return extras
