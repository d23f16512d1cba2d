"""The scope of a user: the subtree of units they may see, and the conditions that limit queries to it.

Row-level data scope, implemented once: a user sees and edits only the
records of the units in their own subtree.

Plugins get it by building their models on :class:`UnitOwned`, their pages on
:class:`ScopedModelView` and their REST APIs on :class:`ScopedModelRestApi`.
The one choke point is :class:`ScopedInterface`: every query FAB makes through
it (list, show, edit, delete, actions, related-field choices, charts) carries
the scope condition, and every add or edit is checked before it is written.
"""

from __future__ import annotations

import contextlib
import contextvars

from flask import current_app, g, has_request_context, request
from sqlalchemy import false, inspect as sa_inspect, literal_column, select

from core.tenancy.units import Unit, subtree_of
from core.values.validators import too_big

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
            unit_id = model.unit_id
            if model in _READ_ALONG_ORDER.get():
                unit_id = unit_id + literal_column("0")  # an expression: SQLite reaches no row by the unit index
            return unit_id.in_(select(Unit.id).where(subtree_of(self.path)))
        return None

    def __bool__(self):
        raise TypeError("A Scope has no truth value: ask scope.everything or scope.nothing.")

    def __eq__(self, other):
        return isinstance(other, Scope) and (self.everything, self.path) == (other.everything, other.path)

    def __hash__(self):
        return hash((self.everything, self.path))

    def __repr__(self):
        return "Scope(everything)" if self.everything else "Scope(nothing)" if self.nothing else f"Scope({self.path!r})"


_READ_ALONG_ORDER: contextvars.ContextVar[frozenset] = contextvars.ContextVar("qqh_read_along_order", default=frozenset())


@contextlib.contextmanager
def read_along_order(model, when: bool = True):
    """Within it, the scope's condition on ``model`` keeps SQLite from reaching the rows through
    their unit's index, so that it reads them along the index of the list's order and keeps those
    of the subtree: for a page of 25 out of a large subtree, instead of fetching and sorting all of
    the subtree's rows (SQLite cannot tell how many units the subtree's subquery yields;
    PostgreSQL's statistics can). Same rows either way. See ``ScopedInterface.query``."""
    if not when:
        yield
        return
    token = _READ_ALONG_ORDER.set(_READ_ALONG_ORDER.get() | {model})
    try:
        yield
    finally:
        _READ_ALONG_ORDER.reset(token)


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
