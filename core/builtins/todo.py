"""Built-in plugin ``todo``: the to-do list's page, API and navbar badge (core/reporting/todo.py)."""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("todo", _l("To do"))


@hookimpl
def qqh_register(appbuilder):
    from core.reporting.todo import register

    register(appbuilder)
