"""Built-in plugin ``assessment``: the December assessment (督查考核), its
indicators and ``qqh assessment`` (core/kpi/pages.py, rest.py, cli.py).
"""

from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("assessment", _l("December assessment"))


@hookimpl
def qqh_register(appbuilder):
    from core.kpi.setup import register_assessment

    register_assessment(appbuilder)


@hookimpl
def qqh_cli(group):
    from core.kpi.cli import register_assessment_cli

    register_assessment_cli(group)
