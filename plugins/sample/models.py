"""The records of the plugin: a parent (SampleEvent, 样例活动) and its children (SampleSignup, 样例报名).

Both are ``UnitOwned``: every record belongs to a League unit, and core limits every read and write to the
user's subtree (pages, API, import and commands alike). Checks of a record's own live in ``validate()``
(field → message, in Chinese through the catalog); what must be unique is declared (``__qqh_unique__``),
core checks it.
"""

import datetime

from flask_appbuilder import Model
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.api import Unique, UnitOwned, clock


class SampleEvent(UnitOwned, Model):
    """An event a unit holds (样例活动): the parent record."""

    __tablename__ = "sample_event"
    __qqh_unique__ = (Unique(("unit_id", "title"), _l("This unit already has an event with this title."),
                             field="title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    held_on: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)  # the list is ordered by it
    place: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    def validate(self):
        errors = {}
        self.title = (self.title or "").strip()  # normalised before core checks uniqueness
        if not self.title:
            errors["title"] = gettext("Enter a title.")
        return errors

    def __repr__(self):  # how pickers, lists and the audit log name the record
        return self.title or ""


class SampleSignup(UnitOwned, Model):
    """A person signed up for an event (样例报名): the child record.

    ``__qqh_unit_from__``: a signup always belongs to its event's unit (core sets it when ``event`` is
    assigned, refuses another one, and moves the signups with their event)."""

    __tablename__ = "sample_signup"
    __qqh_unit_from__ = "event"
    __qqh_unique__ = (Unique(("event_id", "name"), _l("This person has already signed up for the event."),
                             field="name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("sample_event.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    signed_on: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)  # the KPI counts by it

    # joined: every line of a list shows its event; no back-reference (a signup being entered is not
    # attached to its event before it is checked and written)
    event = relationship(SampleEvent, lazy="joined")

    def validate(self):
        errors = {}
        self.name = (self.name or "").strip()
        if not self.name:
            errors["name"] = gettext("Enter the name.")
        if self.signed_on and self.signed_on > clock.today():
            errors["signed_on"] = gettext("The date cannot be in the future.")
        return errors

    def __repr__(self):
        return self.name or ""
