"""Excel/CSV import and export of unit-owned lists (declared by plugins
through ``qqh_importables``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Column:
    """One column of an importable list.

    ``attr``: model attribute written (``unit`` for the owning unit, matched by
    code or full name); ``header``: Chinese header (lazy gettext string);
    ``kind``: str, int, decimal (amount in 元), date, bool, enum, unit, or ref;
    ``choices``: for enums, stored value → label (the label is written in the
    file); ``parse``: optional callable(str) → value raising
    ``core.validators.ValidationError``; ``ref``: for kind "ref",
    callable(session, text, scope) → object or None (e.g. a youth organization
    by credit code or name); ``example``: the example row's cell.
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


@dataclass(frozen=True)
class Importable:
    """A list that can be imported and exported: ``name`` is the resource
    (e.g. ``youthorg``), ``natural_key`` the attributes that identify a
    record for duplicate detection (e.g. ``("credit_code",)``)."""

    name: str
    model: type
    label: Any
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)
