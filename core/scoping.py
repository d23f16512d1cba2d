"""Row-level data scope, implemented once: a user sees and edits only the
records of the units in their own subtree.

Plugins get it by building their models on :class:`UnitOwned`, their pages on
:class:`ScopedModelView` and their REST APIs on :class:`ScopedModelRestApi`.
The one choke point is :class:`ScopedInterface`: every query FAB makes through
it (list, show, edit, delete, actions, related-field choices, charts) carries
the scope condition, and every add or edit is checked before it is written.
"""

from __future__ import annotations

import datetime
import logging

from flask import current_app, flash, g, has_request_context, redirect, request, url_for
from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterRelationOneToManyEqual, SQLAFilterConverter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import LazyString, gettext, lazy_gettext as _l
from marshmallow import fields
from marshmallow.validate import Length, Range
from marshmallow_sqlalchemy.fields import Related
from sqlalchemy import DateTime, ForeignKey, Integer, event, false, func, inspect as sa_inspect, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, object_session, relationship
from sqlalchemy.orm.attributes import set_committed_value

from core.personal import PersonalDataApi, PersonalDataView, restore_masked
from core.units import Unit, subtree_of
from core.validators import too_big


class InvalidInput(ValueError):
    """Bad input: ``messages`` maps a field name (or ``_``) to its messages.
    Nothing has been written when this is raised."""

    def __init__(self, messages: dict[str, list[str] | str] | str):
        if isinstance(messages, str):
            messages = {"_": [messages]}
        self.messages = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in messages.items()}
        super().__init__("；".join(m for v in self.messages.values() for m in v))


# -- who is asking -------------------------------------------------------------
class Scope:
    """The part of the unit tree a user may see and touch: ``everything``
    (province administrators, and work outside a request such as the CLI),
    the subtree at ``path``, or ``nothing`` (a user without a unit who is
    not a province administrator; nobody logged in).

    Every subtree filter goes through it: :meth:`condition` (SQL, for a
    model), :func:`in_scope` (a query or select limited to it) and
    :meth:`contains` (a unit or a unit path). It has no truth value: ask
    ``.everything`` or ``.nothing``."""

    __slots__ = ("path", "everything")

    def __init__(self, path: str | None = None, everything: bool = False):
        self.path = None if everything else (path or None)
        self.everything = everything

    @property
    def nothing(self) -> bool:
        return not self.everything and self.path is None

    @classmethod
    def of(cls, value) -> "Scope":
        """A scope from a :class:`Scope`, None (the current request's scope:
        everything outside a request) or, for callers written before it, a
        unit path ("": nothing)."""
        if isinstance(value, Scope):
            return value
        if value is None:
            return current_scope()
        return cls(path=value) if value else NOTHING

    @classmethod
    def for_user(cls, user) -> "Scope":
        """A user's scope: their unit's subtree (everything at the root of the
        tree); everything for a province administrator without a unit; else nothing."""
        if user is None:
            return NOTHING
        unit = getattr(user, "unit", None)
        if unit is not None:
            return cls(path=unit.path) if unit.parent_id is not None else ALL
        role_names = {r.name for r in getattr(user, "roles", [])}
        if current_app.config["AUTH_ROLE_ADMIN"] in role_names:
            return ALL
        return NOTHING

    def contains(self, unit_or_path) -> bool:
        """Whether a unit (or a unit path) lies inside the scope."""
        path = getattr(unit_or_path, "path", unit_or_path)
        if self.everything:
            return True
        return self.path is not None and isinstance(path, str) and path.startswith(self.path)

    def condition(self, model):
        """SQL condition limiting ``model`` to the scope (None: no condition).
        :class:`Unit` by its path; unit-owned models (``__qqh_unit_owned__``
        and a ``unit_id``, ab_user included) by their unit; others are not scoped."""
        if self.everything:
            return None
        if model is Unit:
            return subtree_of(self.path) if self.path else false()
        if hasattr(model, "unit_id") and getattr(model, "__qqh_unit_owned__", False):
            if not self.path:
                return false()
            return model.unit_id.in_(select(Unit.id).where(subtree_of(self.path)))
        return None

    def __bool__(self):
        raise TypeError("A Scope has no truth value: ask scope.everything or scope.nothing.")

    def __eq__(self, other):
        return isinstance(other, Scope) and (self.everything, self.path) == (other.everything, other.path)

    def __hash__(self):
        return hash((self.everything, self.path))

    def __repr__(self):
        return "Scope(everything)" if self.everything else "Scope(nothing)" if self.nothing else f"Scope({self.path!r})"


ALL = Scope(everything=True)  # no restriction
NOTHING = Scope()  # no unit at all


def authenticate() -> None:
    """Establish who is asking before anything asks: a cookie session, or else
    a bearer token (FAB checks a token only inside its API decorator, later
    than the module gate and anything else that wants the user). Once per
    request; a bad token is left to FAB's decorator to refuse (401)."""
    if g.get("_qqh_authenticated"):
        return
    g._qqh_authenticated = True
    from flask_login import current_user as session_user

    if request.headers.get("Authorization", "").lower().startswith("bearer ") and not session_user.is_authenticated:
        from flask_jwt_extended import verify_jwt_in_request

        try:
            verify_jwt_in_request(optional=True)
        except Exception:  # expired, malformed, revoked: FAB's decorator answers 401
            pass


def current_user():
    if not has_request_context():
        return None
    user = getattr(g, "_qqh_user", False)
    if user is False:
        authenticate()
        user = current_app.appbuilder.sm.current_user
        g._qqh_user = user
    return user if (user is not None and getattr(user, "is_authenticated", True)) else None


def user_scope(user) -> Scope:
    """The :class:`Scope` of ``user`` (see :meth:`Scope.for_user`); the
    request's own scope, computed once, when ``user`` is the current user."""
    if has_request_context() and user is not None and user is g.get("_qqh_user"):
        return current_scope()
    return Scope.for_user(user)


def current_scope() -> Scope:
    """Scope of the current request, computed once, after authentication
    (cookie session or bearer token alike); outside a request (CLI, tests
    that call code directly) there is no restriction."""
    if not has_request_context():
        return ALL
    if "_qqh_scope" not in g:
        g._qqh_scope = Scope.for_user(current_user())
    return g._qqh_scope


def scope_condition(model, scope=None):
    """SQL condition that limits ``model`` to ``scope`` (the current scope when
    not given); None when unrestricted. Prefer :func:`in_scope`."""
    return Scope.of(scope).condition(model)


def in_scope(stmt, model, scope: Scope | None = None):
    """``stmt`` (a ``select()`` or a ``Query``) limited to the records of
    ``model`` inside ``scope`` (the current request's when not given)."""
    cond = Scope.of(scope).condition(model)
    return stmt if cond is None else stmt.where(cond)


def scoped_get(model, pk):
    """``model``'s record ``pk`` if the current user may see it, else None
    (also for an id no database integer holds: SQLite's driver would raise)."""
    if too_big(pk):
        return None
    stmt = in_scope(select(model).where(sa_inspect(model).primary_key[0] == pk), model)
    return current_app.appbuilder.session.execute(stmt).unique().scalar_one_or_none()


def _arg_id(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and not too_big(value) else None


def unit_in_scope(session, unit_id, scope) -> bool:
    if unit_id is None:
        return False
    unit = session.get(Unit, unit_id)  # no query when the unit is already loaded (imports load them all)
    if unit is None:
        return False
    return Scope.of(scope).contains(unit)


# -- models ----------------------------------------------------------------------
def _current_user_id():
    user = current_user()
    return getattr(user, "id", None)


def _now():
    from core import clock

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
        else:
            super().__setattr__(name, value)


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
    errors: dict[str, list[str]] = {}
    model = type(item)
    restore_masked(item)  # a masked personal value sent back keeps the stored one (core/personal.py)
    # a record it points to that the user may not see is "not found", before
    # any rule about it runs: no rule may tell what another unit's record holds
    for rel in sa_inspect(model).relationships:
        if rel.direction.name != "MANYTOONE" or rel.key in ("unit", "created_by", "changed_by"):
            continue
        target = getattr(item, rel.key)
        if target is not None and getattr(type(target), "__qqh_unit_owned__", False):
            if not unit_in_scope(session, target.unit_id, scope):
                errors.setdefault(rel.key, []).append(not_found_message())
    if errors:
        raise InvalidInput(errors)
    if getattr(model, "__qqh_unit_owned__", False):
        _check_unit_from(session, item, errors)
        unit_id = item.unit.id if item.unit is not None else item.unit_id
        if unit_id is None:
            errors.setdefault("unit", []).append(gettext("Choose the unit this record belongs to."))
        elif not unit_in_scope(session, unit_id, scope):
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
    for check in WRITE_CHECKS:  # core's rules on every record (locked by an approved report: core/reporting.py)
        check(session, item, errors)
    if errors:
        raise InvalidInput(errors)


# check(session, item, errors) run by check_item on every checked add and edit
WRITE_CHECKS: list = []


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


class FilterInUnitSubtree(BaseFilter):
    """Records of a unit and every unit below it (the value is the unit's id;
    a unit outside the user's scope matches nothing)."""

    name = _l("In the subtree of")
    arg_name = "unit_sub"

    def apply(self, query, value):
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return query.filter(false())
        path = select(Unit.path).where(Unit.id == pk).scalar_subquery()
        upper = func.substr(path, 1, func.length(path) - 1) + chr(ord("/") + 1)
        column = getattr(self.model, self.column_name)
        if self.model is Unit and self.column_name == "parent":
            return query.filter(Unit.path > path, Unit.path < upper)
        units = select(Unit.id).where(Unit.path >= path, Unit.path < upper)
        return query.filter(column.has(Unit.id.in_(units)))


class ScopedFilterConverter(SQLAFilterConverter):
    conversion_table = (("is_unit_relation", [FilterInUnitSubtree, FilterRelationOneToManyEqual]),) + tuple(
        SQLAFilterConverter.conversion_table
    )


class ScopedInterface(SQLAInterface):
    """SQLAInterface that limits every query and write to the user's subtree."""

    filter_converter_class = ScopedFilterConverter

    def is_unit_relation(self, col_name: str) -> bool:
        return self.is_relation_many_to_one(col_name) and self.get_related_model(col_name) is Unit

    def scope_reads(self, query):
        """``query`` of this interface's model limited to what the user may
        read: by default the user's subtree (:func:`in_scope`). A subclass
        may override it to read more legitimately (a pool shared by all units:
        return ``query``) or through another table; list pages, REST lists,
        single records and charts all read through it. Writes stay checked
        by :func:`check_item` whatever it returns."""
        return in_scope(query, self.obj)

    def apply_filters(self, query, filters):
        from core.lowcode.forms import request_filters  # ?cf_<code>= on a list page and its export

        query = request_filters(super().apply_filters(query, filters), self.obj)
        return self.scope_reads(query)

    def query_count(self, query, filters=None, select_columns=None):
        """FAB joins the tables of the list's dotted columns (``unit.code``) into
        the COUNT too. An inner join along a NOT NULL foreign key neither adds
        nor drops a row, so the count goes without it (REST list of 100,000
        records on SQLite: COUNT 10 ms → 1 ms); joins that can drop rows stay."""
        needed = [c for c in select_columns or () if "." in c and not self._join_keeps_rows(c.split(".", 1)[0])]
        return super().query_count(query, filters, needed or None)

    def _join_keeps_rows(self, relation: str) -> bool:
        prop = getattr(getattr(self.obj, relation, None), "property", None)
        columns = getattr(prop, "local_columns", ())
        return (
            self.is_relation_many_to_one(relation)
            and bool(columns)
            and all(not c.nullable and c.foreign_keys for c in columns)
        )

    def _get_base_query(self, query, filters=None, order_column="", order_direction=""):
        # FAB applies the filters here without apply_filters: go through it (and scope_reads)
        return self.apply_order_by(self.apply_filters(query, filters), order_column, order_direction)

    def get_related_interface(self, col_name):
        # related records (form choices, the API's _info) are scoped like any
        # other, whatever a subclass relaxes for its own model's reads
        return ScopedInterface(self.get_related_model(col_name), self.session)

    def get_related_obj(self, col_name, value):
        rel_model = self.get_related_model(col_name)
        q = self.session.query(rel_model).filter(sa_inspect(rel_model).primary_key[0] == value)
        return in_scope(q, rel_model).one_or_none()

    def _write(self, item, op, commit: bool) -> None:
        from core.lowcode.rest import apply_pending  # custom values a REST call sent (core/lowcode/rest.py)

        try:
            apply_pending(item)
            check_item(self.session, item, current_scope())
            op(item)
            if commit:
                self.session.commit()
            else:
                self.session.flush()
        except InvalidInput:
            self.session.rollback()
            raise
        except IntegrityError as exc:
            self.session.rollback()
            raise friendly_integrity_error(exc) from exc
        except SQLAlchemyError:
            self.session.rollback()
            raise

    def add(self, item, commit: bool = True) -> None:
        self._write(item, self.session.add, commit)

    def edit(self, item, commit: bool = True) -> None:
        self._write(item, self.session.merge, commit)

    def delete(self, item, commit: bool = True) -> None:
        try:
            self.session.delete(item)
            if commit:
                self.session.commit()
            else:
                self.session.flush()
        except InvalidInput:  # refused by a rule checked on flush (a locked record)
            self.session.rollback()
            raise
        except IntegrityError as exc:
            self.session.rollback()
            raise friendly_integrity_error(exc) from exc


def _lowcode_form(view, attr):
    from core.lowcode.forms import with_fields

    return with_fields(view, view.__dict__.get(attr))


UNIT_OWNED_COLUMNS_HIDDEN = ["created_on", "changed_on", "created_by", "changed_by"]


class ScopedModelView(PersonalDataView, ModelView):
    """Base page class for unit-owned data.

    Add pages opened from a parent record's page: ``prefill = {"org": YouthOrg}``
    makes ``?org=<id>`` choose that record in the add form (if the user may see
    it), and ``back_to = ("org", "YouthOrgView.profile")`` returns the user to
    that page after saving."""

    page_size = 25
    list_template = "qqh/import_list.html"  # FAB's list page plus the Excel buttons (core/import_views.py)
    show_template = "qqh/show.html"  # FAB's record page plus its attachments (core/attachments.py)
    prefill: dict[str, type] = {}
    back_to: tuple[str, str] | None = None  # (query argument, endpoint of the parent's page)

    # custom fields (core/lowcode): each request's forms and record page carry the list's current fields
    add_form = property(lambda self: _lowcode_form(self, "_qqh_add_form"), lambda self, f: setattr(self, "_qqh_add_form", f))
    edit_form = property(lambda self: _lowcode_form(self, "_qqh_edit_form"), lambda self, f: setattr(self, "_qqh_edit_form", f))

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        from core.lowcode.forms import columns

        widgets = super()._get_edit_widget(form, exclude_cols=exclude_cols, widgets=widgets)
        widgets["edit"].template_args["include_cols"] = columns(self, self.edit_columns, form)
        return widgets

    def _get_list_widget(self, filters, **kwargs):
        from core.lowcode.forms import list_columns

        widgets = super()._get_list_widget(filters, **kwargs)
        list_columns(self, widgets["list"])
        return widgets

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        from core.lowcode.forms import show_values

        widgets = super()._get_show_widget(pk, item, widgets=widgets, actions=actions, show_fieldsets=show_fieldsets)
        args = widgets["show"].template_args
        if not show_fieldsets and not self.show_fieldsets:
            args["include_columns"], args["label_columns"], args["value_columns"] = show_values(
                self, item, args["include_columns"], args["label_columns"], args["value_columns"])
        return widgets

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        from core.lowcode.forms import columns

        widgets = self._prefilled_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)
        widgets["add"].template_args["include_cols"] = columns(self, self.add_columns, form)
        return widgets

    def _prefilled_add_widget(self, form, exclude_cols=None, widgets=None):
        if request.method == "GET":
            for arg, model in self.prefill.items():
                pk = _arg_id(arg)
                field = getattr(form, arg, None)
                if pk is not None and field is not None and field.data is None:
                    field.data = scoped_get(model, pk)
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _back(self):
        if self.back_to:
            arg, endpoint = self.back_to
            pk = _arg_id(arg)
            if pk is not None:
                return redirect(url_for(endpoint, pk=pk))
        return None

    def post_add_redirect(self):
        return self._back() or super().post_add_redirect()

    def post_edit_redirect(self):
        return self._back() or super().post_edit_redirect()

    def __init__(self, **kwargs):
        from core.pickers import unit_picker

        # the unit is chosen with a search-as-you-type picker limited to the
        # user's subtree; it is never a filter that lists every unit
        label = (self.label_columns or {}).get("unit", _l("Unit"))
        self.add_form_extra_fields = {"unit": unit_picker(label), **(self.add_form_extra_fields or {})}
        self.edit_form_extra_fields = {"unit": unit_picker(label), **(self.edit_form_extra_fields or {})}
        # the search form's unit filter is a picker too ("in the subtree of" first)
        self.search_form_extra_fields = {"unit": unit_picker(label, required=False), **(self.search_form_extra_fields or {})}
        # an enumerated column (core.choices) is a drop-down of its labels, in forms and in the search
        from core.choices import enumerated_columns
        from core.fields import choice_field, search_choice

        for attr, choices in enumerated_columns(self.datamodel.obj).items():
            text = (self.label_columns or {}).get(attr, attr)
            self.add_form_extra_fields.setdefault(attr, choice_field(text, choices))
            self.edit_form_extra_fields.setdefault(attr, choice_field(text, choices))
            self.search_form_extra_fields.setdefault(attr, search_choice(text, choices))
        # a sum in 元 is typed as an office writes it (5万, 50,000.00), in every form
        from core.fields import amount_columns, amount_field

        for attr in amount_columns(self.datamodel.obj):
            text = (self.label_columns or {}).get(attr, attr)
            hint = (self.description_columns or {}).get(attr, "")
            self.add_form_extra_fields.setdefault(attr, amount_field(text, hint))
            self.edit_form_extra_fields.setdefault(attr, amount_field(text, hint))
        searchable = self.search_columns or self.datamodel.get_search_columns_list()
        self.search_columns = [c for c in searchable if c not in ("created_by", "changed_by")]
        if "unit" not in self.search_columns:
            self.search_columns.append("unit")
        super().__init__(**kwargs)

    # A refused add or edit shows the form again, with the user's input and
    # each message beside its field (FAB would flash and redirect, losing both).
    def _refused(self, form, exc: InvalidInput) -> None:
        for field, msgs in exc.messages.items():
            if field in form:
                form[field].errors = list(form[field].errors or []) + msgs
            else:
                for m in msgs:
                    flash(m, "danger")

    def _all_problems(self, form, item) -> None:
        """A form its fields refused is also checked by the model (the fields
        that were read), so that the user learns every problem in one round,
        not the model's rules after the fields' ones. Nothing is written."""
        session = self.datamodel.session
        try:
            with session.no_autoflush:
                for field in form:
                    if not field.errors:
                        field.populate_obj(item, field.name)
                check_item(session, item, current_scope())
        except InvalidInput as exc:
            # not about a field the form lacks (the unit of a record whose parent was refused): a consequence
            messages = {name: msgs for name, msgs in exc.messages.items() if name in form and not form[name].errors}
            self._refused(form, InvalidInput(messages))
        except Exception:  # a rule that needs what a refused field holds: the fields' messages are enough
            logging.getLogger(__name__).debug("model check of a refused form failed", exc_info=True)
        finally:
            session.rollback()

    def _add(self):
        from core.fab import crud  # FAB's _add, a refused record shown again (core/fab/crud.py)

        return crud.add(self, super()._add, self._refused, self._all_problems)

    def _edit(self, pk):
        from core.fab import crud

        return crud.edit(self, pk, super()._edit, self._refused, self._all_problems)


# marshmallow's own messages are English: what a REST schema says instead
DATE_MESSAGE = _l("Not a valid date: write it as 2012-03-31.")
NUMBER_MESSAGE = _l("Not a valid number.")
WHOLE_NUMBER_MESSAGE = _l("Not a valid whole number.")
TYPE_MESSAGES = (  # (field type, {marshmallow's message key: ours}); the first match counts
    (fields.Date, {"invalid": DATE_MESSAGE}),
    (fields.DateTime, {"invalid": _l("Not a valid date and time: write it as 2012-03-31T14:05:00.")}),
    (fields.Integer, {"invalid": WHOLE_NUMBER_MESSAGE, "too_large": WHOLE_NUMBER_MESSAGE}),
    (fields.Number, {"invalid": NUMBER_MESSAGE, "special": NUMBER_MESSAGE, "too_large": NUMBER_MESSAGE}),
    (fields.Boolean, {"invalid": _l("Write true or false.")}),
    (fields.String, {"invalid": _l("Not valid text."), "invalid_utf8": _l("Not valid text.")}),
    (Related, {"invalid": _l("Choose a record from the list (by its id).")}),
    (fields.List, {"invalid": _l("Write a list.")}),
)
TOO_LONG = _l("At most {max} characters.")
INTEGER_RANGE = (  # what an INTEGER column holds
    Range(max=2**31 - 1, error=_l("The number is too large.")),
    Range(min=-(2**31), error=_l("The number is too small.")),
)


class RelatedById(Related):
    """A related record given by its id, a whole number: anything else is
    refused before it reaches the database (PostgreSQL would fail on it)."""

    def _deserialize(self, value, *args, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int) or too_big(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, *args, **kwargs)


class AmountNumber(fields.Decimal):
    """A sum in 元 in the REST API: a number, or text as an office writes it
    (50,000.00, 5万, 5万元), read as the forms and the import read it."""

    def _deserialize(self, value, attr, data, **kwargs):
        from core.validators import ValidationError as Refused, parse_amount

        if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            try:
                return parse_amount(value)
            except Refused as exc:
                raise self.make_error("amount", message=str(exc)) from None
        return super()._deserialize(value, attr, data, **kwargs)

    def make_error(self, key, **kwargs):
        if key == "amount":
            from marshmallow.exceptions import ValidationError as SchemaError

            return SchemaError([kwargs["message"]])
        return super().make_error(key, **kwargs)


def _in_users_language(field, label) -> None:
    """Make a schema field answer in the user's language: a required field
    missing (or null) is named by its ``label``, type errors say what to
    write, an over-long text says the limit. Numbers are taken as sent or
    refused, never rounded (1.5 is no whole number; 1.005 is no amount,
    which the model's validate() says), nor too large for their column."""
    messages = {**field.error_messages, "validator_failed": _l("Not a valid value.")}
    messages["required"] = messages["null"] = _l("%(field)s is required.", field=label)
    messages.update(next((m for kind, m in TYPE_MESSAGES if isinstance(field, kind)), {}))
    # in a list, as validate()'s: marshmallow would pass a lazy message on bare
    field.error_messages = {key: [m] if isinstance(m, LazyString) else m for key, m in messages.items()}
    for validator in field.validators:
        if isinstance(validator, Length) and validator.min is None and validator.equal is None:
            validator.error = TOO_LONG
    if isinstance(field, fields.Integer):
        field.strict = True
        field.validators.extend(INTEGER_RANGE)
    if isinstance(field, fields.Decimal):
        field.places = None
    if type(field) is Related and [key.columns[0].type.python_type for key in field.related_keys] == [int]:
        field.__class__ = RelatedById
    if isinstance(field, fields.List):
        _in_users_language(field.inner, label)


def _static_sibling(pk):
    """PUT or DELETE /<pk> where ``pk`` is a sibling route (``/_info``,
    ``/picker``): 405 with what that route allows, as for any URL."""
    if str(pk).isdigit():
        return None
    from werkzeug.exceptions import MethodNotAllowed

    allowed = {m for rule in current_app.url_map.iter_rules() if rule.rule == request.path for m in rule.methods}
    if allowed:
        from core.api_errors import http_error_response

        return http_error_response(MethodNotAllowed(valid_methods=sorted(allowed)))
    return None


class ScopedModelRestApi(PersonalDataApi, ModelRestApi):
    """Base REST API class for unit-owned data: answers bad input with 422 and
    a message in the user's language, and records outside the scope with 404.

    The schema checks what a JSON value can tell (present, of its type, not
    too long) and the model's ``validate()`` the rest."""

    allow_browser_login = True

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for schema in (self.add_model_schema, self.edit_model_schema):
            if not hasattr(schema, "fields"):
                continue  # an API without add or edit
            schema.error_messages = {
                **schema.error_messages,
                "unknown": _l("Unknown field."),
                "type": _l("Send the record as a JSON object."),
            }
            from core.fields import amount_columns

            amounts = set(amount_columns(self.datamodel.obj))
            for name, field in schema.fields.items():
                _in_users_language(field, self.label_columns.get(name, name))
                if name in amounts and type(field) is fields.Decimal:
                    field.__class__ = AmountNumber

    def _gen_labels_columns(self, list_columns) -> None:
        # in the user's language (core/api_labels.py), on a copy: FAB would write into the declared dict
        from core.api_labels import column_labels

        self.label_columns = column_labels(self.label_columns, list(list_columns) + list(self.list_columns or []) + list(self.show_columns or []))
        super()._gen_labels_columns(list_columns)

    def _init_titles(self) -> None:
        from core.api_labels import page_title

        for kind in ("list", "show", "add", "edit"):
            if not getattr(self, f"{kind}_title"):
                setattr(self, f"{kind}_title", page_title(self.datamodel.obj, kind))
        super()._init_titles()

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except InvalidInput as exc:
            return self.response_422(message=exc.messages)

    # custom fields (core/lowcode/rest.py): cf_<code> in GET answers, POST/PUT bodies and the OpenAPI document
    def post_headless(self):
        from core.lowcode import rest

        return rest.add_to_answer(self, rest.write(self, lambda: self._guard(super(ScopedModelRestApi, self).post_headless)))

    def put_headless(self, pk):
        from core.lowcode import rest

        return _static_sibling(pk) or rest.add_to_answer(
            self, rest.write(self, lambda: self._guard(super(ScopedModelRestApi, self).put_headless, pk)), pk)

    def pre_get(self, data):
        from core.lowcode.rest import add_to_show

        super().pre_get(data)
        add_to_show(self, data)

    def pre_get_list(self, data):
        from core.lowcode.rest import add_to_list

        super().pre_get_list(data)
        add_to_list(self, data)

    def delete_headless(self, pk):
        return _static_sibling(pk) or self._guard(super().delete_headless, pk)

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        ret = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        # gettext("") answers with the catalog's header: never show it
        label = self.label_columns.get(field.name, "")
        desc = self.description_columns.get(field.name, "")
        ret["label"] = str(label) if label else field.name
        ret["description"] = str(desc) if desc else ""
        from core.openapi import field_info_extras

        ret.update(field_info_extras(self.datamodel.obj, field))
        return ret
