"""Form fields the plugins' pages share: a choice stored as a code and shown
with its Chinese label, a yes/no flag, a sum in 元, and the * of required fields. (Unit and record pickers that
search as you type are in core/web/pickers.py.)"""

from __future__ import annotations

from flask_appbuilder.fieldwidgets import Select2Widget
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional


def choice_field(label, choices: dict) -> SelectField:
    """A drop-down of stored code → Chinese label. Emptiness is judged by the
    model's validate(), so the message is the same as in the API and import."""
    options = [SelectChoice("", "")] + [SelectChoice(code, text) for code, text in choices.items()]
    return SelectField(label, choices=options, validators=[Optional()], widget=Select2Widget(), default="")


def search_choice(label, choices: dict) -> SelectField:
    """The same choices as a list-page search filter (no empty option)."""
    return SelectField(label, choices=[SelectChoice(code, text) for code, text in choices.items()], widget=Select2Widget())


def flag_field(label) -> BooleanField:
    """A yes/no of a non-null column: unticked means "no", never "missing"."""
    return BooleanField(label, validators=[Optional()], default=False)


# -- amounts (元) -------------------------------------------------------------
NOT_AMOUNT = {"qqh_amount": False}  # the info= of a two-decimal column that is no sum of money (an area)


def amount_columns(model) -> list[str]:
    """The columns of ``model`` that hold sums in 元: every Numeric column with
    two decimals, unless declared ``info=NOT_AMOUNT``."""
    from sqlalchemy import Numeric

    table = getattr(model, "__table__", None)
    return [
        c.key for c in (table.c if table is not None else ())
        if isinstance(c.type, Numeric) and c.type.scale == 2 and c.info.get("qqh_amount", True)
    ]


class AmountField(StringField):
    """A sum in 元 typed as an office writes it: 50000, 50,000.00, ¥50000,
    5万, 5万元 (core.values.validators.parse_amount); refused with the expected form."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data}"

    def process_formdata(self, valuelist):
        from core.values.validators import ValidationError as Refused, parse_amount

        self.data = None
        if valuelist:
            try:
                self.data = parse_amount(valuelist[0])
            except Refused as exc:
                raise ValueError(str(exc)) from None


def amount_field(label, description: str = "") -> AmountField:
    """Emptiness is judged by the model's validate() (same message as the API and import)."""
    return AmountField(label, validators=[Optional()], description=description)


# -- required fields -----------------------------------------------------------
def _required_attrs(model) -> set[str]:
    """Attributes a record of ``model`` cannot be stored without: non-null
    columns without a default (not yes/no flags), non-null drop-downs, and many-to-one relations
    whose foreign keys are such columns."""
    from sqlalchemy import Boolean, inspect as sa_inspect

    try:
        mapper = sa_inspect(model)
    except Exception:
        return set()
    required = set()
    from core.values.choices import CHOICES_KEY

    for column in getattr(model, "__table__").c:
        defaulted = column.default is not None or column.server_default is not None
        if column.nullable or column.primary_key or isinstance(column.type, Boolean):
            continue
        if defaulted and CHOICES_KEY not in column.info:  # a drop-down's empty choice is refused, default or not
            continue
        required.add(column.key)
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE" and rel.local_columns and all(c.key in required for c in rel.local_columns):
            required.add(rel.key)
            required.update(c.key for c in rel.local_columns)
    return required


_REQUIRED_CACHE: dict[type, set[str]] = {}


def mark_required(form, model) -> None:
    """Mark with * (FAB's label shows one for ``flags.required``) every field of
    a form the record cannot be stored without, as its validators and its
    model's columns say. The browser is not asked to check them (no HTML
    ``required``): the server says every problem of a form at once."""
    if model not in _REQUIRED_CACHE:
        _REQUIRED_CACHE[model] = _required_attrs(model)
    required = _REQUIRED_CACHE[model]
    for field in form:
        if field.type in ("HiddenField", "CSRFTokenField", "BooleanField"):
            continue
        if field.name in required:
            field.flags.required = True
        if field.flags.required:
            field.render_kw = {**(field.render_kw or {}), "required": False}
