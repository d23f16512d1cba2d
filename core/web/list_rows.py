"""The rows of a list page, written in one pass.

Flask-AppBuilder's list widget writes each row through Jinja: for 25 rows of
four columns that was ~125 template expressions, filter calls and lookups per
page, a fifth of the page's time. Here the row buttons' links and labels are
built once per page (each row's link is the page's with the row's key put in),
and each cell goes through what ``{{ }}`` does to it — the column's formatter,
:func:`core.web.display.display` (Jinja's ``finalize``), then HTML escaping —
so the markup and the text are the template's. Used by
``appbuilder/general/widgets/list.html`` (the ``qqh_list_rows`` global).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import url_for
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
        return str(escape(gettext(title))), f'{escape(gettext(label))}</span><i class="fa {icon}"></i></a>'

    t_show, s_show = button("Show record", "Show", "fa-search")
    t_edit, s_edit = button("Edit record", "Edit", "fa-edit")
    t_delete, s_delete = button("Delete record", "Delete", "fa-trash")
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


def install(app) -> None:
    app.jinja_env.globals["qqh_list_rows"] = list_rows
