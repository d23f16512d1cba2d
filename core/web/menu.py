"""The navbar's menu, rendered once per language, set of roles and modules switched off.

The menu depends only on those three: which items the user's roles may see
(``menu_access``) and which plugins the user's unit switched off
(``menu_cond``). Rendering it checked a permission and translated a label per
item on every page (~7 ms of a 27 ms list page). The four roles of 亲青汇 are
built-in (configuration, fixed for the life of the process), so for users
holding only built-in roles the rendered menu is kept in memory; users with a
role stored in the database (whose permissions an admin may change at any
time) get it rendered afresh on every page.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import get_locale, lazy_gettext as _l
from markupsafe import Markup

from core.tenancy.modules import current_switched_off

MAX_ENTRIES = 512  # distinct (language, roles, modules off) combinations kept


def _key():
    from core.tenancy.scope import current_user

    user = current_user()
    if user is None:
        return None
    builtin = current_app.appbuilder.sm.builtin_roles
    roles = [role.name for role in user.roles] + [role.name for group in user.groups for role in group.roles]
    if not roles or any(name not in builtin for name in roles):
        return None
    return str(get_locale()), tuple(sorted(set(roles))), frozenset(current_switched_off())


def navbar_menu() -> Markup:
    """The menu's HTML for the current user (a Jinja global used by appbuilder/navbar_menu.html)."""
    key = _key()
    cache = current_app.extensions.setdefault("qqh_menu_cache", {})
    html = cache.get(key) if key is not None else None
    if html is None:
        html = Markup(render_template("qqh/navbar_menu.html", menu=current_app.appbuilder.menu))
        if key is not None:
            if len(cache) >= MAX_ENTRIES:
                cache.clear()
            cache[key] = html
    from core.lowcode.list_views import menu_html  # the custom lists the unit uses: data, not cached with the roles

    return html + menu_html()


# The navbar fits one row at 1366 px (the province administrator's, the widest):
# FAB's user, role and group pages go under 系统管理 (only province
# administrators see either), and the notices join reporting and messages.
INTO_ADMINISTRATION = "Security"
MOVES = {"Notices": "Reporting"}  # menu item → the category it is shown in, first
CATEGORY_LABELS = {"Reporting": _l("Notices and reporting")}


def arrange(menu) -> None:
    """Regroup the menu once every page is registered (every URL stays)."""
    top = {item.name: item for item in menu.menu}
    security, admin = top.get(INTO_ADMINISTRATION), top.get("Administration")
    if security is not None and admin is not None:
        admin.childs[:0] = [c for c in security.childs if c.name != "-"]
        menu.menu.remove(security)
    for name, category in MOVES.items():
        target = top.get(category)
        if target is None:
            continue
        for parent in menu.menu:
            found = [c for c in parent.childs if c.name == name]
            if found and parent is not target:
                parent.childs.remove(found[0])
                target.childs.insert(0, found[0])
    for name, label in CATEGORY_LABELS.items():
        if name in top:
            top[name].label = label


def install(app) -> None:
    app.jinja_env.globals["qqh_navbar_menu"] = navbar_menu
    arrange(app.appbuilder.menu)
