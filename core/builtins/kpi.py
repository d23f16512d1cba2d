"""Built-in plugin ``kpi``: the progress dashboard, the KPI targets and ``qqh
kpi/targets`` (core/kpi/pages.py, rest.py, cli.py); the deadlines of the user's unit in the
to-do list.
"""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("kpi", _l("KPI targets"))


@hookimpl
def qqh_register(appbuilder):
    from core.kpi.setup import register_kpi

    register_kpi(appbuilder)


@hookimpl
def qqh_cli(group):
    from core.kpi.cli import register_kpi_cli

    register_kpi_cli(group)


@hookimpl
def qqh_todo_items(user):
    from flask import current_app

    from core.reporting.todo import deadline_items

    return deadline_items(current_app.appbuilder.session, user)
