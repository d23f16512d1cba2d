"""The record page: a record's show page with panels of its child records.

A page declares its panels; core's one template (``qqh/show.html``) draws
them under the record::

    class ClubView(ScopedModelView):
        record_panels = [
            Panel(Membership, "club", ["person", "role_label", "joined_on", "left_on"], add=True,
                  links={"person": "PersonView.show"}, id="members"),
        ]

Each panel is one query of the child records whose ``fk`` (the child's
relationship to the parent) is this record, limited to the user's subtree
(:func:`in_scope`), their relations loaded in the same query. Cells are
shown as every page shows values (core/web/display.py: dates 2012年3月5日,
choices by their ``*_label``, amounts 5,000.00, 是/否), escaped, personal data
masked for whoever may not see it. "Add from here" (``add=True``) opens the
child's add page with ``?<fk>=<id>``: the child's page declares
``prefill = {fk: ParentModel}`` and ``back_to = (fk, "ParentView.show")``
(core.web.scoped_views) so that the parent is chosen and the user comes back
here. Column labels, the panel's title and the button's text come from the
child's page (``label_columns``, ``list_title``, ``add_title``) unless given.

A plugin adds its own blocks by extending the template
(``show_template = "myplugin/club.html"`` with ``{% extends "qqh/show.html" %}``
and the blocks ``record_head``, ``record_before_panels`` and
``record_after_panels``); ``record_context(item)`` returns what they need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from flask import current_app, url_for
from sqlalchemy import inspect as sa_inspect, select
from sqlalchemy.orm import joinedload


@dataclass
class Panel:
    """Child records of the page's record. ``model``: the child; ``fk``: its
    many-to-one relationship to the parent (also the add page's query
    argument); ``columns``: attributes shown (``a.b`` through relations);
    ``add``: an "add from here" button; ``edit``: an edit link per row;
    ``links``: column → endpoint of the related record's page (a cell that
    links to it); ``count(rows)``: a badge beside the title; ``order_by``:
    default the child's id; ``view``: the child page's class name (default:
    the page registered for ``model``)."""

    model: type
    fk: str
    columns: Sequence[str]
    title: Any = None
    add: bool = False
    edit: bool = True
    order_by: Sequence[Any] = ()
    links: dict[str, str] = field(default_factory=dict)
    count: Callable[[list], Any] | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    empty: Any = None
    add_label: Any = None
    view: str = ""
    id: str = ""


@dataclass
class Cell:
    value: Any
    url: str | None = None


@dataclass
class Row:
    cells: list[Cell]
    edit_url: str | None


@dataclass
class ShownPanel:
    """A panel as the template draws it."""

    id: str
    title: Any
    headings: list[Any]
    rows: list[Row]
    empty: Any
    add_url: str | None
    add_label: Any
    badge: Any = None


def page_of(model, name: str = ""):
    """The registered page (a ModelView instance) of ``model``, or the one named ``name``."""
    for view in current_app.appbuilder.baseviews:
        if name and view.__class__.__name__ == name:
            return view
        datamodel = getattr(view, "datamodel", None)
        if not name and getattr(datamodel, "obj", None) is model and hasattr(view, "add_columns"):
            return view
    return None


def _value(row, path: str):
    from core.tenancy.personal import is_personal_path, shown

    value = row
    for part in path.split("."):
        value = getattr(value, part, None) if value is not None else None
    if is_personal_path(type(row), path):
        value = shown(path.rsplit(".", 1)[-1], value)
    return value


def _relations(model, columns) -> list[str]:
    rels = sa_inspect(model).relationships
    return list(dict.fromkeys(c.split(".", 1)[0] for c in columns if c.split(".", 1)[0] in rels))


def shown_panel(panel: Panel, parent, session, scope) -> ShownPanel:
    from core.tenancy.scope import in_scope

    model = panel.model
    rel = sa_inspect(model).relationships[panel.fk]
    (fk_column,) = rel.local_columns
    stmt = select(model).where(fk_column == parent.id).order_by(*(panel.order_by or (model.id,)))
    for name in _relations(model, [*panel.columns, *panel.links]):
        stmt = stmt.options(joinedload(getattr(model, name)))
    records = session.execute(in_scope(stmt, model, scope)).unique().scalars().all()

    view = page_of(model, panel.view)
    sm = current_app.appbuilder.sm
    endpoint = view.__class__.__name__ if view is not None else ""
    permission = (view.class_permission_name or endpoint) if view is not None else ""
    can_edit = bool(view) and panel.edit and sm.has_access("can_edit", permission)
    can_add = bool(view) and panel.add and sm.has_access("can_add", permission)
    labels = {**(getattr(view, "label_columns", None) or {}), **panel.labels}
    back = {panel.fk: parent.id}
    rows = []
    for record in records:
        cells = []
        for column in panel.columns:
            value = _value(record, column)
            target = panel.links.get(column)
            url = url_for(target, pk=value.id) if target and getattr(value, "id", None) is not None else None
            cells.append(Cell(value, url))
        edit_url = url_for(f"{endpoint}.edit", pk=record.id, **back) if can_edit else None
        rows.append(Row(cells, edit_url))
    return ShownPanel(
        id=panel.id or f"panel-{model.__name__.lower()}",
        title=panel.title or getattr(view, "list_title", "") or model.__name__,
        headings=[labels.get(c, c) for c in panel.columns],
        rows=rows,
        empty=panel.empty,
        add_url=url_for(f"{endpoint}.add", **back) if can_add else None,
        add_label=panel.add_label or getattr(view, "add_title", ""),
        badge=panel.count(records) if panel.count else None,
    )


@dataclass
class Record:
    """What the record page draws besides FAB's show widget."""

    item: Any
    heading: Any
    subheading: Any
    panels: list[ShownPanel]
    css: str = ""
    context: dict = field(default_factory=dict)


def record_of(view, item) -> Record:
    from core.tenancy.scope import current_scope

    session = view.datamodel.session
    scope = current_scope()
    unit = getattr(item, "unit", None)
    return Record(
        item=item,
        heading=str(item),
        subheading=getattr(unit, "name", "") if unit is not None else "",
        panels=[shown_panel(p, item, session, scope) for p in view.record_panels],
        css=view.record_class,
        context=view.record_context(item) or {},
    )
