"""Built-in plugin ``messages``: the users' messages (core/reporting/notify.py)."""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("messages", _l("My messages"))


@hookimpl
def qqh_register(appbuilder):
    from core.reporting.notify import register

    register(appbuilder)
