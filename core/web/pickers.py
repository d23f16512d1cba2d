"""Search-as-you-type relation pickers: a form never lists the whole tree."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape
from wtforms import Field
from wtforms.validators import ValidationError

from flask_babel import gettext


class PickerWidget:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint

    def __call__(self, field, **kwargs):
        current = ""
        if field.data is not None:
            current = f'<option value="{escape(field.data.id)}" selected>{escape(str(field.data))}</option>'
        placeholder = gettext("Type to search")
        return Markup(
            f'<select class="form-control qqh-picker" id="{escape(field.id)}" name="{escape(field.name)}" '
            f'data-endpoint="{escape(url_for(self.endpoint))}" data-placeholder="{escape(placeholder)}">'
            f'<option value=""></option>{current}</select>'
        )


class PickerField(Field):
    """A many-to-one field whose choices come from a scoped JSON endpoint.
    ``load(pk)`` returns the object if the user may use it, else None."""

    def __init__(self, label=None, validators=None, endpoint="", load=None, **kwargs):
        super().__init__(label, validators, widget=PickerWidget(endpoint), **kwargs)
        self._load = load

    def _value(self):
        return self.data.id if self.data is not None else ""

    def process_formdata(self, valuelist):
        self.data = None
        raw = (valuelist[0] if valuelist else "") or ""
        if raw:
            try:
                pk = int(raw)
            except ValueError:
                raise ValidationError(gettext("Choose a value from the list."))
            self.data = self._load(pk)
            if self.data is None:
                raise ValidationError(gettext("Choose a value from the list."))


def unit_picker(label, required: bool = True) -> PickerField:
    from wtforms.validators import DataRequired, Optional

    from core.tenancy.scope import in_scope
    from core.tenancy.units import Unit

    def load(pk):
        from flask import current_app

        q = current_app.appbuilder.session.query(Unit).filter(Unit.id == pk)
        return in_scope(q, Unit).one_or_none()

    return PickerField(
        label,
        validators=[DataRequired() if required else Optional()],
        endpoint="UnitApi.picker",
        load=load,
    )
