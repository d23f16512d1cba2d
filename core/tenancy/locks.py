"""Rules that compare records (a camp's places against its enrolments, a
fund's committed amount against its grants, one open pairing per sector)
hold under concurrent requests only if checking and writing are one step:

* :func:`lock_rows` locks the rows the rule is about until the transaction
  ends. Both sides of a rule take the same lock (the enrolment and the camp
  edit lock the camp; the grant and the fund edit lock the fund), so the
  second writer waits and then reads what the first one wrote.
  PostgreSQL: ``SELECT … FOR UPDATE``. SQLite locks the whole database for a
  writer, but pysqlite runs a SELECT outside any transaction: a no-op UPDATE
  of the row makes this transaction the writer first, so another writer
  waits before it reads.
* :func:`unwritten` keeps the records checked in the current transaction
  but not written yet (an import checks every row before it writes any), so
  that they count against the limit too. Forgotten when the transaction ends.
"""

from __future__ import annotations

from sqlalchemy import inspect as sa_inspect, select, text
from sqlalchemy.orm import scoped_session


def _plain(session):
    return session() if isinstance(session, scoped_session) else session


def lock_rows(session, model, *ids) -> None:
    """Lock the rows of ``model`` with these primary keys (in key order, so
    that two writers locking several rows never deadlock). A row locked
    already in this transaction is not locked again: an import that checks
    10,000 enrolments into one camp locks the camp once."""
    session = _plain(session)
    held = _held(session)
    keys = sorted({i for i in ids if i is not None and (model, i) not in held})
    if not keys:
        return
    pk = sa_inspect(model).primary_key[0]
    for i in range(0, len(keys), 400):
        chunk = keys[i : i + 400]
        if session.connection().dialect.name == "sqlite":
            table, column = model.__table__.name, pk.name
            marks = ", ".join(f":k{n}" for n in range(len(chunk)))
            session.execute(text(f'UPDATE "{table}" SET "{column}" = "{column}" WHERE "{column}" IN ({marks})'),
                            {f"k{n}": key for n, key in enumerate(chunk)})
        else:
            session.execute(select(pk).where(pk.in_(chunk)).order_by(pk).with_for_update())
    held.update((model, k) for k in keys)


def _held(session) -> set:
    """The rows locked in the innermost transaction (a savepoint rolled back
    releases what it locked: the next one locks again)."""
    entry = session.info.get("qqh.locked_rows")
    if entry is not None and entry[0] is (session.get_nested_transaction() or session.get_transaction()):
        return entry[1]  # this transaction's (which has begun: it made the entry): no call per row of an import
    session.connection()  # the transaction has begun
    tx = session.get_nested_transaction() or session.get_transaction()
    if entry is None or entry[0] is not tx:
        entry = (tx, set())
        session.info["qqh.locked_rows"] = entry
    return entry[1]


def unwritten(session, key: str) -> dict:
    """The box of records checked but not yet written in the current
    transaction of ``session`` under ``key`` (a plugin's name for its rule):
    ``{id(record): whatever the rule needs}``."""
    session = _plain(session)
    entry = session.info.get(key)
    if entry is not None and entry[0] is session.get_transaction():
        return entry[1]  # this transaction's (which has begun: it made the entry): no call per row of an import
    session.connection()  # the transaction has begun
    tx = session.get_transaction()
    if entry is None or entry[0] is not tx:
        entry = (tx, {})
        session.info[key] = entry
    return entry[1]


def prefetched(session, key: str) -> dict:
    """A per-transaction box of what a model read ahead for the rows of an
    import (its ``prepare_checks``: a few set-based queries instead of some
    per row), under ``key``; ``validate()`` looks there before it queries.
    Forgotten when the transaction ends, like :func:`unwritten`."""
    return unwritten(session, "qqh.prefetched." + key)
