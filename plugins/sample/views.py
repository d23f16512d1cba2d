"""Pages and REST APIs of the plugin.

Pages are ``ScopedModelView`` and APIs ``ScopedModelRestApi`` over a ``ScopedInterface``: core limits every
list, record, form and write to the user's subtree. Labels go through the catalog (``_l``).
"""

from flask_babel import lazy_gettext as _l

from core.api import Panel, Picker, ScopedInterface, ScopedModelRestApi, ScopedModelView, format_date_zh
from plugins.sample.models import SampleEvent, SampleSignup

EVENT_LABELS = {
    "title": _l("Title"),
    "held_on": _l("Date"),
    "place": _l("Place of the event"),
    "note": _l("Note on the event"),
    "unit": _l("Unit"),
}
SIGNUP_LABELS = {
    "event": _l("Sample event"),
    "name": _l("Name of the person"),
    "signed_on": _l("Signed up on"),
    "unit": _l("Unit"),
}


# the picker: a search-as-you-type choice among the events the user may see (never a <select> of all),
# declared once: served by SampleEventApi (GET /api/v1/sampleevent/picker?q=) and used as the form field
EVENTS = Picker(SampleEvent, search=(SampleEvent.title,), columns=(SampleEvent.held_on,),
                text=lambda r: f"{r.title} {format_date_zh(r.held_on)}（{r.unit_name}）",
                order_by=(SampleEvent.held_on.desc(), SampleEvent.id.desc()))


# -- the child: signups -----------------------------------------------------------------------
class SampleSignupView(ScopedModelView):
    datamodel = ScopedInterface(SampleSignup)
    route_base = "/samplesignup"
    list_title = _l("Sample signups")
    show_title = _l("Sample signup")
    add_title = _l("Add sample signup")
    edit_title = _l("Edit sample signup")
    list_columns = ["name", "signed_on", "event", "unit"]
    # no unit field: a signup belongs to its event's unit (SampleSignup.__qqh_unit_from__)
    add_columns = ["event", "name", "signed_on"]
    edit_columns = add_columns
    show_columns = ["event", "name", "signed_on", "unit"]
    search_columns = ["name", "signed_on", "event"]
    base_order = ("signed_on", "desc")
    label_columns = SIGNUP_LABELS
    # "add a signup" from an event's page: ?event=<id> chooses the event, and saving goes back to it
    prefill = {"event": SampleEvent}
    back_to = ("event", "SampleEventView.show")

    def __init__(self, **kwargs):
        picker = EVENTS.field(SIGNUP_LABELS["event"])  # made here: the API serving it is defined below
        self.add_form_extra_fields = {"event": picker}
        self.edit_form_extra_fields = {"event": picker}
        super().__init__(**kwargs)


# -- the parent: events -----------------------------------------------------------------------
class SampleEventView(ScopedModelView):
    datamodel = ScopedInterface(SampleEvent)
    route_base = "/sampleevent"
    # the record page (core's): the event, then a panel of its signups (scoped like every list) with an
    # "add from here" button that opens the signup form with this event chosen
    record_panels = [
        Panel(SampleSignup, "event", ["name", "signed_on"], id="signups", add=True, title=_l("Sample signups"),
              add_label=_l("Add sample signup"), order_by=(SampleSignup.signed_on.desc(), SampleSignup.id)),
    ]
    list_title = _l("Sample events")
    show_title = _l("Sample event")
    add_title = _l("Add sample event")
    edit_title = _l("Edit sample event")
    list_columns = ["title", "held_on", "place", "unit"]
    add_columns = ["title", "held_on", "place", "note", "unit"]
    edit_columns = add_columns
    show_columns = add_columns
    search_columns = ["title", "held_on", "place"]
    base_order = ("held_on", "desc")
    label_columns = EVENT_LABELS


class SampleEventApi(ScopedModelRestApi):
    datamodel = ScopedInterface(SampleEvent)
    resource_name = "sampleevent"
    list_columns = ["id", "title", "held_on", "place", "unit.id", "unit.code"]
    show_columns = ["id", "title", "held_on", "place", "note", "unit.id", "unit.code"]
    add_columns = ["title", "held_on", "place", "note", "unit"]
    edit_columns = add_columns
    search_columns = ["title", "held_on", "unit"]
    label_columns = EVENT_LABELS

    picker = EVENTS  # GET /api/v1/sampleevent/picker?q=…: the events of the caller's subtree


class SampleSignupApi(ScopedModelRestApi):
    datamodel = ScopedInterface(SampleSignup)
    resource_name = "samplesignup"
    list_columns = ["id", "name", "signed_on", "event.id", "event.title", "unit.id", "unit.code"]
    show_columns = list_columns
    add_columns = ["event", "name", "signed_on"]  # the unit follows the event
    edit_columns = add_columns
    search_columns = ["name", "signed_on", "event"]
    label_columns = SIGNUP_LABELS
