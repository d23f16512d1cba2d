"""Built-in plugin ``excel``: Excel/CSV import and export of every declared
list, its jobs and the ``qqh import/export/worker`` commands
(core/excel/).
"""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("excel", _l("Excel import and export"))


@hookimpl
def qqh_register(appbuilder):
    from core.excel.setup import register

    register(appbuilder)


@hookimpl
def qqh_cli(group):
    from core.excel.cli import register_cli

    register_cli(group)
