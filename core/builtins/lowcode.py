"""Built-in plugin ``lowcode``: custom fields and KPI checks as data, ``qqh
lowcode`` (core/lowcode/views.py).
"""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("lowcode", _l("Low-code definitions"))


@hookimpl
def qqh_register(appbuilder):
    from core.lowcode.views import register

    register(appbuilder)


@hookimpl
def qqh_cli(group):
    from core.lowcode.views import register_cli

    register_cli(group)
