"""Low-code for administrators (issue 18): custom fields on any unit-owned
list and KPI checks defined as data, without code or restart.

Definitions live in the database (:mod:`core.lowcode.models`); every worker
reads them per request, cached by a version counter that every change of a
definition bumps (:mod:`core.lowcode.registry`). Values of custom fields live
in one JSON column per unit-owned model, ``qqh_fields`` (JSONB on
PostgreSQL), declared by :class:`core.tenancy.records.UnitOwned`; a record exposes
field ``code`` as the attribute ``cf_<code>`` (forms, imports and exports
use it like any column).
"""

FIELD_PREFIX = "cf_"
