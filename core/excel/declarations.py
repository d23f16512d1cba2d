"""Declarations of importable lists: columns, kinds, limits.

Excel/CSV import and export of unit-owned lists, once, for every plugin.

A plugin declares a list with :class:`Importable` (its :class:`Column` s, the
natural key that identifies a record, the defaults of new records) and returns
it from the ``qqh_importables`` hook::

    Importable(
        name="youthorg",                      # resource name in URLs and `qqh import`
        model=YouthOrg,
        label=_l("Youth organizations"),
        columns=(
            Column("name", _l("Name"), required=True, example="佛山市青年志愿者协会"),
            Column("credit_code", _l("Credit code"), parse=credit_code),
            Column("kind", _l("Kind"), kind="enum", choices={"social": _l("Social organization")}),
            Column("founded_on", _l("Founded on"), kind="date"),
            Column("unit", _l("Unit"), kind="unit", required=True),
        ),
        natural_key=("credit_code",),
    )

Core then offers, for that list: a template workbook, import from .xlsx/.csv
(always checked in full first, written in one transaction only when every row
is valid), export of any filtered list view, the REST API and the ``qqh``
commands (see :mod:`core.import_views`). This module is the engine: no views.
"""

from __future__ import annotations



import re
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import inspect as sa_inspect


KINDS = ("str", "int", "decimal", "date", "bool", "enum", "unit", "ref")


@dataclass(frozen=True)
class Column:
    """One column of an importable list.

    ``attr``: model attribute written (``unit`` for the owning unit, matched by
    code or full name; a list may leave it out when the model takes its unit
    from a reference, e.g. a service from its organization); ``header``: Chinese header (lazy gettext string);
    ``kind``: str, int, decimal (amount in 元), date, bool, enum, unit, or ref;
    ``choices``: for enums, stored value → label (the label is written in the
    file); ``parse``: optional callable(str) → value raising
    ``core.values.validators.ValidationError``; ``ref``: for kind "ref",
    callable(session, text, scope) → object or None (e.g. a youth organization
    by credit code or name); ``example``: the example row's cell.

    Optional, added later (all may be left out):
    ``help``: a sentence for the template's instructions sheet;
    ``ref_many``: for kind "ref", callable(session, texts: set[str], scope) →
    {text: object} that finds every referenced record in a few queries (used
    instead of ``ref`` when given — prefer it for long lists);
    ``format``: callable(value) → cell, how an exported cell is written
    (default: by kind; for refs ``str(object)``, which must be text that
    ``ref`` finds again so that an export can be imported back);
    ``width``: column width in the template and exports (characters).
    """

    attr: str
    header: Any
    kind: str = "str"
    required: bool = False
    choices: dict[str, Any] | None = None
    parse: Callable[[str], Any] | None = None
    ref: Callable[..., Any] | None = None
    example: Any = None
    help: Any = ""
    ref_many: Callable[..., dict] | None = None
    format: Callable[[Any], Any] | None = None
    width: int | None = None


@dataclass(frozen=True)
class Importable:
    """A list that can be imported and exported: ``name`` is the resource
    (e.g. ``youthorg``), ``natural_key`` the attributes that identify a
    record for duplicate detection (e.g. ``("credit_code",)``; may include
    ``unit`` or a ref column's attribute). ``defaults`` are set on new
    records before the row's values (e.g. a status)."""

    name: str
    model: type
    label: Any
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # an enum column without choices takes the model column's (core.values.choices)
        from core.values.choices import choices_of

        columns = tuple(
            dataclasses.replace(c, choices=choices_of(self.model, c.attr))
            if c.kind == "enum" and c.choices is None and choices_of(self.model, c.attr) is not None
            else c
            for c in self.columns
        )
        object.__setattr__(self, "columns", columns)
        # a plain dict, not a cached_property (which takes a lock on every read in Python 3.11): looked up per cell
        object.__setattr__(self, "_by_attr", {c.attr: c for c in columns})

    def column(self, attr: str) -> Column | None:
        return self._by_attr.get(attr)


def check_declaration(plugin: str, imp: Importable) -> None:
    """Fail at start-up (``core.plugins.PluginError``) for a declaration that
    cannot work, instead of at the first upload."""
    from core.plugins import PluginError

    def bad(why: str):
        raise PluginError(f"Plugin {plugin!r}: importable list {imp.name!r}: {why}")

    if not isinstance(imp, Importable):
        raise PluginError(f"Plugin {plugin!r}: qqh_importables() must return core.excel.declarations.Importable items.")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", imp.name):
        bad("the name must be lower-case letters, digits and _.")
    if not getattr(imp.model, "__qqh_unit_owned__", False):
        bad(f"{imp.model.__name__} is not unit-owned (core.tenancy.records.UnitOwned).")
    mapper = sa_inspect(imp.model)
    attrs = [c.attr for c in imp.columns]
    if len(set(attrs)) != len(attrs):
        bad("a column attribute appears twice.")
    if any(c.kind == "unit" and c.attr != "unit" for c in imp.columns) or (
        "unit" in attrs and imp.column("unit").kind != "unit"
    ):
        bad('the owning unit is written Column("unit", ..., kind="unit").')
    for c in imp.columns:
        if c.kind not in KINDS:
            bad(f"column {c.attr!r} has the unknown kind {c.kind!r} (known: {', '.join(KINDS)}).")
        if c.kind == "enum" and not c.choices:
            bad(f"enum column {c.attr!r} has no choices.")
        if c.kind == "ref" and not (c.ref or c.ref_many):
            bad(f"ref column {c.attr!r} needs ref= or ref_many=.")
        if c.kind in ("unit", "ref"):
            if c.attr not in mapper.relationships:
                bad(f"column {c.attr!r} must be a many-to-one relationship of {imp.model.__name__}.")
        elif c.attr not in mapper.column_attrs:
            bad(f"{imp.model.__name__} has no column {c.attr!r}.")
    if not imp.natural_key:
        bad("natural_key is empty.")
    for k in imp.natural_key:
        if k not in attrs:
            bad(f"natural key attribute {k!r} is not one of its columns.")


# -- limits ------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """What an upload may be. Configuration keys in brackets."""

    max_bytes: int = 10 * 1024 * 1024  # QQH_IMPORT_MAX_BYTES
    max_rows: int = 20_000  # QQH_IMPORT_MAX_ROWS
    max_unzipped: int = 200 * 1024 * 1024  # QQH_IMPORT_MAX_UNZIPPED_BYTES
    max_ratio: int = 100  # QQH_IMPORT_MAX_ZIP_RATIO (for parts above 1 MB)
    max_parts: int = 1000

    @classmethod
    def from_config(cls, config) -> "Limits":
        return cls(
            max_bytes=int(config.get("QQH_IMPORT_MAX_BYTES", cls.max_bytes)),
            max_rows=int(config.get("QQH_IMPORT_MAX_ROWS", cls.max_rows)),
            max_unzipped=int(config.get("QQH_IMPORT_MAX_UNZIPPED_BYTES", cls.max_unzipped)),
            max_ratio=int(config.get("QQH_IMPORT_MAX_ZIP_RATIO", cls.max_ratio)),
        )


def format_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return f"{n} B"
