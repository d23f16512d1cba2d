"""The events list for Excel import and export (core's import engine: templates, dry run, report)."""

from flask_babel import lazy_gettext as _l

from core.api import Column, Importable
from plugins.sample.models import SampleEvent

EVENTS = Importable(
    name="sampleevent",
    model=SampleEvent,
    label=_l("Sample events"),
    columns=(
        Column("title", _l("Title"), required=True, example=_l("Example: the unit's open day"),
               help=_l("Unique within a unit: an event with the same unit and title is the same event.")),
        Column("held_on", _l("Date"), kind="date", required=True),
        Column("place", _l("Place of the event"), width=30),
        Column("unit", _l("Unit"), kind="unit", required=True),
    ),
    natural_key=("unit", "title"),
)
