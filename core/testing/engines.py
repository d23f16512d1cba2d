"""Core's machinery a plugin's tests drive directly, named here once: the Excel import (run, check a
declaration, write a template or an export), the KPI engine, the demo loader, migrations, the plugin
registry, module switches, attachments and the unit tree's lookups. A plugin's code imports core.api only;
its tests import core.api and core.testing (tests/test_plugin_api.py), so they take these from here, and a
change of core's modules is followed in this one place.

- ``run_import``, ``check_declaration``, ``write_template``, ``write_export`` — core.excel;
- ``kpi`` (core.kpi.engine: ``evaluate``, ``KpiTarget``, ``MET``…), ``compute_values``, ``check_label``,
  ``load_default_targets``;
- ``load_demo`` — every enabled plugin's demo data (``qqh demo``); ``migrate`` — ``upgrade``, ``downgrade``,
  ``drift``, ``owned_tables``;
- ``PluginRegistry`` — the registry (``PluginRegistry(enabled=[...], extra={...})``);
- ``modules`` — a unit's module switches (core.tenancy.modules); ``attachments`` — core.ops.attachments;
- ``unit_by_code(session, code)``, ``compute_path`` — core.tenancy.units.
"""

from __future__ import annotations

from core import migrate
from core.excel.declarations import check_declaration
from core.excel.engine import run_import
from core.excel.workbooks import write_export, write_template
from core.kpi import engine as kpi
from core.kpi.engine import check_label, compute_values, load_default_targets
from core.ops import attachments
from core.ops.demo import load_demo
from core.plugins import PluginRegistry
from core.tenancy import modules
from core.tenancy.units import compute_path, unit_by_code

__all__ = [
    "PluginRegistry", "attachments", "check_declaration", "check_label", "compute_path", "compute_values", "kpi",
    "load_default_targets", "load_demo", "migrate", "modules", "run_import", "unit_by_code", "write_export",
    "write_template",
]
