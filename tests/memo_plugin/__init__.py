"""Core's test fixture plugin (``memo``): unit-owned notes with a page, a REST API, an importable
list, a KPI check, a migration branch, a catalog and demo data.

Core's own tests run against it, so that the reference plugin (plugins/sample) may change freely. It is
no package of the product: tests and benches add it with ``QQH_PLUGIN_MODULES=memo=tests.memo_plugin``
(bench/_support.py does) and enable it in ``QQH_PLUGINS``.
"""

from flask_babel import lazy_gettext as _l

from core.api import Manifest, Page, hookimpl, module_dir

NAME = "memo"


@hookimpl
def qqh_manifest():
    return Manifest(name=NAME, version="0.1.0", label=_l("Memo notes"), requires=(), core=">=0.1,<1",
                    api=">=0.2,<0.3", example=True)


@hookimpl
def qqh_models():
    from tests.memo_plugin.models import MemoNote

    return [MemoNote]


@hookimpl
def qqh_views():
    from tests.memo_plugin.views import MemoNoteView

    return [Page(MemoNoteView, _l("Notes"), "Memo", _l("Memo notes"), icon="fa-sticky-note")]


@hookimpl
def qqh_apis():
    from tests.memo_plugin.views import MemoNoteApi

    return [MemoNoteApi]


@hookimpl
def qqh_kpi_checks():
    from tests.memo_plugin.kpi import CHECKS

    return CHECKS


@hookimpl
def qqh_importables():
    from tests.memo_plugin.importing import NOTES

    return [NOTES]


@hookimpl
def qqh_translations():
    return module_dir(__name__, "translations")


@hookimpl
def qqh_migrations():
    return module_dir(__name__, "migrations")


@hookimpl
def qqh_demo_data(session):
    from tests.memo_plugin.demo import load

    return load(session)
