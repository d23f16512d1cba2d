"""The Flask-AppBuilder adapter: every place core leans on what Flask-AppBuilder
5.3.0, Flask 3 or Flask-Babel 4 do not promise to keep.

:func:`apply` (called once by ``core.app.create_app``) checks the installed
versions against :data:`SUPPORTED` (one warning line outside them;
``QQH_STRICT_VERSIONS=1`` makes it an error) and applies core/web/fab/patches.py.
tests/test_fab_adapter.py has one canary per row below: after an upgrade it
names the row that broke.

Private names touched (a leading underscore, or library state that is not API)
==============================================================================

=========================================== ========= ================================ ===========================================
Name                                        Library   Used by                          What breaks if it changes
=========================================== ========= ================================ ===========================================
``flask.globals._cv_app``                   Flask     fab/patches.py (3)               translations read with no app context
``flask_babel._get_current_context``        F-Babel   fab/patches.py (3), replaced     each translated string ~5x slower, or
                                                                                       wrong state if its contract changed
``g._flask_babel``                          F-Babel   fab/patches.py (3)               per-request locale/translations lost
``flask_appbuilder.api.jsonschema``         FAB       fab/patches.py (1), replaced     ~30 ms more a REST call (or no q check)
``BaseView._register_urls``                 FAB       fab/patches.py (4), wrapped      delete/action by GET come back
``BaseCRUDView._init_forms``                FAB       fab/patches.py (7), wrapped      forms lose qqh_back: saves go to the list
``BaseCRUDView._get_add_widget``,           FAB       fab/patches.py (7), wrapped;     qqh_back not filled, no * on required
``_get_edit_widget``                                  scoping.ScopedModelView          fields, custom fields not in forms
``BaseCRUDView._add``, ``_edit``            FAB       fab/crud.py (mirrors them:       a refused save flashes and redirects
                                                      digests in crud.MIRRORED),       (input lost) or, if FAB's steps changed,
                                                      ScopedModelView, lowcode views   forms skip them
``BaseCRUDView._filters``,                  FAB       fab/crud.py; base_filters()      relation filters of the URL, the view's
``_base_filters``,                                    (import_views, security)         base filters not applied to saves/exports
``_fill_form_exclude_cols``,
``_get_related_views_widgets``
``BaseCRUDView._get_list_widget``,          FAB       scoping.ScopedModelView,         custom fields missing from lists/record
``_get_show_widget``                                  personal.PersonalDataView,       pages; any _oc_ column orders a list
                                                      security.UnitAdminUserView.show
``BaseCRUDView._related_views``             FAB       security.UnitAdminUserView.show  user record page without its tabs
``SQLAInterface._get_base_query``,          FAB       scoping.ScopedInterface,         SCOPE LEAKS: lists/exports/counts show
``apply_filters``, ``query_count``                    lowcode.FieldInterface (and a    other units' records
                                                      plugin's interface that steps
                                                      around scope: issue 15.1)
``SQLAInterface._apply_inner_all``          FAB       :func:`counted_query`            a kept count counts another query than
                                                      (scoping.ScopedInterface         the list shows: a wrong Record Count
                                                      .query_count)
``ModelRestApi._init_model_schemas``,       FAB       scoping.ScopedModelRestApi       REST schemas without Chinese messages,
``_gen_labels_columns``, ``_init_titles``,                                             labels, titles; pickers unscoped
``_get_field_info``
``BaseSecurityManager._has_view_access``    FAB       :func:`has_view_access` (cli)    ``--as USER`` permission check
``BaseSecurityManager._builtin_roles``      FAB       :func:`set_builtin_roles`        the four roles hold no permission: every
                                                      (security.install_roles)         page and API refuses their users
``BaseSecurityManager                       FAB       security.QqhSecurityManager      role checks fall back to FAB's regex
._has_access_builtin_roles``                                                           match (slower, looser)
``AuthView._get_authenticated_user``        FAB       :func:`authenticated_user`       logout does not revoke the session
                                                      (accounts)
``OpenApi._create_api_spec``                FAB       :func:`api_spec` (openapi)       /api/v1/_openapi answers 500
``SQLAFilterConverter.conversion_table``    FAB       fab/patches.py (6), reordered;   search starts with "Starts with" again
                                                      scoping.ScopedFilterConverter
``baseviews``/``urltools.get_page_args``,   FAB       fab/patches.py (5), replaced     ?page_X=abc answers 500
``get_page_size_args``
``ModelView.action``, ``action_post``,      FAB       fab/patches.py (2), wrapped      unknown action / file answers 500
``download``
``ModelView.post_add_redirect``,            FAB       fab/patches.py (7), replaced;    saves go to FAB's session history
``post_edit_redirect``                                scoping.ScopedModelView
``BaseApi.response``, ``response_400..404`` FAB       api_errors, accounts, replaced   REST refusals in English
``Role.__str__`` (FAB: ``__repr__``)       FAB       security, replaced               roles read province_admin, not 省级管理员
=========================================== ========= ================================ ===========================================

Templates of Flask-AppBuilder that core replaces by a copy (:data:`COPIED_TEMPLATES`,
with the digest of FAB's original) or extends by block (:data:`EXTENDED_TEMPLATES`)
are checked the same way: a copy is stale when FAB's original changes, a block
override is dead when FAB's template no longer has that block.
"""

from __future__ import annotations

import logging
import os
from importlib import metadata

log = logging.getLogger(__name__)

# what core/fab was written and tested against (setup.cfg's install_requires pins the same)
SUPPORTED = {
    "Flask-AppBuilder": "==5.3.0",
    "Flask": ">=3.0,<4",
    "Flask-Babel": ">=4,<5",
}

# core's copy → sha256 of Flask-AppBuilder 5.3.0's template it replaces (same path)
COPIED_TEMPLATES = {
    "appbuilder/navbar_menu.html": "c80d05552fa166cfb60a766f857def9b6d602b8983c8fbc9dc50c9c29fb0ca1c",
    "appbuilder/navbar_right.html": "0a7b39c996f2f3a1e425e9cc811c1a6c1bdc1aa34d2dc792aa10084e654bd4b8",
    "appbuilder/general/confirm.html": "b40fa102c061f75bc43de5b65b90f4858d1b5fe8d223ad49c99c0e894125c062",
    "appbuilder/general/widgets/list.html": "2a0fad48fe42239c756dbc963dcefa3cba1181c6d699378bc811dd081ebdb662",
    "appbuilder/general/widgets/roles/list.html": "fbf2cb3dbc25ccb6673f8478c3e87bb1c170c22a7663f889ee9e94650bbca818",
}

# core's template → (FAB's template it extends, the blocks it overrides)
EXTENDED_TEMPLATES = {
    "qqh/base.html": ("appbuilder/baselayout.html", ("head_css", "tail_js")),
    "qqh/show.html": ("appbuilder/general/model/show.html", ("content",)),
    "qqh/import_list.html": ("appbuilder/general/model/list.html", ("list_list",)),
    "appbuilder/general/widgets/list.html": (
        "appbuilder/general/widgets/base_list.html",
        ("begin_content", "begin_loop_header", "begin_loop_values", "end_content"),
    ),
}

STRICT_ENV = "QQH_STRICT_VERSIONS"


def installed_versions() -> dict[str, str | None]:
    """The installed version of each package of :data:`SUPPORTED` (None: not installed)."""
    found = {}
    for name in SUPPORTED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def version_problems(installed: dict[str, str | None] | None = None) -> list[str]:
    """``package installed X, core/fab expects Y`` for each package outside its range."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    installed = installed_versions() if installed is None else installed
    problems = []
    for name, spec in SUPPORTED.items():
        version = installed.get(name)
        try:
            ok = version is not None and Version(version) in SpecifierSet(spec)
        except InvalidVersion:
            ok = False
        if not ok:
            problems.append(f"{name} {version or 'not installed'} is installed, core/fab expects {name}{spec}")
    return problems


def check_versions(installed: dict[str, str | None] | None = None, strict: bool | None = None) -> list[str]:
    """Log ONE warning line naming every package outside its range (or raise
    RuntimeError when ``strict``, by default ``QQH_STRICT_VERSIONS=1``)."""
    problems = version_problems(installed)
    if problems:
        line = (
            "Untested library versions: " + "; ".join(problems)
            + " (see core/web/fab/__init__.py for what may break; tests/test_fab_adapter.py checks each point)"
        )
        if strict is None:
            strict = os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes")
        if strict:
            raise RuntimeError(line)
        log.warning(line)
    return problems


_checked = False


def apply() -> None:
    """Once per process: the version check, then the corrections of core/web/fab/patches.py."""
    global _checked
    if not _checked:
        _checked = True
        check_versions()
    from core.web.fab import patches

    patches.apply()


# -- private names reached through one named function each ---------------------------------
def base_filters(view):
    """The view's base filters (FAB's ``BaseModelView._base_filters``)."""
    return view._base_filters


def counted_query(interface, query, filters, select_columns):
    """The query FAB's ``SQLAInterface.query_count`` counts: filtered and joined, neither ordered
    nor paged (FAB's ``_apply_inner_all``)."""
    return interface._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})


def has_view_access(sm, user, permission: str, view_name: str) -> bool:
    """Whether ``user`` has ``permission`` on ``view_name`` (FAB's ``sm._has_view_access``)."""
    return sm._has_view_access(user, permission, view_name)


def set_builtin_roles(sm, roles: dict) -> None:
    """The permissions of the built-in roles, as FAB reads ``FAB_ROLES`` (``sm._builtin_roles``)."""
    sm._builtin_roles = roles


def authenticated_user(auth_view):
    """The user of this request, by session or token (FAB's ``AuthView._get_authenticated_user``)."""
    return auth_view._get_authenticated_user()


def api_spec(openapi_view, version: str):
    """A new APISpec for ``version`` (FAB's ``OpenApi._create_api_spec``)."""
    return openapi_view._create_api_spec(version)
