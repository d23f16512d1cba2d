"""Pages and REST APIs of the plugin.

Pages are ``ScopedModelView`` and APIs ``ScopedModelRestApi`` over a ``ScopedInterface``: core limits every
list, record, form and write to the user's subtree. Labels go through the catalog (``_l``).
"""

from flask import request
from flask_appbuilder.api import expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.validators import DataRequired

from core.api import PickerField, ScopedInterface, ScopedModelRestApi, ScopedModelView, Unit, format_date_zh, \
    in_scope, module_dir, scoped_get
from plugins.sample.models import SampleEvent, SampleSignup

TEMPLATES = module_dir(__package__, "templates")  # this package's templates/

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


def load_scoped_event(pk):
    """The event ``pk`` if the user may see it, else None: what the picker accepts."""
    return scoped_get(SampleEvent, pk)


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
        # the picker: a search-as-you-type field over the events the user may see (never a <select> of all)
        picker = PickerField(SIGNUP_LABELS["event"], validators=[DataRequired()], endpoint="SampleEventApi.picker",
                             load=load_scoped_event)
        self.add_form_extra_fields = {"event": picker}
        self.edit_form_extra_fields = {"event": picker}
        super().__init__(**kwargs)


# -- the parent: events -----------------------------------------------------------------------
class SampleEventView(ScopedModelView):
    datamodel = ScopedInterface(SampleEvent)
    route_base = "/sampleevent"
    # the record page: the event, then its signups (FAB's related views, scoped like every list) and an
    # "add a signup" button (templates/sample/event_show.html)
    template_folder = TEMPLATES
    show_template = "sample/event_show.html"
    related_views = [SampleSignupView]
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

    @api_expose("/picker", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def picker(self):
        """Events in the caller's subtree whose title contains ``q`` (at most 20, latest first): the data
        of the event picker.
        ---
        get:
          parameters:
          - in: query
            name: q
            schema:
              type: string
          responses:
            200:
              description: matching events
        """
        q = (request.args.get("q") or "").strip()[:50]
        stmt = (
            select(SampleEvent.id, SampleEvent.title, SampleEvent.held_on, Unit.name.label("unit_name"))
            .join(Unit, Unit.id == SampleEvent.unit_id)
            .order_by(SampleEvent.held_on.desc(), SampleEvent.id.desc())
            .limit(20)
        )
        stmt = in_scope(stmt, SampleEvent)  # the user's subtree only
        if q:
            stmt = stmt.where(SampleEvent.title.like(f"%{q.replace('%', '').replace('_', '')}%"))
        rows = self.datamodel.session.execute(stmt).all()
        return self.response(200, results=[
            {"id": r.id, "text": f"{r.title} {format_date_zh(r.held_on)}（{r.unit_name}）"} for r in rows])


class SampleSignupApi(ScopedModelRestApi):
    datamodel = ScopedInterface(SampleSignup)
    resource_name = "samplesignup"
    list_columns = ["id", "name", "signed_on", "event.id", "event.title", "unit.id", "unit.code"]
    show_columns = list_columns
    add_columns = ["event", "name", "signed_on"]  # the unit follows the event
    edit_columns = add_columns
    search_columns = ["name", "signed_on", "event"]
    label_columns = SIGNUP_LABELS
