"""The one declaration of an enumerated column and of a column's limits.

A plugin declares its codes once, as a :class:`Choices`, and hangs it on the
model's column; everything else is read from there::

    CATEGORIES = Choices(league_affairs=_l("Takes on League affairs"), interest=_l("..."))

    class YouthOrg(UnitOwned, Model):
        category = mapped_column(String(20), nullable=False, info=CATEGORIES.info())
        members = mapped_column(Integer, info=limits(minimum=0, maximum=1_000_000))
        # YouthOrg.category_label: given by core

* pages: :class:`core.web.scoped_views.ScopedModelView` gives every enumerated column of
  its forms a drop-down of the Chinese labels, and its search form too;
* lists and profiles: every enumerated column ``x`` gives its model a
  read-only ``x_label`` (the Chinese label of the stored code), unless the
  model defines one itself (:func:`add_label_properties`, run by core for
  every mapped model); :meth:`Choices.label_of` makes one by hand;
* import templates: a ``Column(kind="enum")`` of :mod:`core.importing`
  without ``choices`` takes the model column's;
* REST API: the OpenAPI document gives the column an ``enum`` of its codes
  with their labels in ``x-labels`` (and ``minimum``, ``maximum``,
  ``pattern`` from :func:`limits`), and ``_info`` lists the same
  (:mod:`core.web.openapi`).

A ``Choices`` is a dict of code → label (lazy gettext), so code written for
the plain dicts of before keeps working.
"""

from __future__ import annotations

from typing import Any

CHOICES_KEY = "qqh_choices"
LIMITS_KEY = "qqh_limits"


class Choices(dict):
    """Stored code → label (a lazy gettext string), in display order."""

    def label(self, code) -> str:
        """The label of ``code`` in the current language; an unknown code as it is."""
        return str(self[code]) if code in self else (code or "")

    def labels(self) -> dict[str, str]:
        """Every code → its label in the current language."""
        return {code: str(text) for code, text in self.items()}

    def info(self, **more) -> dict:
        """The ``info=`` of a SQLAlchemy column that holds one of these codes."""
        return {CHOICES_KEY: self, **more}

    def label_of(self, attr: str) -> property:
        """A read-only property: the label of the code in ``attr``."""
        return property(lambda obj: self.label(getattr(obj, attr)), doc=f"Label of {attr}.")


def limits(minimum=None, maximum=None, pattern: str | None = None, **more) -> dict:
    """The ``info=`` of a column whose values the model limits: numbers from
    ``minimum`` to ``maximum``, text matching ``pattern`` (a regular
    expression of the stored, normalised value). The model's ``validate()``
    still checks them, with its Chinese message; this tells clients."""
    found = {k: v for k, v in (("minimum", minimum), ("maximum", maximum), ("pattern", pattern)) if v is not None}
    return {LIMITS_KEY: found, **more}


def _column(model, attr: str):
    """The table column of ``model.attr`` (read from the table, so that no
    mapper needs configuring), or None. Kept per model and attribute: every
    ``validate()`` asks for its columns' choices and lengths, once per row
    of an import."""
    key = (model, attr)
    try:
        return _COLUMNS[key]
    except KeyError:
        pass
    except TypeError:  # an attribute name that is not hashable: never a column
        return None
    table = getattr(model, "__table__", None)
    column = None if table is None or attr not in table.c else table.c[attr]
    if table is not None:
        _COLUMNS[key] = column
    return column


_COLUMNS: dict = {}


def choices_of(model, attr: str) -> Choices | None:
    """The :class:`Choices` declared on ``model.attr``, or None."""
    column = _column(model, attr)
    return column.info.get(CHOICES_KEY) if column is not None else None


def limits_of(model, attr: str) -> dict[str, Any]:
    """The limits declared on ``model.attr`` (minimum, maximum, pattern)."""
    column = _column(model, attr)
    return dict(column.info.get(LIMITS_KEY) or {}) if column is not None else {}


def enumerated_columns(model) -> dict[str, Choices]:
    """attr → Choices of every enumerated column of ``model``."""
    table = getattr(model, "__table__", None)
    return {c.key: c.info[CHOICES_KEY] for c in (table.c if table is not None else ()) if CHOICES_KEY in c.info}


def length_of(model, attr: str) -> int | None:
    """The length of ``model.attr``'s text column, or None."""
    column = _column(model, attr)
    return getattr(column.type, "length", None) if column is not None else None


def add_label_properties(model) -> None:
    """Give ``model`` an ``x_label`` property for every enumerated column
    ``x`` it does not define one for itself."""
    for attr, choices in enumerated_columns(model).items():
        if not hasattr(model, attr + "_label"):
            setattr(model, attr + "_label", choices.label_of(attr))
