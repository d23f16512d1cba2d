"""Logging: timestamps on every line, one structured line per request, and
security events (failed logins, lock-outs, permission denials).

Request line (logger ``qqh.request``, INFO)::

    2026-12-01 10:31:02,114 INFO qqh.request method=GET route=/sampleevent/show/<pk> status=200 ms=23.4 user=fs_clerk unit=440600

``route`` is the URL rule, not the path: no query string, no values (search
terms are personal data), never a password or a token. Static files are not
logged.

Security line (logger ``qqh.security``, WARNING)::

    ... WARNING qqh.security event=login_failed user=fs_clerk addr=10.0.0.7 route=/login/

Failed logins and permission denials are taken from Flask-AppBuilder's own
messages (no change to core/tenancy/security.py); a lock-out (login throttling) is
logged by calling :func:`security_event` with ``"locked_out"``.

Behind nginx set ``QQH_PROXY_COUNT=1`` so that ``addr`` is the client's
address (X-Forwarded-For), not the proxy's.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, g, has_request_context, request

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
request_log = logging.getLogger("qqh.request")
security_log = logging.getLogger("qqh.security")

_FAB_LOGIN_FAILED = "Login Failed for user: %s"
_FAB_ACCESS_DENIED = "Access is Denied for: %s on: %s"
_installed_filters = False


def configure_logging() -> None:
    """A timestamped stderr handler on the root logger, when nobody (gunicorn's
    --log-config, a test runner) configured logging already; ``qqh.*`` at INFO."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    qqh = logging.getLogger("qqh")
    if qqh.level == logging.NOTSET:
        qqh.setLevel(logging.INFO)


def _clean(value) -> str:
    """One token: no spaces or newlines (a username cannot forge a log line)."""
    text = str(value) if value not in (None, "") else "-"
    return "".join(ch if ch.isprintable() and not ch.isspace() else "_" for ch in text)[:80]


def _who() -> tuple[str, str]:
    """(username, unit) of the request's user, from what is loaded already:
    never a database query (the database may be down)."""
    from sqlalchemy import inspect

    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return "-", "-"
    state = inspect(user, raiseerr=False)
    loaded = state.dict if state is not None else {}
    name = loaded.get("username", "-")
    unit = loaded.get("unit")
    unit_state = inspect(unit, raiseerr=False) if unit is not None else None
    code = unit_state.dict.get("code") if unit_state is not None else None
    if code is None and loaded.get("unit_id"):
        code = f"#{loaded['unit_id']}"
    return name, code or "-"


def security_event(event: str, username: str | None = None, **fields) -> None:
    """Log a security event with time, user, address and route. ``event``:
    ``login_failed``, ``locked_out``, ``permission_denied`` (or another word)."""
    addr = route = "-"
    if has_request_context():
        addr = request.remote_addr or "-"
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        if username is None:
            username = g.get("_qqh_log_user") or _who()[0]
    extra = "".join(f" {k}={_clean(v)}" for k, v in fields.items())
    security_log.warning(
        "event=%s user=%s addr=%s route=%s%s", _clean(event), _clean(username), _clean(addr), route, extra
    )


class _FabSecurityFilter(logging.Filter):
    """Turns Flask-AppBuilder's "Login Failed" and "Access is Denied" messages
    into :func:`security_event` lines; drops its other INFO chatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == _FAB_LOGIN_FAILED and record.args:
            security_event("login_failed", username=str(record.args[0]))
            return False
        if record.msg == _FAB_ACCESS_DENIED and record.args:
            if has_request_context():
                g._qqh_denial_logged = True
            security_event("permission_denied", permission=record.args[0], view=record.args[1])
            return False
        return record.levelno >= logging.WARNING


def _install_fab_filters() -> None:
    global _installed_filters
    if _installed_filters:
        return
    for name in ("flask_appbuilder.security.manager", "flask_appbuilder.security.sqla.manager",
                 "flask_appbuilder.security.decorators"):
        logger = logging.getLogger(name)
        logger.addFilter(_FabSecurityFilter())
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)  # "Login Failed" is an INFO message in FAB
    _installed_filters = True


def install(app: Flask) -> None:
    """One line in create_app."""
    configure_logging()
    _install_fab_filters()
    # the development server's access line carries the query string (personal data)
    # and duplicates ours
    werkzeug = logging.getLogger("werkzeug")
    if werkzeug.level == logging.NOTSET:
        werkzeug.setLevel(logging.WARNING)
    proxies = int(app.config.get("QQH_PROXY_COUNT") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    @app.before_request
    def _start():
        g._qqh_t0 = time.perf_counter()
        user = g.get("_login_user")  # loaded by FAB's before_request, which runs first
        if user is not None and getattr(user, "is_authenticated", False):
            g._qqh_log_user, g._qqh_log_unit = _who()

    @app.after_request
    def _line(response):
        endpoint = request.endpoint or ""
        if endpoint == "static" or endpoint.endswith(".static"):
            return response
        t0 = g.get("_qqh_t0")
        ms = (time.perf_counter() - t0) * 1000 if t0 is not None else 0.0
        user = g.get("_qqh_log_user")
        unit = g.get("_qqh_log_unit")
        if user is None:
            user, unit = _who()  # logged in during this request (the login POST)
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        if response.status_code == 403 and not g.get("_qqh_denial_logged"):
            security_event("permission_denied", username=user)
        request_log.info(
            "method=%s route=%s status=%d ms=%.1f user=%s unit=%s",
            request.method, route, response.status_code, ms, _clean(user), _clean(unit),
        )
        return response
