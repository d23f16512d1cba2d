"""Every error of the REST API is JSON ``{"message": ...}`` in the request's
language (Chinese unless ``Accept-Language: en``), with the status the
OpenAPI document gives:

* a bearer token that is malformed, expired, revoked or missing → 401
  (flask_jwt_extended answers 422 ``{"msg": "Not enough segments"}`` by default);
* Flask-AppBuilder's fixed English answers ("Not authorized", "Forbidden",
  "Not found", "Not a valid rison/json argument", ...) → Chinese;
* 405 keeps its ``Allow`` header (core/app.py's JSON error handler).

Installed once by :func:`install` (core/app.py).
"""

from __future__ import annotations

import re

from flask import jsonify
from flask_babel import gettext

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _json(message, code: int):
    response = jsonify(message=message)
    response.status_code = code
    return response


def install(app) -> None:
    from core.web.api_labels import install_locale

    install_locale(app)
    _patch_base_api()

    @app.after_request
    def _allow_of_static_routes(response):
        # OPTIONS /api/v1/x/_info: Flask lists the methods of /<pk> too; a static route allows only its own
        from flask import request

        if request.method == "OPTIONS" and request.path.startswith("/api/"):
            allowed = {m for rule in app.url_map.iter_rules() if rule.rule == request.path for m in rule.methods}
            if allowed:
                response.headers["Allow"] = ", ".join(sorted(allowed))
        return response
    jwt = getattr(app.appbuilder.sm, "jwt_manager", None)
    if jwt is None:
        return

    @jwt.invalid_token_loader
    def _invalid(_reason):
        return _json(gettext("The access token is not valid: log in again (POST /api/v1/security/login)."), 401)

    @jwt.expired_token_loader
    def _expired(_header, _payload):
        return _json(gettext("The access token has expired: get a new one with the refresh token (POST /api/v1/security/refresh)."), 401)

    @jwt.unauthorized_loader
    def _missing(_reason):
        return _json(gettext("Log in first: send the header Authorization: Bearer <access token>."), 401)

    @jwt.revoked_token_loader
    def _revoked(_header, _payload):
        return _json(gettext("The access token has been revoked: log in again."), 401)

    @jwt.needs_fresh_token_loader
    def _not_fresh(_header, _payload):
        return _json(gettext("This needs a fresh access token: log in again."), 401)

    @jwt.user_lookup_error_loader
    def _no_user(_header, _payload):
        return _json(gettext("The account of this access token no longer exists or is disabled."), 401)

    @jwt.token_verification_failed_loader
    def _failed(_header, _payload):
        return _json(gettext("The access token is not valid: log in again (POST /api/v1/security/login)."), 401)


def bad_request_message(message):
    """Flask-AppBuilder's English 400 messages in the user's language; a
    message of ours (Chinese, or already translated) is kept."""
    if isinstance(message, dict):
        return {
            key: [gettext("This field is required.") if "required" in str(m) else gettext("Not a valid value.")
                  for m in (value if isinstance(value, list) else [value])]
            for key, value in message.items()
        }
    text = str(message or "")
    if text and _CJK.search(text):
        return text
    lowered = text.lower()
    if "rison schema" in lowered:
        return gettext(
            "The q argument does not have the expected form: see the parameter q in /api/v1/_openapi."
        )
    if "rison" in lowered:
        return gettext("The q argument is not valid Rison or JSON, e.g. q=(page:0,page_size:25).")
    if "not json" in lowered:
        return gettext("Send the request body as a JSON object (Content-Type: application/json).")
    if "order by" in lowered:
        return gettext("q orders by a column this list cannot be ordered by (see order_columns in _info).")
    if "filter" in lowered:
        return gettext("A filter in q names a column or an operator this list does not offer (see filters in _info).")
    if "column" in lowered:
        return gettext("q asks for columns this resource does not have.")
    return gettext("The request is not correct.")


def _patch_base_api() -> None:
    from flask_appbuilder.api import BaseApi

    if getattr(BaseApi, "_qqh_messages", False):
        return
    BaseApi._qqh_messages = True
    response = BaseApi.response

    def translated(code, **kwargs):
        # FAB writes some answers past response_400 (PUT: "Request is not JSON")
        if code == 400 and "message" in kwargs:
            kwargs["message"] = bad_request_message(kwargs["message"])
        return response(code, **kwargs)

    BaseApi.response = staticmethod(translated)
    BaseApi.response_400 = lambda self, message=None: self.response(400, message=message)
    BaseApi.response_401 = lambda self: self.response(401, message=gettext("Log in first: send the header Authorization: Bearer <access token>."))
    BaseApi.response_403 = lambda self: self.response(403, message=gettext("You are not allowed to do this."))
    BaseApi.response_404 = lambda self: self.response(404, message=gettext("Not found"))
    original_422 = BaseApi.response_422

    def response_422(self, message=None):
        if isinstance(message, str) and not _CJK.search(message):
            message = gettext("The record could not be saved; nothing was written.")
        return original_422(self, message=message or gettext("The record could not be saved; nothing was written."))

    BaseApi.response_422 = response_422


def http_error_response(exc):
    """A werkzeug HTTPException on an API URL as JSON in the user's language,
    with the exception's headers (405's ``Allow``)."""
    description = str(exc.description or "")
    if exc.code == 404:
        message = gettext("Not found")
    elif description and _CJK.search(description):
        message = description
    elif exc.code == 405:
        message = gettext("This method is not allowed here.")
    elif exc.code == 413:
        message = gettext("The upload is too large.")
    elif exc.code == 400:
        message = bad_request_message(description)
    elif exc.code == 401:
        message = gettext("Log in first: send the header Authorization: Bearer <access token>.")
    elif exc.code == 403:
        message = gettext("You are not allowed to do this.")
    else:
        message = gettext("The request could not be handled (HTTP %(code)d).", code=exc.code)
    response = _json(message, exc.code)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response
