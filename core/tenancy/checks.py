"""What a model's ``validate()`` is written with: one error collector and
the checks every plugin needs, and the record's session.

``validate()`` returns field → list of Chinese messages (core's write check,
the pages, the REST API and the import read it). :class:`Errors` is that
dict, with the checks as methods, so a rule is one line::

    def validate(self):
        errors = Errors()
        errors.text(self, "name", required=_l("Enter the organization's name."))
        errors.choice(self, "category", _l("Choose the category."))
        errors.not_future(self, "founded_on", _l("The founding date cannot be in the future."))
        errors.parsed(self, "contact_phone", phone)
        errors.amount(self, "amount", required=True, positive=True)
        if self.kind == PURCHASE and not self.contract:
            errors.add("contract", _l("Enter the contract of the purchased service."))
        return errors

Every check normalises the value in place (text stripped, an empty optional
value made None, a parsed value stored in its standard form) before it
judges it, and a field's first message is the one a user reads.
"""

from __future__ import annotations

from decimal import Decimal

from flask import current_app, has_app_context
from flask_babel import gettext
from sqlalchemy import event
from sqlalchemy.orm import Mapper, object_session, scoped_session

from core.values import clock
from core.values.choices import add_label_properties, choices_of, length_of
from core.values.validators import ValidationError, parse_amount


def session_of(item):
    """The session ``item`` is in, else the app's (a record not added yet);
    always a plain Session, never the scoped-session proxy; None outside an
    app with a record in no session."""
    session = object_session(item)
    if session is None and has_app_context():
        session = current_app.appbuilder.session
    if isinstance(session, scoped_session):
        session = session()
    return session


def _column(item, field: str):
    table = getattr(type(item), "__table__", None)
    return table.c[field] if table is not None and field in table.c else None


def _max_of(item, field: str) -> Decimal | None:
    """The largest value a ``Numeric(p, s)`` column holds (999999999999.99 for 14, 2)."""
    column = _column(item, field)
    if column is None:
        return None
    precision, scale = getattr(column.type, "precision", None), getattr(column.type, "scale", None)
    if not precision:
        return None
    scale = scale or 0
    return Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)


def _set(item, field: str, given, value) -> None:
    """``item.field = value`` unless it holds that very value already (a
    no-op write costs an ORM attribute event, ten per row of an import)."""
    if value is not given and (type(value) is not type(given) or value != given):
        setattr(item, field, value)


class Errors(dict):
    """field → list of messages (strings), what ``validate()`` returns."""

    def add(self, field: str, message) -> "Errors":
        """One more message for ``field`` (a lazy string is said now)."""
        self.setdefault(field, []).append(str(message))
        return self

    # -- text -----------------------------------------------------------------------
    def text(self, item, field: str, *, required=None) -> str | None:
        """Strip ``item.field``; an empty value is None (``""`` when
        ``required``, a message, is said); text longer than its column is
        refused. Returns the value."""
        given = getattr(item, field)
        value = given.strip() if isinstance(given, str) else given
        if not value:
            value = "" if required is not None else None
            _set(item, field, given, value)
            if required is not None:
                self.add(field, required)
            return value
        _set(item, field, given, value)
        self.length(item, field)
        return value

    def length(self, item, *fields: str) -> None:
        """Text longer than its column is refused here, whatever the way in."""
        for field in fields:
            value, limit = getattr(item, field), length_of(type(item), field)
            if limit and isinstance(value, str) and len(value) > limit:
                self.add(field, gettext("At most %(n)d characters (this has %(got)d).", n=limit, got=len(value)))

    # -- codes ----------------------------------------------------------------------
    def choice(self, item, field: str, message, *, required: bool = True) -> None:
        """``item.field`` is one of the codes declared on its column
        (:class:`core.values.choices.Choices`); empty is None, allowed
        unless ``required``."""
        given = getattr(item, field)
        value = given or None
        _set(item, field, given, value)
        if value is None and not required:
            return
        if value not in (choices_of(type(item), field) or ()):
            self.add(field, message)

    def parsed(self, item, field: str, parse, *, required=None) -> None:
        """Empty is None (or ``required``, a message, is said); anything else
        is stored as ``parse`` (a :mod:`core.values.validators` check such as
        ``phone``, ``credit_code``, ``resident_id``) gives it, or refused
        with its message."""
        value = getattr(item, field)
        if value is None or (isinstance(value, str) and not value.strip()):
            _set(item, field, value, None)
            if required is not None:
                self.add(field, required)
            return
        try:
            _set(item, field, value, parse(value))
        except ValidationError as exc:
            self.add(field, exc)

    # -- dates and amounts ----------------------------------------------------------
    def not_future(self, item, field: str, message) -> None:
        """A date after today (``core.values.clock``) is refused."""
        day = getattr(item, field)
        if day is not None and day > clock.today():
            self.add(field, message)

    def amount(self, item, field: str, *, required: bool = False, positive: bool = False, maximum=None):
        """An amount in 元 normalised (Decimal, two places) and checked: at
        most ``maximum`` (by default what the column holds), more than zero
        when ``positive``. Returns it, or None when empty or refused."""
        value = getattr(item, field)
        if value is None or (isinstance(value, str) and not value.strip()):
            setattr(item, field, None)
            if required:
                self.add(field, gettext("Enter the amount in yuan."))
            return None
        try:
            value = parse_amount(value)
        except ValidationError as exc:
            self.add(field, exc)
            return None
        setattr(item, field, value)
        maximum = _max_of(item, field) if maximum is None else maximum
        if maximum is not None and value > maximum:
            self.add(field, gettext("The amount is too large."))
            return None
        if positive and value <= 0:
            self.add(field, gettext("The amount must be more than zero."))
            return None
        return value


@event.listens_for(Mapper, "after_mapper_constructed")
def _label_properties(_mapper, model) -> None:
    """Every enumerated column ``x`` gives its model ``x_label`` (core.values.choices)."""
    add_label_properties(model)
