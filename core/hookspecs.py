"""The plugin API of 亲青汇: every hook a plugin may implement.

A plugin is a module (or object) registered under the entry-point group
``qqh.plugins``. It implements any of the hooks below by defining a function
of the hook's name; ``@hookimpl`` (``from core.api import hookimpl``) is
optional and adds pluggy's options (``tryfirst``, ``trylast``,
``wrapper``). Core calls the hooks through pluggy (see core/plugins.py).
Every hook has a docstring; a test fails when one is added without.
"""

import pluggy

PROJECT = "qqh"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def qqh_manifest():
    """Return this plugin's :class:`core.plugins.Manifest`.

    Required for every plugin: name (must equal the entry-point name), version,
    Chinese label (a lazy gettext string), ``requires`` (names of plugins that
    must be enabled too; they load first), ``core`` (a version specifier such
    as ``">=0.1,<1"`` that core's ``__version__`` must satisfy) and ``api`` (a
    version specifier such as ``">=0.2,<0.3"`` that ``core.api.API_VERSION``
    must satisfy). A plugin outside either range is refused at start with a
    message naming both versions.
    """


@hookspec
def qqh_add_hookspecs():
    """Return a module (or class) of hook specifications that this plugin
    offers to the plugins that require it, like pytest's ``pytest_addhooks``.
    Their names must start with ``qqh_``; they are called through the same
    plugin manager (for example sections that a plugin's page asks of the
    plugins that require it). Called (through pluggy) before the plugins are
    registered, like pytest's ``pytest_addhooks``."""


@hookspec
def qqh_models():
    """Return the SQLAlchemy model classes this plugin owns.

    Core uses the list to check that the plugin's tables are covered by its
    migration branch and to know which records are unit-owned (scoped).
    """


@hookspec
def qqh_views():
    """Return a list of :class:`core.plugins.Page`: the pages this plugin shows.

    Each page names a view class (subclass of :class:`core.web.scoped_views.ScopedModelView`
    for unit-owned data), its menu label and category. Core registers them and
    hides them for units that do not use the plugin.
    """


@hookspec
def qqh_apis():
    """Return a list of REST API classes (subclasses of
    :class:`core.web.scoped_api.ScopedModelRestApi` for unit-owned data).

    They are served under ``/api/v1/<resource_name>/`` and appear in the OpenAPI
    document.
    """


@hookspec
def qqh_kpi_checks():
    """Return a list of :class:`core.kpi.engine.KpiCheck`: set-based KPI computations
    that this plugin provides."""


@hookspec
def qqh_default_targets(plan_year):
    """Return the notice's default targets for ``plan_year`` that concern this
    plugin, as a list of :class:`core.kpi.engine.TargetSpec`: core ships none, an
    area's targets arrive with the plugin that provides its checks (``qqh
    targets load`` and ``qqh init --plan-year`` load them; a target that
    exists is not loaded twice). Each spec says whose records count
    (``scope``: "own" 本级, the default, or "subtree" 含下级) and, for a
    quarterly target, the first quarter that counts."""


@hookspec
def qqh_default_indicators():
    """Return the December assessment's default indicators (督查考核) that
    this plugin's KPI checks score, as a list of dicts of exactly this shape::

        {"key": str, "label": str (lazy gettext), "check": str, "weight": number,
         "method": "ratio" | "reached", "position": int}

    ``position`` is the indicator's place in the notice's list (the page's
    order). Loaded with the targets (an indicator whose key exists for the
    plan year is left as an admin edited it). Core ships none: an area's
    indicator arrives with its plugin, and full marks are the sum of the
    weights of the indicators that exist."""


@hookspec
def qqh_importables():
    """Return a list of :class:`core.excel.declarations.Importable`: the lists of this
    plugin that can be imported from and exported to Excel/CSV."""


@hookspec
def qqh_cli(group):
    """Add subcommands to the ``qqh`` command: ``group`` is the click group."""


@hookspec
def qqh_translations():
    """Return the path of this plugin's translations folder
    (``<folder>/zh/LC_MESSAGES/<plugin name>.mo``); the gettext domain is the
    plugin's name."""


@hookspec
def qqh_migrations():
    """Return the path of this plugin's Alembic versions folder. Its revisions
    form a branch labelled with the plugin's name that depends on ``core``."""


@hookspec
def qqh_demo_data(session):
    """Load deterministic demo records into ``session`` (idempotent: running
    ``qqh demo`` twice must not duplicate anything). Called in load order, so
    a plugin can use the records of the plugins it requires. Do not commit."""


@hookspec
def qqh_todo_items(user):
    """Return this plugin's 待办 (to-do) items for ``user`` (core/reporting/todo.py), a
    list of dicts of exactly this shape::

        {"kind": str, "title": str (translated), "url": str, "due": date | None, "count": int}

    for example ``{"kind": "grants_pending", "title": gettext("Grants awaiting
    approval"), "url": ..., "due": None, "count": 3}``. Count set-based (one
    query, limited to the user's scope); return [] when there is nothing to do.
    Not called for a unit that switched the plugin off."""


@hookspec
def qqh_reporting_items():
    """Return a list of :class:`core.reporting.reports.ReportingItem`: what units of
    this plugin's area report to the unit above (报送事项). An item is a list
    (``kind="list"``: the records of ``model`` that a unit owns whose
    ``date_attr`` lies in the plan year, the ``columns`` frozen in the
    snapshot) or a set of figures (``kind="figures"``: the values of KPI
    ``checks``). Its due date is the earliest due date of the plan year's KPI
    targets on ``due_check`` (a FIGURES item: its first check) where one
    exists, else ``due`` (month, day). ``locking=True``: once a unit's
    submission is approved, the item's records of that year at that unit
    and below refuse edits until the approval is withdrawn (core enforces it
    for pages, API, imports and scripts alike)."""


@hookspec
def qqh_register(appbuilder):
    """Register with Flask-AppBuilder what :func:`qqh_views` and
    :func:`qqh_apis` cannot say: menu links, views without a menu entry or
    shown under a condition of their own, Jinja globals, context processors,
    error handlers, request hooks (inside the app context: ``flask.current_app``
    is the app). Called once per app, in load order (core's built-in
    features first, core/builtins), before the pages of ``qqh_views`` and the
    APIs of ``qqh_apis`` are added. Prefer those two hooks: what this hook adds
    is neither checked for scoping nor hidden for units that switched the
    plugin off."""
