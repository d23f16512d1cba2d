"""Records that belong to a unit (``UnitOwned``), their audit columns, and the checks every write to them passes."""

from __future__ import annotations



import datetime
from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import DateTime, ForeignKey, Integer, event, inspect as sa_inspect, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, object_session, relationship
from sqlalchemy.orm.attributes import set_committed_value

from core.tenancy.checks import Errors
from core.tenancy.personal import restore_masked
from core.tenancy.units import Unit
from core.tenancy.scope import InvalidInput, Scope, current_user, unit_in_scope
from core.tenancy.unique import batch_cache, check_unique

# -- models ----------------------------------------------------------------------
def _current_user_id():
    user = current_user()
    return getattr(user, "id", None)


def _now():
    from core.values import clock

    return clock.now()


class Audited:
    """Created/changed by and on (user ids are empty for CLI work).

    ``__qqh_remember__ = ("status",)`` keeps the values of those attributes
    as loaded from the database, for rules about what an edit may change:
    read them with :func:`stored_value`.
    """

    __qqh_remember__: tuple[str, ...] = ()

    @declared_attr
    def created_on(cls) -> Mapped[datetime.datetime]:
        return mapped_column(DateTime, default=_now, nullable=False)

    @declared_attr
    def changed_on(cls) -> Mapped[datetime.datetime]:
        return mapped_column(DateTime, default=_now, onupdate=_now, nullable=False)

    @declared_attr
    def created_by_fk(cls) -> Mapped[int | None]:
        return mapped_column(Integer, ForeignKey("ab_user.id"), default=_current_user_id, nullable=True)

    @declared_attr
    def changed_by_fk(cls) -> Mapped[int | None]:
        return mapped_column(
            Integer, ForeignKey("ab_user.id"), default=_current_user_id, onupdate=_current_user_id, nullable=True
        )

    @declared_attr
    def created_by(cls):
        return relationship("User", primaryjoin=f"{cls.__name__}.created_by_fk == User.id", enable_typechecks=False)

    @declared_attr
    def changed_by(cls):
        return relationship("User", primaryjoin=f"{cls.__name__}.changed_by_fk == User.id", enable_typechecks=False)


class UnitOwned(Audited):
    """Mixin for every record that belongs to a League unit.

    A model may define ``validate(self) -> dict[field, message]`` for checks of
    its own; they run on every add and edit, from pages, API and import alike.
    A classmethod ``prepare_checks(session, rows)`` is called by an import
    before its rows are checked, with every row's values (dicts: attribute
    → value, references resolved to records): it reads in a few set-based
    queries what ``validate()`` would read row by row, into a per-transaction
    box (``core.tenancy.locks.prefetched``) that ``validate()`` consults
    before it queries (a value the box does not cover is queried as usual).
    What must be unique is declared, not queried in ``validate()``:
    ``__qqh_unique__ = (Unique(("unit_id", "name"), _l("…"), field="name"),)``
    (core/tenancy/unique.py: one query per record, one per batch of an import).

    ``__qqh_unit_from__ = "org"`` declares a record that lives with another:
    its unit is always the unit of the record its many-to-one relationship
    ``org`` points to. The unit is set when ``org`` is assigned (an empty
    unit means the organization's), :func:`check_item` refuses any other unit,
    and when the organization moves to another unit its records move along.
    """

    __qqh_unit_owned__ = True
    __qqh_unit_from__: str | None = None

    @declared_attr
    def unit_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("qqh_unit.id"), nullable=False, index=True)

    @declared_attr
    def unit(cls):
        # joined: every list shows the unit, and 25 rows must not cost 25 queries
        return relationship(Unit, lazy="joined")

    @declared_attr
    def qqh_fields(cls) -> Mapped[dict | None]:
        # the values of the list's custom fields (core/lowcode), by field code
        from core.lowcode.models import JSON_TYPE

        return mapped_column(JSON_TYPE, nullable=True)

    def __getattr__(self, name):
        # ``cf_<code>``: the value of custom field ``code`` (core/lowcode)
        if name.startswith("cf_"):
            from core.lowcode.values import get_value

            return get_value(self, name[3:])
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if name.startswith("cf_"):
            from core.lowcode.values import set_value

            set_value(self, name[3:], value)
        elif value is None or type(value) in _IMMUTABLE:
            # the very value it holds (``self.x = self.x or None`` in a validate()): no ORM event, so that a
            # record checked and unchanged is not dirty (an import of 10,000 unchanged rows flushes nothing)
            state = self.__dict__
            if name not in state or state[name] is not value:
                super().__setattr__(name, value)
        else:
            super().__setattr__(name, value)


_IMMUTABLE = frozenset({str, int, float, bool, Decimal, datetime.date, datetime.datetime})


# -- values as stored ---------------------------------------------------------------
def _remember(item, _context, attrs=None) -> None:
    # on load and on refresh (``attrs``: the attributes refreshed, None for all)
    names = type(item).__qqh_remember__
    if names:
        kept = item.__dict__.setdefault("_qqh_stored", {})
        for name in names:
            if name in item.__dict__ and (attrs is None or name in attrs):
                kept[name] = item.__dict__[name]


event.listen(Audited, "load", _remember, propagate=True)
event.listen(Audited, "refresh", _remember, propagate=True)


def stored_value(item, attr: str):
    """The value of ``attr`` as stored before this edit (None for a new
    record); ``attr`` must be named in the model's ``__qqh_remember__``.

    Kept when the record is loaded, because the attribute history is no
    witness: a query during the edit (the API resolving a related id) may
    autoflush the new value into the transaction and so empty the history."""
    if attr not in type(item).__qqh_remember__:
        raise ValueError(f"{type(item).__name__}.__qqh_remember__ does not name {attr!r}")
    state = sa_inspect(item)
    if state.transient or state.pending:
        return None
    kept = item.__dict__.get("_qqh_stored", {})
    if attr in kept:
        return kept[attr]
    history = state.attrs[attr].history  # written by this session, never loaded
    return (history.deleted or history.unchanged or [None])[0]


# -- a record whose unit follows another record ---------------------------------------------
_FOLLOWERS: dict[type, list[tuple[type, str]]] = {}  # model → [(model whose unit follows it, relationship)]


def _unit_of(record) -> Unit | None:
    if record.unit is not None or record.unit_id is None:
        return record.unit
    session = object_session(record)  # a new record given only the unit's id
    return session.get(Unit, record.unit_id) if session is not None else None


def _take_unit_of(item, parent, *_event_args) -> None:
    unit = _unit_of(parent) if parent is not None else None
    if unit is not None:
        item.unit = unit


@event.listens_for(UnitOwned, "mapper_configured", propagate=True)
def _declare_unit_from(mapper, model) -> None:
    relation = model.__qqh_unit_from__
    if relation:
        _FOLLOWERS.setdefault(mapper.relationships[relation].mapper.class_, []).append((model, relation))
        event.listen(getattr(model, relation), "set", _take_unit_of)


@event.listens_for(Session, "before_flush")
def _units_follow(session, _context, _instances) -> None:
    """Whatever wrote the records (a page, the API, an import, a script): a
    record takes its parent's unit, and the records of a parent that moved
    to another unit move along (one UPDATE per kind of record)."""
    for item in list(session.new) + list(session.dirty):
        relation = getattr(type(item), "__qqh_unit_from__", None)
        parent = item.__dict__.get(relation) if relation else None
        if parent is not None and parent.unit is not None and item.unit is not parent.unit:
            item.unit = parent.unit
    for item in list(session.dirty):
        moved = sa_inspect(item).attrs.unit.history.added if type(item) in _FOLLOWERS else None
        unit = moved[0] if moved else None
        if unit is None or unit.id is None:
            continue
        for model, relation in _FOLLOWERS[type(item)]:
            # the records in the session get the new unit_id from the UPDATE, and their unit with it
            session.execute(update(model).where(getattr(model, relation) == item).values(unit_id=unit.id))
            for follower in session.identity_map.values():
                if isinstance(follower, model) and follower.__dict__.get("unit_id") == unit.id:
                    set_committed_value(follower, "unit", unit)


def check_item(session, item, scope: Scope) -> None:
    """Everything that must hold before ``item`` is written: it belongs to a
    unit in the scope, every unit-owned record it points to is in the scope,
    and the model's own ``validate()`` passes. Raises :class:`InvalidInput`."""
    with session.no_autoflush:  # validate() may compare with what is stored
        _check_item(session, item, scope)


def _check_item(session, item, scope: Scope) -> None:
    errors = Errors()  # what validate() returns too (core/tenancy/checks.py); the write checks add to it
    model = type(item)
    cache = batch_cache(session)  # an import checking its rows: what every row would look up again, once
    in_reach = unit_in_scope if cache is None else _cached_unit_in_scope(session, cache)
    restore_masked(item)  # a masked personal value sent back keeps the stored one (core/tenancy/personal.py)
    # a record it points to that the user may not see is "not found", before
    # any rule about it runs: no rule may tell what another unit's record holds
    for key in _pointers(model):
        target = getattr(item, key)
        if target is not None and getattr(type(target), "__qqh_unit_owned__", False):
            if not in_reach(session, target.unit_id, scope):
                errors.setdefault(key, []).append(not_found_message())
    if errors:
        raise InvalidInput(errors)
    if getattr(model, "__qqh_unit_owned__", False):
        _check_unit_from(session, item, errors)
        unit_id = item.unit.id if item.unit is not None else item.unit_id
        if unit_id is None:
            errors.setdefault("unit", []).append(gettext("Choose the unit this record belongs to."))
        elif not in_reach(session, unit_id, scope):
            # nor a rule about another unit's records (its duplicates, its limits)
            raise InvalidInput({"unit": [gettext("You can only enter records for your own unit and the units below it.")]})
    if getattr(model, "__qqh_unit_owned__", False) and hasattr(model, "qqh_fields"):
        from core.lowcode.values import validate_values

        for field, msgs in validate_values(session, item).items():
            errors.setdefault(field, []).extend(msgs)
    validate = getattr(item, "validate", None)
    if callable(validate):
        for field, msgs in (validate() or {}).items():
            errors.setdefault(field, []).extend(msgs if isinstance(msgs, list) else [msgs])
    check_unique(session, item, errors)  # the model's __qqh_unique__ (core/tenancy/unique.py), after validate() normalised
    for check in WRITE_CHECKS:  # core's rules on every record (locked by an approved report: core/reporting/reports.py)
        check(session, item, errors)
    if errors:
        raise InvalidInput(errors)


# check(session, item, errors) run by check_item on every checked add and edit
WRITE_CHECKS: list = []


def _pointers(model) -> tuple[str, ...]:
    """The many-to-one relationships whose records a write must be allowed
    to see (all but the unit and the audit users'); per model, once its
    mapper is configured."""
    found = _POINTERS.get(model)
    if found is None:
        mapper = sa_inspect(model)
        found = tuple(rel.key for rel in mapper.relationships
                      if rel.direction.name == "MANYTOONE" and rel.key not in ("unit", "created_by", "changed_by"))
        if mapper.configured:
            _POINTERS[model] = found
    return found


_POINTERS: dict[type, tuple[str, ...]] = {}
_NO_UNIT = object()


def _cached_unit_in_scope(session, cache: dict):
    """unit_in_scope, with each unit's path read once per import batch."""
    paths = cache.setdefault("unit_paths", {})

    def in_reach(session, unit_id, scope) -> bool:
        if unit_id is None:
            return False
        if unit_id not in paths:
            unit = session.get(Unit, unit_id)
            paths[unit_id] = unit.path if unit is not None else _NO_UNIT
        path = paths[unit_id]
        return path is not _NO_UNIT and Scope.of(scope).contains(path)

    return in_reach


def not_found_message() -> str:
    """What a write is told about a record it points to that does not exist
    or that the user may not see: the same words for both."""
    return gettext("The record does not exist: choose one from the list.")


def _check_unit_from(session, item, errors: dict) -> None:
    """A record declared ``__qqh_unit_from__`` has its parent's unit: an empty
    unit becomes the parent's, another unit is refused."""
    relation = getattr(type(item), "__qqh_unit_from__", None)  # unit-owned without the mixin: ab_user
    parent = getattr(item, relation) if relation else None
    unit = _unit_of(parent) if parent is not None else None
    if unit is None:
        return
    if item.unit is None:
        item.unit = unit
    elif item.unit.id != unit.id:
        errors.setdefault("unit", []).append(
            gettext("This record belongs to the unit of %(record)s (%(unit)s).", record=parent, unit=unit.name)
        )


def friendly_integrity_error(exc: IntegrityError) -> InvalidInput:
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return InvalidInput(gettext("A record with the same identifying values already exists."))
    if "foreign key" in text:
        return InvalidInput(gettext("This record refers to, or is referred to by, other records."))
    if "not null" in text or "null value" in text:
        return InvalidInput(gettext("A required value is missing."))
    return InvalidInput(gettext("The record could not be saved because it conflicts with existing data."))
