"""The definitions, read from the database per request and cached per
process by the version counter of ``qqh_lowcode_state``: a change made
through any worker is seen by every worker at its next request, no restart."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import current_app, g, has_request_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.lowcode.lists import CustomList
from core.lowcode.models import CustomField, KpiRule, LowcodeState


@dataclass(frozen=True)
class FieldDef:
    id: int
    list_name: str
    code: str
    label: str
    kind: str
    options: tuple  # ((code, label), ...)
    required: bool
    help: str
    position: int
    in_list: bool
    removed: bool
    owner_unit_id: int | None
    owner_path: str | None

    @property
    def attr(self) -> str:
        return "cf_" + self.code

    @property
    def choices(self) -> dict[str, str]:
        return dict(self.options)

    def applies_to(self, path: str | None) -> bool:
        """Whether the field belongs to records of the unit at ``path``
        (None: any unit — the province sees every field)."""
        return self.owner_path is None or path is None or path.startswith(self.owner_path)


@dataclass(frozen=True)
class ListDef:
    """A custom list (core.lowcode.lists); ``unit_paths``: the paths of the
    units whose subtrees use it (empty: every unit)."""

    id: int
    code: str
    name: str
    title_label: str
    description: str
    unit_codes: tuple
    unit_paths: tuple
    position: int
    removed: bool

    @property
    def module(self) -> str:
        return "customlist:" + self.code

    def used_by(self, path: str | None) -> bool:
        """Whether the unit at ``path`` (None: the province's view of all)
        uses the list, or a unit of its subtree does."""
        if path is None or not self.unit_paths:
            return True
        return any(path.startswith(p) or p.startswith(path) for p in self.unit_paths)

    def unit_may_hold(self, path: str | None) -> bool:
        """Whether a record of the unit at ``path`` belongs in the list."""
        return not self.unit_paths or (path is not None and any(path.startswith(p) for p in self.unit_paths))


_lock = threading.Lock()
_cache: dict = {"key": None, "fields": {}, "rules": (), "lists": ()}


def _session():
    return current_app.appbuilder.session


def version(session=None) -> int:
    """The version of the definitions: in a request read once, and kept between requests while
    nothing is written anywhere (:func:`_kept_version`); outside a request once per transaction (an
    import's job checks 10,000 rows)."""
    if has_request_context():
        if "_qqh_lowcode_version" not in g:
            g._qqh_lowcode_version = _kept_version(session or _session())
        return g._qqh_lowcode_version
    from core.tenancy.locks import unwritten

    session = session or _session()
    box = unwritten(session, "qqh_lowcode_version")
    if "v" not in box:
        box["v"] = _read_version(session)
    return box["v"]


def _read_version(session) -> int:
    with session.no_autoflush:
        return session.execute(select(LowcodeState.version).where(LowcodeState.id == 1)).scalar() or 0


def _kept_version(session) -> int:
    """The definitions' version, as last read in this process while nothing was written anywhere
    since (the write counter, read once per transaction, before it)."""
    from core.tenancy.versions import kept_while_unwritten

    store = current_app.extensions.setdefault("qqh_lowcode_kept", {})
    return kept_while_unwritten(session, store, "version", lambda: _read_version(session), 1)


def state(session=None) -> LowcodeState:
    session = session or _session()
    row = session.get(LowcodeState, 1)
    if row is None:
        row = LowcodeState(id=1, version=0, unit_admins_may=False)
        session.add(row)
    return row


def _load(session) -> None:
    from core.tenancy.units import Unit

    key = (id(current_app._get_current_object()), version(session))
    if _cache["key"] == key:
        return
    with session.no_autoflush:
        rows = session.execute(
            select(CustomField, Unit.path).outerjoin(Unit, Unit.id == CustomField.owner_unit_id)
            .order_by(CustomField.list_name, CustomField.position, CustomField.id)
        ).all()
        rules = tuple(session.execute(select(KpiRule).order_by(KpiRule.id)).scalars())
        lists = session.execute(select(CustomList).order_by(CustomList.position, CustomList.id)).scalars().all()
        codes = {c for lst in lists for c in (lst.units or ())}
        paths = dict(session.execute(select(Unit.code, Unit.path).where(Unit.code.in_(codes))).all()) if codes else {}
    list_defs = tuple(
        ListDef(lst.id, lst.code, lst.name, lst.title_label or "", lst.description or "", tuple(lst.units or ()),
                tuple(paths[c] for c in (lst.units or ()) if c in paths), lst.position or 0, bool(lst.removed))
        for lst in lists
    )
    from core.lowcode.lists import model_for

    for d in list_defs:  # each list is mapped in this process before any of its records is read
        model_for(d.id, d.code)
    fields: dict[str, list[FieldDef]] = {}
    for f, path in rows:
        fields.setdefault(f.list_name, []).append(FieldDef(
            f.id, f.list_name, f.code, f.label, f.kind, tuple(tuple(o) for o in (f.options or ())),
            bool(f.required), f.help or "", f.position or 0, bool(f.in_list), bool(f.removed), f.owner_unit_id, path,
        ))
    rule_dicts = tuple(
        dict(key=r.key, label=r.label, unit_of_measure=r.unit_of_measure or "", list_name=r.list_name,
             measure=r.measure, measure_field=r.measure_field, date_field=r.date_field,
             conditions=tuple(dict(c) for c in (r.conditions or ())), removed=bool(r.removed))
        for r in rules
    )
    with _lock:
        _cache.update(key=key, fields={k: tuple(v) for k, v in fields.items()}, rules=rule_dicts, lists=list_defs)


def forget() -> None:
    """Drop the process's cache (after a rollback of definitions read uncommitted)."""
    with _lock:
        _cache["key"] = None


def all_fields(list_name: str, session=None, removed: bool = False) -> tuple[FieldDef, ...]:
    _load(session or _session())
    return tuple(f for f in _cache["fields"].get(list_name, ()) if removed or not f.removed)


def field_def(list_name: str, code: str, session=None) -> FieldDef | None:
    for f in all_fields(list_name, session, removed=True):
        if f.code == code:
            return f
    return None


def fields_for(list_name: str, path: str | None = None, session=None) -> tuple[FieldDef, ...]:
    """The fields (not removed) of a list that apply to records of the unit at ``path``."""
    return tuple(f for f in all_fields(list_name, session) if f.applies_to(path))


def custom_lists(session=None, removed: bool = False) -> tuple[ListDef, ...]:
    """The custom lists (core.lowcode.lists), mapped in this process."""
    _load(session or _session())
    return tuple(d for d in _cache["lists"] if removed or not d.removed)


def custom_list(code: str, session=None, removed: bool = False) -> ListDef | None:
    return next((d for d in custom_lists(session, removed) if d.code == code), None)


def user_path() -> str | None:
    """The unit path whose fields the current user's forms show (None: all)."""
    from core.tenancy.scope import current_scope

    scope = current_scope()
    return None if scope.everything else (scope.path or "")


def rules(session=None) -> tuple[dict, ...]:
    _load(session or _session())
    return _cache["rules"]


@event.listens_for(Session, "before_flush")
def _bump_version(session, _context, _instances) -> None:
    touched = [o for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, (CustomField, KpiRule, CustomList))]
    if not touched:
        return
    row = session.get(LowcodeState, 1)
    if row is None:
        session.add(LowcodeState(id=1, version=1, unit_admins_may=False))
    else:
        row.version = (row.version or 0) + 1
    if has_request_context():
        g.pop("_qqh_lowcode_version", None)
    session.info.pop("qqh_lowcode_version", None)
