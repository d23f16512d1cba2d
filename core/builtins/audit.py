"""Built-in plugin ``audit``: the audit log's page and API (core/audit/trail.py)."""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("audit", _l("Audit log"))


@hookimpl
def qqh_register(appbuilder):
    from core.audit.trail import register

    register(appbuilder)
