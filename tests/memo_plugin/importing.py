"""The memo notes list for Excel import and export (core.importing)."""

from flask_babel import lazy_gettext as _l

from core.api import Column, Importable
from tests.memo_plugin.models import MemoNote

NOTES = Importable(
    name="memonote",
    model=MemoNote,
    label=_l("Notes"),
    columns=(
        Column("title", _l("Title"), required=True, example=_l("Example: the unit starts the plan"),
               help=_l("Unique within a unit: a note with the same unit and title is the same note.")),
        Column("body", _l("Text"), width=40),
        Column("noted_on", _l("Date"), kind="date", required=True),
        Column("unit", _l("Unit"), kind="unit", required=True),
    ),
    natural_key=("unit", "title"),
)
