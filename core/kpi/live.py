"""KPI figures kept live: computed once, kept in the database, recomputed only
for the checks whose records changed.

How it works (the rule for every check, core's, the plugins' and whatever
low-code checks register later — nothing to do for them but be a
:class:`core.kpi.engine.KpiCheck`):

* **A version per table** (core/tenancy/versions.py): every committed write
  of a table bumps its counter in the same transaction, in every process.
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
from typing import Any

from flask import current_app, has_app_context
from flask_appbuilder import Model
from sqlalchemy import Date, Float, Index, Integer, String, bindparam, func, select, type_coerce
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from core.tenancy.versions import NOT_TRACKED, TableVersion, has_version_table, tables_read, wrote_in_transaction

log = logging.getLogger(__name__)

FIGURE_TABLE = "qqh_kpi_figure"
UNIT_TABLE = "qqh_unit"
SINCE_START = datetime.date(1, 1, 1)  # "no lower bound": the window starts with the check itself
NOT_TRACKED.add(FIGURE_TABLE)  # storing figures is no write of records


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


# -- what a check reads ------------------------------------------------------------------
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
        if wrote_in_transaction(session) or not has_version_table(conn):
            live = False
    out: dict[tuple, tuple[Any, Any]] = {}
    missing = needed
    slots: dict[str, str] = {}
    if live:
        bases = {k: _slot_base(checks[k], plan_year, conn.dialect) for k in needed}
        all_tables = set().union(*(t for _b, t in bases.values()))
        vt = TableVersion.__table__
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
