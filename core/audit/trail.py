"""The audit log (审计日志): who changed what, when, in which unit.

One mechanism, in core, for every mapped model (core's and every plugin's):
plugins write nothing.

- Writes through the ORM's unit of work (pages, REST, ``session.add`` in a
  script): an ``after_flush`` listener turns the flushed creates, updates
  and deletes into audit rows and inserts them with one executemany on the
  flush's own connection, in the same transaction: a rolled-back change
  leaves no audit row.
- Bulk statements (imports' ``insert(Model)`` with a list of rows, a table's
  ``insert()``, criteria ``update()``/``delete()``): a ``do_orm_execute``
  listener records them set-based: the new ids come back by RETURNING of
  the same INSERT, the rows an UPDATE or DELETE reaches by one SELECT, and
  the audit rows go in with one executemany. No statement per row.
- Account and security events (login, failed login, lock-out, ...):
  :func:`log_event`, in a short transaction of its own, so that the event is
  kept when the request's changes are rolled back.

An update records the changed columns only, before and after. A password
hash is never recorded (its change shows as ``******``), nor the value of a
field the model declares personal (``__qqh_personal__ = ("phone",)``).
A model opts out with ``__qqh_audit__ = False`` (the log itself; tables of
bookkeeping no user reads, such as login counters).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json

from flask import current_app, g, has_app_context, has_request_context, request
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, Integer, String, Text, event, inspect as sa_inspect, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql.elements import BindParameter

from core.tenancy.units import Unit

MASK = "******"
SECRET = frozenset({"password"})  # never a value, whatever the model
# bookkeeping columns: not worth a row of their own, nor a place in one
QUIET = frozenset({"changed_on", "changed_by_fk", "created_on", "created_by_fk", "last_login", "login_count", "fail_login_count", "valid_after"})
# Flask-AppBuilder's permission catalogue, rebuilt from the code by `qqh init`
# (which role holds which permission is audited, on the role)
SKIP_TABLES = frozenset({"ab_permission", "ab_view_menu", "ab_permission_view", "alembic_version"})
FEW = 20  # flushes with more records get labels from their columns only (no lazy load per record)

ACTIONS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "login": _l("Logged in"),
    "login_failed": _l("Login failed"),
    "lockout": _l("Locked out"),
    "unlock": _l("Unlocked"),
    "logout": _l("Logged out"),
    "password_change": _l("Password changed"),
    "role_change": _l("Role changed"),
}


def _loads(text: str | None) -> dict:
    """Stored values; a text that is no JSON object (written by hand into the
    table) is shown as it is, never a 500."""
    if not text:
        return {}
    try:
        values = json.loads(text)
    except ValueError:
        return {"": text}
    return values if isinstance(values, dict) else {"": text}


def _now():
    return datetime.datetime.now().replace(microsecond=0)


class AuditLog(Model):
    """One audited change or account event. Rows are only ever inserted."""

    __tablename__ = "qqh_audit_log"
    __qqh_unit_owned__ = True  # scoped like unit-owned records: unit admins read their subtree's rows
    __qqh_audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False, default=_now, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no foreign key: rows outlive users and units
    username: Mapped[str | None] = mapped_column(String(256), index=True)
    unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    model: Mapped[str | None] = mapped_column(String(100), index=True)  # the table
    record_id: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    values_before: Mapped[str | None] = mapped_column(Text)  # JSON
    values_after: Mapped[str | None] = mapped_column(Text)  # JSON
    address: Mapped[str | None] = mapped_column(String(64))

    unit = relationship(Unit, primaryjoin="foreign(AuditLog.unit_id) == Unit.id", viewonly=True, lazy="joined")

    @property
    def action_label(self) -> str:
        label = ACTIONS.get(self.action)
        return str(label) if label is not None else self.action

    @property
    def before(self) -> dict:
        return _loads(self.values_before)

    @property
    def after(self) -> dict:
        return _loads(self.values_after)

    @property
    def model_label(self) -> str:
        from core.audit.present import is_kind, row_model

        model = row_model(self.model, self.after, self.before)
        own = getattr(model, "__qqh_title__", None)
        if own and is_kind(model):  # a kind of record (a custom list's): its own title
            return str(own)
        return _labels().get(self.model, ("", {}))[0] or (str(own) if own else "") or (self.model or "")

    @property
    def record_label(self) -> str:
        from core.audit.present import record_label

        return record_label(self)

    @property
    def changes(self) -> str:
        """What changed, as people read it: ``标题: 甲 → 乙；电话: ******``
        (fields named as the model's pages name them)."""
        from core.audit import present as audit_present

        return audit_present.changes_text(self, _labels().get(self.model, ("", {}))[1], GENERIC_LABELS)

    def __repr__(self) -> str:
        return f"{self.action} {self.model or ''} {self.record_id or ''}".strip()


GENERIC_LABELS = {"id": _l("Record id"), "unit_id": _l("Unit id"), "user_id": _l("User id"),
                  "password": _l("Password"), "failures": _l("Failed attempts")}


def _labels() -> dict[str, tuple[str, dict]]:
    """table → (its list's title, {attribute: label}) from the registered
    pages and APIs (core's and plugins'), gathered once."""
    cached = current_app.extensions.get("qqh_audit_labels")
    if cached is None:
        cached = {}
        for view in current_app.appbuilder.baseviews:
            model = getattr(getattr(view, "datamodel", None), "obj", None)
            table = getattr(model, "__table__", None)
            if table is None:
                continue
            title, labels = cached.get(table.name, ("", {}))
            labels = {**dict(getattr(view, "label_columns", None) or {}), **labels}
            title = title or str(getattr(view, "list_title", "") or "")
            cached[table.name] = (title, labels)
        current_app.extensions["qqh_audit_labels"] = cached
    return cached


# -- values ----------------------------------------------------------------------------
def _plain(value):
    """A value as JSON holds it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"({len(bytes(value))} bytes)"
    if isinstance(value, BindParameter):
        return _plain(value.value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "__clause_element__") or hasattr(value, "compile"):
        return "=SQL"  # computed by the database (UPDATE ... SET path = ...)
    return str(value)


def _dumps(values: dict | None) -> str | None:
    if values is None:
        return None
    return json.dumps(values, ensure_ascii=False, default=str)


def _hidden(model) -> frozenset:
    return SECRET | frozenset(getattr(model, "__qqh_personal__", ()) or ())


def _masked(model, values: dict) -> dict:
    hidden = _hidden(model)
    return {k: (MASK if k in hidden and v not in (None, "") else _plain(v)) for k, v in values.items()}


_MODEL_OF_TABLE: dict = {}


def _model_of_table(table):
    """The mapped class of a table, the most derived one (QqhUser for
    ab_user); None for a table no class maps."""
    if table is None:
        return None
    found = _MODEL_OF_TABLE.get(table, False)
    if found is False:
        found = None
        for mapper in Model.registry.mappers:
            if mapper.local_table.name == table.name and mapper.local_table.schema == table.schema:
                if found is None or issubclass(mapper.class_, found):
                    found = mapper.class_
        if found is not None:
            _MODEL_OF_TABLE[table] = found
    return found


def audited(model) -> bool:
    if model is None or not getattr(model, "__qqh_audit__", True):
        return False
    table = getattr(model, "__table__", None)
    return table is not None and table.name not in SKIP_TABLES


def _cheap_label(values: dict, model) -> str | None:
    hidden = _hidden(model)
    for key in ("name", "title", "code", "username", "label", "plugin"):
        v = values.get(key)
        if v not in (None, "") and key not in hidden and isinstance(v, (str, int)):
            return str(v)[:200]
    return None


def _label(obj, cheap: bool) -> str | None:
    if not cheap:
        try:
            text = str(obj)
        except Exception:  # a __repr__ that needs what a deleted record no longer has
            text = ""
        if text and not text.startswith("<"):
            return text[:200]
    return _cheap_label(sa_inspect(obj).dict, type(obj))


def _item_label(item) -> str:
    """A member of a to-many relation, without loading anything: its name if loaded, else its id."""
    d = sa_inspect(item).dict
    for key in ("name", "username", "title", "code"):
        if d.get(key) not in (None, ""):
            return str(d[key])
    pk = sa_inspect(item).mapper.primary_key_from_instance(item)
    return "#" + "/".join(str(p) for p in pk)


def _record_id(obj) -> str | None:
    pk = sa_inspect(obj).mapper.primary_key_from_instance(obj)
    if not pk or all(p is None for p in pk):
        return None
    return "/".join("" if p is None else str(p) for p in pk)[:64]


def _unit_id(model, values: dict, record_id=None):
    if issubclass(model, Unit):
        return values.get("id", record_id)
    return values.get("unit_id")


def _columns(state) -> list:
    return [a for a in state.mapper.column_attrs if a.key not in QUIET]


def _row_values(state) -> dict:
    d = state.dict
    return {a.key: d[a.key] for a in _columns(state) if a.key in d and d[a.key] is not None}


def _changes(state) -> tuple[dict, dict]:
    before, after = {}, {}
    for attr in _columns(state):
        hist = state.attrs[attr.key].history
        if not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old == new and hist.deleted:
            continue
        before[attr.key], after[attr.key] = old, new
    for rel in state.mapper.relationships:
        if not rel.uselist or rel.secondary is None or rel.viewonly:
            continue  # a many-to-one shows in its foreign key column; one-to-many in the other records
        hist = state.attrs[rel.key].history
        if not (hist.added or hist.deleted):
            continue
        unchanged = [_item_label(i) for i in hist.unchanged]
        before[rel.key] = sorted(unchanged + [_item_label(i) for i in hist.deleted])
        after[rel.key] = sorted(unchanged + [_item_label(i) for i in hist.added])
    return before, after


# -- who, from where ---------------------------------------------------------------------
def _who() -> tuple[int | None, str | None, str | None]:
    if not has_request_context():
        return None, None, None
    cached = g.get("_qqh_audit_who")
    if cached is not None:
        return cached
    # the request's user as core.scoping knows it, without making it decide
    # early (a flush during login happens before the user is logged in)
    user = g.get("_qqh_user", False)
    if user is False:
        user = current_app.appbuilder.sm.current_user
    if user is None or not getattr(user, "is_authenticated", False):
        candidate = g.get("user")
        user = candidate if candidate is not None and getattr(candidate, "is_authenticated", False) else None
    address = (request.remote_addr or "")[:64] or None
    who = (getattr(user, "id", None), getattr(user, "username", None), address)
    if user is not None:
        g._qqh_audit_who = who  # the user does not change within a request; "nobody yet" may (login)
    return who


def _base_row(action: str, model_name, record_id, unit_id, label, before, after) -> dict:
    user_id, username, address = _who()
    return dict(
        at=_now(), user_id=user_id, username=username, unit_id=unit_id, action=action,
        model=model_name, record_id=record_id, label=label,
        values_before=_dumps(before), values_after=_dumps(after), address=address,
    )


# -- the unit of work -------------------------------------------------------------------------
def _before_flush(session, _context, _instances) -> None:
    # a deleted record's label while its relations can still be read
    labels = session.info.setdefault("qqh_audit_labels", {})
    deleted = [o for o in session.deleted if audited(type(o))]
    for obj in deleted:
        labels[id(obj)] = _label(obj, len(deleted) > FEW)


def _after_flush(session, _context) -> None:
    labels = session.info.pop("qqh_audit_labels", {})
    work = [(o, "create") for o in session.new] + [(o, "update") for o in session.dirty] + [(o, "delete") for o in session.deleted]
    work = [(o, a) for o, a in work if audited(type(o))]
    if not work:
        return
    cheap = len(work) > FEW
    rows = []
    for obj, action in work:
        state = sa_inspect(obj)
        model = type(obj)
        if action == "update":
            before, after = _changes(state)
            if not before and not after:
                continue
            before, after = _masked(model, before), _masked(model, after)
            kind = sa_inspect(model).polymorphic_on
            if kind is not None and kind.key not in before:  # the kind of record (a custom list's), for its labels
                before[kind.key] = after[kind.key] = state.dict.get(kind.key)
            values = state.dict
            label = _label(obj, cheap)
        elif action == "create":
            values = _row_values(state)
            before, after = None, _masked(model, values)
            label = _label(obj, cheap)
        else:
            values = _row_values(state)
            before, after = _masked(model, values), None
            label = labels.get(id(obj)) or _cheap_label(values, model)
        record_id = _record_id(obj)
        unit_id = _unit_id(model, values, state.dict.get("id"))
        rows.append(_base_row(action, model.__table__.name, record_id, unit_id, label, before, after))
    if rows:
        session.connection().execute(insert(AuditLog.__table__), rows)


# -- bulk statements ----------------------------------------------------------------------------
def _statement_values(stmt) -> dict:
    values = {}
    for key, value in (getattr(stmt, "_values", None) or {}).items():
        name = key if isinstance(key, str) else getattr(key, "key", None) or str(key)
        values[name] = value
    return values


def _do_orm_execute(state) -> object:
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    stmt = state.statement
    table = getattr(stmt, "table", None)
    mapper = state.bind_mapper
    model = mapper.class_ if mapper is not None else _model_of_table(table)
    if not audited(model):
        return None
    table = sa_inspect(model).local_table  # an ORM statement's table is an annotated copy
    session = state.session
    params = state.parameters
    rows_in = params if isinstance(params, list) else None
    pk_cols = list(table.primary_key.columns)
    name = table.name
    dialect = session.get_bind(mapper=sa_inspect(model)).dialect
    audit = []
    if state.is_insert:
        given = rows_in if rows_in is not None else [dict(params or {}, **_statement_values(stmt))]
        if not given or not isinstance(given[0], dict):
            return None
        ids = [None] * len(given)
        result = None
        many = rows_in is not None and len(rows_in) > 1
        known = len(pk_cols) == 1 and all(v.get(pk_cols[0].key) is not None for v in given)
        if len(pk_cols) == 1 and not known and not getattr(stmt, "_returning", ()) and dialect.insert_returning:
            # SQLite numbers new rows in the order they are inserted (one
            # writer, max(rowid) + 1): sorted ids match the rows, and the
            # INSERT stays one statement (asking for the order would split
            # it into one statement per row there)
            ordered = many and dialect.name != "sqlite"
            if ordered and not dialect.insert_executemany_returning_sort_by_parameter_order:
                ordered = None
            if ordered is not None and (not many or dialect.insert_executemany_returning):
                result = state.invoke_statement(statement=stmt.returning(pk_cols[0], sort_by_parameter_order=ordered)).freeze()
                ids = [r[0] for r in result().all()]
                if many and not ordered:
                    ids.sort()
        for values, pk in zip(given, ids):
            values = {k: v for k, v in values.items() if k not in QUIET and v is not None}
            if pk is None and len(pk_cols) == 1:
                pk = values.get(pk_cols[0].key)
            audit.append(_base_row("create", name, None if pk is None else str(pk), _unit_id(model, values, pk),
                                   _cheap_label(values, model), None, _masked(model, values)))
        _write_rows(session, audit)
        return result() if result is not None else None
    # UPDATE / DELETE
    if rows_in is not None:  # by primary key, one dict per record (ORM bulk UPDATE)
        for values in rows_in:
            pk = "/".join(str(values.get(c.key)) for c in pk_cols)
            changed = {k: v for k, v in values.items() if k not in QUIET and k not in {c.key for c in pk_cols}}
            action = "update" if state.is_update else "delete"
            audit.append(_base_row(action, name, pk, values.get("unit_id"), _cheap_label(values, model), None,
                                   _masked(model, changed) if state.is_update else None))
        _write_rows(session, audit)
        return None
    criteria = list(getattr(stmt, "_where_criteria", ()))
    reached = session.execute(select(*table.columns).where(*criteria)).mappings().all() if criteria else \
        session.execute(select(*table.columns)).mappings().all()
    set_values = _statement_values(stmt) if state.is_update else {}
    for row in reached:
        values = dict(row)
        pk = "/".join(str(values[c.key]) for c in pk_cols)
        if state.is_update:
            changed = {k: v for k, v in set_values.items() if k not in QUIET}
            before = _masked(model, {k: values.get(k) for k in changed})
            after = _masked(model, changed)
            unit_id = set_values.get("unit_id") if isinstance(set_values.get("unit_id"), int) else None
            unit_id = unit_id or _unit_id(model, values, values.get("id"))
            audit.append(_base_row("update", name, pk, unit_id, _cheap_label(values, model), before, after))
        else:
            kept = {k: v for k, v in values.items() if k not in QUIET and v is not None}
            audit.append(_base_row("delete", name, pk, _unit_id(model, values, values.get("id")),
                                   _cheap_label(values, model), _masked(model, kept), None))
    _write_rows(session, audit)
    return None


def _write_rows(session, rows: list[dict]) -> None:
    if rows:
        session.connection().execute(insert(AuditLog.__table__), rows)


# -- account and security events ---------------------------------------------------------------------
def log_event(
    action: str,
    *,
    username: str | None = None,
    user_id: int | None = None,
    unit_id: int | None = None,
    detail: dict | None = None,
) -> None:
    """Record an account or security event (``login``, ``login_failed``,
    ``lockout``, ``unlock``, ``logout``, ``password_change``, ``role_change``)
    in a short transaction of its own: kept even when the request's own
    changes are rolled back (a failed login). Needs an app context.

    Without ``username`` and ``user_id``, the request's user is recorded."""
    row = _base_row(action, None, None, unit_id, None, None, _masked(object, detail) if detail else None)
    if username is not None or user_id is not None:
        row["username"], row["user_id"] = username, user_id
    if row["username"] is None and row["user_id"] is not None:
        row["username"] = _username(row["user_id"])
    db = current_app.extensions["qqh_db"]
    session = db.session()
    if _holds_sqlite_write_lock(session):
        # SQLite has one writer: the request's session holds the lock until it
        # commits or rolls back; the event is written right after either
        session.info.setdefault("qqh_audit_events", []).append(row)
        return
    _insert_events(db.engine, [row])


def _holds_sqlite_write_lock(session) -> bool:
    if not session.in_transaction():
        return False
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return False
    return bool(getattr(conn.connection.dbapi_connection, "in_transaction", False))


def _username(user_id: int) -> str | None:
    from flask_appbuilder.security.sqla.models import User

    with current_app.extensions["qqh_db"].engine.connect() as conn:
        return conn.execute(select(User.__table__.c.username).where(User.__table__.c.id == user_id)).scalar()


def _insert_events(engine, rows: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(AuditLog.__table__), rows)


def _transaction_ended(session) -> None:
    events = session.info.pop("qqh_audit_events", None)
    if events and has_app_context():
        _insert_events(current_app.extensions["qqh_db"].engine, events)


def _after_rollback(session) -> None:
    session.info.pop("qqh_audit_labels", None)
    _transaction_ended(session)


_RECORDING = (("before_flush", _before_flush), ("after_flush", _after_flush), ("do_orm_execute", _do_orm_execute))
for _name, _fn in _RECORDING:
    event.listen(Session, _name, _fn)


def set_recording(on: bool) -> None:
    """Switch the automatic recording of changes on or off for the whole
    process. For benchmarks (bench/save_bench.py) only: never in the app."""
    for name, fn in _RECORDING:
        if event.contains(Session, name, fn) != on:
            (event.listen if on else event.remove)(Session, name, fn)
event.listen(Session, "after_commit", _transaction_ended)
event.listen(Session, "after_rollback", _after_rollback)


def install(app) -> None:
    """Events still waiting when the request ends (its session neither
    committed nor rolled back) are written once the session is closed."""

    @app.teardown_request
    def _pending_events(_exc=None):
        db = app.extensions["qqh_db"]
        session = db.session()
        events = session.info.pop("qqh_audit_events", None)
        if events:
            session.rollback()  # what the request did not commit is lost anyway
            _insert_events(db.engine, events)


# -- reading it: a page and a REST API, both read-only -------------------------------------------
# Read as "can_audit on UnitAdminAudit": a view name "UnitAdmin…" and a
# permission outside the READ and WRITE sets of core/tenancy/security.py, so that the
# rules give it to province admins (everything) and unit admins (UnitAdmin.*)
# only; clerks and inspectors read only can_list/can_show/can_get/... .
PERMISSION = "UnitAdminAudit"
READ_PERMISSION = "can_audit"

AUDIT_LABELS = {
    "at": _l("Time"),
    "username": _l("User"),
    "user_id": _l("User id"),
    "unit": _l("Unit"),
    "unit_id": _l("Unit id"),
    "action": _l("Action"),
    "action_label": _l("Action"),
    "model": _l("Table"),
    "model_label": _l("Kind of record"),
    "record_id": _l("Record id"),
    "label": _l("Record name"),
    "record_label": _l("Record name"),
    "changes": _l("Changes"),
    "values_before": _l("Before"),
    "values_after": _l("After"),
    "address": _l("Client address"),
}


def _views():
    from flask_appbuilder import ModelView

    from core.web.scoped_views import ScopedInterface
    from core.web.scoped_api import ScopedModelRestApi

    class AuditInterface(ScopedInterface):
        def query(self, *args, **kwargs):
            count, items = super().query(*args, **kwargs)
            from core.audit import present as audit_present

            audit_present.prefetch(items)  # the units, users and records the page names: set-based
            return count, items

    class AuditLogView(ModelView):
        """审计日志: newest first, filters by user, action, table and time. No
        add, edit or delete route exists."""

        datamodel = AuditInterface(AuditLog)
        route_base = "/auditlog"
        class_permission_name = PERMISSION
        method_permission_name = {"list": "audit", "show": "audit"}
        base_permissions = [READ_PERMISSION]
        include_route_methods = {"list", "show"}
        list_title = _l("Audit log")
        show_title = _l("Audit log entry")
        list_columns = ["at", "username", "action_label", "model_label", "record_label", "unit", "changes"]
        show_columns = ["at", "username", "user_id", "address", "action_label", "model_label", "model", "record_id",
                        "record_label", "unit", "changes"]
        search_columns = ["username", "action", "model", "record_id", "at"]
        order_columns = ["at", "username", "model"]
        base_order = ("id", "desc")
        label_columns = AUDIT_LABELS
        page_size = 50
        formatters_columns = {"changes": lambda text: text if len(text) <= 300 else text[:300] + "…"}

    class AuditLogApi(ScopedModelRestApi):
        datamodel = ScopedInterface(AuditLog)
        resource_name = "auditlog"
        class_permission_name = PERMISSION
        method_permission_name = {"get": "audit", "get_list": "audit", "info": "audit"}
        base_permissions = [READ_PERMISSION]
        include_route_methods = {"get", "get_list", "info"}
        list_columns = ["id", "at", "user_id", "username", "unit_id", "action", "model", "record_id", "label",
                        "values_before", "values_after", "address"]
        show_columns = list_columns
        search_columns = ["user_id", "username", "unit_id", "action", "model", "record_id", "label", "at"]
        order_columns = ["id", "at"]
        base_order = ("id", "desc")
        label_columns = AUDIT_LABELS

    return AuditLogView, AuditLogApi


def register(appbuilder) -> None:
    from core.web.views import ADMIN_CATEGORY, ADMIN_CATEGORY_LABEL

    view, api = _views()

    def may_read() -> bool:
        return appbuilder.sm.has_access(READ_PERMISSION, PERMISSION)

    appbuilder.add_view(
        view, PERMISSION, label=_l("Audit log"), icon="fa-history",
        category=ADMIN_CATEGORY, category_label=ADMIN_CATEGORY_LABEL, category_icon="fa-cogs", menu_cond=may_read,
    )
    appbuilder.add_api(api)
