"""Built-in plugin ``reporting``: reporting to the unit above (报送, core/reporting/views.py); its to-dos."""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("reporting", _l("Reporting"))


@hookimpl
def qqh_register(appbuilder):
    from core.reporting.views import register

    register(appbuilder)


@hookimpl
def qqh_todo_items(user):
    from core.reporting.reports import todo_items

    return todo_items(user)
