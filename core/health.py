"""Database outages and health.

- While the database is unreachable every page and API answers 503 with a
  Chinese "the database is unavailable, try again" message. Pages are a plain
  template that needs no user, menu or anything else from the database. Each
  failure is one log line, never a traceback.
- ``/health`` for load balancers: database reachable, migrations at the head
  of core and of every enabled plugin, plugins loaded; 200 or 503 (JSON).
- :func:`startup_check` is what gunicorn runs before it starts
  (``core/gunicorn_conf.py``): one clear line and no start against an
  unreachable or uninitialised database.

Pool pre-ping (``SQLALCHEMY_ENGINE_OPTIONS`` in core/config.py) makes a
restarted database cost no request: a stale pooled connection is replaced
before it is used.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

log = logging.getLogger("qqh.health")

#: exceptions that mean "the database cannot be reached", not "this query is wrong"
OUTAGE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def first_line(exc: BaseException) -> str:
    """The driver's message, first line only (never a URL with a password: drivers do not print it)."""
    msg = str(getattr(exc, "orig", None) or exc).strip()
    return (msg.splitlines() or [type(exc).__name__])[0][:300]


#: PostgreSQL's undefined_table and undefined_column (SQLSTATE)
_MISSING_SCHEMA_CODES = frozenset({"42P01", "42703"})


def is_uninitialised(exc: BaseException) -> bool:
    """The schema is missing or older than the code: ``qqh init`` was not run
    (or not after an upgrade) — not an outage, and not a bug of the query."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "pgcode", None) in _MISSING_SCHEMA_CODES:
        return True
    msg = str(orig or "")
    return isinstance(exc, sa_exc.OperationalError) and msg.startswith(("no such table", "no such column"))


def is_outage(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError))


def install(app: Flask) -> None:
    """Register the 503 handler and ``/health`` (one line in create_app)."""
    from flask_babel import gettext

    def unavailable(exc: Exception):
        db = app.extensions.get("qqh_db")
        try:
            if db is not None:
                db.session.remove()
        except Exception:  # the rollback itself needs the dead connection
            pass
        if is_uninitialised(exc):
            log.error("database not initialised: %s %s: %s", request.method, request.path, first_line(exc))
            message = gettext(
                "The database has not been initialised for this version. "
                "The operator must run \"qqh init\"; please try again later."
            )
        else:
            log.error("database unavailable: %s %s: %s", request.method, request.path, first_line(exc))
            message = gettext("The database is unavailable at the moment. Please try again in a minute.")
        wants_json = request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"
        if wants_json:
            resp = jsonify(message=message)
        else:
            # straight from the Jinja environment: the context processors (Flask-Login's
            # current_user, menus) would ask the database
            page = app.jinja_env.get_template("qqh/unavailable.html").render(message=message, config=app.config)
            resp = app.make_response(page)
        resp.status_code = 503
        resp.headers["Retry-After"] = "30"
        return resp

    def handler(exc: Exception):
        if not (is_outage(exc) or is_uninitialised(exc)):
            raise exc  # not ours: the generic handler of core/app.py answers
        return unavailable(exc)

    for cls in OUTAGE_ERRORS + (sa_exc.ProgrammingError,):
        app.register_error_handler(cls, handler)

    @app.before_request
    def probe_for_anonymous():
        """A request with neither a session user nor a token (the login page, an API call without
        credentials) may read no table at all — a logged-in one loads its user first —, so while the
        database is down or uninitialised it would get a page that cannot work (a login form whose POST
        fails): one statement that needs the schema says so first, with the 503 above."""
        from flask import session

        from core.web.headers import STATIC_ENDPOINTS

        if request.endpoint is None or request.endpoint in STATIC_ENDPOINTS or request.endpoint == "qqh_health":
            return None  # no page: a file of the login page's (its CSS, scripts) needs no database

        if session.get("_user_id") or request.headers.get("Authorization"):
            return None
        db = app.extensions.get("qqh_db")
        if db is not None:
            db.session.execute(text("SELECT 1 FROM ab_user WHERE 1 = 0"))
        return None

    app.add_url_rule("/health", "qqh_health", lambda: _health_response(app), methods=["GET"])


def _health_response(app: Flask):
    report = status(app)
    return jsonify(report), 200 if report["ok"] else 503


def _script(app: Flask):
    script = app.extensions.get("qqh_alembic_script")
    if script is None:
        from alembic.script import ScriptDirectory

        from core import migrate

        script = app.extensions["qqh_alembic_script"] = ScriptDirectory.from_config(migrate.alembic_config(app))
    return script


def _branch_heads(app: Flask) -> dict[str, str]:
    """Head revision of core's and of each enabled plugin's branch (computed once per app)."""
    heads = app.extensions.get("qqh_branch_heads")
    if heads is None:
        from core import migrate

        registry = app.extensions["qqh_plugins"]
        script = _script(app)
        branches = [migrate.CORE_BRANCH] + [
            n for n in registry.order if n in registry.migration_dirs(enabled_only=True)
        ]
        heads = {}
        for b in branches:
            rev = script.get_revision(f"{b}@head")
            heads[b] = rev.revision if rev else None
        app.extensions["qqh_branch_heads"] = heads
    return heads


def applied_revisions(app: Flask, connection) -> set[str]:
    """Every revision applied: the database's heads and all they stand on
    (a plugin's revision another plugin depends on is no head of its own)."""
    from alembic.migration import MigrationContext

    script = _script(app)
    applied: set[str] = set()
    for head in MigrationContext.configure(connection).get_current_heads():
        try:
            applied.update(r.revision for r in script.iterate_revisions(head, "base"))
        except Exception:  # a revision this code does not know (a newer schema)
            applied.add(head)
    return applied


def status(app: Flask) -> dict:
    """``{"ok", "database", "migrations": {branch: {"head", "applied"}}, "plugins"}``."""
    registry = app.extensions["qqh_plugins"]
    report: dict = {"ok": False, "database": False, "migrations_at_head": False, "migrations": {},
                    "plugins": registry.switchable()}
    heads = _branch_heads(app)
    engine = app.extensions["qqh_db"].engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            applied = applied_revisions(app, conn)
    except sa_exc.SQLAlchemyError as exc:
        log.error("health: database unavailable: %s", first_line(exc))
        report["error"] = "database unavailable"
        return report
    report["database"] = True
    for branch, head in heads.items():
        report["migrations"][branch] = {"head": head, "applied": head in applied}
    report["migrations_at_head"] = all(m["applied"] for m in report["migrations"].values())
    report["ok"] = report["migrations_at_head"]
    return report


def startup_check(app: Flask) -> str | None:
    """``None`` when the app can serve; else one line saying what to do."""
    from core.config import mask_url

    safe = mask_url(app.config["SQLALCHEMY_DATABASE_URI"])
    report = status(app)
    app.extensions["qqh_db"].engine.dispose()  # no connection inherited by forked workers
    if not report["database"]:
        return f"cannot reach the database {safe}: check that the server is running and QQH_DATABASE_URL."
    behind = [b for b, m in report["migrations"].items() if not m["applied"]]
    if behind:
        return (
            f"the database {safe} is not initialised or not up to date ({', '.join(behind)} behind): "
            f"run `qqh init` (or `qqh db upgrade`) first."
        )
    return None
