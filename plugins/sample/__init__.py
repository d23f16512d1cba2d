"""A minimal plugin: the template every task-area plugin starts from.

It owns one unit-owned model (``SampleNote``), one page, one REST API, one
KPI check, its own migration branch, its own translation catalog and demo
data. Only hook implementations live here. It is an example (``Manifest.example``): installed with
core, enabled only where ``QQH_PLUGINS`` names it (core's tests do), so a deployment shows no 样例记事
menu and no 记事数 target.
"""

from flask_babel import lazy_gettext as _l

from core.api import Manifest, Page, hookimpl, module_dir

NAME = "sample"


@hookimpl
def qqh_manifest():
    return Manifest(name=NAME, version="0.2.0", label=_l("Sample notes"), requires=(), core=">=0.1,<1",
                    api=">=0.2,<0.3", example=True)


@hookimpl
def qqh_models():
    from plugins.sample.models import SampleNote

    return [SampleNote]


@hookimpl
def qqh_views():
    from plugins.sample.views import SampleNoteView

    return [Page(SampleNoteView, _l("Notes"), "Sample", _l("Sample notes"), icon="fa-sticky-note")]


@hookimpl
def qqh_apis():
    from plugins.sample.views import SampleNoteApi

    return [SampleNoteApi]


@hookimpl
def qqh_kpi_checks():
    from plugins.sample.kpi import CHECKS

    return CHECKS


@hookimpl
def qqh_importables():
    from plugins.sample.importing import NOTES

    return [NOTES]


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
