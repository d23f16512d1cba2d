from flask_babel import lazy_gettext as _l

from core.api import ScopedInterface, ScopedModelRestApi, ScopedModelView
from tests.memo_plugin.models import MemoNote

LABELS = {
    "title": _l("Title"),
    "body": _l("Text"),
    "noted_on": _l("Date"),
    "unit": _l("Unit"),
}


class MemoNoteView(ScopedModelView):
    datamodel = ScopedInterface(MemoNote)
    list_title = _l("Notes")
    show_title = _l("Note")
    add_title = _l("Add note")
    edit_title = _l("Edit note")
    list_columns = ["title", "noted_on", "unit"]
    add_columns = ["title", "body", "noted_on", "unit"]
    edit_columns = add_columns
    show_columns = add_columns
    search_columns = ["title", "noted_on"]
    base_order = ("noted_on", "desc")
    label_columns = LABELS


class MemoNoteApi(ScopedModelRestApi):
    datamodel = ScopedInterface(MemoNote)
    resource_name = "memonote"
    list_columns = ["id", "title", "noted_on", "unit.id", "unit.code"]
    show_columns = ["id", "title", "body", "noted_on", "unit.id", "unit.code"]
    add_columns = ["title", "body", "noted_on", "unit"]
    edit_columns = add_columns
    search_columns = ["title", "noted_on", "unit"]
    label_columns = LABELS
