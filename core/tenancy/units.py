"""The League unit tree (团组织): province, cities, counties, towns,
universities and direct units, with a materialized path of codes so that
"everything under unit X" is one indexed prefix filter."""

from __future__ import annotations

import csv
import os

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Integer, String, select, update, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.values.resources import DATA_DIR
DIVISIONS_CSV = os.path.join(DATA_DIR, "guangdong_divisions.csv")

LEVELS = {
    "province": _l("Province"),
    "city": _l("City"),
    "county": _l("County"),
    "town": _l("Town"),
    "university": _l("University"),
    "direct": _l("Provincial direct unit"),
}
# KPI tiers: which row of the notice's target table applies to a unit.
TIERS = {
    "province": _l("Province"),
    "city": _l("City tier"),
    "county": _l("County tier"),
    "town": _l("Town"),
    "university": _l("University"),
    "direct": _l("Provincial direct unit"),
}
CSV_LEVEL = {"province": "province", "prefecture": "city", "county": "county", "town": "town"}
# Counties the notice addresses with the cities ("各地级以上市并顺德区团委"):
# `qqh init` loads them under the given parent at city tier and level.
CITY_TIER_COUNTIES = {"440606": "440000"}  # 顺德区 reports to the province
SEP = "/"


class Unit(Model):
    """团组织: one League committee. ``path`` is the codes from the root down,
    each followed by ``/`` (e.g. ``440000/440600/440606/``)."""

    __tablename__ = "qqh_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    level: Mapped[str] = mapped_column(String(20), nullable=False)
    tier: Mapped[str] = mapped_column(String(20), nullable=False)
    prd: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    undergraduate: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("qqh_unit.id"), index=True)
    path: Mapped[str] = mapped_column(
        String(400).with_variant(String(400, collation="C"), "postgresql"), nullable=False, index=True
    )
    depth: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    parent = relationship("Unit", remote_side=[id], backref="children")

    def __repr__(self) -> str:  # shown in pickers and lists
        return f"{self.name}（{self.code}）"

    @property
    def level_label(self) -> str:
        return str(LEVELS.get(self.level, self.level))

    @property
    def tier_label(self) -> str:
        return str(TIERS.get(self.tier, self.tier))

    @property
    def kpi_tier(self) -> str:
        """Tier used by targets: prd_city, nonprd_city, prd_county, nonprd_county,
        or the plain tier for the others."""
        if self.tier in ("city", "county"):
            return ("prd_" if self.prd else "nonprd_") + self.tier
        return self.tier


def subtree_of(path: str):
    """SQL condition: a unit lies in the subtree rooted at ``path`` (itself
    included). A range on the indexed path column (codes and "/" only; on
    PostgreSQL the column uses the "C" collation so the range is bytewise)."""
    return (Unit.path >= path) & (Unit.path < path[:-1] + chr(ord(SEP) + 1))


def unit_by_code(session, code: str) -> Unit | None:
    return session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()


def compute_path(parent: Unit | None, code: str) -> tuple[str, int]:
    if parent is None:
        return code + SEP, 0
    return parent.path + code + SEP, parent.depth + 1


def move_unit(session, unit: Unit, new_parent: Unit | None) -> int:
    """Move ``unit`` (and its whole subtree) under ``new_parent``: one UPDATE of
    the paths. Returns the number of units moved. Refuses cycles."""
    if new_parent is not None and new_parent.path.startswith(unit.path):
        raise ValueError(str(_l("A unit cannot be moved under itself or its own subtree.")))
    old_path, old_depth = unit.path, unit.depth
    new_path, new_depth = compute_path(new_parent, unit.code)
    unit.parent = new_parent
    session.flush()
    n = session.execute(
        update(Unit)
        .where(subtree_of(old_path))
        .values(
            path=new_path + func.substr(Unit.path, len(old_path) + 1),
            depth=Unit.depth + (new_depth - old_depth),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire_all()
    return n


def load_divisions(session, csv_path: str = DIVISIONS_CSV, city_tier: dict[str, str] | None = None) -> int:
    """Load the Guangdong division tree; existing codes are left as they are
    (an admin may have moved or renamed them). Returns the number added.

    ``city_tier`` (code → parent code, e.g. :data:`CITY_TIER_COUNTIES`):
    counties loaded at city tier and level under that parent instead, their
    subtree with them (only when they are added: a unit moved back later
    stays where it is)."""
    with open(csv_path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    city_tier = city_tier or {}
    for r in rows:
        if r["code"] in city_tier and r["level"] == "county":
            r["parent_code"], r["level"] = city_tier[r["code"]], "prefecture"
    existing = dict(session.execute(select(Unit.code, Unit.id)).all())
    paths = dict(session.execute(select(Unit.code, Unit.path)).all())
    added = 0
    # parents come before children in the file; insert level by level
    for csv_level in ("province", "prefecture", "county", "town"):
        batch = []
        for r in rows:
            if r["level"] != csv_level or r["code"] in existing:
                continue
            parent_path = paths.get(r["parent_code"], "") if r["parent_code"] else ""
            path = parent_path + r["code"] + SEP
            paths[r["code"]] = path
            level = CSV_LEVEL[csv_level]
            batch.append(
                dict(
                    code=r["code"],
                    name=r["name"],
                    level=level,
                    tier=level,
                    prd=r["prd"] == "1",
                    undergraduate=False,
                    path=path,
                    depth=path.count(SEP) - 1,
                    _parent=r["parent_code"],
                )
            )
        if not batch:
            continue
        ids = dict(session.execute(select(Unit.code, Unit.id)).all())
        for b in batch:
            b["parent_id"] = ids.get(b.pop("_parent"))
        session.execute(Unit.__table__.insert(), batch)
        added += len(batch)
    session.flush()
    return added
