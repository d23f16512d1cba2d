"""Core pages and REST APIs: home, units, plugins, module choice."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.views import IndexView
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select

from core.tenancy import modules
from core.tenancy.scope import InvalidInput, current_scope, current_user
from core.web.scoped_views import ScopedInterface
from core.web.scoped_api import ScopedModelRestApi
from core.web.pickers import UNITS
from core.tenancy.units import LEVELS, TIERS, Unit, compute_path, move_unit


def province_admin_or_command() -> bool:
    """A province administrator's request, or a command (no request at all)."""
    from flask import has_request_context

    from core.tenancy.security import PROVINCE_ADMIN, role_of

    return not has_request_context() or role_of(current_user()) == PROVINCE_ADMIN

ORG_CATEGORY = "Organization"
ORG_CATEGORY_LABEL = _l("Organization")
ADMIN_CATEGORY = "Administration"
ADMIN_CATEGORY_LABEL = _l("Administration")


class HomeView(IndexView):
    index_template = "qqh/home.html"

    @expose("/")
    def index(self):
        self.update_redirect()
        user = current_user()
        registry = current_app.extensions["qqh_plugins"]
        off = modules.current_switched_off()
        plugins = [p for p in registry.describe() if p["enabled"] and not p["builtin"] and p["name"] not in off]
        return self.render_template(self.index_template, user=user, plugins=plugins)


# -- units --------------------------------------------------------------------
UNIT_LABELS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "level": _l("Level"),
    "level_label": _l("Level"),
    "tier": _l("KPI tier"),
    "tier_label": _l("KPI tier"),
    "prd": _l("Pearl River Delta"),
    "undergraduate": _l("Undergraduate university"),
    "parent": _l("Parent unit"),
    "path": _l("Path"),
    "depth": _l("Depth"),
}


def prepare_unit(session, unit: Unit, moved: bool) -> None:
    """Validate a unit before it is written and keep its path right."""
    errors = {}
    if not (unit.code or "").strip():
        errors["code"] = gettext("Enter the unit's code.")
    elif not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in unit.code):
        errors["code"] = gettext("A unit code may contain only letters, digits, - and _.")
    if not (unit.name or "").strip():
        errors["name"] = gettext("Enter the unit's name.")
    if unit.level not in LEVELS:
        errors["level"] = gettext("Choose a level.")
    if unit.tier not in TIERS:
        errors["tier"] = gettext("Choose a KPI tier.")
    if unit.id is not None and not province_admin_or_command():
        from sqlalchemy import inspect as sa_inspect

        state = sa_inspect(unit)
        for attr in ("level", "tier", "prd"):
            if state.attrs[attr].history.has_changes():
                errors[attr] = gettext("Only province administrators can change a unit's level, KPI tier or region.")
    scope = current_scope()
    placed = unit.id is None or moved
    if placed and unit.parent is None and not scope.everything:
        errors["parent"] = gettext("Choose the parent unit.")
    elif placed and unit.parent is not None and not scope.contains(unit.parent):
        errors["parent"] = gettext("You can only place units inside your own subtree.")
    if errors:
        raise InvalidInput(errors)
    if unit.parent is not None and not unit.prd and unit.level in ("county", "town"):
        unit.prd = unit.parent.prd  # a county's region is its city's
    if unit.id is None:
        unit.path, unit.depth = compute_path(unit.parent, unit.code.strip())
    elif moved:
        new_parent = unit.parent
        try:
            move_unit(session, unit, new_parent)
        except ValueError as exc:
            raise InvalidInput({"parent": str(exc)}) from exc


class UnitInterface(ScopedInterface):
    """Units are scoped by their own path; a changed parent moves the subtree."""

    def _write(self, item, op, commit):
        from sqlalchemy import inspect

        moved = item.id is not None and inspect(item).attrs.parent.history.has_changes()
        try:
            prepare_unit(self.session, item, moved)
        except InvalidInput:
            self.session.rollback()
            raise
        super()._write(item, op, commit)


class UnitView(ModelView):
    datamodel = UnitInterface(Unit)
    class_permission_name = "Unit"
    list_title = _l("League units")
    show_title = _l("Unit")
    add_title = _l("Add unit")
    edit_title = _l("Edit unit")
    list_columns = ["code", "name", "level_label", "tier_label", "prd", "parent"]
    search_columns = ["code", "name", "level", "tier", "prd"]
    add_columns = ["code", "name", "level", "tier", "prd", "undergraduate", "parent"]
    edit_columns = add_columns
    show_columns = ["code", "name", "level_label", "tier_label", "prd", "undergraduate", "parent", "path"]
    order_columns = ["code", "name"]
    base_order = ("path", "asc")
    label_columns = UNIT_LABELS
    page_size = 25

    def __init__(self, **kwargs):
        from core.web.pickers import unit_picker

        self.add_form_extra_fields = {"parent": unit_picker(_l("Parent unit"), required=False)}
        self.edit_form_extra_fields = {"parent": unit_picker(_l("Parent unit"), required=False)}
        super().__init__(**kwargs)


class UnitApi(ScopedModelRestApi):
    datamodel = UnitInterface(Unit)
    resource_name = "unit"
    class_permission_name = "Unit"
    allow_browser_login = True
    list_columns = ["id", "code", "name", "level", "tier", "prd", "undergraduate", "parent.id", "parent.code", "depth"]
    show_columns = list_columns + ["path"]
    add_columns = ["code", "name", "level", "tier", "prd", "undergraduate", "parent"]
    edit_columns = add_columns
    search_columns = ["code", "name", "level", "tier", "prd", "parent"]
    order_columns = ["code", "name", "depth"]
    label_columns = UNIT_LABELS
    page_size = 50

    # units by code, name or the name's pinyin initials (sd: 顺德区), the tree's top first
    picker = UNITS


# -- plugins ------------------------------------------------------------------
class PluginsApi(BaseApi):
    resource_name = "plugins"
    class_permission_name = "Plugins"
    allow_browser_login = True

    @api_expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def list_plugins(self):
        """Installed plugins, their versions and whether they are enabled.
        ---
        get:
          responses:
            200:
              description: the installed plugins
        """
        registry = current_app.extensions["qqh_plugins"]
        return self.response(200, result=registry.describe(), order=registry.order)



class AdminPluginsView(BaseView):
    route_base = "/admin/plugins"
    default_view = "list"

    @expose("/")
    @has_access
    def list(self):
        registry = current_app.extensions["qqh_plugins"]
        session = self.appbuilder.session
        mandatory = dict(session.execute(select(modules.ModulePolicy.plugin, modules.ModulePolicy.mandatory)).all())
        return self.render_template(
            "qqh/plugins.html", plugins=registry.describe(), order=registry.order, mandatory=mandatory
        )

    @expose("/mandatory/<name>", methods=["POST"])
    @has_access
    def mandatory(self, name):
        registry = current_app.extensions["qqh_plugins"]
        if name not in registry.installed or registry.installed[name].builtin:
            abort(404)
        session = self.appbuilder.session
        row = session.get(modules.ModulePolicy, name) or modules.ModulePolicy(plugin=name)
        row.mandatory = request.form.get("mandatory") == "1"
        session.add(row)
        session.commit()
        flash(gettext("Saved."), "success")
        return redirect(url_for("AdminPluginsView.list"))


class UnitAdminModulesView(BaseView):
    """A unit admin chooses which enabled modules their unit uses."""

    route_base = "/modules"
    default_view = "choose"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def choose(self):
        user = current_user()
        unit = getattr(user, "unit", None)
        registry = current_app.extensions["qqh_plugins"]
        session = self.appbuilder.session
        if unit is None:
            flash(gettext("Your account is not bound to a unit."), "warning")
            return redirect(self.appbuilder.get_url_for_index)
        own_unit = unit
        # a unit below one's own (a city's county): ?unit=<id>; a unit above or beside it is not found
        chosen = request.args.get("unit", "")
        if chosen:
            unit = session.get(Unit, int(chosen)) if chosen.isdigit() and len(chosen) < 10 else None
            if unit is None or not current_scope().contains(unit):
                abort(404)
        mandatory = {p for p, m in session.execute(select(modules.ModulePolicy.plugin, modules.ModulePolicy.mandatory)).all() if m}
        from core.lowcode.list_views import module_choices  # custom lists are modules too

        if request.method == "POST":
            chosen = set(request.form.getlist("plugin"))
            for name in [*registry.switchable(), *(m["name"] for m in module_choices(unit))]:
                if name in mandatory:
                    continue
                modules.set_module(session, unit, name, name in chosen)
            session.commit()
            flash(gettext("Your unit's modules were saved. Data of switched-off modules is kept."), "success")
            if unit.id != own_unit.id:
                return redirect(url_for("UnitAdminModulesView.choose", unit=unit.id))
            return redirect(url_for("UnitAdminModulesView.choose"))
        own = dict(
            session.execute(
                select(modules.UnitModule.plugin, modules.UnitModule.enabled).where(modules.UnitModule.unit_id == unit.id)
            ).all()
        )
        inherited_off = modules.switched_off(session, unit.parent) if unit.parent else set()
        rows = [
            dict(
                p,
                on=own.get(p["name"], True),
                mandatory=p["name"] in mandatory,
                inherited_off=p["name"] in inherited_off,
            )
            for p in registry.describe() + module_choices(unit)
            if p["enabled"] and not p.get("builtin")
        ]
        return self.render_template("qqh/modules.html", rows=rows, unit=unit, own_unit=own_unit)


def register(appbuilder) -> None:
    appbuilder.add_view(
        UnitView, "League units", label=_l("League units"), icon="fa-sitemap",
        category=ORG_CATEGORY, category_label=ORG_CATEGORY_LABEL, category_icon="fa-sitemap",
    )
    appbuilder.add_view(
        UnitAdminModulesView, "UnitAdminModules", label=_l("My unit's modules"), icon="fa-puzzle-piece",
        category=ORG_CATEGORY, category_label=ORG_CATEGORY_LABEL,
    )
    from core.tenancy.security import UnitAdminUserView

    appbuilder.add_view(
        UnitAdminUserView, "UnitAdminUsers", label=_l("Users of my units"), icon="fa-users",
        category=ORG_CATEGORY, category_label=ORG_CATEGORY_LABEL,
    )
    appbuilder.add_view(
        AdminPluginsView, "AdminPlugins", label=_l("Plugins"), icon="fa-plug",
        category=ADMIN_CATEGORY, category_label=ADMIN_CATEGORY_LABEL, category_icon="fa-cogs",
    )
    appbuilder.add_api(UnitApi)
    appbuilder.add_api(PluginsApi)
    from core.web.openapi import QqhOpenApi

    appbuilder.add_api(QqhOpenApi)  # /api/v1/_openapi (FAB adds it only with its CDN-loading Swagger UI)
