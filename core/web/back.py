"""After saving a form, back where the user came from.

FAB returns to the previous entry of a page history kept in the session: an
add opened from the dashboard lands on the dashboard, and a form opened in one
tab after a record page in another lands on that other record (enrolling 李明
showed 何锦辉's page). Instead, every add and edit form carries the page it was
opened from (a hidden ``qqh_back`` field, filled from the ``Referer`` of the
form's GET or its ``?next=``): a list page (with its filters) or a record's
page of this application. From anywhere else (the dashboard, a typed address)
the form returns to its own list (core/web/fab/patches.py wires this into
Flask-AppBuilder's forms). A view's ``back_to`` (the parent record of
``?camp=<id>``) still comes first (core/web/scoped_views.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for
from wtforms import HiddenField

FIELD = "qqh_back"
RETURNABLE = ("list", "show", "profile")  # the pages a form may send the user back to


class BackField(HiddenField):
    """Where to go after saving: carried by the form, never written to the record."""

    def populate_obj(self, obj, name):
        pass


def _local(url: str | None) -> str | None:
    """``url`` as a path on this server (``/x/list/?a=1``), or None if it is another site's."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("", "http", "https") or (parts.netloc and parts.netloc != request.host):
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def returnable(url: str | None) -> str | None:
    """``url`` if it is a list or a record page of this application, else None."""
    path = _local(url)
    if path is None:
        return None
    adapter = current_app.url_map.bind(request.host, script_name=request.script_root or None)
    try:
        endpoint, _args = adapter.match(urlsplit(path).path, method="GET")
    except Exception:  # no such page, a redirect, another method: not a page to go back to
        return None
    if endpoint.rsplit(".", 1)[-1] not in RETURNABLE:
        return None
    return path


def origin() -> str | None:
    """Where the form being shown was opened from (GET of an add or edit page)."""
    candidate = request.args.get("next")
    if returnable(candidate):
        return returnable(candidate)
    referrer = request.referrer
    if referrer and _local(referrer) and urlsplit(_local(referrer)).path == request.path:
        return None  # the form itself (shown again): keep what it carries
    return returnable(referrer)


def target(view) -> str:
    """Where a saved form goes: the page it came from, else the view's list."""
    back = returnable(request.form.get(FIELD))
    if back:
        return back
    try:
        return url_for(f"{view.endpoint}.list")
    except Exception:
        return view.appbuilder.get_url_for_index
