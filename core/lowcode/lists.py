"""Custom lists (自定义台账): unit-owned lists an administrator defines in
the pages — name, code, the label of the record's name column, which units
use it — whose other columns are custom fields (core.lowcode, ``list_name``
= the list's code). No code, no restart, no table per list.

Records of every custom list live in one core table, ``qqh_custom_record``
(unit, list, name, the custom values in ``qqh_fields``). Each list is mapped
in every process, at its first request after the definitions' version
changed, as a single-table-inheritance subclass of :class:`CustomRecord`
whose polymorphic identity is the list's id: every query of that class —
pages, API, import, export, KPI checks — reads only that list's rows, with no
per-use filter to forget. One registered page class and one REST API serve
every list, by the code in their URL (core.lowcode.list_views).
"""

from __future__ import annotations

import threading

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from core.lowcode.models import JSON_TYPE
from core.tenancy.records import Audited, UnitOwned

MODULE_PREFIX = "customlist:"


class CustomList(Audited, Model):
    """A list an administrator defined (自定义台账). ``units``: the codes of
    the units whose subtrees use it (empty: every unit). ``removed`` hides
    it and keeps its records."""

    __tablename__ = "qqh_custom_list"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    title_label: Mapped[str] = mapped_column(String(40), nullable=False, default="名称")
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    units: Mapped[list | None] = mapped_column(JSON_TYPE, nullable=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def __repr__(self):
        return f"{self.name}（{self.code}）"


class _OfTheList:
    """``__qqh_title__`` / ``__qqh_labels__`` of a list's records (the audit log reads them), from the
    list's definition when asked: a list may be renamed."""

    def __init__(self, part: str):
        self.part = part

    def __get__(self, obj, cls):
        from core.lowcode import registry

        d = registry.custom_list(cls.__qqh_list_name__, removed=True) if cls.__qqh_list_name__ else None
        if self.part == "title":
            return d.name if d is not None else None
        return {"title": d.title_label, "list_id": _l("Custom list")} if d is not None else {}


class CustomRecord(UnitOwned, Model):
    """A record of a custom list: its unit, its name, its custom values."""

    __tablename__ = "qqh_custom_record"
    __qqh_list_name__: str | None = None  # a list's subclass: the list's code
    __qqh_title__ = _OfTheList("title")
    __qqh_labels__ = _OfTheList("labels")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(Integer, ForeignKey("qqh_custom_list.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)

    __mapper_args__ = {"polymorphic_on": "list_id", "polymorphic_identity": 0}

    @classmethod
    def kind_of(cls, list_id) -> type | None:
        """The class of a list's records (the audit log names a list's records by it)."""
        from core.lowcode import registry

        d = next((d for d in registry.custom_lists(removed=True) if d.id == list_id), None)
        return model_for(d.id, d.code) if d is not None else None

    def validate(self):
        from flask_babel import gettext

        errors = {}
        if not (self.title or "").strip():
            errors["title"] = gettext("Enter a name.")
        from core.lowcode import registry

        d = registry.custom_list(type(self).__qqh_list_name__ or "", removed=True)
        if d is None or type(self) is CustomRecord:
            errors["_"] = gettext("Unknown list.")
        else:
            if d.removed:
                errors["_"] = gettext("The list %(name)s was removed: nothing is entered into it.", name=d.name)
            unit = self.unit
            if unit is None and self.unit_id:
                from flask import current_app

                from core.tenancy.units import Unit

                unit = current_app.appbuilder.session.get(Unit, self.unit_id)
            if unit is not None and not d.unit_may_hold(unit.path):
                errors["unit"] = gettext("%(unit)s does not use the list %(name)s.", unit=unit.name, name=d.name)
        return errors

    def __repr__(self):
        return self.title or ""


_lock = threading.Lock()
_classes: dict[int, type] = {}  # list id → its mapped class (a process maps each list once)


def model_for(list_id: int, code: str) -> type:
    """The mapped class of the list (made at its first use in the process)."""
    cls = _classes.get(list_id)
    if cls is not None:
        cls.__qqh_list_name__ = code  # a code may be changed while the list holds nothing
        return cls
    with _lock:
        cls = _classes.get(list_id)
        if cls is None:
            cls = type(f"CustomRecord{list_id}", (CustomRecord,), {
                "__mapper_args__": {"polymorphic_identity": list_id},
                "__qqh_list_name__": code,
                "__doc__": f"Records of custom list {code}.",
            })
            _classes[list_id] = cls
    return cls


def mapped_lists() -> dict[int, type]:
    return dict(_classes)


__all__ = ["CustomList", "CustomRecord", "model_for", "MODULE_PREFIX", "JSON", "select", "_l"]
