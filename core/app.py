"""The app factory: config → plugins → FAB → plugin registration."""

from __future__ import annotations

import logging
import os

from flask import Flask, jsonify, render_template, request
from flask_appbuilder import AppBuilder
from flask_appbuilder.models.sqla.base import SQLA
from werkzeug.exceptions import HTTPException

from core import health, logs
from core.web import api_errors
from core.audit import trail as audit
from core.web import csrf
from core.web import display
from core.web import fab
from core.web import headers
from core.web import inputs
from core.web import list_rows
from core.web import menu
from core.web import static_urls
from core.tenancy import modules
from core.web import compact
from core.config import build_config
from core.plugins import Page, PluginError, PluginRegistry
from core.web.scoped_views import ScopedInterface

log = logging.getLogger(__name__)
from core.values.resources import CORE_DIR, TRANSLATIONS_DIR as CORE_TRANSLATIONS, default_instance_path


def freeze_heap() -> int:
    """Once a server process has built its app: move every object alive now
    (the app, its views, models, translations, SQLAlchemy's caches — some
    200,000) out of the garbage collector's reach, so that the collections a
    request's allocations trigger scan only what requests create (a full one
    over the whole heap cost a warm dashboard 10–20 ms). gunicorn's workers
    call it (core/gunicorn_conf.py ``post_worker_init``). Returns how many
    objects were frozen."""
    import gc

    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def create_app(overrides: dict | None = None, registry: PluginRegistry | None = None) -> Flask:
    """Build one 亲青汇 app. ``overrides`` replace configuration keys (tests);
    ``registry`` may be passed when the caller already loaded the plugins."""
    overrides = overrides or {}
    fab.apply()  # version check and corrections of Flask-AppBuilder (core/fab)
    app = Flask(
        "core",
        instance_path=overrides.get("QQH_INSTANCE_PATH") or default_instance_path(),
        template_folder=os.path.join(CORE_DIR, "templates"),
        static_folder=os.path.join(CORE_DIR, "static"),
        static_url_path="/qqh-static",
    )
    app.config.update(build_config(app.instance_path))
    app.config.update(overrides)

    if registry is None:
        registry = PluginRegistry(
            enabled=app.config["QQH_PLUGINS"], extra=app.config.get("QQH_EXTRA_PLUGINS")
        )
    app.extensions["qqh_plugins"] = registry

    # one gettext domain per plugin, after FAB's and core's catalogs (a later catalog wins); the catalogs of
    # installed plugins that are not enabled come first, under FAB's and core's: what core shows of them
    # (the label of a check their targets name) is still Chinese
    dirs, domains = [], []
    for name, path in registry.call_disabled("qqh_translations"):
        dirs.append(path)
        domains.append(name)
    dirs.append(CORE_TRANSLATIONS)
    domains.append("messages")
    for name, path in registry.call("qqh_translations"):
        dirs.append(path)
        domains.append(name)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs)
    app.config["BABEL_DOMAIN"] = ";".join(["messages"] + domains)  # FAB prepends its own folder
    app.config.setdefault("FAB_INDEX_VIEW", "core.kpi.pages.DashboardView")
    app.config.setdefault("FAB_SECURITY_MANAGER_CLASS", "core.tenancy.security.QqhSecurityManager")
    app.config.setdefault("FAB_BASE_TEMPLATE", "qqh/base.html")

    csrf.install(app)  # before AppBuilder: FAB exempts its API blueprints only when it finds it
    db = SQLA(app)
    app.extensions["qqh_db"] = db
    with app.app_context():
        _sqlite_foreign_keys(db.engine)
    with app.app_context():
        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        # core's own features are built-in plugins (core/builtins): they come first
        registry.call("qqh_register", appbuilder=appbuilder)
        _register_plugins(app, appbuilder, registry)
        from core.tenancy import accounts
        from core.tenancy import security

        security.install_roles(appbuilder)  # the roles' permission sets, from every registered view
        accounts.install(app)
    modules.install(app)
    menu.install(app)
    display.install(app)
    list_rows.install(app)
    static_urls.install(app)
    headers.install(app)
    compact.install(app)
    inputs.install(app)
    audit.install(app)
    _install_error_handlers(app)
    health.install(app)
    logs.install(app)
    api_errors.install(app)
    return app


def _sqlite_foreign_keys(engine) -> None:
    """SQLite checks foreign keys only when asked: ask, so that a delete
    refused on PostgreSQL is refused on SQLite too."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")


def _register_plugins(app: Flask, appbuilder: AppBuilder, registry: PluginRegistry) -> None:
    view_plugins: dict[str, str] = {}
    for plugin, page in registry.collect("qqh_views", "page", key=lambda p: p.view.__name__):
        if not isinstance(page, Page):
            raise PluginError(f"Plugin {plugin!r}: qqh_views() must return core.plugins.Page items.")
        _require_scoped(plugin, page.view)
        appbuilder.add_view(
            page.view,
            str(page.label),
            label=page.label,
            icon=page.icon,
            category=page.category,
            category_label=page.category_label,
            category_icon=page.category_icon,
            menu_cond=modules.menu_cond(plugin),
        )
        view_plugins[page.view.__name__] = plugin
    for plugin, api in registry.collect("qqh_apis", "REST API", key=lambda a: a.resource_name or a.__name__):
        _require_scoped(plugin, api)
        appbuilder.add_api(api)
        view_plugins[api.__name__] = plugin
    app.extensions["qqh_view_plugins"] = view_plugins


def _require_scoped(plugin: str, view) -> None:
    datamodel = getattr(view, "datamodel", None)
    model = getattr(datamodel, "obj", None)
    if model is not None and getattr(model, "__qqh_unit_owned__", False) and not isinstance(datamodel, ScopedInterface):
        raise PluginError(
            f"Plugin {plugin!r}: {view.__name__} shows unit-owned {model.__name__} without "
            f"core.web.scoped_views.ScopedInterface: every user would see every unit's records."
        )
    from core.tenancy.personal import PersonalDataApi, PersonalDataView, personal_fields

    if model is not None and personal_fields(model) and not issubclass(view, (PersonalDataView, PersonalDataApi)):
        raise PluginError(
            f"Plugin {plugin!r}: {view.__name__} shows the personal data of {model.__name__} without "
            f"core.tenancy.personal.PersonalDataView / PersonalDataApi: it would be sortable and shown unmasked."
        )


def _install_error_handlers(app: Flask) -> None:
    from flask_babel import gettext

    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"

    def refusal(code: int) -> str | None:
        return {
            403: gettext("You are not allowed to open this page or do this."),
            404: gettext("Not found"),
            405: gettext("This address does not accept this kind of request."),
        }.get(code)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = refusal(exc.code)
        if wants_json():
            from core.web.api_errors import http_error_response

            return http_error_response(exc)
        if message is None:
            return exc
        return render_template("qqh/error.html", message=message, base_template=app.appbuilder.base_template, appbuilder=app.appbuilder), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        log.exception("Unhandled error on %s %s", request.method, request.path)
        app.extensions["qqh_db"].session.rollback()
        message = gettext("Something went wrong on our side; nothing was saved. The error has been logged.")
        if wants_json():
            return jsonify(message=message), 500
        return render_template("qqh/error.html", message=message, base_template=app.appbuilder.base_template, appbuilder=app.appbuilder), 500
