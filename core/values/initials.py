"""Pickers find records by the pinyin initials of their names too: sd → 顺德区.

The initials of every name of a model are computed once per process with
``pypinyin`` (pure Python, offline) from one query of (id, name), kept in
memory and rebuilt when this process writes that model or after
``REFRESH_SECONDS`` (another server process may have written it). A request
only looks its typed letters up in that list and hands the matching ids to
the picker's own SQL query, which applies the user's scope, the order and the
limit: no name is converted at request time, no row is read per record.

Plugins use it in their pickers::

    from core.initials import initials_condition
    cond = initials_condition(session, YouthOrg.name, q)
    stmt = stmt.where(YouthOrg.name.like(like) | cond)
"""

from __future__ import annotations

import re
import threading
import time

from sqlalchemy import event, false, inspect as sa_inspect, select
from sqlalchemy.orm import Session

REFRESH_SECONDS = 60
MAX_IDS = 2000  # candidates handed to SQL (the picker shows 20)
_QUERY = re.compile(r"^[a-z]{1,12}$")

_lock = threading.Lock()
_cache: dict[tuple, tuple[float, list[tuple[int, str]]]] = {}  # (database, table, column) → (built, [(id, initials)])
_names: dict[str, str] = {}  # name → initials, across rebuilds
_stale: set[str] = set()  # tables written by this process since their list was built


def initials(text: str | None) -> str:
    """Lower-case initials of a name: 顺德区 → sdq; letters and digits are kept (佛山ABC → fsabc)."""
    if not text:
        return ""
    cached = _names.get(text)
    if cached is not None:
        return cached
    from pypinyin import Style, lazy_pinyin

    out = []
    for part in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default"):
        out.append("".join(ch for ch in part.lower() if ch.isascii() and ch.isalnum()))
    value = "".join(out)
    if len(_names) < 200_000:
        _names[text] = value
    return value


def _entries(session, column) -> list[tuple[int, str]]:
    model = column.class_
    pk = sa_inspect(model).primary_key[0]
    table = model.__table__.name
    key = (str(session.get_bind().url), table, column.key)
    now = time.monotonic()
    with _lock:
        found = _cache.get(key)
        fresh = found is not None and now - found[0] < REFRESH_SECONDS and table not in _stale
    if fresh:
        return found[1]
    rows = session.execute(select(pk, column)).all()
    entries = [(row[0], initials(row[1])) for row in rows]
    with _lock:
        _cache[key] = (now, entries)
        _stale.discard(table)
    return entries


def matching_ids(session, column, q: str) -> list[int]:
    """Ids of the records whose ``column`` has initials containing ``q`` (letters only)."""
    q = (q or "").strip().lower()
    if not _QUERY.match(q):
        return []
    found = [pk for pk, value in _entries(session, column) if q in value]
    return found[:MAX_IDS]


def initials_condition(session, column, q: str):
    """An SQL condition: the record's ``column`` has initials containing ``q``
    (``false()`` when ``q`` is not a few latin letters or nothing matches)."""
    ids = matching_ids(session, column, q)
    if not ids:
        return false()
    pk = sa_inspect(column.class_).primary_key[0]
    return pk.in_(ids)


@event.listens_for(Session, "after_flush")
def _written(session, _context) -> None:
    if not _cache:
        return
    tables = {
        getattr(getattr(obj, "__table__", None), "name", None)
        for obj in (*session.new, *session.dirty, *session.deleted)
    }
    session.info.setdefault("qqh_initials_written", set()).update(t for t in tables if t)


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    written = session.info.pop("qqh_initials_written", None)
    if written:
        with _lock:
            _stale.update(written)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session) -> None:
    session.info.pop("qqh_initials_written", None)
