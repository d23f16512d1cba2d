"""Built-in plugin ``notices``: notices to units (core/reporting/notices.py); unread notices in the to-do list."""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("notices", _l("Notices"))


@hookimpl
def qqh_register(appbuilder):
    from core.reporting.notices import register

    register(appbuilder)


@hookimpl
def qqh_todo_items(user):
    from flask import current_app

    from core.reporting.todo import notice_items

    return notice_items(current_app.appbuilder.session, user)
