"""Malformed request arguments are refused before any view runs, so that
none of them reaches the database as a 500.

* An id in the path that no database integer can hold
  (``/api/v1/…/99999999999999999999``, ``/…/show/99999999999999999999``):
  no such record, 404. (SQLite raises OverflowError and PostgreSQL
  "out of range" on such a number; FAB's ``@safe`` turns both into a 500.)
* A REST ``q`` argument that is not a Rison (or JSON) object, or that holds a
  number no database integer can hold: 400 with a message in the user's
  language. Prison raises RecursionError on ``(((`` and ValueError on
  ``-4.92e+16``, which FAB's ``@rison`` does not catch.
* Numbers in page filters (``_flt_…``) and in the API's ``page``/``page_size``
  beyond the integer range: 400 likewise.

Page numbers and sizes of HTML lists are corrected in core/web/fab/patches.py
(ignored when not a number, capped at ``QQH_MAX_PAGE_SIZE``).
"""

from __future__ import annotations

import json

import prison
from flask import Flask, abort, jsonify, render_template, request
from flask_babel import gettext

from core.values.validators import too_big

def _any_too_big(value, depth: int = 0) -> bool:
    if depth > 20:
        return True
    if isinstance(value, dict):
        return any(_any_too_big(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_any_too_big(v, depth + 1) for v in value)
    return too_big(value)


def parse_q(value: str):
    """FAB's ``@rison`` reading of ``q`` (Rison, else JSON); None if neither gives an object."""
    try:
        parsed = prison.loads(value)
    except Exception:  # ParserException, RecursionError, ValueError, IndexError…
        try:
            parsed = json.loads(value)
        except Exception:
            return None
    return parsed if isinstance(parsed, dict) else None


def uses_rison(fn) -> bool:
    """Whether a view reads ``q`` through FAB's ``@rison`` (pickers read it as search text)."""
    for _ in range(20):
        if fn is None:
            return False
        code = getattr(fn, "__code__", None)
        if code is not None and code.co_qualname.startswith("rison."):
            return True
        fn = getattr(fn, "__wrapped__", None) or getattr(fn, "__func__", None)
    return False


def _bad_request(message: str):
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        response = jsonify(message=message)
    else:
        from flask import current_app

        ab = current_app.appbuilder
        response = render_template("qqh/error.html", message=message, base_template=ab.base_template, appbuilder=ab)
    return response, 400


def install(app: Flask) -> None:
    rison_endpoints: dict[str, bool] = {}

    def reads_rison(endpoint) -> bool:
        if endpoint not in rison_endpoints:
            rison_endpoints[endpoint] = uses_rison(app.view_functions.get(endpoint))
        return rison_endpoints[endpoint]

    @app.before_request
    def refuse_malformed_arguments():
        if any(too_big(v) for v in (request.view_args or {}).values()):
            abort(404)
        if request.endpoint and reads_rison(request.endpoint):
            q = request.args.get("q")
            if q:
                parsed = parse_q(q)
                if parsed is None:
                    return _bad_request(gettext(
                        "The q argument is not valid: write it in Rison, for example "
                        "(page:0,page_size:20,order_column:id,order_direction:asc)."
                    ))
                if _any_too_big(parsed):
                    return _bad_request(gettext("The q argument holds a number that is far too large."))
        for key, value in request.args.items(multi=True):
            if (key.startswith("_flt_") or key in ("page", "page_size")) and too_big(value):
                return _bad_request(gettext("A number in the address is far too large."))
        return None
