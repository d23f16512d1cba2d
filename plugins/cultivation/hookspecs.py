"""Hooks that the cultivation plugin offers to the plugins that require it.

Returned by ``qqh_add_hookspecs()``; core adds them to the one plugin
manager, so a plugin with ``requires=("cultivation",)`` implements them with
``core.api.hookimpl`` like any core hook (or unmarked).
"""

from core.api import hookspec


@hookspec
def qqh_youthorg_profile_sections(org, session, scope):
    """Return sections to show on a youth organization's profile page
    (``/youthorg/profile/<id>``): the bases it lives in, trainings its leaders
    attended, League building, appeals …

    ``org`` is the :class:`plugins.cultivation.models.YouthOrg` being shown
    (always inside the user's scope); ``session`` the SQLAlchemy session;
    ``scope`` the user's :class:`core.api.Scope` — limit your own
    unit-owned records with ``core.api.in_scope(stmt, Model, scope)``.
    An implementation may take any subset of these arguments.

    Return a list of :class:`plugins.cultivation.profile.ProfileSection`, or
    of plain tuples ``(title, html)`` (``markupsafe.Markup``; a plain string is
    escaped) or ``(title, rows)`` where rows is a list of dicts (their keys,
    in order, are the column headings). Sections are shown in ``order`` and
    then in plugin load order; an empty list shows nothing. A section whose
    plugin raises is replaced by a short notice, the page still works.
    Not called for a plugin that the user's unit switched off.
    """
