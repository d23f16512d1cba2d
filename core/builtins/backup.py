"""Built-in plugin ``backup``: ``qqh backup`` and ``qqh restore`` (core/ops/backup.py)."""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("backup", _l("Backup"))


@hookimpl
def qqh_cli(group):
    from core.ops.backup import register_cli

    register_cli(group)
