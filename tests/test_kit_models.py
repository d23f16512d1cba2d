"""The model half of the plugin kit, as pure logic on a real SQLite database
of its own (no app): the error collector of ``validate()``, the labels of
enumerated columns, and the per-transaction reservations of a limit (the
plugins' own tests hold the fund's balance and the camp's places on both
engines: plugins/homes/tests/test_funds.py, plugins/training/tests/test_races.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from sqlalchemy import Date, Integer, Numeric, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from core.api import Choices, Errors, Limit, clock, phone, session_of


class Base(DeclarativeBase):
    pass


KINDS = Choices({"a": "Kind A", "b": "Kind B"})


class Thing(Base):
    __tablename__ = "kit_thing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(5))
    kind: Mapped[str | None] = mapped_column(String(5), info=KINDS.info())
    other: Mapped[str | None] = mapped_column(String(5), info=KINDS.info())
    phone: Mapped[str | None] = mapped_column(String(30))
    day: Mapped[datetime.date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    capacity: Mapped[int] = mapped_column(Integer, default=2)

    @property
    def other_label(self) -> str:  # the model's own wins
        return "own"


@pytest.fixture()
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_errors_collect_and_normalise(session):
    today = clock.today()
    t = Thing(name="  toolong ", kind="z", phone=" 138 1234 5678 ", day=today + datetime.timedelta(days=1),
              amount="10,000.5")
    errors = Errors()
    assert errors.text(t, "name", required="Enter the name.") == "toolong"
    errors.choice(t, "kind", "Choose the kind.")
    errors.choice(t, "other", "Choose the other.", required=False)  # empty: allowed, stored as None
    errors.parsed(t, "phone", phone)
    errors.not_future(t, "day", "Not in the future.")
    assert errors.amount(t, "amount") is None  # Numeric(6, 2) holds at most 9999.99
    assert isinstance(errors, dict) and set(errors) == {"name", "kind", "day", "amount"}
    assert errors["name"] == ["At most 5 characters (this has 7)."] and errors["kind"] == ["Choose the kind."]
    assert errors["amount"] == ["The amount is too large."]
    assert t.other is None and t.phone == "13812345678" and t.amount == Decimal("10000.50")

    t = Thing(name="  ", phone="", amount="0", day=today)
    errors = Errors()
    errors.text(t, "name", required="Enter the name.")
    errors.parsed(t, "phone", phone, required="Enter the phone.")
    errors.amount(t, "amount", positive=True)
    errors.not_future(t, "day", "Not in the future.")
    assert errors == {"name": ["Enter the name."], "phone": ["Enter the phone."],
                      "amount": ["The amount must be more than zero."]}
    assert t.name == "" and t.phone is None
    t = Thing(phone="12")
    errors = Errors().add("x", "one").add("x", "two")
    errors.parsed(t, "phone", phone)
    errors.amount(t, "amount", required=True)
    assert errors["x"] == ["one", "two"] and errors["phone"] and errors["amount"] == ["Enter the amount in yuan."]
    assert t.phone == "12"  # a refused value is left as given, for the form to show
    assert session_of(t) is None  # no session, no app
    session.add(t)
    assert session_of(t) is session


def test_every_enumerated_column_gives_its_label():
    assert Thing(kind="b").kind_label == "Kind B" and Thing(kind="zz").kind_label == "zz"
    assert Thing().kind_label == "" and Thing(other="a").other_label == "own"


def test_a_limit_counts_what_is_checked_but_not_written(session):
    # the rows written with SQL, not the ORM: the app's audit trail (listening to every session) is not here
    session.execute(Thing.__table__.insert(), [{"id": 1, "capacity": 3}, {"id": 2, "capacity": 1}])
    session.commit()
    camp, other = Thing(id=1, capacity=3), Thing(id=2, capacity=1)  # what the rule knows of them
    places = Limit("kit.places", Thing)
    rows = [Thing() for _ in range(4)]
    places.lock(session, camp.id, other.id)
    # one place is stored already: two more fit, the third does not
    assert [places.reserve(session, r, camp.id, limit=camp.capacity, used=1) for r in rows[:3]] == [True, True, False]
    assert places.pending(session, camp.id) == 2 and places.reservation(session, rows[2]) is None
    # checked again (an edit of the same row): its own place is not counted twice
    assert places.reserve(session, rows[0], camp.id, limit=camp.capacity, used=1)
    assert places.pending(session, camp.id, leave_out=rows[0]) == 1
    # it moves to the other camp: its place in the first is freed
    assert places.reserve(session, rows[0], other.id, limit=other.capacity)
    assert places.pending(session, camp.id) == 1 and places.reservation(session, rows[0]) == (other.id, 1)
    assert not places.reserve(session, rows[3], other.id, limit=other.capacity)
    assert places.room(session, rows[3], camp.id, limit=camp.capacity, used=1) == 1
    places.release(session, rows[1])
    assert places.pending(session, camp.id) == 0 and places.pending_records(session) == [rows[0]]
    # a stored record holding a reservation: its stored value is left out by the caller
    places.reserve(session, camp, other.id, 0)
    assert places.stored_ids(session) == {camp.id} and places.stored_ids(session, leave_out=other) == {camp.id, other.id}
    session.rollback()  # the transaction ends: everything is forgotten
    places.release(session, rows[0])  # outside a transaction: nothing held, nothing begun
    assert not session.in_transaction()
    assert places.pending(session, other.id) == 0 and places.pending_records(session) == []
