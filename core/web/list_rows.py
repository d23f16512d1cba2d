"""The rows of a list page, written in one pass.

Flask-AppBuilder's list widget writes each row through Jinja: for 25 rows of
four columns that was ~125 template expressions, filter calls and lookups per
page, a fifth of the page's time. Here the row buttons' links and labels are
built once per page (each row's link is the page's with the row's key put in),
and each cell goes through what ``{{ }}`` does to it — the column's formatter,
:func:`core.web.display.display` (Jinja's ``finalize``), then HTML escaping —
so the markup and the text are the template's. The page links above them
likewise (:func:`list_pages`: one ``url_for`` for all of them, where FAB's
macros built twelve). Used by ``appbuilder/general/widgets/list.html`` (the
``qqh_list_rows`` and ``qqh_list_pages`` globals).
"""

from __future__ import annotations

import math
from urllib.parse import quote

from flask import request, url_for
from flask_babel import gettext
from markupsafe import Markup, escape

from core.web.display import display

MARKER = "9090909090909"  # a number, so that routes typed /show/<int:pk> build too


def _link(view_name: str, action: str, filters, with_filters: bool):
    """``pk -> URL`` of a row's show/edit/delete link: the URL is built once with a
    marker for the key and the key put in per row (the key stands first in the
    path, so only its first occurrence is replaced); a route that takes no key
    that way falls back to a ``url_for`` per row."""
    endpoint = f"{view_name}.{action}"

    def with_link_filters(href: str) -> str:
        if not with_filters:
            return href
        for flt, value in filters.get_filters_values():  # FAB's set_link_filters
            if flt.is_related_view:
                href += ("&" if "?" in href else "?") + "_flt_0_" + flt.column_name + "=" + str(value)
        return href

    try:
        pattern = with_link_filters(url_for(endpoint, pk=int(MARKER)))
    except Exception:  # FAB's safe_url_for: no such route, no link
        return None
    if MARKER in pattern:
        return lambda pk: pattern.replace(MARKER, quote(str(pk)), 1)

    def each(pk):
        try:
            return with_link_filters(url_for(endpoint, pk=pk))
        except Exception:
            return None

    return each


def list_rows(value_columns, pks, include_columns, formatters_columns, modelview_name, filters,
              can_show: bool, can_edit: bool, can_delete: bool, actions) -> Markup:
    """The ``<tr>`` of every row: the action checkbox, the show/edit/delete buttons, a cell per column."""
    show = _link(modelview_name, "show", filters, True) if can_show else None
    edit = _link(modelview_name, "edit", filters, True) if can_edit else None
    delete = _link(modelview_name, "delete", filters, False) if can_delete else None
    buttons = can_show or can_edit or can_delete

    def button(title: str, label: str, icon: str) -> tuple[str, str]:
        return str(escape(title)), f'{escape(label)}</span><i class="fa {icon}"></i></a>'

    t_show, s_show = button(gettext("Show record"), gettext("Show"), "fa-search")
    t_edit, s_edit = button(gettext("Edit record"), gettext("Edit"), "fa-edit")
    t_delete, s_delete = button(gettext("Delete record"), gettext("Delete"), "fa-trash")
    cells = [(column, formatters_columns.get(column)) for column in include_columns]
    out = []
    for item, pk in zip(value_columns, pks):
        out.append("<tr>\n")
        if actions:
            key = escape(pk)
            out.append(f'<td>\n<input id="{key}" class="action_check" name="rowid" value="{key}" type="checkbox">\n</td>\n')
        if buttons:
            out.append('<td><center>\n<div class="btn-group btn-group-xs" style="display: flex;">\n')
            href = show(pk) if show else None
            if href:
                out.append(f'<a href="{escape(href)}" class="btn btn-sm btn-default" data-toggle="tooltip" rel="tooltip"'
                           f' title="{t_show}"><span class="sr-only">{s_show}\n')
            href = edit(pk) if edit else None
            if href:
                out.append(f'<a href="{escape(href)}" class="btn btn-sm btn-default" data-toggle="tooltip" rel="tooltip"'
                           f' title="{t_edit}"><span class="sr-only">{s_edit}\n')
            href = delete(pk) if delete else None
            if href:
                href = escape(href)
                out.append(f'<a id="btn-delete-{href}" href="#" class="btn btn-sm btn-default confirm" rel="tooltip"'
                           f' data-delete="{href}" title="{t_delete}"><span class="sr-only">{s_delete}\n')
            out.append("</div>\n</center></td>\n")
        for column, formatter in cells:
            value = item[column]
            if formatter:
                value = formatter(value)
            out.append(f"<td>{escape(display(value))}</td>\n")
        out.append("</tr>\n")
    return Markup("".join(out))


def _with_arg(name: str):
    """``value -> URL`` of this page with the query argument ``name`` set to ``value`` (FAB's
    ``link_page`` and ``link_page_size`` filters), built once with a marker for the value."""
    view_args = request.view_args or {}

    def build(value) -> str:
        args = request.args.copy()
        args[name] = value
        return url_for(request.endpoint, **dict(list(view_args.items()) + list(args.to_dict().items())))

    pattern = build(MARKER)
    if pattern.count(MARKER) != 1:  # the marker was in the request already
        return build
    return lambda value: pattern.replace(MARKER, str(value), 1)


def list_pages(page, page_size, count, modelview_name) -> Markup:
    """FAB's ``render_pagination`` and ``render_set_page_size`` (general/lib.html): the page
    links (three either side of this one, first, previous, next, last) and the page sizes."""
    page = page or 0
    pages = math.ceil(count / page_size) if page_size else 0
    if pages <= 1:
        return Markup("")
    link = _with_arg("page_" + modelview_name)
    low, high = page - 3, page + 3 + 1
    if low < 0:
        high -= low
    if high >= pages:
        low = low - high + pages
    low, high = max(low, 0), min(high, pages)

    def item(target, text: str, active: bool = False) -> str:
        if target is None:
            return f'<li class="{"active" if active else "disabled"}">\n<a href="#">{text}</a>\n</li>\n'
        return f'<li>\n<a href="{escape(link(target))}">{text}</a>\n</li>\n'

    out = ['<ul class="pagination pagination-sm" style="display:inherit;">\n',
           item(0 if low > 0 else None, "&laquo;"), item(page - 1 if page > 0 else None, "&lt;")]
    out += [item(None if p == page else p, str(p + 1), active=p == page) for p in range(low, high)]
    out += [item(page + 1 if page + 1 < pages else None, "&gt;"), item(pages - 1 if high < pages else None, "&raquo;"), "</ul>\n"]
    size_link = _with_arg("psize_" + modelview_name)
    label = escape(gettext("Page size"))  # outside the f-string: babel extracts it from here
    out.append('<div class="btn-group">\n<button type="button" class="btn btn-default btn-sm dropdown-toggle" data-toggle="dropdown">\n'
               f'{label}<span class="caret"></span>\n</button>\n<ul class="dropdown-menu" role="menu">\n')
    for size in range(25, 125, 25):
        if page * size <= count:
            active = ' class="active"' if size == page_size else ""
            out.append(f'<li{active}><a href="{escape(size_link(size))}">{size}</a></li>\n')
    out.append("</ul>\n</div>\n")
    return Markup("".join(out))


def install(app) -> None:
    app.jinja_env.globals["qqh_list_rows"] = list_rows
    app.jinja_env.globals["qqh_list_pages"] = list_pages
