"""Form fields the plugins' pages share: a choice stored as a code and shown
with its Chinese label, and a yes/no flag. (Unit and record pickers that
search as you type are in core/pickers.py.)"""

from __future__ import annotations

from flask_appbuilder.fieldwidgets import Select2Widget
from wtforms import BooleanField, SelectField
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
