"""待办 (to-do) for every user: on the landing page, as a count in the navbar,
on /todo/ and at ``GET /api/v1/todo/``.

An item is a dict of exactly this shape (plugins return the same through
the ``qqh_todo_items(user)`` hook)::

    {"kind": str, "title": str (translated), "url": str, "due": date | None, "count": int}

Core's sources (the ``qqh_todo_items`` of its built-in plugins, core/builtins):
notices addressed to the user not yet read, reporting's to-dos, and the
deadlines of the user's unit (KPI targets whose due date, or quarter's end,
falls in the next ``QQH_TODO_DAYS`` days, default 14). Computed once per
request, and kept for the next requests of the same user while nothing is written (``_kept_items``).
"""

from __future__ import annotations

import datetime
import logging

from flask import current_app, g, has_request_context, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext
from sqlalchemy import select

from core.values import clock
from core.tenancy.scope import current_user

log = logging.getLogger(__name__)
PERMISSION_VIEW = "Todo"
KEYS = ("kind", "title", "url", "due", "count")


def _number(value) -> str:
    """A target as people write it: 5,000,000 (not 5e+06), 12.5."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


def todo_days() -> int:
    try:
        return max(int(current_app.config.get("QQH_TODO_DAYS") or 14), 1)
    except (TypeError, ValueError):
        return 14


def notice_items(session, user) -> list[dict]:
    from core.reporting.notices import unread_for

    return [
        {"kind": "notice", "title": gettext("Notice: %(title)s", title=n.title),
         "url": url_for("NoticeView.show", pk=n.id), "due": n.deadline, "count": 1}
        for n in unread_for(session, user)
    ]


def deadline_items(session, user, today: datetime.date | None = None, days: int | None = None) -> list[dict]:
    """The KPI targets of the user's unit due within ``days`` from ``today``
    (a quarterly target is due at the end of each quarter). One query."""
    from core.kpi import engine as kpi

    unit = getattr(user, "unit", None)
    if unit is None:
        return []
    today = today or clock.today()
    days = days or todo_days()
    last = today + datetime.timedelta(days=days)
    years = sorted({today.year, last.year})
    tiers = kpi.unit_target_tiers(unit)
    targets = session.execute(
        select(kpi.KpiTarget).where(kpi.KpiTarget.plan_year.in_(years), kpi.KpiTarget.tier.in_(tiers))
    ).scalars()
    out = []
    for t in targets:
        if t.period == "quarter":
            first = min(max(t.first_quarter or 1, 1), 4)
            dues = [_quarter_end(t.plan_year, q) for q in range(first, 5)]
        else:
            dues = [t.due]
        for due in dues:
            if today <= due <= last:
                out.append({
                    "kind": "deadline",
                    "title": gettext("Deadline: %(check)s, at least %(threshold)s", check=t.check_label,
                                     threshold=_number(t.threshold)),
                    "url": url_for("DashboardView.index", year=t.plan_year),
                    "due": due,
                    "count": 1,
                })
    return out


def _quarter_end(year: int, q: int) -> datetime.date:
    if q == 4:
        return datetime.date(year, 12, 31)
    return datetime.date(year, 3 * q + 1, 1) - datetime.timedelta(days=1)


def plugin_items(user) -> list[dict]:
    """Items of the plugins enabled for the user's unit (the built-in ones
    included), checked for shape."""
    from core.tenancy import modules

    registry = current_app.extensions["qqh_plugins"]
    off = modules.current_switched_off() if has_request_context() else set()
    out = []
    for items in registry.hook_for(off).qqh_todo_items(user=user):
        for item in items or ():
            if not isinstance(item, dict) or set(item) != set(KEYS):
                # a page must not fail for it: say so in the log, leave the item out
                log.error("A plugin's qqh_todo_items must return dicts with exactly the keys %s, not %r", KEYS, item)
                continue
            out.append({**item, "title": str(item["title"]), "count": int(item["count"])})
    return out


def todo_items(user=None) -> list[dict]:
    """Every to-do item of ``user`` (the current user by default), soonest due first."""
    if has_request_context() and user is None:
        if "_qqh_todo" in g:
            return g._qqh_todo
        user = current_user()
        cache = True
    else:
        cache = False
    if user is None:
        items = []
    elif cache:
        items = _kept_items(user)
    else:
        items = _items(user)
    if cache:
        g._qqh_todo = items
    return items


def _items(user) -> list[dict]:
    items = plugin_items(user)  # core's own come from its built-in plugins (core/builtins)
    items.sort(key=lambda i: (i["due"] is None, i["due"] or datetime.date.max, i["kind"], i["title"]))
    return items


# The current user's items as last computed in this process, while nothing was written anywhere since
# (core.tenancy.versions.kept_while_unwritten: no query of its own, against the five or so of the sources): the navbar's count is
# on every page and cost a list page a third of its time. Keyed by everything else the items depend
# on: the user, their unit and roles, the units' switched-off modules, the day, the language, the
# script root of the links. Kept with the app (its database's numbers only); bounded: emptied when it holds
# KEPT_USERS users.
KEPT_USERS = 2000


def _kept_items(user) -> list[dict]:
    from flask import request
    from flask_babel import get_locale

    from core.tenancy import modules
    from core.tenancy.versions import kept_while_unwritten

    store = current_app.extensions.setdefault("qqh_todo_kept", {})
    key = (user.id, getattr(user, "unit_id", None), tuple(sorted(r.name for r in user.roles)),
           tuple(sorted(modules.current_switched_off())), clock.today(), str(get_locale()), request.script_root)
    items = kept_while_unwritten(current_app.appbuilder.session, store, key, lambda: tuple(_items(user)), KEPT_USERS)
    return [dict(i) for i in items]  # the caller's own copies


def todo_count(user=None) -> int:
    return sum(i["count"] for i in todo_items(user))


def as_json(item: dict) -> dict:
    return {**item, "due": item["due"].isoformat() if item["due"] else None}


class TodoView(BaseView):
    route_base = "/todo"
    class_permission_name = PERMISSION_VIEW
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        return self.render_template("qqh/todo.html", items=todo_items(), title=gettext("To do"))


class TodoApi(BaseApi):
    resource_name = "todo"
    class_permission_name = PERMISSION_VIEW
    allow_browser_login = True
    openapi_spec_tag = "To do"

    @api_expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def items(self):
        """My to-do list: unread notices, my unit's deadlines, plugins' items.
        ---
        get:
          summary: My to-do list
          responses:
            200:
              description: kind, title, url, due (or null) and count of each item; count is their sum
        """
        items = todo_items()
        return self.response(200, result=[as_json(i) for i in items], count=sum(i["count"] for i in items))


def _shown() -> bool:
    """Whether the navbar badge and the panel are shown (a logged-in user who may read the to-do list)."""
    return current_user() is not None and current_app.appbuilder.sm.has_access("can_list", PERMISSION_VIEW)


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(TodoView)
    appbuilder.add_api(TodoApi)
    current_app.jinja_env.globals.update(qqh_todo_items=todo_items, qqh_todo_count=todo_count, qqh_todo_shown=_shown)
