"""Module choice per unit: which enabled plugins a unit uses.

A plugin is loaded for the whole deployment (QQH_PLUGINS); each unit may
switch it off for itself and its subtree, unless the province made it
mandatory. Switching off hides menus and pages; it never deletes data.
"""

from __future__ import annotations

from flask import current_app, g, has_request_context, request
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.exceptions import NotFound

from core.tenancy.units import Unit


class UnitModule(Model):
    """A unit's explicit choice for one plugin (no row: inherit, default on)."""

    __tablename__ = "qqh_unit_module"
    __table_args__ = (UniqueConstraint("unit_id", "plugin"),)
    __qqh_title__ = _l("Module switch")  # the audit log's names (no page lists these rows)
    __qqh_labels__ = {"unit": _l("Unit"), "plugin": _l("Module"), "enabled": _l("In use")}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("qqh_unit.id"), nullable=False, index=True)
    plugin: Mapped[str] = mapped_column(String(64), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    unit = relationship(Unit)


class ModulePolicy(Model):
    """Province-wide policy for one plugin: mandatory modules cannot be switched off."""

    __tablename__ = "qqh_module_policy"
    __qqh_title__ = _l("Module policy")
    __qqh_labels__ = {"plugin": _l("Module"), "mandatory": _l("Mandatory")}

    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    mandatory: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


def switched_off(session, unit: Unit | None) -> set[str]:
    """Plugins switched off for ``unit``: off at the unit or any ancestor, and
    not mandatory. One query."""
    if unit is None:
        return set()
    ancestors = [p for p in unit.path.split("/") if p]
    rows = session.execute(
        select(UnitModule.plugin, ModulePolicy.mandatory)
        .join(Unit, Unit.id == UnitModule.unit_id)
        .outerjoin(ModulePolicy, ModulePolicy.plugin == UnitModule.plugin)
        .where(Unit.code.in_(ancestors), UnitModule.enabled.is_(False))
    ).all()
    return {plugin for plugin, mandatory in rows if not mandatory}


def off_by_unit(session, units) -> dict[int, set[str]]:
    """unit id → plugins switched off for it (at it or an ancestor, not
    mandatory), for units given with their ``path``. One query, whatever the
    number of units; units with nothing off are left out."""
    rows = session.execute(
        select(Unit.code, UnitModule.plugin, ModulePolicy.mandatory)
        .join(Unit, Unit.id == UnitModule.unit_id)
        .outerjoin(ModulePolicy, ModulePolicy.plugin == UnitModule.plugin)
        .where(UnitModule.enabled.is_(False))
    ).all()
    by_code: dict[str, set[str]] = {}
    for code, plugin, mandatory in rows:
        if not mandatory:
            by_code.setdefault(code, set()).add(plugin)
    if not by_code:
        return {}
    out = {}
    for unit in units:
        found = set().union(*(by_code.get(c, set()) for c in unit.path.split("/") if c))
        if found:
            out[unit.id] = found
    return out


# What units switched off, as last read in this process, while nothing was written anywhere since
# (core.tenancy.versions.write_counter: read once per transaction, shared with the to-do list and the low-code
# definitions): every request asks it for its user's unit before anything else. unit path → (counter,
# plugins off); bounded: emptied when it holds KEPT_UNITS units.
KEPT_UNITS = 4096


def kept_switched_off(session, unit: Unit | None) -> set[str]:
    """:func:`switched_off`, kept between requests while no write happened anywhere."""
    from core.tenancy.versions import kept_while_unwritten

    if unit is None:
        return set()
    store = current_app.extensions.setdefault("qqh_off_kept", {})
    return set(kept_while_unwritten(session, store, unit.path, lambda: frozenset(switched_off(session, unit)), KEPT_UNITS))


def current_switched_off() -> set[str]:
    if not has_request_context():
        return set()
    if "_qqh_off" not in g:
        from core.tenancy.scope import current_user

        user = current_user()
        g._qqh_off = kept_switched_off(current_app.appbuilder.session, getattr(user, "unit", None))
    return g._qqh_off


def _off_for(unit: Unit | None) -> set[str]:
    if unit is None:
        return current_switched_off()
    return switched_off(current_app.appbuilder.session, unit)


def module_enabled(plugin: str, unit: Unit | None = None) -> bool:
    """Whether ``plugin`` is used by ``unit`` (default: the current user's
    unit; outside a request, every loaded plugin counts as used): loaded for
    the deployment (``QQH_PLUGINS``) and not switched off at the unit or
    above, unless the province made it mandatory."""
    if plugin not in current_app.extensions["qqh_plugins"].order:
        return False
    return plugin not in _off_for(unit)


def unit_hooks(unit: Unit | None = None):
    """pluggy's relay of the plugins ``unit`` uses (default: the current
    user's unit): ``unit_hooks().qqh_todo_items(user=u)`` calls the hook of
    those plugins only, through ``subset_hook_caller``, so tryfirst/trylast,
    wrappers and firstresult work as pluggy documents."""
    return current_app.extensions["qqh_plugins"].hook_for(_off_for(unit))


def plugin_hook_callers(
    hook: str, unit: Unit | None = None, record_unit: Unit | None = None
) -> list[tuple[str, object, object]]:
    """``[(plugin name, plugin label, caller), ...]`` in load order for the
    plugins ``unit`` uses (default: the current user's) that implement
    ``hook``; each caller is pluggy's subset caller limited to that one
    plugin. For a page that shows each plugin's part on its own and keeps
    working when one of them fails (sections of a record page).
    ``record_unit``: the unit that owns the record the page is about; a
    plugin that unit switched off is left out too (its data is not kept
    there, whoever looks)."""
    registry = current_app.extensions["qqh_plugins"]
    off = _off_for(unit)
    if record_unit is not None:
        off = off | switched_off(current_app.appbuilder.session, record_unit)
    return [(n, registry.installed[n].manifest.label, caller) for n, caller in registry.callers(hook, off)]


def menu_cond(plugin: str):
    return lambda: plugin not in current_switched_off()


def set_module(session, unit: Unit, plugin: str, enabled: bool) -> None:
    row = session.execute(
        select(UnitModule).where(UnitModule.unit_id == unit.id, UnitModule.plugin == plugin)
    ).scalar_one_or_none()
    if row is None:
        session.add(UnitModule(unit_id=unit.id, plugin=plugin, enabled=enabled))
    else:
        row.enabled = enabled


def install(app) -> None:
    """Refuse (404) the pages and APIs of a plugin the user's unit switched off."""
    view_plugins = app.extensions.get("qqh_view_plugins", {})

    @app.before_request
    def _gate():
        if not request.endpoint or "." not in request.endpoint:
            return None
        plugin = view_plugins.get(request.endpoint.split(".", 1)[0])
        if plugin and plugin in current_switched_off():
            raise NotFound()
        return None
