"""Security headers on every response, and a development server without a banner.

* ``Content-Security-Policy``: scripts and styles from the app's own origin
  only. Inline ``<script>`` and ``<style>`` elements run only when they carry
  the page's nonce: Flask-AppBuilder's templates already write
  ``nonce="{{ baselib.get_nonce() }}"``, which calls the ``csp_nonce()``
  global defined here, and ours do the same. No ``'unsafe-inline'`` and no
  ``'unsafe-eval'`` for scripts, so an ``onerror=``/``onclick=`` attribute or a
  ``javascript:`` link that reached a page from data does not run.
  ``style=""`` attributes (FAB's markup and jQuery/select2/ECharts set them)
  are allowed through ``style-src-attr 'unsafe-inline'``: they cannot run code.
* ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (no clickjacking),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``.
* ``Cache-Control: no-store`` on everything but static files: every page and
  every JSON answer is either behind a login or the login page itself, and
  many show personal data.
* ``RequestHandler``: Werkzeug's request handler without its
  ``Server: Werkzeug/… Python/…`` header (``qqh run`` uses it).
"""

from __future__ import annotations

import secrets

from flask import Flask, g, request
from werkzeug.serving import WSGIRequestHandler

STATIC_ENDPOINTS = {"static", "appbuilder.static"}


def csp_nonce() -> str:
    """This request's nonce (one per request, made on first use)."""
    nonce = g.get("_qqh_csp_nonce")
    if nonce is None:
        nonce = g._qqh_csp_nonce = secrets.token_urlsafe(18)
    return nonce


def policy(nonce: str) -> str:
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def install(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def security_headers(response):
        h = response.headers
        h["Content-Security-Policy"] = policy(csp_nonce())
        h["X-Frame-Options"] = "DENY"
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        if request.endpoint not in STATIC_ENDPOINTS:
            h["Cache-Control"] = "no-store"
            h.pop("Expires", None)
            h.pop("Last-Modified", None)
        h.pop("Server", None)
        return response


class RequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, minus the ``Server`` header naming Werkzeug and Python."""

    def send_response(self, code, message=None):
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
