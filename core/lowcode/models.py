"""Tables of the low-code definitions."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.tenancy.records import Audited
from core.tenancy.units import Unit

JSON_TYPE = JSON().with_variant(JSONB(), "postgresql")

KINDS = ("text", "longtext", "integer", "amount", "date", "choice", "multichoice", "bool", "unit", "youthorg")


class CustomField(Audited, Model):
    """A field an administrator added to a list (自定义字段). ``list_name`` is
    the table of the list's model; ``options`` the choices as [[code, label], ...];
    ``owner_unit`` empty: the province's field, for every unit; else a unit
    administrator's, for the records of that unit's subtree. ``removed``
    hides the field and keeps its values."""

    __tablename__ = "qqh_custom_field"
    __table_args__ = (UniqueConstraint("list_name", "code", name="uq_qqh_custom_field_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    options: Mapped[list | None] = mapped_column(JSON_TYPE, nullable=True)
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    help: Mapped[str | None] = mapped_column(String(500), nullable=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    in_list: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    owner_unit_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("qqh_unit.id"), nullable=True)
    owner_unit = relationship(Unit)

    def __repr__(self):
        return f"{self.label}（{self.code}）"


class KpiRule(Audited, Model):
    """A KPI check defined as data (数据定义的考核指标): the count, distinct
    count or sum of ``measure_field`` over the records of ``list_name``
    dated by ``date_field`` within the period, where ``conditions`` hold:
    [{"field": ..., "op": "eq"|"in"|"bool", "value": ...}, ...]."""

    __tablename__ = "qqh_kpi_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    unit_of_measure: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    list_name: Mapped[str] = mapped_column(String(100), nullable=False)
    measure: Mapped[str] = mapped_column(String(10), nullable=False, default="count")  # count, distinct, sum
    measure_field: Mapped[str | None] = mapped_column(String(60), nullable=True)
    date_field: Mapped[str] = mapped_column(String(60), nullable=False)
    conditions: Mapped[list | None] = mapped_column(JSON_TYPE, nullable=True)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def __repr__(self):
        return f"{self.label}（{self.key}）"


class LowcodeState(Model):
    """One row: the version of the definitions (bumped by every change, so
    that every worker reloads them) and whether unit administrators may
    add fields for their subtree."""

    __tablename__ = "qqh_lowcode_state"
    __qqh_audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unit_admins_may: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
