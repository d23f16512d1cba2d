"""A list page's search form, kept between requests.

Flask-AppBuilder renders the form on every list page: each searchable column's
field and its filters, as JSON, through a template (0.4 ms of a 6 ms page).
With no filter active it is the same for every request of a view, language,
script root and scope while nothing is written (the fields' choices are the
user's scope's records; custom fields live in the database), so it is kept
against :func:`core.tenancy.versions.kept_while_unwritten`. The script's nonce is
each request's own (core/web/headers.py): kept as a marker, put in per request.
"""

from __future__ import annotations

from flask import current_app, request
from flask_appbuilder.widgets import SearchWidget
from flask_babel import get_locale
from markupsafe import Markup

KEPT_FORMS = 4096
NONCE_MARK = "\x00qqh-nonce\x00"


class KeptSearchWidget(SearchWidget):
    """FAB's ``SearchWidget``; without active filters, its markup kept as said above."""

    def __call__(self, **kwargs):
        from core.tenancy.scope import current_scope
        from core.tenancy.versions import kept_while_unwritten
        from core.web.headers import csp_nonce

        if kwargs or self.filters.get_filters_values():
            return super().__call__(**kwargs)
        nonce = csp_nonce()

        def rendered() -> str:
            return str(SearchWidget.__call__(self)).replace(nonce, NONCE_MARK)

        key = (self.template_args.get("route_base"), tuple(self.template_args.get("include_cols") or ()),
               str(get_locale()), request.script_root, current_scope())
        store = current_app.extensions.setdefault("qqh_search_forms_kept", {})
        return Markup(kept_while_unwritten(current_app.appbuilder.session, store, key, rendered, KEPT_FORMS).replace(NONCE_MARK, nonce))
