"""Labels and titles of the REST API in the request's language.

Flask-AppBuilder makes English ones for what an API does not declare
("Id", "Parent Code", "List Unit"): a column of a related record is named by
the relation's label and the field's ("上级单位代码"); the titles are those
of the page that shows the same model."""

from __future__ import annotations

import re

from flask import current_app, has_app_context
from flask_babel import LazyString, gettext, lazy_gettext as _l

COMMON = {
    "id": _l("ID"),
    "code": _l("Code"),
    "name": _l("Name"),
    "title": _l("Title"),
    "created_on": _l("Created on"),
    "changed_on": _l("Changed on"),
    "created_by": _l("Created by"),
    "changed_by": _l("Changed by"),
    "unit": _l("Unit"),
}


def column_labels(declared: dict, columns) -> dict:
    """``declared`` (a copy) completed with a label for every column in
    ``columns``, dotted ones (``parent.code``) included."""
    labels = dict(declared or {})
    for col in columns:
        # FAB's English guess ("Id", "Parent Code": a page may have written it into the shared dict) is no label
        if labels.get(col) and labels[col] != re.sub("[._]", " ", col).title():
            continue
        if "." in col:
            relation, field = col.split(".", 1)
            rel_label = labels.get(relation) or COMMON.get(relation, relation)
            field_label = COMMON.get(field, field)
            labels[col] = LazyString(
                lambda r=rel_label, f=field_label: gettext("%(relation)s %(field)s", relation=str(r), field=str(f))
            )
        elif col in COMMON:
            labels[col] = COMMON[col]
    return labels


def _page_title(model, kind: str) -> str:
    if has_app_context():
        for view in current_app.appbuilder.baseviews:
            datamodel = getattr(view, "datamodel", None)
            title = getattr(view, f"{kind}_title", None)
            if getattr(datamodel, "obj", None) is model and title and not hasattr(view, "add_api_spec"):
                return str(title)
    return {
        "list": gettext("Records"),
        "show": gettext("The record"),
        "add": gettext("Add a record"),
        "edit": gettext("Edit the record"),
    }[kind]


def page_title(model, kind: str) -> LazyString:
    return LazyString(lambda: _page_title(model, kind))


def install_locale(app) -> None:
    """A REST request is answered in the language of its ``Accept-Language``
    (``zh`` or ``en``; Chinese when it names neither), unless it says ``_l_=``;
    pages keep the language the user chose."""
    from flask import has_request_context, request

    babel = app.extensions["babel"]
    chosen = babel.locale_selector

    def select():
        if has_request_context() and request.path.startswith("/api/") and "_l_" not in request.args:
            header = request.headers.get("Accept-Language")
            if header:
                return request.accept_languages.best_match(list(app.config["LANGUAGES"])) or app.config["BABEL_DEFAULT_LOCALE"]
        return chosen() if chosen else None

    babel.locale_selector = select
