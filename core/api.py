"""The public API of 亲青汇 core: the only module a plugin imports from core.

``from core.api import hookimpl, Manifest, Page, ScopedModelView, …`` (or
``from core import api``). Everything listed in ``__all__`` is kept
compatible within an ``API_VERSION``; everything else in ``core`` is internal
and may change without notice (a test fails when a module under ``plugins/``
imports anything else from core). ``__version__`` is core's own version, the
one ``Manifest.core`` (a version specifier) is checked against.

Plugin declaration
    ``Manifest(name, version, label, requires=(), core=">=0", description="",
    api=">=0", example=False)`` — what ``qqh_manifest()`` returns (``example``:
    enabled only where ``QQH_PLUGINS`` names it); ``api`` is the range of
    ``API_VERSION`` the plugin works with (e.g. ``">=0.2,<0.3"``): outside it
    the plugin is refused at start, naming both versions. ``Page(view, label, category,
    category_label, icon, category_icon)`` — a menu entry, what
    ``qqh_views()`` returns. ``module_dir(module, *parts)`` — a folder of the
    plugin's package (for ``qqh_translations`` / ``qqh_migrations``).
    ``PluginError`` — a plugin cannot be loaded (one clear sentence).

Hooks and markers
    ``hookimpl`` marks an implementation (optional: every function named
    ``qqh_*`` of a plugin is collected, and a ``qqh_*`` name that is no hook
    fails at start-up); ``hookimpl(tryfirst=True)``, ``trylast``,
    ``wrapper=True`` work as pluggy documents. ``hookspec`` declares the hooks a
    plugin offers to the plugins that require it (returned by
    ``qqh_add_hookspecs()``). The hooks themselves are documented in
    ``core/hookspecs.py``. ``unit_hooks(unit=None)`` — pluggy's relay of the
    plugins a unit uses (default: the current user's unit), e.g.
    ``unit_hooks().qqh_my_hook(...)``; ``plugin_hook_callers(hook, unit=None, record_unit=None)``
    — ``(name, label, caller)`` per such plugin, to call each one on its own
    (a page that survives one plugin's failure). ``module_enabled(name,
    unit=None)`` — whether a unit uses a plugin (loaded and not switched off).

Records and scope
    ``UnitOwned`` (mixin: the record belongs to a League unit), ``Audited``
    (created/changed by and on), ``Unit`` (the League unit tree).
    ``Scope`` (the part of the tree a user may see), ``ALL`` (everything),
    ``current_scope()``, ``user_scope(user)``, ``current_user()``.
    ``in_scope(stmt, Model, scope=None)`` limits a query;
    ``scope_condition(Model, scope=None)`` is the same as an SQL condition;
    ``unit_in_scope(session, unit_id, scope)``; ``scoped_get(Model, pk)``
    (None when the user may not see it); ``check_item(session, item, scope)``
    (everything that must hold before ``item`` is written);
    ``stored_value(item, attr)`` (the value before this edit);
    ``Unique(attrs, message, field=None, where={})`` — what must be unique,
    declared as ``__qqh_unique__ = (Unique(...), ...)`` on the model and
    checked by core (one query per record; per batch in an import);
    ``InvalidInput(messages)`` — bad input, answered with a Chinese message.
    ``Errors()`` — what ``validate()`` returns (field → messages), with the
    checks as methods: ``add``, ``text``, ``length``, ``choice`` (the codes
    declared on the column), ``parsed``, ``not_future``, ``amount``;
    ``session_of(item)`` (the record's session, else the app's).

Views and APIs
    ``ScopedModelView`` (pages), ``ScopedModelRestApi`` (REST),
    ``ScopedInterface`` (their data interface: every read limited by
    ``ScopedInterface.scope_reads``, which a subclass may override to widen
    reads legitimately — a shared pool — while writes stay checked),
    ``Picker(Model, search=(Model.name,), initials=None, columns=(), text=None,
    order_by=None)`` — a search-as-you-type picker declared once: a class
    attribute of a REST API is its scoped JSON endpoint (``picker = ORGS``:
    ``GET …/picker?q=``), ``ORGS.field(label, required=True)`` its form field;
    ``PickerField`` (the field itself), ``PersonalDataView``;
    ``Panel(ChildModel, fk, columns, add=False, …)`` — a panel of child
    records on a ScopedModelView's record page (``record_panels = [...]``:
    scoped, values shown as every page shows them, "add from here");
    ``ProvinceDataView`` (pages of province-wide data: everyone reads,
    ``can_manage``, i.e. ``MANAGE``, to change; a refused record comes back
    as its form with the Chinese messages beside the fields).

Fields, validators and formatting
    ``flag_field``, ``amount_field``, ``choice_field``, ``search_choice``,
    ``NOT_AMOUNT``; ``Choices``, ``limits``; ``ValidationError``, ``phone``,
    ``credit_code``, ``resident_id``, ``PHONE_PATTERN``,
    ``CREDIT_CODE_PATTERN``, ``CREDIT_CODE_ALPHABET``, ``RESIDENT_ID_PATTERN``,
    ``credit_code_check_char``, ``resident_id_check_char``;
    ``format_date_zh`` (2012年3月5日), ``format_amount``, ``parse_amount``;
    ``initials_condition`` (search by pinyin initials).

KPI
    ``KpiCheck`` (a set-based computation, ``qqh_kpi_checks``),
    ``TargetSpec`` (a default target, ``qqh_default_targets``).

Import and export
    ``Importable``, ``Column`` (``qqh_importables``); ``save_workbook`` (every
    cell neutralised against formulas).

Reporting
    ``ReportingItem``, ``LIST``, ``FIGURES`` (``qqh_reporting_items``).

Low-code
    ``drop_values_column(op, table)`` — a plugin migration's downgrade of the
    custom-fields column.

Clock
    ``clock`` — ``clock.today()`` / ``clock.now()`` in the configured zone.

Locks
    ``lock_rows(session, Model, *ids)`` (row locks in key order),
    ``unwritten(session, name)`` (a per-transaction box);
    ``prefetched(session, name)`` (a per-transaction box of what a model's
    ``prepare_checks(session, rows)`` read ahead for an import's rows);
    ``Limit(name, Model)`` — a limit records take from (a fund's balance, a
    camp's places): ``lock``, ``reserve(session, record, key, amount,
    limit=, used=)``, ``release``, ``pending``, ``room``, ``stored_ids``
    (what the rows of one transaction checked but not written yet hold).

Personal data
    ``sees_personal_data()``, ``shown(attr, value)``, ``mask_phone``,
    ``mask_resident_id``.

Commands
    ``with_app`` — decorator of a ``qqh`` command (added in ``qqh_cli``) that
    runs it inside the app; a parameter ``as_user`` (``--as USER``) runs it
    as that user's request (their scope, masking, authorship).
    ``fail(message)`` — print ``错误 Error: message`` and exit with 1.
"""

from core import __version__
from core.values import clock
from core.values.choices import Choices, limits
from core.web.fields import NOT_AMOUNT, amount_field, choice_field, flag_field, search_choice
from core.hookspecs import hookimpl, hookspec
from core.excel.declarations import Column, Importable
from core.excel.workbooks import save_workbook
from core.values.initials import initials_condition
from core.kpi.engine import KpiCheck, TargetSpec
from core.tenancy.locks import lock_rows, prefetched, unwritten
from core.tenancy.checks import Errors, session_of
from core.tenancy.limits import Limit
from core.lowcode.sql import drop_values_column
from core.tenancy.modules import module_enabled, plugin_hook_callers, unit_hooks
from core.tenancy.personal import PersonalDataView, sees_personal_data, shown
from core.web.pickers import Picker, PickerField
from core.plugins import Manifest, Page, PluginError, module_dir
from core.reporting.reports import FIGURES, LIST, ReportingItem
from core.tenancy.scope import (
    ALL, InvalidInput, Scope, current_scope, current_user, in_scope, scope_condition, scoped_get, unit_in_scope,
    user_scope,
)
from core.tenancy.records import Audited, UnitOwned, check_item, stored_value
from core.tenancy.unique import Unique
from core.web.scoped_views import ScopedInterface, ScopedModelView
from core.web.province import MANAGE, ProvinceDataView
from core.web.record import Panel
from core.web.scoped_api import ScopedModelRestApi
from core.web.commands import fail, with_app
from core.tenancy.units import Unit
from core.values.validators import (
    CREDIT_CODE_ALPHABET, CREDIT_CODE_PATTERN, PHONE_PATTERN, RESIDENT_ID_PATTERN, ValidationError, credit_code,
    credit_code_check_char, format_amount, format_date_zh, mask_phone, mask_resident_id, parse_amount, phone,
    resident_id, resident_id_check_char,
)

API_VERSION = "0.2"

__all__ = [
    "API_VERSION",
    "__version__",
    # plugin declaration
    "Manifest",
    "Page",
    "PluginError",
    "module_dir",
    # hooks and markers
    "hookimpl",
    "hookspec",
    "module_enabled",
    "plugin_hook_callers",
    "unit_hooks",
    # records and scope
    "ALL",
    "Audited",
    "InvalidInput",
    "Scope",
    "Unit",
    "Unique",
    "UnitOwned",
    "check_item",
    "Errors",
    "session_of",
    "current_scope",
    "current_user",
    "in_scope",
    "scope_condition",
    "scoped_get",
    "stored_value",
    "unit_in_scope",
    "user_scope",
    # views and APIs
    "PersonalDataView",
    "MANAGE",
    "Picker",
    "PickerField",
    "ProvinceDataView",
    "ScopedInterface",
    "ScopedModelRestApi",
    "ScopedModelView",
    # fields, validators, formatting
    "CREDIT_CODE_ALPHABET",
    "CREDIT_CODE_PATTERN",
    "Choices",
    "NOT_AMOUNT",
    "PHONE_PATTERN",
    "RESIDENT_ID_PATTERN",
    "ValidationError",
    "amount_field",
    "choice_field",
    "credit_code",
    "credit_code_check_char",
    "flag_field",
    "format_amount",
    "format_date_zh",
    "initials_condition",
    "limits",
    "parse_amount",
    "phone",
    "resident_id",
    "resident_id_check_char",
    "search_choice",
    # KPI
    "KpiCheck",
    "TargetSpec",
    # import and export
    "Column",
    "Importable",
    "save_workbook",
    # reporting
    "FIGURES",
    "LIST",
    "ReportingItem",
    # low-code
    "drop_values_column",
    # clock
    "clock",
    # locks
    "Limit",
    "lock_rows",
    "prefetched",
    "unwritten",
    # personal data
    "mask_phone",
    "mask_resident_id",
    "sees_personal_data",
    "shown",
    # commands
    "fail",
    "with_app",
]
