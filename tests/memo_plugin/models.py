import datetime

from flask_appbuilder import Model
from flask_babel import gettext
from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.api import UnitOwned, clock


class MemoNote(UnitOwned, Model):
    """A dated note of a unit (测试记事)."""

    __tablename__ = "memo_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str | None] = mapped_column(Text)
    noted_on: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)  # the list is ordered by it

    def validate(self):
        errors = {}
        if not (self.title or "").strip():
            errors["title"] = gettext("Enter a title.")
        if self.noted_on and self.noted_on > clock.today():
            errors["noted_on"] = gettext("The date cannot be in the future.")
        return errors

    def __repr__(self):
        return self.title
