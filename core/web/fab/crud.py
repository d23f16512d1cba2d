"""Add and edit forms that come back refused, over Flask-AppBuilder 5.3.0's own.

FAB's ``BaseCRUDView._add`` and ``_edit`` show a form again only when its
fields refuse it; a refusal of the record itself (the model's rules, the
user's scope, a record that already exists: :class:`core.tenancy.scope.InvalidInput`
raised by ``populate_obj``, ``pre_add``/``pre_update`` or the interface's
``add``/``edit``) is flashed and followed by a redirect, which loses the
user's input and puts the messages away from their fields. These two
functions are FAB's POST branch with that one difference; a GET is FAB's own
code. Everything else is what FAB does, in FAB's order: the relation filters
of the URL fill the excluded columns, ``process_form``, ``pre_*``,
``post_*``, the success message, and a refused edit page keeps its related
views (core's first copy dropped them: the edit page of a record with related
lists answered 500 when refused, and the form lost where it was opened from).

:data:`MIRRORED` is the digest of FAB's two methods these were written
against: tests/test_fab_adapter.py fails when an upgrade changes them, the
moment to diff this module against FAB's new code again.
"""

from __future__ import annotations

from flask import abort, flash, request

MIRRORED = {  # "module:qualified name" → sha256 of inspect.getsource (Flask-AppBuilder 5.3.0)
    "flask_appbuilder.baseviews:BaseCRUDView._add": "a025a0c68594773e8ef24772ea1a04f1d50e627a4ff99a4558f36f645a747811",
    "flask_appbuilder.baseviews:BaseCRUDView._edit": "d761e7bd3d3ff992293f764092c2604a34ab94995d7cdac8daf05f6ffeea9342",
}


def _refusal():
    from core.tenancy.scope import InvalidInput

    return InvalidInput


def add(view, fab_add, refuse, problems=None):
    """``view._add()``: ``fab_add`` (FAB's) for a GET; for a POST the record is
    saved (None: FAB redirects) or the form comes back with ``refuse(form, exc)``
    applied; ``problems(form, item)`` adds the record's own problems to a form
    its fields refused."""
    if request.method != "POST":
        return fab_add()
    from flask_appbuilder.urltools import get_filter_args

    get_filter_args(view._filters, disallow_if_not_in_search=False)
    exclude_cols = view._filters.get_relation_cols()
    form = view.add_form.refresh()
    view._fill_form_exclude_cols(exclude_cols, form)
    if form.validate():
        view.process_form(form, True)
        item = view.datamodel.obj()
        try:
            form.populate_obj(item)
            view.pre_add(item)
            view.datamodel.add(item)
        except _refusal() as exc:
            refuse(form, exc)
        else:
            view.post_add(item)
            flash(view.add_row_message, "success")
            return None
    elif problems is not None:
        problems(form, view.datamodel.obj())
    return view._get_add_widget(form=form, exclude_cols=exclude_cols)


def edit(view, pk, fab_edit, refuse, problems=None):
    """``view._edit(pk)``, as :func:`add`; a refused edit page has its related views."""
    if request.method != "POST":
        return fab_edit(pk)
    from flask_appbuilder import urltools  # module attributes: core/web/fab/patches.py replaces the paging ones

    pages, page_sizes, orders = urltools.get_page_args(), urltools.get_page_size_args(), urltools.get_order_args()
    urltools.get_filter_args(view._filters, disallow_if_not_in_search=False)
    exclude_cols = view._filters.get_relation_cols()
    item = view.datamodel.get(pk, view._base_filters)
    if not item:
        abort(404)
    pk = view.datamodel.get_pk_value(item)
    form = view.edit_form.refresh(request.form)
    view._fill_form_exclude_cols(exclude_cols, form)
    form._id = pk  # FAB's "trick to pass unique validation"
    if form.validate():
        view.process_form(form, False)
        try:
            form.populate_obj(item)
            view.pre_update(item)
            view.datamodel.edit(item)
        except _refusal() as exc:
            view.datamodel.session.rollback()
            refuse(form, exc)
        else:
            view.post_update(item)
            flash(view.edit_row_message, "success")
            return None
    elif problems is not None:
        problems(form, item)
    widgets = view._get_edit_widget(form=form, exclude_cols=exclude_cols)
    return view._get_related_views_widgets(
        item, filters={}, orders=orders, pages=pages, page_sizes=page_sizes, widgets=widgets
    )
