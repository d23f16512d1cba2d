"""Built-in plugin ``attachments``: attachments of records and ``qqh
attachments purge`` (core/ops/attachments.py).
"""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("attachments", _l("Attachments"))


@hookimpl
def qqh_register(appbuilder):
    from core.ops.attachments import register

    register(appbuilder)


@hookimpl
def qqh_cli(group):
    from core.ops.attachments import register_cli

    register_cli(group)
