"""Custom field values in every unit-owned list's own REST API
(core.web.scoped_api.ScopedModelRestApi calls in), and in its OpenAPI document.

A record's field ``code`` is the key ``cf_<code>`` of the API's JSON, as
stored (dates as 2012-03-05, amounts as text with two decimals, units and
organizations by id, a multiple choice as a list of option codes):

* GET ``/<pk>`` and GET ``/`` carry the values of the fields that apply to
  each record's unit (one query for the whole page);
* POST and PUT take them beside the built-in columns; each is checked like
  any write (pages, import): a bad one answers 422 with the field's message
  and nothing is written; PUT changes only the values sent (null empties);
* the OpenAPI document, built per request, describes the caller's fields
  in the list's ``.get``/``.get_list``/``.post``/``.put`` schemas.
"""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_babel import gettext
from sqlalchemy import select

from core.lowcode import registry
from core.lowcode.values import coerce, list_name_of

PENDING = "_qqh_api_custom_values"


def _fields(model):
    if model is None or not hasattr(model, "qqh_fields") or not getattr(model, "__qqh_unit_owned__", False):
        return {}
    try:
        return {f.attr: f for f in registry.fields_for(list_name_of(model), registry.user_path())}
    except Exception:  # noqa: BLE001 — no tables yet
        return {}


def take_values(model):
    """Take the ``cf_<code>`` keys of the request's JSON body out of it (the
    schema refuses what it does not know: an unknown ``cf_`` key stays, and
    is refused as unknown); returns (values by code, messages)."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        return {}, {}
    defs = _fields(model)
    values, errors = {}, {}
    for key in [k for k in body if k in defs]:
        f = defs[key]
        raw = body.pop(key)
        try:
            values[f.code] = coerce(f, raw)
        except ValueError as exc:
            errors[key] = [f"{f.label}：{exc}"]
    return values, errors


def write(api, call):
    """Run FAB's POST or PUT (``call``) with the custom values of the body
    set on the record before it is checked and written."""
    values, errors = take_values(api.datamodel.obj)
    if errors:
        return api.response_422(message=errors)
    g.setdefault(PENDING, {})[api.datamodel.obj] = values
    try:
        return call()
    finally:
        g.pop(PENDING, None)


def apply_pending(item) -> None:
    """Set the values an API call sent on ``item`` (core.web.scoped_views.ScopedInterface
    calls this before the record is checked)."""
    if not has_request_context():
        return
    values = g.get(PENDING, {}).get(type(item))
    if not values:
        return
    stored = dict(item.qqh_fields or {})
    for code, value in values.items():
        if value is None:
            stored.pop(code, None)
        else:
            stored[code] = value
    item.qqh_fields = stored or None


def _stored(model, ids) -> dict:
    from core.tenancy.units import Unit

    if not ids:
        return {}
    pk = model.__mapper__.primary_key[0]
    from flask import current_app

    rows = current_app.appbuilder.session.execute(
        select(pk, model.qqh_fields, Unit.path).join(Unit, Unit.id == model.unit_id).where(pk.in_(list(ids)))).all()
    return {row[0]: (row[1] or {}, row[2]) for row in rows}


def _values_of(defs, stored, path) -> dict:
    return {f.attr: stored.get(f.code) for f in defs.values() if f.applies_to(path)}


def add_to_show(api, data) -> None:
    """GET /<pk>: the record's custom values beside its columns."""
    defs = _fields(api.datamodel.obj)
    result = data.get("result")
    if not defs or not isinstance(result, dict):
        return
    found = _stored(api.datamodel.obj, [data.get("id")])
    if data.get("id") in found:
        stored, path = found[data["id"]]
        result.update(_values_of(defs, stored, path))


def add_to_list(api, data) -> None:
    """GET /: each record's custom values, from one query for the page."""
    defs = _fields(api.datamodel.obj)
    if not defs or not data.get("ids"):
        return
    found = _stored(api.datamodel.obj, data["ids"])
    for pk, result in zip(data["ids"], data.get("result") or ()):
        if pk in found and isinstance(result, dict):
            stored, path = found[pk]
            result.update(_values_of(defs, stored, path))


def add_to_answer(api, response, pk=None):
    """The answer of a POST or PUT that wrote: its result with the record's custom values."""
    if response.status_code not in (200, 201) or not response.is_json:
        return response
    defs = _fields(api.datamodel.obj)
    if not defs:
        return response
    import json

    body = response.get_json()
    pk = body.get("id", pk)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return response
    found = _stored(api.datamodel.obj, [pk])
    if pk in found and isinstance(body.get("result"), dict):
        stored, path = found[pk]
        body["result"].update(_values_of(defs, stored, path))
        response.set_data(json.dumps(body, ensure_ascii=False, default=str))
    return response


# -- the OpenAPI document ------------------------------------------------------------------
def json_schema(f, request_body: bool) -> dict:
    """The JSON schema of field ``f``'s value (null for empty)."""
    from core.lowcode.values import INT_MAX, MAX_LONG_TEXT, MAX_TEXT

    k = f.kind
    if k in ("text", "longtext"):
        prop = {"type": "string", "maxLength": MAX_TEXT if k == "text" else MAX_LONG_TEXT}
    elif k in ("integer", "unit", "youthorg"):
        prop = {"type": "integer", "minimum": -INT_MAX, "maximum": INT_MAX} if k == "integer" else {"type": "integer", "minimum": 1}
    elif k == "amount":
        prop = {"type": "string", "pattern": r"^-?\d{1,12}\.\d{2}$"}
        if request_body:
            prop = {"anyOf": [prop, {"type": "number"}, {"type": "string"}]}
    elif k == "date":
        prop = {"type": "string", "format": "date"}
    elif k == "bool":
        prop = {"type": "boolean"}
    elif k == "choice":
        prop = {"type": "string", "enum": [c for c, _ in f.options], "x-labels": dict(f.options)}
    elif k == "multichoice":
        prop = {"type": "array", "items": {"type": "string", "enum": [c for c, _ in f.options]}, "x-labels": dict(f.options)}
    else:
        prop = {}
    prop.update({"nullable": True, "title": f.label, "description": f.help or gettext("Custom field"),
                 "x-custom-field": True})
    return prop


def openapi(spec: dict, baseviews) -> None:
    """Each list's schemas with the caller's current custom fields."""
    from flask_appbuilder import ModelRestApi

    schemas = spec.get("components", {}).get("schemas", {})
    for api in baseviews:
        if not isinstance(api, ModelRestApi):
            continue
        defs = _fields(api.datamodel.obj)
        if not defs:
            continue
        for suffix, request_body in (("post", True), ("put", True), ("get", False), ("get_list", False)):
            schema = schemas.get(f"{type(api).__name__}.{suffix}")
            if not schema:
                continue
            props = schema.setdefault("properties", {})
            for attr, f in defs.items():
                props[attr] = json_schema(f, request_body)
                if suffix == "post" and f.required and f.owner_path is None:
                    schema.setdefault("required", [])
                    if attr not in schema["required"]:
                        schema["required"].append(attr)


def custom_lists_openapi(spec: dict) -> None:
    """The custom lists' API (one API, the list's code in its path): its
    ``list_code`` declared, and each list the caller's unit uses documented
    at its own path with its own schemas (its fields as ``cf_<code>``)."""
    import copy
    import json

    from core.lowcode.list_views import visible_lists
    from core.lowcode.lists import model_for

    paths = spec.get("paths", {})
    for path in [p for p in paths if "<list_code>" in p]:  # FAB leaves the route base's variable as Flask writes it
        paths[path.replace("<list_code>", "{list_code}")] = paths.pop(path)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    generic = {p: ops for p, ops in paths.items() if "{list_code}" in p}
    if not generic:
        return
    lists = visible_lists()
    param = {"in": "path", "name": "list_code", "required": True, "description": gettext("Custom lists"),
             "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"}}
    if lists:
        param["schema"]["enum"] = [d.code for d in lists]
    for ops in generic.values():
        for op in ops.values():
            if isinstance(op, dict) and "responses" in op:
                params = op.setdefault("parameters", [])
                if not any(p.get("name") == "list_code" for p in params if isinstance(p, dict)):
                    params.append(copy.deepcopy(param))
    for d in lists:
        model = model_for(d.id, d.code)
        defs = _fields(model)
        for suffix, request_body in (("post", True), ("put", True), ("get", False), ("get_list", False)):
            base = schemas.get(f"CustomRecordApi.{suffix}")
            if base is None:
                continue
            schema = copy.deepcopy(base)
            schema["title"] = d.name
            props = schema.setdefault("properties", {})
            if "title" in props and d.title_label:
                props["title"]["title"] = d.title_label
            for attr, f in defs.items():
                props[attr] = json_schema(f, request_body)
                if suffix == "post" and f.required and f.owner_path is None:
                    schema.setdefault("required", [])
                    if attr not in schema["required"]:
                        schema["required"].append(attr)
            schemas[f"CustomRecordApi.{d.code}.{suffix}"] = schema
        for path, ops in generic.items():
            text = json.dumps(ops, ensure_ascii=False)
            for suffix in ("get_list", "post", "put", "get"):
                text = text.replace(f'"#/components/schemas/CustomRecordApi.{suffix}"',
                                    f'"#/components/schemas/CustomRecordApi.{d.code}.{suffix}"')
            own = json.loads(text)
            for op in own.values():
                if isinstance(op, dict) and "responses" in op:
                    op["parameters"] = [p for p in op.get("parameters", []) if p.get("name") != "list_code"]
                    op["tags"] = [d.name]
                    if "operationId" in op:
                        op["operationId"] = f"{op['operationId']}_{d.code}"
            paths[path.replace("{list_code}", d.code)] = own
