"""The reference plugin (样例): a small but complete example of every pattern a task-area plugin uses.

Copy it to start a plugin (``qqh plugin new NAME`` does, renaming sample → NAME): every identifier, table,
endpoint, route, migration branch and Chinese title here contains sample / Sample / SAMPLE / 样例.

* ``models.py`` — a parent record (SampleEvent, 样例活动) and its children (SampleSignup, 样例报名), both
  unit-owned, so core scopes them to the user's subtree everywhere; checks in ``validate()``, uniqueness
  declared.
* ``views.py`` — pages and REST APIs; a search-as-you-type picker (the signup's event: core's ``Picker``);
  the event's record page (core's, with a ``Panel`` of its signups and an "add from here" button).
* ``kpi.py`` — a set-based KPI check and its default target. ``importing.py`` — an importable list
  (Excel/CSV: template, dry run, report, export). ``cli.py`` — ``qqh sample events``. ``demo.py`` —
  idempotent demo data. ``migrations/`` — the plugin's Alembic branch. ``translations/`` — its Chinese
  catalog (``bin/catalogs``). ``tests/`` — its own tests (``python3 -m pytest plugins/sample/tests``).

Only hook implementations live here, and plugin code imports only ``core.api`` from core. It is an
example (``Manifest.example``): installed with core, enabled only where ``QQH_PLUGINS`` names it, so a
deployment shows no 样例 menu and no 样例报名数 target.
"""

from flask_babel import lazy_gettext as _l

from core.api import Manifest, Page, hookimpl, module_dir

NAME = "sample"


@hookimpl
def qqh_manifest():
    # api: the versions of core.api this plugin is written for; example: off unless QQH_PLUGINS names it
    return Manifest(name=NAME, version="0.2.0", label=_l("Sample plugin"), requires=(), core=">=0.1,<1",
                    api=">=0.2,<0.3", example=True)


@hookimpl
def qqh_models():
    from plugins.sample.models import SampleEvent, SampleSignup

    return [SampleEvent, SampleSignup]


@hookimpl
def qqh_views():
    # menu entries, under the plugin's own category; a unit that switches the plugin off does not see them
    from plugins.sample.views import SampleEventView, SampleSignupView

    return [
        Page(SampleEventView, _l("Sample events"), "Sample", _l("Sample plugin"), icon="fa-calendar"),
        Page(SampleSignupView, _l("Sample signups"), "Sample", _l("Sample plugin"), icon="fa-user-plus"),
    ]


@hookimpl
def qqh_apis():
    from plugins.sample.views import SampleEventApi, SampleSignupApi

    return [SampleEventApi, SampleSignupApi]


@hookimpl
def qqh_kpi_checks():
    from plugins.sample.kpi import CHECKS

    return CHECKS


@hookimpl
def qqh_default_targets(plan_year):
    from plugins.sample.kpi import default_targets

    return default_targets(plan_year)


@hookimpl
def qqh_importables():
    from plugins.sample.importing import EVENTS

    return [EVENTS]


@hookimpl
def qqh_cli(group):
    from plugins.sample.cli import register

    register(group)


@hookimpl
def qqh_translations():
    return module_dir(__name__, "translations")


@hookimpl
def qqh_migrations():
    return module_dir(__name__, "migrations")


@hookimpl
def qqh_demo_data(session):
    from plugins.sample.demo import load

    return load(session)
