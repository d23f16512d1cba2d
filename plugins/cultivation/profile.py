"""Sections that plugins add to a youth organization's profile page.

A plugin that requires ``cultivation`` implements the hook
``qqh_youthorg_profile_sections(org, session, scope)`` (declared in
``plugins/cultivation/hookspecs.py``) and returns ``ProfileSection`` items::

    from core.api import hookimpl
    from plugins.cultivation.profile import ProfileSection

    @hookimpl
    def qqh_youthorg_profile_sections(org, session, scope):
        rows = [(h.name, h.opened_on) for h in homes_of(session, org, scope)]
        return [ProfileSection(_l("Homes it lives in"), columns=(_l("Home"), _l("Since")), rows=rows)]
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Sequence

from flask_babel import gettext
from markupsafe import Markup, escape

from core.api import format_amount, format_date_zh, plugin_hook_callers

log = logging.getLogger(__name__)
HOOK = "qqh_youthorg_profile_sections"


@dataclass
class ProfileSection:
    """One block of the profile page: a title and either a table
    (``columns`` headings and ``rows`` of cells) or ready ``html``
    (``Markup``; a plain string is escaped). ``order``: smaller comes first."""

    title: Any
    columns: Sequence[Any] = ()
    rows: Sequence[Sequence[Any]] = ()
    html: Any = None
    order: int = 100
    plugin: str = ""
    empty: Any = None  # text shown when there are no rows (default: 无记录)

    def cells(self) -> list[list[str]]:
        return [[cell_text(c) for c in row] for row in self.rows]

    def body(self) -> Markup | None:
        if self.html is None:
            return None
        return self.html if isinstance(self.html, Markup) else Markup(escape(str(self.html)))


def cell_text(value) -> str:
    """How a cell of a section is written: dates 2012年3月31日, amounts with
    two decimals, booleans 是/否, empty as blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return format_date_zh(value)
    if isinstance(value, Decimal):
        return format_amount(value)
    return str(value)


def normalise(plugin: str, item) -> ProfileSection:
    """Turn one hook answer into a :class:`ProfileSection`."""
    if isinstance(item, ProfileSection):
        item.plugin = item.plugin or plugin
        return item
    if isinstance(item, (tuple, list)) and len(item) == 2:
        title, content = item
        if isinstance(content, (str, Markup)):
            return ProfileSection(title, html=content, plugin=plugin)
        rows = list(content or [])
        if rows and isinstance(rows[0], dict):
            columns = list(rows[0].keys())
            return ProfileSection(title, columns=columns, rows=[[r.get(c) for c in columns] for r in rows], plugin=plugin)
        return ProfileSection(title, rows=rows, plugin=plugin)
    raise TypeError(f"{plugin}: a profile section must be a ProfileSection or a (title, html|rows) pair, not {item!r}")


def collect_sections(org, session, scope) -> list[ProfileSection]:
    """Ask every plugin the user's unit and the organization's unit use for
    its sections about ``org``,
    each through its own pluggy caller. A plugin that fails is logged and
    shown as a short notice; the page still works."""
    sections: list[ProfileSection] = []
    for name, label, caller in plugin_hook_callers(HOOK, record_unit=org.unit):
        try:
            for items in caller(org=org, session=session, scope=scope):
                sections.extend(normalise(name, item) for item in (items or ()))
        except Exception:  # another plugin's bug must not break this page
            session.rollback()
            log.exception("profile sections of plugin %s failed for youth organization %s", name, org.id)
            sections.append(
                ProfileSection(
                    label,
                    html=gettext("This section could not be shown; the error has been logged."),
                    plugin=name,
                    order=1000,
                )
            )
    sections.sort(key=lambda s: s.order)  # stable: load order within the same order
    return sections
