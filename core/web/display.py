"""How a value appears on a page, the same for every plugin.

Installed as Jinja's ``finalize``: every ``{{ value }}`` of FAB's list and
show pages (and ours) passes through it. In Chinese, dates read as a Chinese
office writes them (2012年3月1日, 2012年3月1日 14:05); in English as ISO dates.
Everywhere: nothing for an empty value (not "None"), 是/否 for yes/no, and
decimal amounts grouped by thousands with their own places (5,000,000.00),
whole floats without ".0" (a target of 50, not 50.0),
lists of related records as 甲、乙 (not Python's "[甲, 乙]").
Whole numbers are left alone: they are often years and codes.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from flask_babel import get_locale, get_translations, gettext
from markupsafe import Markup

from core.values.validators import format_date_zh


def _chinese() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def display(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime.datetime):
        if _chinese():
            return f"{format_date_zh(value.date())} {value:%H:%M}"
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, datetime.date):
        return format_date_zh(value) if _chinese() else value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)  # a target of 50, not 50.0 (12.5 stays 12.5)
    if isinstance(value, Decimal) and value.is_finite():
        return f"{value:,f}"
    if isinstance(value, list):  # a to-many relation (SQLAlchemy's InstrumentedList is a list)
        return "、".join(str(display(v)) for v in value)
    return value


def date_text(value) -> str:
    """A date as the page's language writes it, where ``{{ }}`` does not reach
    (inside a translated sentence): ``_("due %(date)s", date=d|date_text)``."""
    return str(display(value))


def page_gettext(__string: str, **variables) -> Markup:
    """The templates' ``_()`` and ``gettext()``: what Jinja's newstyle gettext gives under
    autoescape (every template here is HTML) — the translation as markup, always formatted,
    its ``%(name)s`` values escaped — without asking for the template's context: in a block
    with variables of its own each call copied the context and all of its blocks (2 % of a
    list page)."""
    return Markup(get_translations().ugettext(__string)) % variables


def install(app) -> None:
    app.jinja_env.finalize = display
    app.jinja_env.filters["date_text"] = date_text
    app.jinja_env.globals.update(_=page_gettext, gettext=page_gettext)
