"""Table versions: a counter per table that every committed write bumps, in every process.

Every statement that writes a table — ORM flushes, core's bulk
``insert()/update()/delete()`` run through a session or a connection,
imports, unit moves, deletes, and textual ``INSERT/UPDATE/DELETE`` — bumps
that table's counter (``qqh_kpi_version``: table name → counter) *in the same
transaction*, once per transaction: one engine-level ``before_execute`` hook
notes the table, and the ``commit`` hook bumps the noted counters right
before COMMIT (for every engine, so every gunicorn worker and every script
does it; a rollback bumps nothing). Only ``exec_driver_sql`` strings bypass it.

What is kept between requests rests on them: the KPI figures (per table,
core/kpi/live.py) and, against their sum (:func:`write_counter`, read once per
transaction), a request's user, what its unit switched off, the low-code
definitions' version and the to-do list.
"""

from __future__ import annotations

import re
import time
from typing import Iterable

from flask_appbuilder import Model
from sqlalchemy import Integer, String, TextClause, event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import Pool
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.sql import visitors
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import TableClause

VERSION_TABLE = "qqh_kpi_version"
BUMPED = "qqh_kpi_bumped"  # connection info: tables bumped in the current transaction
COUNTED = "qqh_table_versions"  # connection info: the table versions as this transaction read them
#: tables whose writes bump nothing (the KPI figures, kept by core/kpi/live.py, add theirs)
NOT_TRACKED = {VERSION_TABLE, "alembic_version"}
_WRITE_RE = re.compile(r"^\s*(?:insert\s+(?:or\s+\w+\s+)?into|update(?:\s+only)?|delete\s+from)\s+\"?([A-Za-z_][\w]*)\"?",
                       re.IGNORECASE)


class TableVersion(Model):
    """How many transactions wrote a table (bumped with the write itself)."""

    __tablename__ = VERSION_TABLE

    table_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


_ready: dict[int, float] = {}  # id(engine) → since when the version table is known to exist (0: not yet)


def has_version_table(conn) -> bool:
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
    names = sorted(set(tables) - NOT_TRACKED)
    if not names:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    t = TableVersion.__table__
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
    if name is None or name in NOT_TRACKED:
        return
    if not has_version_table(conn):
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


def table_versions(session) -> dict[str, int] | None:
    """Every table's version as this transaction read them (one query per transaction, ~100 rows),
    or None when the version table is missing or this transaction wrote something itself. What a
    request keeps between requests is checked against them, read before any of it."""
    conn = session.connection()
    if conn.info.get(BUMPED) or not has_version_table(conn):
        return None
    versions = conn.info.get(COUNTED)
    if versions is None:
        vt = TableVersion.__table__
        versions = conn.info[COUNTED] = dict(conn.execute(select(vt.c.table_name, vt.c.version)).all())
    return versions


def write_counter(session) -> int | None:
    """A number that grows with every committed write to any tracked table (the sum of the table
    versions, across every process): the same number twice means nothing was written in between.
    None as for :func:`table_versions`. What a request keeps whatever table it comes from (the to-do
    list, the user, the modules a unit switched off, the low-code definitions' version) is checked
    against it."""
    versions = table_versions(session)
    return None if versions is None else sum(versions.values())


def kept_while_unwritten(session, store: dict, key, compute, limit: int):
    """``compute()``, kept in ``store`` (a dict of the app's) under ``key`` while nothing is written
    anywhere (:func:`write_counter`, read before ``compute`` reads anything); ``store`` is emptied
    when it holds ``limit`` keys. Computed every time when the counter cannot tell (None). Keep
    values nobody changes (frozen, or copied by the caller)."""
    counter = write_counter(session)
    if counter is None:
        return compute()
    hit = store.get(key)
    if hit is not None and hit[0] == counter:
        return hit[1]
    value = compute()
    if len(store) >= limit:
        store.clear()
    store[key] = (counter, value)
    return value


def tables_read(stmt) -> set[str]:
    """Every table named anywhere in ``stmt`` (subqueries included)."""
    return {e.name for e in visitors.iterate(stmt) if isinstance(e, TableClause) and getattr(e, "name", None)}


# A list's record count, as last counted in this process while none of the tables its statement
# reads was written since (pages and REST lists count on every view: on PostgreSQL a third of a
# list's time at 100,000 records). Keyed by the statement's structure (SQLAlchemy's cache key), its
# bound values (the user's subtree, the search) and the database; bounded: emptied when it holds
# KEPT_COUNTS counts.
KEPT_COUNTS = 10_000
_tables_of: dict = {}  # statement structure → the tables it reads


def kept_count(session, query, kept: dict) -> int:
    """``query.count()`` (an ORM query), kept in ``kept`` (one dict per database) while the tables
    it reads are unchanged; a statement SQLAlchemy cannot key is counted every time."""
    versions = table_versions(session)
    stmt = query.statement
    ck = stmt._generate_cache_key() if versions is not None else None
    if ck is None:
        return query.count()
    tables = _tables_of.get(ck.key)
    if tables is None:
        if len(_tables_of) >= KEPT_COUNTS:
            _tables_of.clear()
        tables = _tables_of[ck.key] = tuple(sorted(tables_read(stmt)))
    key = (ck.key, tuple(repr(b.effective_value) for b in ck.bindparams))
    stamp = tuple(versions.get(t, 0) for t in tables)
    hit = kept.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    count = query.count()
    if len(kept) >= KEPT_COUNTS:
        kept.clear()
    kept[key] = (stamp, count)
    return count


def wrote_in_transaction(session) -> bool:
    """The session's transaction wrote something not yet committed."""
    return bool(session.connection().info.get(BUMPED))
