"""Uniqueness declared on the model, checked by core: one query per
declaration for a single record (a page, the REST API, a script), one query
per declaration per batch of rows for an import, plus the duplicates inside
the file itself.

A model declares what must be unique and the message users read::

    __qqh_unique__ = (
        Unique(("credit_code",), _l("Another organization already has this credit code.")),
        Unique(("unit_id", "name"), _l("This unit already has an organization with this name."), field="name"),
        Unique(("org_id", "home_id"), _l("…"), field="org", where={"ended_on": None}),  # open ones only
    )

``attrs`` are column attributes; a foreign key column takes the id of the
record its many-to-one relationship points to when that is set (a new
record given ``unit=`` rather than ``unit_id=``). The check is left out when
one of the values is empty (NULLs and empty text may repeat) or when
``validate()`` already refused one of its fields. ``where``: attribute →
value the record must have for the rule to apply, and that the stored
records it is compared with have (a partial unique index).

:func:`check_unique` runs from ``check_item`` after the model's own
``validate()`` (which normalises the values first). The import engine checks
its rows with :func:`check_unique_rows` instead and marks the session
meanwhile (:func:`batch_checked`), so that ``check_item`` skips the per-row
query.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field as dc_field
from typing import Any, Iterable

from sqlalchemy import inspect as sa_inspect, select, tuple_

_BATCH_FLAG = "qqh.unique_batch"
_CACHE = "qqh.batch_cache"
CHUNK = 400  # values per IN list: far below every driver's parameter limit


@dataclass(frozen=True)
class Unique:
    """Records of the model may not share the values of ``attrs``;
    ``message`` (a lazy gettext string) is reported on ``field`` (default:
    the last attribute, or its relationship for a foreign key)."""

    attrs: tuple[str, ...]
    message: Any
    field: str | None = None
    where: dict[str, Any] = dc_field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.attrs, str):
            object.__setattr__(self, "attrs", (self.attrs,))
        object.__setattr__(self, "attrs", tuple(self.attrs))
        if not self.attrs:
            raise ValueError("Unique() needs at least one attribute")


def declarations(model) -> tuple[Unique, ...]:
    return tuple(getattr(model, "__qqh_unique__", ()) or ())


@functools.lru_cache(maxsize=256)
def _plan(model, attr: str):
    """How to read ``attr`` on a record: (relationship key, remote attribute)
    when it is the foreign key of a many-to-one relationship, else None; and
    the field names its errors are reported on."""
    mapper = sa_inspect(model)
    column = mapper.column_attrs[attr].columns[0]
    for rel in mapper.relationships:
        if rel.direction.name != "MANYTOONE":
            continue
        for local, remote in rel.local_remote_pairs:
            if local is column:
                return (rel.key, rel.mapper.get_property_by_column(remote).key), {attr, rel.key}
    return None, {attr}


def _fields(model, rule: Unique) -> set[str]:
    out = set()
    for a in rule.attrs:
        out |= _plan(model, a)[1]
    if rule.field:
        out.add(rule.field)
    return out


def field_of(model, rule: Unique) -> str:
    if rule.field:
        return rule.field
    rel, _names = _plan(model, rule.attrs[-1])
    return rel[0] if rel else rule.attrs[-1]


_MISSING = object()


def _value(item, attr: str, targets: dict | None = None):
    """The value ``attr`` has or will have when ``item`` is written;
    _MISSING when it cannot be known (a new record it points to, not
    written yet: nothing stored can have its id). ``targets``: the values
    read from the records pointed to, kept for a batch (a few units for
    thousands of rows)."""
    rel, _names = _plan(type(item), attr)
    if rel is not None:
        key, remote = rel
        target = item.__dict__.get(key)
        if target is not None:
            known = targets.get((id(target), remote)) if targets is not None else None
            if known is not None and known[0] is target:
                return known[1]
            state = sa_inspect(target)
            value = getattr(target, remote) if (state.persistent or state.detached) else None
            value = _MISSING if value is None else value
            if targets is not None and value is not _MISSING:
                targets[(id(target), remote)] = (target, value)
            return value
    value = getattr(item, attr)
    if isinstance(value, str):
        value = value.strip()
    return _MISSING if value is None or value == "" else value


def _key(item, rule: Unique, targets: dict | None = None):
    """The values of the rule's attributes, or None when the rule does not apply."""
    for a, v in rule.where.items():
        if getattr(item, a) != v:
            return None
    key = tuple(_value(item, a, targets) for a in rule.attrs)
    return None if any(v is _MISSING for v in key) else key


def _pk(item):
    ident = sa_inspect(item).identity
    return ident[0] if ident else None


def _where(model, rule: Unique) -> list:
    out = []
    for a, v in rule.where.items():
        col = getattr(model, a)
        out.append(col.is_(None) if v is None else col == v)
    return out


def check_unique(session, item, errors: dict) -> None:
    """Each declaration of ``item``'s model: one query, when it applies.
    Adds the message to ``errors``; skipped while an import has checked
    the batch (:func:`batch_checked`)."""
    rules = declarations(type(item))
    if not rules or session is None or session.info.get(_BATCH_FLAG):
        return
    model = type(item)
    with session.no_autoflush:
        for rule in rules:
            if _fields(model, rule) & set(errors):
                continue
            key = _key(item, rule)
            if key is None:
                continue
            pk = sa_inspect(model).primary_key[0]
            stmt = select(pk).where(*(getattr(model, a) == v for a, v in zip(rule.attrs, key)), *_where(model, rule))
            mine = _pk(item)
            if mine is not None:
                stmt = stmt.where(pk != mine)
            if session.execute(stmt.limit(1)).first() is not None:
                errors.setdefault(field_of(model, rule), []).append(str(rule.message))


@contextlib.contextmanager
def batch_checked(session):
    """Within the block, :func:`check_unique` leaves the records to
    :func:`check_unique_rows` (an import checks its whole batch at once)."""
    before, cache = session.info.get(_BATCH_FLAG), session.info.get(_CACHE)
    session.info[_BATCH_FLAG] = True
    if cache is None:
        session.info[_CACHE] = {}
    try:
        yield
    finally:
        if before:
            session.info[_BATCH_FLAG] = before
        else:
            session.info.pop(_BATCH_FLAG, None)
        if cache is None:
            session.info.pop(_CACHE, None)


def batch_cache(session) -> dict | None:
    """While an import checks its rows (:func:`batch_checked`), a dict for
    what every row's checks would otherwise look up again (a model's
    relationships, a unit's path, the lists a model reports in), kept for
    the batch only; None at any other time (a page, the API, a script)."""
    return session.info.get(_CACHE) if session is not None else None


def check_unique_rows(session, model, items: Iterable) -> dict[int, dict[str, list[str]]]:
    """Every declaration of ``model`` for many records at once: one query
    per declaration per chunk of CHUNK keys (a tuple IN, on SQLite and
    PostgreSQL alike), and the records of the list that share values with
    an earlier one. ``items``: (position, record) pairs; returns
    {position: {field: [message]}} for the records refused. The same
    record may appear at several positions (rows of a file that update it):
    it is not its own duplicate."""
    items = list(items)
    out: dict[int, dict[str, list[str]]] = {}
    rules = declarations(model)
    if not rules or not items:
        return out
    targets: dict = {}
    with session.no_autoflush:
        for rule in rules:
            field = field_of(model, rule)
            keyed: dict[tuple, list[tuple[int, Any]]] = {}
            for pos, item in items:
                key = _key(item, rule, targets)
                if key is not None:
                    keyed.setdefault(key, []).append((pos, item))
            if not keyed:
                continue
            stored: dict[tuple, set] = {}
            pk = sa_inspect(model).primary_key[0]
            cols = [getattr(model, a) for a in rule.attrs]
            base = select(pk, *cols).where(*_where(model, rule))
            keys = list(keyed)
            for i in range(0, len(keys), CHUNK):
                chunk = keys[i : i + CHUNK]
                cond = cols[0].in_([k[0] for k in chunk]) if len(cols) == 1 else tuple_(*cols).in_(chunk)
                for row in session.execute(base.where(cond)):
                    k = tuple(v.strip() if isinstance(v, str) else v for v in row[1:])
                    stored.setdefault(k, set()).add(row[0])
            for key, entries in keyed.items():
                owners = stored.get(key, set())
                first = None
                for pos, item in entries:
                    mine = _pk(item)
                    clash = bool(owners - {mine})
                    if first is not None and first is not item:
                        clash = True  # another record of the file has the same values
                    if first is None:
                        first = item
                    if clash:
                        out.setdefault(pos, {}).setdefault(field, []).append(str(rule.message))
    return out
