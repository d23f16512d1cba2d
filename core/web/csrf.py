"""CSRF protection for every state-changing request, and the session cookie's flags.

* Pages: Flask-WTF's ``CSRFProtect`` app-wide (``WTF_CSRF_ENABLED``, on in the
  real configuration): every POST/PUT/PATCH/DELETE carries the form's
  ``csrf_token`` field or an ``X-CSRFToken`` header.
* REST API: FAB exempts its API blueprints from ``CSRFProtect`` (they are
  meant for bearer tokens), but ``allow_browser_login`` APIs also accept the
  session cookie, which a page of another site can make the browser send.
  So an API request that changes state and is authenticated by the session
  cookie must carry a valid ``X-CSRFToken`` header; one that brings
  ``Authorization: Bearer …`` is exempt (no other site can add that header).
* A refused request answers 400 with a message in the user's language, and
  nothing is written.
* The session cookie is ``SameSite=Lax`` and ``HttpOnly``; ``Secure`` when
  ``QQH_HTTPS=1`` or when the request itself came over HTTPS (behind a proxy
  that says so, with ``QQH_PROXY_COUNT=1``: core/logs.py installs ProxyFix).
  It is sent only when the session's content changed (not when it was merely
  assigned the same value, as FAB's page history is on every page): a slower
  request's resent cookie replaced a newer one, and a form's flash was lost.

``install`` must run before AppBuilder registers the APIs (FAB exempts their
blueprints only when it finds the extension).
"""

from __future__ import annotations

import copy

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext
from flask_wtf.csrf import CSRFError, CSRFProtect

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class SessionInterface(SecureCookieSessionInterface):
    """``Secure`` cookies when configured, and on any request that came over HTTPS; a cookie only
    when the content changed."""

    def get_cookie_secure(self, app):
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure

    def open_session(self, app, request):
        opened = super().open_session(app, request)
        if opened is not None:
            opened.qqh_opened = copy.deepcopy(dict(opened))
        return opened

    def should_set_cookie(self, app, session):
        if session.modified and dict(session) == getattr(session, "qqh_opened", None):
            return False
        return super().should_set_cookie(app, session)


def refusal_message() -> str:
    return gettext(
        "This request was refused because it did not come from a page of this site "
        "(its security token is missing or has expired). Reload the page and try again; nothing was saved."
    )


def _is_api_request() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None:
        return False
    blueprint = request.blueprint
    return blueprint in current_app.extensions["csrf"]._exempt_blueprints or request.path.startswith("/api/")


def install(app: Flask) -> CSRFProtect:
    app.session_interface = SessionInterface()
    csrf = CSRFProtect(app)

    @app.before_request
    def api_csrf():
        if not app.config.get("WTF_CSRF_ENABLED", True) or request.method not in UNSAFE:
            return None
        if not _is_api_request():
            return None
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            return None
        from flask_login import current_user

        if not current_user.is_authenticated:
            return None  # FAB answers 401
        csrf.protect()  # raises CSRFError without a valid X-CSRFToken header
        return None

    @app.errorhandler(CSRFError)
    def refused(_exc):
        message = refusal_message()
        if "user" not in g:  # refused before FAB's before_request set it: the page's menu needs it
            from flask_login import current_user

            g.user = current_user
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify(message=message), 400
        return render_template(
            "qqh/error.html", message=message, base_template=app.appbuilder.base_template, appbuilder=app.appbuilder
        ), 400

    return csrf
