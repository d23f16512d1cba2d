"""A limit that records take from (a budget's balance, a room's seats), held
under concurrent requests and by imports alike.

Checking "is there room?" and writing the record must be one step: the
limit's row is locked (:func:`core.tenancy.locks.lock_rows`) by every side
of the rule. And an import checks every row before it writes any, so the
rows checked but not yet written must count too: a :class:`Limit` keeps,
per transaction, what each such record takes (its *reservation*), with a
running total per key, so that the 10,000th row of a file costs no scan of
the 9,999 before it::

    SEATS = Limit("myplugin.seats", Room)

    def validate(self):                      # a booking
        ...
        SEATS.lock(session, room.id)
        used = <bookings stored for the room, this one left out>
        if not SEATS.reserve(session, self, room.id, limit=room.capacity, used=used):
            errors.add("room", _l("The room is full …"))

A record's reservation is replaced when it is checked again (it moved to
another room, its amount changed) and dropped by :meth:`Limit.release`
(it failed another check). Everything is forgotten when the transaction
ends (rolled back or committed, the records are written or gone).
"""

from __future__ import annotations

from sqlalchemy.orm import scoped_session

from core.tenancy.locks import lock_rows, unwritten


class _Box:
    __slots__ = ("records", "totals", "stored")

    def __init__(self):
        self.records: dict[int, tuple] = {}  # id(record) → (key, amount, record)
        self.totals: dict = {}  # key → the amounts reserved under it
        self.stored: dict[int, int] = {}  # id(record) → its primary key, for records already stored


class Limit:
    """A named limit on the rows of ``model`` (whose rows are locked)."""

    def __init__(self, name: str, model=None):
        self.name = name
        self.model = model

    def lock(self, session, *keys) -> None:
        """Lock the limit's rows (``model``'s, by primary key) until the
        transaction ends; both sides of the rule call it."""
        if self.model is not None:
            lock_rows(session, self.model, *keys)

    def _box(self, session) -> _Box:
        box = unwritten(session, "qqh.limit." + self.name)
        found = box.get(None)
        if found is None:
            found = box[None] = _Box()
        return found

    def reservation(self, session, record):
        """``(key, amount)`` that ``record`` reserved in this transaction, or None."""
        entry = self._box(session).records.get(id(record))
        return (entry[0], entry[1]) if entry is not None and entry[2] is record else None

    def pending(self, session, key, leave_out=None):
        """What the records checked in this transaction and not written yet
        take under ``key``, ``leave_out``'s own reservation aside."""
        box = self._box(session)
        total = box.totals.get(key, 0)
        if leave_out is not None:
            entry = box.records.get(id(leave_out))
            if entry is not None and entry[2] is leave_out and entry[0] == key:
                total -= entry[1]
        return total

    def pending_records(self, session) -> list:
        """The records holding a reservation, in the order they took it."""
        return [entry[2] for entry in self._box(session).records.values()]

    def stored_ids(self, session, leave_out=None) -> set:
        """Primary keys of the stored records holding a reservation (their
        stored value must not be counted as well), and ``leave_out``'s."""
        ids = set(self._box(session).stored.values())
        if leave_out is not None and getattr(leave_out, "id", None) is not None:
            ids.add(leave_out.id)
        return ids

    def room(self, session, record, key, *, limit, used=0):
        """What is left under ``key``: ``limit`` minus ``used`` (stored, the
        record's own stored value and the pending records' left out) minus
        the others' reservations."""
        return limit - used - self.pending(session, key, leave_out=record)

    def reserve(self, session, record, key, amount=1, *, limit=None, used=0) -> bool:
        """Take ``amount`` under ``key`` for ``record`` (replacing what it
        took before). With a ``limit``, only if it fits (see :meth:`room`):
        False, and nothing held for ``record``, when it does not."""
        if limit is not None and amount > self.room(session, record, key, limit=limit, used=used):
            self.release(session, record)
            return False
        self.release(session, record)
        box = self._box(session)
        box.records[id(record)] = (key, amount, record)
        box.totals[key] = box.totals.get(key, 0) + amount
        if getattr(record, "id", None) is not None:
            box.stored[id(record)] = record.id
        return True

    def release(self, session, record) -> None:
        """Drop ``record``'s reservation (it failed a check, or takes nothing now)."""
        plain = session() if isinstance(session, scoped_session) else session
        if not plain.in_transaction():  # nothing is held outside a transaction
            return
        box = self._box(session)
        entry = box.records.pop(id(record), None)
        if entry is None:
            return
        box.totals[entry[0]] -= entry[1]
        box.stored.pop(id(record), None)
