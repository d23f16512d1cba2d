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
    """The search-as-you-type unit field (data: UnitApi.picker)."""
    return UNITS.field(label, required)


PICKER_DOC = """{what} in the caller's subtree that match ``q`` (at most {limit}): the data of the
search-as-you-type picker of the forms.
---
get:
  parameters:
  - in: query
    name: q
    schema:
      type: string
  responses:
    200:
      description: matching records, each as id and text
"""


class Picker:
    """A search-as-you-type picker of ``model`` records, declared once: the
    scoped JSON endpoint and the form field.

    In the REST API that serves it (a class attribute; its name is the
    route)::

        ORGS = Picker(YouthOrg, search=(YouthOrg.name, YouthOrg.credit_code), initials=YouthOrg.name)

        class YouthOrgApi(ScopedModelRestApi):
            picker = ORGS  # GET /api/v1/youthorg/picker?q=…, permission can_get

    and in a page's form: ``"org": ORGS.field(_l("Youth organization"))``.

    ``search``: the columns ``q`` is looked for in (case-insensitive, any
    part); ``initials``: a column also matched by its pinyin initials (qnzyz:
    青年志愿者); ``columns``: more columns the ``text`` needs; ``text(row)``:
    what the list shows (default ``名称（单位）``: the first search column and
    the owning unit's name, the row's ``unit_name``); ``order_by``: default
    the first search column. Results and the field's choices are limited to
    the user's subtree (:func:`in_scope`); one query per search.
    """

    def __init__(self, model, search=None, *, initials=None, columns=(), text=None, order_by=None, limit: int = 20):
        self.model = model
        self.search = tuple(search if search is not None else (model.name,))
        self.initials = initials
        self.columns = tuple(columns)
        self.text = text or (lambda row: f"{getattr(row, self.search[0].key)}（{row.unit_name}）")
        self.order_by = tuple(order_by) if order_by is not None else (self.search[0], model.id)
        self.limit = limit
        self.endpoint = ""  # "YouthOrgApi.picker", set when the API class is made
        self._view = None

    def copy(self) -> "Picker":
        """The same picker, to serve under another API or route."""
        return Picker(self.model, self.search, initials=self.initials, columns=self.columns, text=self.text,
                      order_by=self.order_by, limit=self.limit)

    # -- the endpoint ------------------------------------------------------------------
    def __set_name__(self, owner, name: str) -> None:
        from flask_appbuilder.api import expose, protect, safe
        from flask_appbuilder.security.decorators import permission_name

        picker = self

        def view(api):
            return api.response(200, results=picker.results(api.datamodel.session))

        view.__name__ = name
        view.__doc__ = PICKER_DOC.format(what=getattr(self.model, "__name__", "Records"), limit=self.limit)
        self._view = expose(f"/{name}", methods=["GET"])(protect()(safe(permission_name("get")(view))))
        self.endpoint = self.endpoint or f"{owner.__name__}.{name}"

    def __get__(self, obj, owner=None):
        if self._view is None:
            return self
        return self._view if obj is None else self._view.__get__(obj, owner)

    def statement(self, session, q: str):
        from sqlalchemy import or_, select

        from core.tenancy.scope import in_scope
        from core.tenancy.units import Unit

        model = self.model
        wanted = [model.id, *dict.fromkeys([*self.search, *self.columns])]
        stmt = select(*wanted)
        if hasattr(model, "unit_id"):
            stmt = stmt.add_columns(Unit.name.label("unit_name")).join(Unit, Unit.id == model.unit_id)
        stmt = in_scope(stmt.order_by(*self.order_by).limit(self.limit), model)
        q = (q or "").strip()[:50]
        if q:
            like = f"%{q.replace('%', '').replace('_', '')}%"
            conds = [c.ilike(like) for c in self.search]
            if self.initials is not None:
                from core.values.initials import initials_condition

                conds.append(initials_condition(session, self.initials, q))
            stmt = stmt.where(or_(*conds))
        return stmt

    def results(self, session, q: str | None = None) -> list[dict]:
        """``[{"id": …, "text": …}]`` for ``q`` (default: the request's ``?q=``)."""
        from flask import request

        if q is None:
            q = request.args.get("q") or ""
        return [{"id": r.id, "text": self.text(r)} for r in session.execute(self.statement(session, q)).all()]

    # -- the form field ---------------------------------------------------------------------
    def load(self, pk):
        """The record ``pk`` if the user may see it, else None."""
        from core.tenancy.scope import scoped_get

        return scoped_get(self.model, pk)

    def field(self, label, required: bool = True, **kwargs) -> PickerField:
        """The form field (``required=False`` for a search form)."""
        from wtforms.validators import DataRequired, Optional

        if not self.endpoint:
            raise RuntimeError(f"the picker of {self.model.__name__} is served by no API (a class attribute of one)")
        return PickerField(label, validators=[DataRequired() if required else Optional()], endpoint=self.endpoint,
                           load=self.load, **kwargs)


def _units():
    from core.tenancy.units import Unit

    return Picker(Unit, search=(Unit.code, Unit.name), initials=Unit.name, text=lambda r: f"{r.name}（{r.code}）",
                  order_by=(Unit.depth, Unit.code))


UNITS = _units()  # served by core's UnitApi as ``picker``
