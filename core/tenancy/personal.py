"""Personal data (ID numbers, phones), declared once on the model::

    class Enrolment(UnitOwned, Model):
        __qqh_personal__ = ("resident_id", "phone")

and then, for every page and API built on core's classes (``ScopedModelView``,
``ScopedModelRestApi``, or the mixins below on a plain FAB class) and every
Excel export of core:

* never sortable, filterable or searchable (a sort or a filter is an oracle:
  moving one's own record about reveals a value digit by digit); a sort by a
  column that is not one of the page's sortable columns is ignored;
* shown masked (``core.values.validators.mask_*``) to everyone but province
  administrators: lists, detail pages, edit forms, API answers, exports;
* a masked value sent back unchanged (an edit form or API client that only
  saw the masked value) keeps the stored value (:func:`restore_masked`, run by
  core's write check before the model's ``validate()``).

The declaration is a tuple of attribute names; branch ``audit`` reads the same
name to keep such values out of the audit log.
"""

from __future__ import annotations

from flask import current_app, has_request_context
from sqlalchemy import event, inspect as sa_inspect
from sqlalchemy.orm import Mapper

from core.values.validators import mask_phone, mask_resident_id

PERSONAL = "__qqh_personal__"


def personal_fields(model) -> tuple[str, ...]:
    return tuple(getattr(model, PERSONAL, None) or ())


def _related_model(model, name: str):
    try:
        rel = sa_inspect(model).relationships.get(name)
    except Exception:  # not a mapped class
        return None
    return rel.mapper.class_ if rel is not None else None


def is_personal_path(model, path: str) -> bool:
    """Whether ``phone`` or ``trainee.phone`` (through relationships) names personal data."""
    parts = str(path).split(".")
    for part in parts[:-1]:
        model = _related_model(model, part)
        if model is None:
            return False
    return parts[-1] in personal_fields(model)


def without_personal(model, columns) -> list[str]:
    return [c for c in columns or () if not is_personal_path(model, c)]


def _mask_other(value) -> str:
    text = str(value)
    return text[:1] + "*" * max(len(text) - 1, 1) if len(text) > 2 else "*" * len(text)


MASKERS = {"resident_id": mask_resident_id, "phone": mask_phone}


def mask(attr: str, value):
    if value is None or value == "":
        return value
    return MASKERS.get(attr, _mask_other)(value)


def user_sees_personal_data(user) -> bool:
    """Province administrators see personal data in full; nobody else."""
    if user is None:
        return False
    return current_app.config["AUTH_ROLE_ADMIN"] in {r.name for r in getattr(user, "roles", None) or ()}


def sees_personal_data() -> bool:
    """Whether the current user sees personal data in full. Outside a
    request (CLI, demo loader, code called directly) there is no user to
    protect the data from (the CLI's ``--as USER`` asks
    :func:`user_sees_personal_data`)."""
    if not has_request_context():
        return True
    from core.tenancy.scope import current_user

    return user_sees_personal_data(current_user())


def shown(attr: str, value, full: bool | None = None):
    """``value`` of the personal attribute ``attr`` as the current user may see it."""
    if value is None or value == "":
        return "" if value is None else value
    if full is None:
        full = sees_personal_data()
    return value if full else mask(attr, value)


def formatter(attr: str):
    def fmt(value):
        return shown(attr, value)

    return fmt


def mask_data(model, data) -> None:
    """Mask, in place, the personal values of ``model`` in one API record
    (a dict) or a list of records, following nested related records."""
    if isinstance(data, list):
        for row in data:
            mask_data(model, row)
        return
    if not isinstance(data, dict):
        return
    personal = personal_fields(model)
    for key, value in data.items():
        if key in personal and isinstance(value, str):
            data[key] = mask(key, value)
        elif isinstance(value, (dict, list)):
            related = _related_model(model, key)
            if related is not None:
                mask_data(related, value)


def restore_masked(item) -> None:
    """A masked value sent back unchanged keeps the stored value; any other
    value containing * is left for the model's check to refuse."""
    from core.tenancy.records import stored_value

    model = type(item)
    state = sa_inspect(item)
    if state.transient or state.pending:
        return
    for attr in personal_fields(model):
        value = getattr(item, attr, None)
        if not isinstance(value, str) or "*" not in value:
            continue
        if attr in getattr(model, "__qqh_remember__", ()):
            stored = stored_value(item, attr)
        else:
            history = state.attrs[attr].history
            stored = (history.deleted or history.unchanged or [None])[0]
        if stored and mask(attr, stored) == value.strip():
            setattr(item, attr, stored)


@event.listens_for(Mapper, "mapper_configured")
def _remember_personal(_mapper, model) -> None:
    """Personal values are kept as loaded (``core.tenancy.records.stored_value``), so
    that a masked value sent back can be told from a new one."""
    personal = personal_fields(model)
    if personal and hasattr(model, "__qqh_remember__"):
        kept = tuple(model.__qqh_remember__)
        missing = tuple(a for a in personal if a not in kept)
        if missing:
            model.__qqh_remember__ = kept + missing


# -- pages and APIs ---------------------------------------------------------------------
def _strip_columns(view, default_search, default_order) -> None:
    model = view.datamodel.obj
    if not any(personal_fields(m) for m in _models_reached(model)):
        return
    search = view.search_columns if view.search_columns else default_search()
    view.search_columns = without_personal(model, search)
    order = view.order_columns if view.order_columns else default_order()
    view.order_columns = without_personal(model, order)


def _models_reached(model):
    yield model
    try:
        for rel in sa_inspect(model).relationships:
            yield rel.mapper.class_
    except Exception:
        return


class PersonalDataView:
    """Mixin for a FAB ``ModelView`` (``ScopedModelView`` has it): personal
    columns are never sorted, filtered or searched; they are shown masked in
    lists, detail pages and edit forms to whoever may not see them."""

    def __init__(self, **kwargs):
        _strip_columns(
            self,
            lambda: self.datamodel.get_search_columns_list(),
            lambda: self.datamodel.get_order_columns_list(list_columns=self.list_columns),
        )
        personal = personal_fields(self.datamodel.obj)
        if personal:
            self.formatters_columns = {**(self.formatters_columns or {}), **{a: formatter(a) for a in personal}}
        super().__init__(**kwargs)

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="", **kwargs):
        # FAB takes any ``_oc_<View>=<column>``: only the page's sortable columns are
        if order_column and order_column not in (self.order_columns or ()):
            order_column, order_direction = "", ""
        return super()._get_list_widget(
            filters, actions=actions, order_column=order_column, order_direction=order_direction, **kwargs
        )

    def prefill_form(self, form, pk):
        super().prefill_form(form, pk)
        if sees_personal_data():
            return
        for attr in personal_fields(self.datamodel.obj):
            field = getattr(form, attr, None)
            if field is not None and field.data:
                field.data = mask(attr, field.data)


class PersonalDataApi:
    """Mixin for a FAB ``ModelRestApi`` (``ScopedModelRestApi`` has it):
    personal columns are never filters or orders of ``q``; every answer with
    records masks them for whoever may not see them."""

    def __init__(self):
        _strip_columns(
            self,
            lambda: [c for c in self.datamodel.get_search_columns_list() if c not in (self.search_exclude_columns or ())],
            lambda: self.datamodel.get_order_columns_list(list_columns=self.list_columns),
        )
        super().__init__()

    def _masked(self, response):
        if (
            response.status_code in (200, 201)
            and response.is_json
            and not sees_personal_data()
        ):
            body = response.get_json()
            if isinstance(body, dict) and "result" in body:
                mask_data(self.datamodel.obj, body["result"])
                response.set_data(current_app.json.dumps(body))
        return response

    def get_headless(self, pk, **kwargs):
        return self._masked(super().get_headless(pk, **kwargs))

    def get_list_headless(self, **kwargs):
        return self._masked(super().get_list_headless(**kwargs))

    def post_headless(self):
        return self._masked(super().post_headless())

    def put_headless(self, pk):
        return self._masked(super().put_headless(pk))
