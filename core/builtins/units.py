"""Built-in plugin ``units``: the League unit tree, unit admins' modules and users, the plugins' page and the OpenAPI document (core/views.py)."""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("units", _l("League units"))


@hookimpl
def qqh_register(appbuilder):
    from core.views import register

    register(appbuilder)
