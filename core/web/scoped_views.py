"""Pages of unit-owned records limited to the user's scope: ``ScopedModelView``."""

from __future__ import annotations



import logging

from flask import current_app, flash, has_app_context, redirect, request, url_for
from flask_appbuilder import ModelView
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterRelationOneToManyEqual, SQLAFilterConverter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, inspect as sa_inspect, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.tenancy.personal import PersonalDataView
from core.tenancy.versions import kept_count
from core.web import fab
from core.web.search_form import KeptSearchWidget
from core.tenancy.units import Unit
from core.tenancy.records import check_item, friendly_integrity_error
from core.tenancy.scope import InvalidInput, _arg_id, current_scope, in_scope, read_along_order, scoped_get

class FilterInUnitSubtree(BaseFilter):
    """Records of a unit and every unit below it (the value is the unit's id;
    a unit outside the user's scope matches nothing)."""

    name = _l("In the subtree of")
    arg_name = "unit_sub"

    def apply(self, query, value):
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return query.filter(false())
        path = select(Unit.path).where(Unit.id == pk).scalar_subquery()
        upper = func.substr(path, 1, func.length(path) - 1) + chr(ord("/") + 1)
        column = getattr(self.model, self.column_name)
        if self.model is Unit and self.column_name == "parent":
            return query.filter(Unit.path > path, Unit.path < upper)
        units = select(Unit.id).where(Unit.path >= path, Unit.path < upper)
        return query.filter(column.has(Unit.id.in_(units)))


class ScopedFilterConverter(SQLAFilterConverter):
    conversion_table = (("is_unit_relation", [FilterInUnitSubtree, FilterRelationOneToManyEqual]),) + tuple(
        SQLAFilterConverter.conversion_table
    )


class ScopedInterface(SQLAInterface):
    """SQLAInterface that limits every query and write to the user's subtree."""

    filter_converter_class = ScopedFilterConverter

    def is_unit_relation(self, col_name: str) -> bool:
        return self.is_relation_many_to_one(col_name) and self.get_related_model(col_name) is Unit

    def scope_reads(self, query):
        """``query`` of this interface's model limited to what the user may
        read: by default the user's subtree (:func:`in_scope`). A subclass
        may override it to read more legitimately (a pool shared by all units:
        return ``query``) or through another table; list pages, REST lists,
        single records and charts all read through it. Writes stay checked
        by :func:`check_item` whatever it returns."""
        return in_scope(query, self.obj)

    def apply_filters(self, query, filters):
        from core.lowcode.forms import request_filters  # ?cf_<code>= on a list page and its export

        query = request_filters(super().apply_filters(query, filters), self.obj)
        return self.scope_reads(query)

    def query_count(self, query, filters=None, select_columns=None):
        """FAB's count, kept between requests while none of the tables it reads
        is written (:func:`core.tenancy.versions.kept_count`). FAB joins the
        tables of the list's dotted columns (``unit.code``) into the COUNT too.
        An inner join along a NOT NULL foreign key neither adds nor drops a
        row, so the count goes without it (REST list of 100,000 records on
        SQLite: COUNT 10 ms → 1 ms); joins that can drop rows stay."""
        needed = [c for c in select_columns or () if "." in c and not self._join_keeps_rows(c.split(".", 1)[0])]
        counted = fab.counted_query(self, query, filters, needed or None)
        if not has_app_context():
            return counted.count()
        return kept_count(self.session, counted, current_app.extensions.setdefault("qqh_counts_kept", {}))

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        """FAB's query (the count, then the page), the page read along its order's index when that
        is the quicker way (:func:`core.tenancy.scope.read_along_order`)."""
        query = self.session.query(self.obj)
        count = self.query_count(query, filters, select_columns)
        with read_along_order(self.obj, self._quicker_along_order(count, order_column, page, page_size)):
            rows = self.apply_all(query, filters, order_column, order_direction, page, page_size,
                                  select_columns, outer_default_load).all()
        name = self.obj.__name__
        if rows and not hasattr(rows[0], name):
            return count, rows
        return count, [getattr(r, name) for r in rows]

    def _quicker_along_order(self, count: int, order_column: str, page, page_size) -> bool:
        """On SQLite, for a subtree's list ordered by an indexed column of its own: whether walking
        that index (about ``read × total / count`` entries to find the page's ``read`` rows, the
        subtree's rows spread over the table) beats fetching and sorting the ``count`` rows of the
        subtree. 佛山's 2,304 notes of 100,000, first page: 2.4 → 1.1 ms; a town's few stay on
        the unit index."""
        if not order_column or not has_app_context() or self.session.get_bind().dialect.name != "sqlite":
            return False
        table = getattr(self.obj, "__table__", None)
        if table is None:
            return False
        leading = {list(i.columns)[0].name for i in table.indexes} | {c.name for c in list(table.primary_key.columns)[:1]}
        if order_column not in leading:
            return False
        read = ((page or 0) + 1) * (page_size or count or 1)
        total = kept_count(self.session, self.session.query(self.obj), current_app.extensions.setdefault("qqh_counts_kept", {}))
        return count * count > read * total

    def _join_keeps_rows(self, relation: str) -> bool:
        prop = getattr(getattr(self.obj, relation, None), "property", None)
        columns = getattr(prop, "local_columns", ())
        return (
            self.is_relation_many_to_one(relation)
            and bool(columns)
            and all(not c.nullable and c.foreign_keys for c in columns)
        )

    def _get_base_query(self, query, filters=None, order_column="", order_direction=""):
        # FAB applies the filters here without apply_filters: go through it (and scope_reads)
        return self.apply_order_by(self.apply_filters(query, filters), order_column, order_direction)

    def get_related_interface(self, col_name):
        # related records (form choices, the API's _info) are scoped like any
        # other, whatever a subclass relaxes for its own model's reads
        return ScopedInterface(self.get_related_model(col_name), self.session)

    def get_related_obj(self, col_name, value):
        rel_model = self.get_related_model(col_name)
        q = self.session.query(rel_model).filter(sa_inspect(rel_model).primary_key[0] == value)
        return in_scope(q, rel_model).one_or_none()

    def _write(self, item, op, commit: bool) -> None:
        from core.lowcode.rest import apply_pending  # custom values a REST call sent (core/lowcode/rest.py)

        try:
            apply_pending(item)
            check_item(self.session, item, current_scope())
            op(item)
            if commit:
                self.session.commit()
            else:
                self.session.flush()
        except InvalidInput:
            self.session.rollback()
            raise
        except IntegrityError as exc:
            self.session.rollback()
            raise friendly_integrity_error(exc) from exc
        except SQLAlchemyError:
            self.session.rollback()
            raise

    def add(self, item, commit: bool = True) -> None:
        self._write(item, self.session.add, commit)

    def edit(self, item, commit: bool = True) -> None:
        self._write(item, self.session.merge, commit)

    def delete(self, item, commit: bool = True) -> None:
        try:
            self.session.delete(item)
            if commit:
                self.session.commit()
            else:
                self.session.flush()
        except InvalidInput:  # refused by a rule checked on flush (a locked record)
            self.session.rollback()
            raise
        except IntegrityError as exc:
            self.session.rollback()
            raise friendly_integrity_error(exc) from exc


def _lowcode_form(view, attr):
    from core.lowcode.forms import with_fields

    return with_fields(view, view.__dict__.get(attr))


UNIT_OWNED_COLUMNS_HIDDEN = ["created_on", "changed_on", "created_by", "changed_by"]


class ScopedModelView(PersonalDataView, ModelView):
    """Base page class for unit-owned data.

    Add pages opened from a parent record's page: ``prefill = {"org": YouthOrg}``
    makes ``?org=<id>`` choose that record in the add form (if the user may see
    it), and ``back_to = ("org", "YouthOrgView.profile")`` returns the user to
    that page after saving."""

    page_size = 25
    search_widget = KeptSearchWidget  # kept between requests while nothing is written (core/web/search_form.py)
    list_template = "qqh/import_list.html"  # FAB's list page plus the Excel buttons (core/excel/pages.py)
    show_template = "qqh/show.html"  # FAB's record page plus its attachments (core/ops/attachments.py)
    prefill: dict[str, type] = {}
    back_to: tuple[str, str] | None = None  # (query argument, endpoint of the parent's page)
    # the record page (core/web/record.py): panels of child records under the record, "add from here"
    record_panels: list = []
    record_class = ""  # a CSS class of the page (a record page without panels: set it to get the heading)

    def record_context(self, item) -> dict:
        """What a plugin's own blocks of the record page need (``widgets.record.context``)."""
        return {}

    # custom fields (core/lowcode): each request's forms and record page carry the list's current fields
    add_form = property(lambda self: _lowcode_form(self, "_qqh_add_form"), lambda self, f: setattr(self, "_qqh_add_form", f))
    edit_form = property(lambda self: _lowcode_form(self, "_qqh_edit_form"), lambda self, f: setattr(self, "_qqh_edit_form", f))

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        from core.lowcode.forms import columns

        widgets = super()._get_edit_widget(form, exclude_cols=exclude_cols, widgets=widgets)
        widgets["edit"].template_args["include_cols"] = columns(self, self.edit_columns, form)
        return widgets

    def _get_list_widget(self, filters, **kwargs):
        from core.lowcode.forms import list_columns

        widgets = super()._get_list_widget(filters, **kwargs)
        list_columns(self, widgets["list"])
        return widgets

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        from core.lowcode.forms import show_values

        widgets = super()._get_show_widget(pk, item, widgets=widgets, actions=actions, show_fieldsets=show_fieldsets)
        args = widgets["show"].template_args
        if not show_fieldsets and not self.show_fieldsets:
            args["include_columns"], args["label_columns"], args["value_columns"] = show_values(
                self, item, args["include_columns"], args["label_columns"], args["value_columns"])
        if self.record_panels or self.record_class:
            from core.web.record import record_of

            widgets["record"] = record_of(self, item)
        return widgets

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        from core.lowcode.forms import columns

        widgets = self._prefilled_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)
        widgets["add"].template_args["include_cols"] = columns(self, self.add_columns, form)
        return widgets

    def _prefilled_add_widget(self, form, exclude_cols=None, widgets=None):
        if request.method == "GET":
            for arg, model in self.prefill.items():
                pk = _arg_id(arg)
                field = getattr(form, arg, None)
                if pk is not None and field is not None and field.data is None:
                    field.data = scoped_get(model, pk)
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _back(self):
        if self.back_to:
            arg, endpoint = self.back_to
            pk = _arg_id(arg)
            if pk is not None:
                return redirect(url_for(endpoint, pk=pk))
        return None

    def post_add_redirect(self):
        return self._back() or super().post_add_redirect()

    def post_edit_redirect(self):
        return self._back() or super().post_edit_redirect()

    def __init__(self, **kwargs):
        from core.web.pickers import unit_picker

        # the unit is chosen with a search-as-you-type picker limited to the
        # user's subtree; it is never a filter that lists every unit
        label = (self.label_columns or {}).get("unit", _l("Unit"))
        self.add_form_extra_fields = {"unit": unit_picker(label), **(self.add_form_extra_fields or {})}
        self.edit_form_extra_fields = {"unit": unit_picker(label), **(self.edit_form_extra_fields or {})}
        # the search form's unit filter is a picker too ("in the subtree of" first)
        self.search_form_extra_fields = {"unit": unit_picker(label, required=False), **(self.search_form_extra_fields or {})}
        # an enumerated column (core.values.choices) is a drop-down of its labels, in forms and in the search
        from core.values.choices import enumerated_columns
        from core.web.fields import choice_field, search_choice

        for attr, choices in enumerated_columns(self.datamodel.obj).items():
            text = (self.label_columns or {}).get(attr, attr)
            self.add_form_extra_fields.setdefault(attr, choice_field(text, choices))
            self.edit_form_extra_fields.setdefault(attr, choice_field(text, choices))
            self.search_form_extra_fields.setdefault(attr, search_choice(text, choices))
        # a sum in 元 is typed as an office writes it (5万, 50,000.00), in every form
        from core.web.fields import amount_columns, amount_field

        for attr in amount_columns(self.datamodel.obj):
            text = (self.label_columns or {}).get(attr, attr)
            hint = (self.description_columns or {}).get(attr, "")
            self.add_form_extra_fields.setdefault(attr, amount_field(text, hint))
            self.edit_form_extra_fields.setdefault(attr, amount_field(text, hint))
        searchable = self.search_columns or self.datamodel.get_search_columns_list()
        self.search_columns = [c for c in searchable if c not in ("created_by", "changed_by")]
        if "unit" not in self.search_columns:
            self.search_columns.append("unit")
        super().__init__(**kwargs)

    # A refused add or edit shows the form again, with the user's input and
    # each message beside its field (FAB would flash and redirect, losing both).
    def _refused(self, form, exc: InvalidInput) -> None:
        for field, msgs in exc.messages.items():
            if field in form:
                form[field].errors = list(form[field].errors or []) + msgs
            else:
                for m in msgs:
                    flash(m, "danger")

    def _all_problems(self, form, item) -> None:
        """A form its fields refused is also checked by the model (the fields
        that were read), so that the user learns every problem in one round,
        not the model's rules after the fields' ones. Nothing is written."""
        session = self.datamodel.session
        try:
            with session.no_autoflush:
                for field in form:
                    if not field.errors:
                        field.populate_obj(item, field.name)
                check_item(session, item, current_scope())
        except InvalidInput as exc:
            # not about a field the form lacks (the unit of a record whose parent was refused): a consequence
            messages = {name: msgs for name, msgs in exc.messages.items() if name in form and not form[name].errors}
            self._refused(form, InvalidInput(messages))
        except Exception:  # a rule that needs what a refused field holds: the fields' messages are enough
            logging.getLogger(__name__).debug("model check of a refused form failed", exc_info=True)
        finally:
            session.rollback()

    def _add(self):
        from core.web.fab import crud  # FAB's _add, a refused record shown again (core/web/fab/crud.py)

        return crud.add(self, super()._add, self._refused, self._all_problems)

    def _edit(self, pk):
        from core.web.fab import crud

        return crud.edit(self, pk, super()._edit, self._refused, self._all_problems)
