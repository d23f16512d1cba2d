"""KPI figures kept live: computed once, kept in the database, recomputed only
for the checks whose records changed.

How it works (the rule for every check, core's, the plugins' and whatever
low-code checks register later — nothing to do for them but be a
:class:`core.kpi.engine.KpiCheck`):

* **A version per table** (``qqh_kpi_version``: table name → counter). Every
  statement that writes a table — ORM flushes, core's bulk
  ``insert()/update()/delete()`` run through a session or a connection,
  imports, unit moves, deletes, and textual ``INSERT/UPDATE/DELETE`` — bumps
  that table's counter *in the same transaction*, once per transaction:
  one engine-level ``before_execute`` hook notes the table, and the
  ``commit`` hook bumps the noted counters right before COMMIT (for every
  engine, so every gunicorn worker and every script does it; a rollback
  bumps nothing). Bumping at commit holds the counter's row lock for an
  instant, not for the writer's whole transaction. Only ``exec_driver_sql`` strings bypass it.
* **What a check reads** is found from its own select (every table named
  anywhere in it, correlated subqueries included), plus the unit table
  (moving a unit changes the sums of its old and new ancestors), plus any
  names in ``KpiCheck.depends_on``. A write invalidates exactly the checks
  that read the written table.
* **Computed figures** (``qqh_kpi_figure``) are kept per (check, unit, window
  of dates): the unit's own (本级) and whole-subtree (含下级, distinct people
  once) values over the window. Each row is filed under a *slot*: a hash of
  the check key, its SQL and bound parameters (so a changed definition never
  reuses old figures), the plan year and the versions of the tables the check
  reads. A report reads the versions first (one query), then the figures of
  the current slots (one query); what is missing is computed with
  :func:`core.kpi.engine.compute_values` (at most one statement per check, as before) and
  stored on a connection of its own (best effort: a failed store is only a
  miss next time). Rows of older slots of the same check and year are
  deleted when new ones are stored.
* **Exactness**: versions are read before any record, so figures filed under
  a version never predate it. A transaction that wrote something itself
  (bumped a version not yet committed) neither reads nor stores figures: it
  computes them fresh from what it sees.

``QQH_KPI_LIVE = False`` in the app config turns the keeping off (every
report computed from the records).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import time
from typing import Any, Iterable

from flask import current_app, has_app_context
from flask_appbuilder import Model
from sqlalchemy import Date, Float, Index, Integer, String, TextClause, bindparam, event, func, inspect, select, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import Pool
from sqlalchemy.sql import visitors
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.sql.selectable import TableClause

log = logging.getLogger(__name__)

VERSION_TABLE = "qqh_kpi_version"
FIGURE_TABLE = "qqh_kpi_figure"
UNIT_TABLE = "qqh_unit"
SINCE_START = datetime.date(1, 1, 1)  # "no lower bound": the window starts with the check itself
BUMPED = "qqh_kpi_bumped"  # connection info: tables bumped in the current transaction
COUNTED = "qqh_write_counter"  # connection info: the write counter as this transaction read it
_NOT_TRACKED = {VERSION_TABLE, FIGURE_TABLE, "alembic_version"}
_WRITE_RE = re.compile(r"^\s*(?:insert\s+(?:or\s+\w+\s+)?into|update(?:\s+only)?|delete\s+from)\s+\"?([A-Za-z_][\w]*)\"?",
                       re.IGNORECASE)


class KpiTableVersion(Model):
    """How many transactions wrote a table (bumped with the write itself)."""

    __tablename__ = VERSION_TABLE

    table_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class KpiFigure(Model):
    """A kept figure: a check's values for one unit over one window of dates,
    filed under the slot (check, definition, year, table versions) it was
    computed for."""

    __tablename__ = FIGURE_TABLE
    __table_args__ = (Index("ix_qqh_kpi_figure_check_year", "check_key", "plan_year"),)

    slot: Mapped[str] = mapped_column(String(40), primary_key=True)
    since: Mapped[datetime.date] = mapped_column(Date, primary_key=True)  # SINCE_START: no lower bound
    until: Mapped[datetime.date] = mapped_column(Date, primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    check_key: Mapped[str] = mapped_column(String(64), nullable=False)
    plan_year: Mapped[int] = mapped_column(Integer, nullable=False)
    own: Mapped[float] = mapped_column(Float, nullable=False)
    subtree: Mapped[float] = mapped_column(Float, nullable=False)


# -- the versions, bumped by every write ------------------------------------------------
_ready: dict[int, float] = {}  # id(engine) → since when the version table is known to exist (0: not yet)


def _has_version_table(conn) -> bool:
    """The version table exists: known for good once seen; "not yet" is
    asked again after a few seconds (a restore, another process's
    migration may create it without this process seeing the DDL)."""
    key = id(conn.engine)
    known = _ready.get(key)
    if known is None or (known == 0 and time.monotonic() - _checked.get(key, 0) > 5):
        _checked[key] = time.monotonic()
        known = _ready[key] = 1.0 if inspect(conn).has_table(VERSION_TABLE) else 0
    return bool(known)


_checked: dict[int, float] = {}


def _written_table(clauseelement) -> str | None:
    if isinstance(clauseelement, UpdateBase):
        return getattr(clauseelement.table, "name", None)
    if isinstance(clauseelement, TextClause):
        m = _WRITE_RE.match(clauseelement.text)
        return m.group(1).lower() if m else None
    return None


def bump(conn, tables: Iterable[str]) -> None:
    """Bump the versions of ``tables`` in ``conn``'s transaction (upsert)."""
    names = sorted(set(tables) - _NOT_TRACKED)
    if not names:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    t = KpiTableVersion.__table__
    stmt = insert(t).values([{"table_name": n, "version": 1} for n in names])
    conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.table_name], set_={"version": t.c.version + 1}))


def _bump_raw(conn, names) -> None:
    """The upsert on the DBAPI connection itself: run from the ``commit``
    event, inside the transaction, just before COMMIT (no statement events)."""
    ph = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO {VERSION_TABLE} (table_name, version) VALUES ({ph}, 1) "
            f"ON CONFLICT (table_name) DO UPDATE SET version = {VERSION_TABLE}.version + 1",
            [(n,) for n in names],
        )
    finally:
        cursor.close()


@event.listens_for(Engine, "before_execute")
def _before_execute(conn, clauseelement, multiparams, params, execution_options):
    if isinstance(clauseelement, ExecutableDDLElement):
        _ready.pop(id(conn.engine), None)  # tables come and go (migrations, tests)
        return
    name = _written_table(clauseelement)
    if name is None or name in _NOT_TRACKED:
        return
    if not _has_version_table(conn):
        return
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        bump(conn, [name])  # each statement commits by itself
        return
    # noted now, bumped at commit: a version row locked from the first write to the end of a
    # transaction serialised every writer of the table on PostgreSQL, and deadlocked a thread
    # that wrote the same table on two connections (the audit log's own transaction)
    conn.info.setdefault(BUMPED, set()).add(name)


@event.listens_for(Engine, "commit")
def _bump_at_commit(conn) -> None:
    """Bump the versions of the tables the transaction wrote, in it, right
    before COMMIT: the data and the bump land together or not at all."""
    conn.info.pop(COUNTED, None)
    names = sorted(conn.info.pop(BUMPED, None) or ())
    if names:
        _bump_raw(conn, names)


def _forget(conn, *_args) -> None:
    conn.info.pop(BUMPED, None)
    conn.info.pop(COUNTED, None)


# the transaction was taken back: nothing to bump (a savepoint rolled back keeps what was
# noted before it: bumping a table too often only costs a recomputation)
event.listen(Engine, "rollback", _forget)


@event.listens_for(Pool, "checkin")
def _checkin(_dbapi_connection, record):
    if record is not None:
        record.info.pop(BUMPED, None)
        record.info.pop(COUNTED, None)


def write_counter(session) -> int | None:
    """A number that grows with every committed write to any tracked table (the sum of the table
    versions, across every process): the same number twice means nothing was written in between.
    None when the version table is missing or this transaction wrote something itself. One query per
    transaction: what a request keeps between requests (the to-do list, the modules a unit switched
    off, the low-code definitions' version) is checked against the one number, read before any of it."""
    conn = session.connection()
    if conn.info.get(BUMPED) or not _has_version_table(conn):
        return None
    counted = conn.info.get(COUNTED)
    if counted is None:
        vt = KpiTableVersion.__table__
        counted = conn.info[COUNTED] = int(conn.execute(select(func.coalesce(func.sum(vt.c.version), 0))).scalar())
    return counted


def wrote_in_transaction(session) -> bool:
    """The session's transaction wrote something not yet committed."""
    return bool(session.connection().info.get(BUMPED))


# -- what a check reads ------------------------------------------------------------------
def tables_read(stmt) -> set[str]:
    """Every table named anywhere in ``stmt`` (subqueries included)."""
    return {e.name for e in visitors.iterate(stmt) if isinstance(e, TableClause) and getattr(e, "name", None)}


_compiled: dict[tuple, tuple[str, frozenset]] = {}  # (dialect, statement structure) → (SQL, tables read)


def _slot_base(check, plan_year: int, dialect) -> tuple[str, set[str]]:
    """(definition fingerprint, tables read) of ``check`` for ``plan_year``:
    its SQL and bound values, as the check builds it now (a definition that
    changes gets other figures). The SQL text of a statement structure is
    compiled once (SQLAlchemy's own cache key of the statement)."""
    stmt = check.query(plan_year, datetime.date(plan_year, 12, 31))
    ck = stmt._generate_cache_key()
    known = _compiled.get((dialect.name, ck.key)) if ck is not None else None
    if known is None:
        known = (str(stmt.compile(dialect=dialect)), frozenset(tables_read(stmt)))
        if ck is not None:
            if len(_compiled) > 1000:
                _compiled.clear()
            _compiled[(dialect.name, ck.key)] = known
    sql, tables = known
    if ck is not None:
        params = [repr(b.effective_value) for b in ck.bindparams]
    else:  # not cacheable: every value from the compiled form
        params = sorted((k, repr(v)) for k, v in stmt.compile(dialect=dialect).params.items())
    tables = set(tables) | {UNIT_TABLE} | set(getattr(check, "depends_on", ()) or ())
    return f"{check.key}|{check.rollup}|{plan_year}|{sql}|{params}", tables


def enabled() -> bool:
    if has_app_context():
        return bool(current_app.config.get("QQH_KPI_LIVE", True))
    return True


# -- the figures of a report -------------------------------------------------------------
def figures(
    session,
    plan_year: int,
    needed: dict[str, set[tuple]],
    checks: dict,
    root,
    paths: dict[int, str],
    live: bool | None = None,
) -> dict[tuple, tuple[Any, Any]]:
    """Values over windows: ``needed`` is {check key: {(before, end, unit code)}}
    (``before`` None: everything the check counts up to ``end``; else the
    values at ``end`` minus those at ``before``, people once). Returns
    {(key, before, end, code): (own value, subtree value)}, from the kept
    figures where they are current, computed (and kept) where not."""
    from core.kpi.engine import compute_values

    needed = {k: v for k, v in needed.items() if v and k in checks}
    if not needed:
        return {}
    if live is None:
        live = enabled()
    if live:
        session.flush()
        conn = session.connection()
        if wrote_in_transaction(session) or not _has_version_table(conn):
            live = False
    out: dict[tuple, tuple[Any, Any]] = {}
    missing = needed
    slots: dict[str, str] = {}
    if live:
        bases = {k: _slot_base(checks[k], plan_year, conn.dialect) for k in needed}
        all_tables = set().union(*(t for _b, t in bases.values()))
        vt = KpiTableVersion.__table__
        versions = dict(conn.execute(select(vt.c.table_name, vt.c.version).where(vt.c.table_name.in_(sorted(all_tables)))).all())
        for k, (base, tables) in bases.items():
            stamp = ",".join(f"{t}={versions.get(t, 0)}" for t in sorted(tables))
            slots[k] = hashlib.sha1(f"{base}|{stamp}".encode()).hexdigest()
        by_slot = {s: k for k, s in slots.items()}
        codes = sorted({c for v in needed.values() for _b, _e, c in v})
        ft = KpiFigure.__table__
        # the dates as the driver gives them (SQLite: text, parsed here once per distinct date,
        # not twice per figure by the Date type: a warm province report reads some 500 figures)
        rows = conn.execute(
            select(ft.c.slot, type_coerce(ft.c.since, String), type_coerce(ft.c.until, String), ft.c.unit_code,
                   ft.c.own, ft.c.subtree)
            .where(ft.c.slot.in_(sorted(by_slot)), ft.c.unit_code.in_(codes))
        )
        dates: dict = {}

        def day(value):
            d = dates.get(value)
            if d is None:
                d = dates[value] = datetime.date.fromisoformat(value) if isinstance(value, str) else value
            return d

        for slot, since, until, code, own, sub in rows:
            since = day(since)
            before = None if since == SINCE_START else since
            out[(by_slot[slot], before, day(until), code)] = (own, sub)
        missing = {}
        for k, wanted in needed.items():
            lack = {w for w in wanted if (k, *w) not in out}
            if lack:
                missing[k] = lack
    if not missing:
        return out

    # compute what is missing: one statement per check, as compute_values does
    cutoffs: dict[str, set[datetime.date]] = {}
    for k, wanted in missing.items():
        dates = cutoffs.setdefault(k, set())
        for before, end, _code in wanted:
            dates.add(end)
            if before is not None:
                dates.add(before)
    codes = {c for v in missing.values() for _b, _e, c in v}
    own: dict = {}
    sub = compute_values(session, plan_year, cutoffs, checks, root, codes, paths, own=own)
    fresh: dict[str, list[dict]] = {}
    for k, wanted in missing.items():
        distinct = checks[k].rollup == "distinct"
        empty = set() if distinct else 0
        for before, end, code in wanted:
            pair = []
            for source in (own, sub):
                v_end = source.get((k, end, code), empty)
                if before is None:
                    v = len(v_end) if distinct else v_end
                elif end <= before:
                    v = 0
                else:
                    v_before = source.get((k, before, code), empty)
                    v = len(v_end - v_before) if distinct else v_end - v_before
                pair.append(float(v or 0))
            out[(k, before, end, code)] = tuple(pair)
            if live:
                fresh.setdefault(k, []).append(
                    {"slot": slots[k], "since": before or SINCE_START, "until": end, "unit_code": code,
                     "check_key": k, "plan_year": plan_year, "own": pair[0], "subtree": pair[1]}
                )
    if fresh:
        _store(session, plan_year, slots, fresh)
    return out


_FIGURE_COLUMNS = ("slot", "since", "until", "unit_code", "check_key", "plan_year", "own", "subtree")


def _insert_figures(insert, dialect: str, rows: list[dict]) -> tuple:
    """The arguments of ``conn.execute`` that insert ``rows`` (skipping figures
    another process kept meanwhile) in one statement. PostgreSQL: one array
    per column, unnested — psycopg2's executemany of an INSERT … ON CONFLICT
    sends a statement per row (244 figures took 250-650 ms, more than the
    report's SQL), and a multi-row VALUES costs SQLAlchemy ~100 ms to compile.
    SQLite: executemany, which loops in the driver's C code."""
    ft = KpiFigure.__table__
    if dialect != "postgresql":
        return insert(ft).on_conflict_do_nothing(), rows
    from sqlalchemy.dialects.postgresql import ARRAY

    arrays = [
        func.unnest(bindparam(f"qqh_{c}", [r[c] for r in rows], type_=ARRAY(ft.c[c].type)))
        for c in _FIGURE_COLUMNS
    ]
    return (insert(ft).from_select(list(_FIGURE_COLUMNS), select(*arrays)).on_conflict_do_nothing(),)


def _store(session, plan_year: int, slots: dict[str, str], fresh: dict[str, list[dict]]) -> None:
    """Keep the new figures (own transaction, so a GET keeps them without
    committing the caller's session); drop the older slots of those checks."""
    ft = KpiFigure.__table__
    engine = session.get_bind()
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    try:
        with engine.begin() as conn:
            for k, rows in fresh.items():
                conn.execute(
                    ft.delete().where(ft.c.check_key == k, ft.c.plan_year == plan_year, ft.c.slot != slots[k])
                )
                conn.execute(*_insert_figures(insert, engine.dialect.name, rows))
    except SQLAlchemyError as exc:  # a busy database: computed again next time
        log.warning("KPI figures not kept: %s", exc)


def clear(session) -> int:
    """Forget every kept figure (they are recomputed on demand). On the
    session's connection, not through the session: kept figures are not
    records, the audit log does not list them."""
    return session.connection().execute(KpiFigure.__table__.delete()).rowcount
