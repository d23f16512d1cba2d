"""Models of the homes plugin (建设"亲青家园" and 孵化基金).

* ``Home`` — a 亲青家园 incubation base of a League unit.
* ``ChecklistItem`` — one item of the 《"亲青家园"标准化建设手册》 checklist:
  province-wide data that administrators edit (not unit-owned);
  ``ChecklistEntry`` — a base meets an item, with evidence and date.
  A base's compliance score is met active items / all active items.
* ``Residency`` — a youth organization lives in a base (入驻 → 孵化 → 出壳
  or 退出).
* ``Sector`` — a 青联 界别 or 小组; ``Pairing`` — 小组基地一对一 pairing of
  a sector with a base.
* ``IncubationFund`` — 孵化基金 with its committed amounts per source;
  ``Grant`` — a grant from a fund to a youth organization.

A record that hangs off another takes that record's unit (an entry or a
residency its base's, a pairing its sector's, a grant its fund's: core's
``__qqh_unit_from__``), so it is seen by exactly those who see its parent.

``validate()`` holds every rule, so pages, REST API and import refuse the
same input with the same Chinese message and write nothing. Money rules
(a fund is never overdrawn) lock the fund's row inside the transaction that
writes — see :func:`lock_fund`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from flask_appbuilder import Model
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import (
    Mapped,
    column_property,
    mapped_column,
    relationship,
)

from core.api import (
    Audited,
    Choices,
    Errors,
    Limit,
    NOT_AMOUNT,
    PHONE_PATTERN,
    Unique,
    UnitOwned,
    ValidationError,
    format_amount,
    format_date_zh,
    limits,
    lock_rows,
    phone,
    stored_value,
    session_of,
)
from plugins.cultivation.models import YouthOrg

__all__ = [
    "Home",
    "ChecklistItem",
    "ChecklistEntry",
    "Residency",
    "Sector",
    "Pairing",
    "IncubationFund",
    "Grant",
    "HOME_KINDS",
    "KIND_GROUPS",
    "HOME_SERVICES",
    "CHECKLIST_SECTIONS",
    "RESIDENCY_STATUSES",
    "SECTOR_KINDS",
    "FUND_SOURCES",
    "GRANT_STATUSES",
    "lock_fund",
]

# -- vocabularies (stored code → Chinese label) -----------------------------------
# notice 三(二): revitalise old positions, open new ones, lean on mature bases,
# and the universities' student centres and "terminal stores"
HOME_KINDS = Choices({
    "youth_centre": _l("Youth centre"),  # 青年中心
    "youth_zone": _l("Youth zone"),  # 青年地带
    "volunteer_station": _l("Volunteer service station"),  # 志愿服务站
    "community": _l("Residential community"),  # 居民社区
    "housing_estate": _l("Large housing estate"),  # 大型楼盘
    "partner_base": _l("Mature partner base"),  # 广州1850创意园, 南海桂城创益中心
    "campus_centre": _l("University student activity centre"),  # 高校学生活动中心
    "campus_room": _l("Student activity room (terminal store)"),  # 学生活动室"终端门店"
    "other": _l("Other position"),
})
KIND_GROUPS = Choices({
    "revitalised": _l("Revitalised League position"),  # 盘活原有阵地
    "new": _l("New position"),  # 拓展新型阵地
    "partner": _l("Mature partner base"),  # 依托成熟基地
    "campus": _l("University"),  # 高校
    "other": _l("Other position"),
})
KIND_GROUP_OF = {
    "youth_centre": "revitalised",
    "youth_zone": "revitalised",
    "volunteer_station": "revitalised",
    "community": "new",
    "housing_estate": "new",
    "partner_base": "partner",
    "campus_centre": "campus",
    "campus_room": "campus",
    "other": "other",
}
# what a base offers its resident organizations: attribute → label
HOME_SERVICES = Choices({
    "offers_venue": _l("Venue"),  # 场地
    "offers_network": _l("Network"),  # 网络
    "offers_logistics": _l("Logistics"),  # 后勤
    "offers_counselling": _l("Registration counselling"),  # 注册辅导
    "offers_custody": _l("Financial custody"),  # 财务托管
    "offers_training": _l("Leader training"),  # 骨干培训
})
CHECKLIST_SECTIONS = Choices({
    "venue": _l("Venue and signage"),  # 场地与标识
    "services": _l("Service functions"),  # 服务功能
    "management": _l("Management"),  # 管理制度
    "league": _l("League building and pairing"),  # 团建与结对
    "publicity": _l("Publicity and information"),  # 宣传与信息
})
ENTERED, INCUBATING, GRADUATED, LEFT = "entered", "incubating", "graduated", "left"
RESIDENCY_STATUSES = Choices({
    ENTERED: _l("Entered"),  # 已入驻
    INCUBATING: _l("Incubating"),  # 孵化中
    GRADUATED: _l("Graduated"),  # 已出壳
    LEFT: _l("Left"),  # 已退出
})
OPEN_STATUSES = (ENTERED, INCUBATING)
RESIDENCY_NEXT = {
    ENTERED: {ENTERED, INCUBATING, GRADUATED, LEFT},
    INCUBATING: {INCUBATING, GRADUATED, LEFT},
    GRADUATED: {GRADUATED},
    LEFT: {LEFT},
}
SECTOR_KINDS = Choices({
    "sector": _l("Sector"),  # 界别
    "group": _l("Group"),  # 小组
})
# attribute of the committed amount → source label
FUND_SOURCES = Choices({
    "from_youth_foundation": _l("Youth development foundation"),  # 青少年发展基金会
    "from_volunteer_foundation": _l("Volunteer foundation"),  # 志愿者基金会
    "from_federation_members": _l("Youth federation members"),  # 青联委员
    "from_entrepreneurs": _l("Young entrepreneurs' chamber members"),  # 青企青商会员
    "from_other": _l("Other sources"),  # 其他
})
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
GRANT_STATUSES = Choices({
    PENDING: _l("Awaiting approval"),  # 待审批
    APPROVED: _l("Approved"),  # 已批准
    REJECTED: _l("Not approved"),  # 未获批准
})
GRANT_NEXT = {
    PENDING: {PENDING, APPROVED, REJECTED},
    APPROVED: {APPROVED},
    REJECTED: {REJECTED},
}

MAX_AREA = Decimal("99999999.99")  # Numeric(10, 2)
ZERO = Decimal("0.00")


# -- helpers --------------------------------------------------------------------------
def _id_of(item, rel: str, fk: str):
    """The id of the record ``rel`` points to; None when there is none, or
    when it is not a stored record (an API client sent an unknown id)."""
    target = getattr(item, rel)
    if target is None:
        return getattr(item, fk)
    state = sa_inspect(target)
    return target.id if (state.persistent or state.detached) else None


def parse_area(text) -> Decimal:
    """Square metres: a number of zero or more with at most two decimals."""
    cleaned = str(text).replace(",", "").replace("，", "").strip()
    for suffix in ("平方米", "平米", "m²", "m2", "㎡"):
        if cleaned.endswith(suffix):
            cleaned = cleaned[: -len(suffix)].strip()
    try:
        area = Decimal(cleaned)
        if not area.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ValidationError(_l("The area is a number of square metres.")) from None
    if area < 0:
        raise ValidationError(_l("The area cannot be negative."))
    if area > MAX_AREA:
        raise ValidationError(_l("The area is too large."))
    if area != area.quantize(Decimal("0.01")):
        raise ValidationError(_l("Give the area with at most two decimals."))
    return area.quantize(Decimal("0.01"))


# == 亲青家园 =============================================================================
class Home(UnitOwned, Model):
    """亲青家园: a base where youth organizations are incubated.

    ``opened_on`` empty: being built (not counted by the ``homes`` KPI);
    ``signage_on``: the day it was hung the unified 亲青家园 sign (挂牌).
    """

    __tablename__ = "homes_home"
    __table_args__ = (UniqueConstraint("unit_id", "name", name="uq_homes_home_unit_name"),)
    __qqh_unique__ = (Unique(("unit_id", "name"), _l("This unit already has a base with this name."), field="name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False, info=HOME_KINDS.info())
    address: Mapped[str] = mapped_column(String(300), nullable=False)
    area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), info=NOT_AMOUNT)  # m², no sum of money
    opened_on: Mapped[datetime.date | None] = mapped_column(Date, index=True)
    signage_on: Mapped[datetime.date | None] = mapped_column(Date)
    offers_venue: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    offers_network: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    offers_logistics: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    offers_counselling: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    offers_custody: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    offers_training: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    manager: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(30), info=limits(pattern=PHONE_PATTERN))
    note: Mapped[str | None] = mapped_column(Text)

    # deleting a base deletes what hangs off it; no back-references, so a
    # record being entered is not attached to the base before it is checked
    checklist_entries = relationship("ChecklistEntry", cascade="all, delete-orphan", overlaps="home")
    residencies = relationship("Residency", cascade="all, delete-orphan", overlaps="home")
    pairings = relationship("Pairing", cascade="all, delete-orphan", overlaps="home")

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def kind_group_label(self) -> str:
        return KIND_GROUPS.label(KIND_GROUP_OF.get(self.kind))

    @property
    def services_text(self) -> str:
        return "、".join(str(label) for attr, label in HOME_SERVICES.items() if getattr(self, attr))

    @property
    def area_text(self) -> str:
        return format_amount(self.area) if self.area is not None else ""

    @property
    def met_count(self) -> int:
        """Active checklist items this base meets."""
        return self.met_items or 0

    @property
    def item_count(self) -> int:
        """Active checklist items."""
        return self.active_items or 0

    @property
    def compliance(self) -> Decimal | None:
        """Share of the active checklist items this base meets, in per cent."""
        met, total = self.met_items or 0, self.active_items or 0
        if not total:
            return None
        return (Decimal(met) * 100 / Decimal(total)).quantize(Decimal("0.1"))

    @property
    def compliance_text(self) -> str:
        total = self.active_items or 0
        if not total:
            return ""
        return f"{self.met_items or 0}/{total}（{self.compliance}%）"

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        errors.text(self, "name", required=_l("Enter the name of the base."))
        errors.text(self, "address", required=_l("Enter the address of the base."))
        errors.choice(self, "kind", _l("Choose the kind of base."))
        errors.parsed(self, "area", parse_area)
        errors.not_future(self, "opened_on", gettext("The opening date cannot be in the future."))
        errors.not_future(self, "signage_on", gettext("The signage date cannot be in the future."))
        if self.signage_on is not None:
            if self.opened_on is None:
                errors.add("opened_on", gettext("Enter the opening date of a base that has its sign."))
            elif self.signage_on < self.opened_on:
                errors.add("signage_on", gettext("The signage date cannot be before the opening date."))
        for attr in HOME_SERVICES:
            if getattr(self, attr) is None:
                setattr(self, attr, False)
        errors.text(self, "manager")
        errors.text(self, "note")
        errors.parsed(self, "phone", phone)
        session = session_of(self)
        if self.id is not None and session is not None and "opened_on" not in errors:
            with session.no_autoflush:
                first = session.execute(
                    select(func.min(Residency.entered_on)).where(Residency.home_id == self.id)
                ).scalar()
            if first is not None and self.opened_on is None:
                errors.add("opened_on", gettext(
                    "Organizations live in this base since %(day)s: it needs its opening date.", day=format_date_zh(first)))
            elif first is not None and first < self.opened_on:
                errors.add("opened_on", gettext(
                    "Organizations entered this base on %(day)s, before this opening date.", day=format_date_zh(first)))
        return errors


# == the standard-building checklist ====================================================
class ChecklistItem(Audited, Model):
    """One item of the 《"亲青家园"标准化建设手册》 checklist. Province-wide
    data that administrators edit; an inactive item no longer counts."""

    __tablename__ = "homes_checklist_item"
    __qqh_unique__ = (Unique(("code",), _l("Another checklist item already has this code.")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    section: Mapped[str] = mapped_column(String(20), nullable=False, info=CHECKLIST_SECTIONS.info())
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return f"{self.code} {self.title}" if self.code else (self.title or "")

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        self.code = (self.code or "").strip().upper()
        if not self.code:
            errors.add("code", gettext("Enter the item's code (for example A1)."))
        elif not all(ch.isascii() and (ch.isalnum() or ch in ".-_") for ch in self.code):
            errors.add("code", gettext("An item code may contain only letters, digits, '.', '-' and '_'."))
        errors.text(self, "title", required=_l("Enter what the item requires."))
        errors.choice(self, "section", _l("Choose the section of the checklist."))
        errors.text(self, "description")
        if self.position is None:
            self.position = 0
        if self.active is None:
            self.active = True
        return errors


class ChecklistEntry(UnitOwned, Model):
    """A base meets a checklist item (达标), with the evidence and the date."""

    __tablename__ = "homes_checklist_entry"
    __table_args__ = (UniqueConstraint("home_id", "item_id", name="uq_homes_checklist_entry_home_item"),)
    __qqh_unique__ = (Unique(("home_id", "item_id"), _l("This base already records this checklist item."), field="item"),)
    __qqh_unit_from__ = "home"
    __qqh_remember__ = ("item_id",)  # an item no longer in use may stay, but not be chosen anew

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("homes_home.id"), nullable=False, index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("homes_checklist_item.id"), nullable=False, index=True)
    met_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    evidence: Mapped[str] = mapped_column(Text, nullable=False)

    # joined: lists show them, and 25 rows must not cost 25 queries
    home = relationship(Home, overlaps="checklist_entries", lazy="joined")
    item = relationship(ChecklistItem, lazy="joined")

    def __repr__(self) -> str:
        return f"{self.home or ''} {self.item or ''}".strip()

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        home_id = _id_of(self, "home", "home_id")
        item_id = _id_of(self, "item", "item_id")
        if home_id is None:
            errors.add("home", gettext("Choose the base."))
        if item_id is None:
            errors.add("item", gettext("Choose the checklist item."))
        elif self.item is not None and not self.item.active and stored_value(self, "item_id") != item_id:
            errors.add("item", gettext("This checklist item is no longer in use."))
        if self.met_on is None:
            errors.add("met_on", gettext("Enter the date the base met the item."))
        else:
            errors.not_future(self, "met_on", gettext("The date cannot be in the future."))
        errors.text(self, "evidence", required=_l("Describe the evidence (document, photo, minutes …)."))
        return errors


# compliance score per base: two scalar subqueries in the same SELECT as the
# bases (a list of 25 bases is one statement, not 25)
Home.met_items = column_property(
    select(func.count(ChecklistEntry.id))
    .join(ChecklistItem, ChecklistItem.id == ChecklistEntry.item_id)
    .where(ChecklistEntry.home_id == Home.id, ChecklistItem.active.is_(True))
    .correlate_except(ChecklistEntry, ChecklistItem)
    .scalar_subquery()
)
Home.active_items = column_property(
    select(func.count(ChecklistItem.id)).where(ChecklistItem.active.is_(True)).correlate_except(ChecklistItem).scalar_subquery()
)


# == residencies ===========================================================================
class Residency(UnitOwned, Model):
    """入驻: a youth organization lives in a base, from ``entered_on``; it is
    incubated (孵化中) and finally graduates (出壳) or leaves, on ``ended_on``.
    At most one open residency per organization and base."""

    __tablename__ = "homes_residency"
    __table_args__ = (
        Index(
            "uq_homes_residency_open",
            "org_id",
            "home_id",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
    )
    __qqh_unit_from__ = "home"
    __qqh_remember__ = ("status",)  # an ended residency is not reopened
    __qqh_unique__ = (
        Unique(("org_id", "home_id"), _l("This organization already lives in this base: end that residency first."),
               field="org", where={"ended_on": None}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("cultivation_youth_org.id"), nullable=False, index=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("homes_home.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=ENTERED, info=RESIDENCY_STATUSES.info())
    entered_on: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)
    ended_on: Mapped[datetime.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)

    org = relationship(YouthOrg, lazy="joined")
    home = relationship(Home, overlaps="residencies", lazy="joined")

    def __repr__(self) -> str:
        return f"{self.org or ''} @ {self.home or ''}"

    @property
    def is_open(self) -> bool:
        return self.ended_on is None

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        org_id = _id_of(self, "org", "org_id")
        home_id = _id_of(self, "home", "home_id")
        if org_id is None:
            errors.add("org", gettext("Choose the youth organization."))
        if home_id is None:
            errors.add("home", gettext("Choose the base."))
        self.status = self.status or ENTERED
        old = stored_value(self, "status")
        if self.status not in RESIDENCY_STATUSES:
            errors.add("status", gettext("Choose the status of the residency."))
        elif old in RESIDENCY_NEXT and self.status not in RESIDENCY_NEXT[old]:
            errors.add("status", gettext(
                "A residency cannot go from %(old)s to %(new)s; an ended residency is not reopened: record a new one.",
                old=RESIDENCY_STATUSES.label(old), new=RESIDENCY_STATUSES.label(self.status)))
        if self.entered_on is None:
            errors.add("entered_on", gettext("Enter the date the organization entered the base."))
        else:
            errors.not_future(self, "entered_on", gettext("The entry date cannot be in the future."))
            if self.home is not None and "home" not in errors:
                if self.home.opened_on is None:
                    errors.add("home", gettext("This base has not opened yet: enter its opening date first."))
                elif self.entered_on < self.home.opened_on:
                    errors.add("entered_on", gettext(
                        "The base opened on %(day)s: an organization cannot enter it before.",
                        day=format_date_zh(self.home.opened_on)))
        if self.status in (GRADUATED, LEFT):
            if self.ended_on is None:
                errors.add("ended_on", gettext("Enter the date the organization graduated or left."))
        elif self.ended_on is not None and self.status in RESIDENCY_STATUSES:
            errors.add("ended_on", gettext(
                "Only a residency that has ended (graduated or left) has an end date; leave it empty."))
        if self.ended_on is not None:
            errors.not_future(self, "ended_on", gettext("The end date cannot be in the future."))
            if self.entered_on is not None and self.ended_on < self.entered_on:
                errors.add("ended_on", gettext("The end date cannot be before the entry date."))
        errors.text(self, "note")
        return errors




# == 小组基地一对一 ============================================================================
class Sector(UnitOwned, Model):
    """A 青联 界别 (sector) or 小组 (group) of a unit's youth federation."""

    __tablename__ = "homes_sector"
    __table_args__ = (UniqueConstraint("unit_id", "name", name="uq_homes_sector_unit_name"),)
    __qqh_unique__ = (
        Unique(("unit_id", "name"), _l("This unit already has a sector or group with this name."), field="name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="sector", info=SECTOR_KINDS.info())
    convenor: Mapped[str | None] = mapped_column(String(50))  # 召集人
    note: Mapped[str | None] = mapped_column(Text)

    pairings = relationship("Pairing", cascade="all, delete-orphan", overlaps="sector")

    def __repr__(self) -> str:
        return self.name or ""

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        errors.text(self, "name", required=_l("Enter the name of the sector or group."))
        errors.choice(self, "kind", _l("Choose whether it is a sector or a group."))
        errors.text(self, "convenor")
        errors.text(self, "note")
        return errors


class Pairing(UnitOwned, Model):
    """小组基地一对一: a sector or group pairs with one base, from
    ``started_on``, and records its activities there. A sector has one open
    pairing at a time, and a base one open pairing per youth federation."""

    __tablename__ = "homes_pairing"
    __qqh_unit_from__ = "sector"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("homes_sector.id"), nullable=False, index=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("homes_home.id"), nullable=False, index=True)
    started_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[datetime.date | None] = mapped_column(Date)
    activities: Mapped[str | None] = mapped_column(Text)

    sector = relationship(Sector, overlaps="pairings", lazy="joined")
    home = relationship(Home, overlaps="pairings", lazy="joined")

    def __repr__(self) -> str:
        return f"{self.sector or ''} — {self.home or ''}"

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        sector_id = _id_of(self, "sector", "sector_id")
        home_id = _id_of(self, "home", "home_id")
        if sector_id is None:
            errors.add("sector", gettext("Choose the sector or group."))
        if home_id is None:
            errors.add("home", gettext("Choose the base."))
        if self.started_on is None:
            errors.add("started_on", gettext("Enter the date the pairing started."))
        else:
            errors.not_future(self, "started_on", gettext("The start date cannot be in the future."))
            if self.ended_on is not None and self.ended_on < self.started_on:
                errors.add("ended_on", gettext("The end date cannot be before the start date."))
        errors.not_future(self, "ended_on", gettext("The end date cannot be in the future."))
        errors.text(self, "activities")
        session = session_of(self)
        if not errors and self.ended_on is None and session is not None:
            sector_unit = self.sector.unit_id if self.sector is not None else None
            with session.no_autoflush:
                # one open pairing per sector, and per base and youth federation: checked
                # and written in one step (the sector's and the base's rows locked, core.tenancy.locks)
                lock_rows(session, Sector, sector_id)
                lock_rows(session, Home, home_id)
                q = select(Pairing.id).where(Pairing.sector_id == sector_id, Pairing.ended_on.is_(None))
                if self.id is not None:
                    q = q.where(Pairing.id != self.id)
                if session.execute(q.limit(1)).first() is not None:
                    errors.add("sector", gettext(
                        "This sector or group is already paired with a base: end that pairing first (one to one)."))
                q = (
                    select(Pairing.id)
                    .join(Sector, Sector.id == Pairing.sector_id)
                    .where(Pairing.home_id == home_id, Pairing.ended_on.is_(None), Sector.unit_id == sector_unit)
                )
                if self.id is not None:
                    q = q.where(Pairing.id != self.id)
                if sector_unit is not None and session.execute(q.limit(1)).first() is not None:
                    errors.add("home", gettext(
                        "This base is already paired with another sector or group of the same youth federation."))
        return errors


# == incubation funds and grants ============================================================
def lock_fund(session, fund_id: int) -> None:
    """Lock the fund's row until the end of the current transaction, so that
    checking its balance and writing a grant (or lowering what it committed)
    are one step for everyone (core.tenancy.locks)."""
    GRANTED.lock(session, fund_id)


def _fund_id(grant) -> int | None:
    return _id_of(grant, "fund", "fund_id")


def _counts(grant) -> bool:
    return grant.status != REJECTED and grant.amount is not None


def _granted_stored(session, fund_id: int, leave_out: "Grant | None" = None) -> Decimal:
    """What the fund has granted as stored, leaving out ``leave_out`` and
    the grants checked in this transaction (they count by their new values)."""
    skip_ids = GRANTED.stored_ids(session, leave_out)
    q = select(func.coalesce(func.sum(Grant.amount), 0)).where(Grant.fund_id == fund_id, Grant.status != REJECTED)
    if skip_ids:
        q = q.where(Grant.id.not_in(skip_ids))
    with session.no_autoflush:
        return Decimal(session.execute(q).scalar_one())


def granted_amount(session, fund_id: int, leave_out: "Grant | None" = None) -> Decimal:
    """What the fund has granted (approved or awaiting approval), counting
    the grants checked but not yet written in this transaction by their new
    values, and leaving ``leave_out`` aside."""
    return _granted_stored(session, fund_id, leave_out) + GRANTED.pending(session, fund_id, leave_out=leave_out)


class IncubationFund(UnitOwned, Model):
    """孵化基金: an incubation fund of a League unit, with what each source
    committed (元). Its balance is committed minus granted; it is never
    overdrawn."""

    __tablename__ = "homes_incubation_fund"
    __table_args__ = (UniqueConstraint("unit_id", "name", name="uq_homes_incubation_fund_unit_name"),)
    __qqh_unique__ = (Unique(("unit_id", "name"), _l("This unit already has a fund with this name."), field="name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    established_on: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)
    from_youth_foundation: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=ZERO)
    from_volunteer_foundation: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=ZERO)
    from_federation_members: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=ZERO)
    from_entrepreneurs: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=ZERO)
    from_other: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=ZERO)
    other_source: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def committed(self) -> Decimal:
        return sum((getattr(self, a) or ZERO for a in FUND_SOURCES), ZERO)

    @property
    def granted_total(self) -> Decimal:
        """Granted (approved or awaiting approval), in 元."""
        return Decimal(self.granted or 0).quantize(Decimal("0.01"))

    @property
    def balance(self) -> Decimal:
        return self.committed - (self.granted or ZERO)

    @property
    def committed_text(self) -> str:
        return format_amount(self.committed)

    @property
    def granted_text(self) -> str:
        return format_amount(self.granted or ZERO)

    @property
    def balance_text(self) -> str:
        return format_amount(self.balance)

    @property
    def sources_text(self) -> str:
        parts = []
        for attr, label in FUND_SOURCES.items():
            amount = getattr(self, attr)
            if amount:
                name = f"{label}（{self.other_source}）" if attr == "from_other" and self.other_source else str(label)
                parts.append(f"{name} {format_amount(amount)}")
        return "；".join(parts)

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        errors.text(self, "name", required=_l("Enter the name of the fund."))
        if self.established_on is None:
            errors.add("established_on", gettext("Enter the date the fund was established."))
        else:
            errors.not_future(self, "established_on", gettext("The establishment date cannot be in the future."))
        for attr in FUND_SOURCES:
            if errors.amount(self, attr) is None and attr not in errors:
                setattr(self, attr, ZERO)
        errors.text(self, "other_source")
        errors.text(self, "purpose")
        if not any(a in errors for a in FUND_SOURCES):
            if self.committed <= 0:
                errors.add("from_youth_foundation", gettext("Enter at least one committed amount."))
            if self.from_other and not self.other_source:
                errors.add("other_source", gettext("Name the other source of the committed amount."))
        session = session_of(self)
        if self.id is not None and session is not None and not errors:
            with session.no_autoflush:
                lock_fund(session, self.id)
                granted = granted_amount(session, self.id)
                first = session.execute(
                    select(func.min(Grant.applied_on)).where(Grant.fund_id == self.id)
                ).scalar()
            if self.committed < granted:
                errors.add("from_youth_foundation", gettext(
                    "The committed total (%(committed)s yuan) cannot be less than what the fund has granted "
                    "(%(granted)s yuan).", committed=format_amount(self.committed), granted=format_amount(granted)))
            if first is not None and self.established_on is not None and first < self.established_on:
                errors.add("established_on", gettext(
                    "The fund has a grant applied for on %(day)s, before this date.", day=format_date_zh(first)))
        return errors


class Grant(UnitOwned, Model):
    """资助: a grant from a fund to a youth organization for a purpose.
    Awaiting approval or approved, its amount counts against the fund."""

    __tablename__ = "homes_grant"
    __qqh_unit_from__ = "fund"
    __qqh_remember__ = ("status",)  # an approval decision is final

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("homes_incubation_fund.id"), nullable=False, index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("cultivation_youth_org.id"), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(300), nullable=False)
    applied_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=PENDING, info=GRANT_STATUSES.info())
    approved_on: Mapped[datetime.date | None] = mapped_column(Date)
    approved_by: Mapped[str | None] = mapped_column(String(200))  # who approved, or the document
    note: Mapped[str | None] = mapped_column(Text)

    fund = relationship(IncubationFund, lazy="joined")
    org = relationship(YouthOrg, lazy="joined")

    def __repr__(self) -> str:
        return f"{self.org or ''} {format_amount(self.amount) if self.amount is not None else ''}".strip()

    @property
    def amount_text(self) -> str:
        return format_amount(self.amount) if self.amount is not None else ""

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        session = session_of(self)
        fund_id = _fund_id(self)
        if fund_id is None:
            errors.add("fund", gettext("Choose the incubation fund."))
        if _id_of(self, "org", "org_id") is None:
            errors.add("org", gettext("Choose the youth organization."))
        errors.text(self, "purpose", required=_l("Enter the purpose of the grant."))
        errors.amount(self, "amount", required=True, positive=True)
        self.status = self.status or PENDING
        old = stored_value(self, "status")
        if self.status not in GRANT_STATUSES:
            errors.add("status", gettext("Choose the approval status."))
        elif old in GRANT_NEXT and self.status not in GRANT_NEXT[old]:
            errors.add("status", gettext(
                "A grant cannot go from %(old)s to %(new)s: an approval decision is final.",
                old=GRANT_STATUSES.label(old), new=GRANT_STATUSES.label(self.status)))
        if self.applied_on is None:
            errors.add("applied_on", gettext("Enter the date of the application."))
        else:
            errors.not_future(self, "applied_on", gettext("The application date cannot be in the future."))
            if self.fund is not None and self.fund.established_on is not None and self.applied_on < self.fund.established_on:
                errors.add("applied_on", gettext(
                    "The fund was established on %(day)s: a grant cannot be applied for before.",
                    day=format_date_zh(self.fund.established_on)))
        errors.text(self, "approved_by")
        errors.text(self, "note")
        if self.status in (APPROVED, REJECTED):
            if self.approved_on is None:
                errors.add("approved_on", gettext("Enter the date of the approval decision."))
            if self.status == APPROVED and not self.approved_by:
                errors.add("approved_by", gettext("Enter who approved the grant (or the approval document)."))
        elif self.approved_on is not None and self.status == PENDING:
            errors.add("approved_on", gettext("A grant awaiting approval has no decision date yet; leave it empty."))
        if self.approved_on is not None:
            errors.not_future(self, "approved_on", gettext("The decision date cannot be in the future."))
            if self.applied_on is not None and self.approved_on < self.applied_on:
                errors.add("approved_on", gettext("The decision date cannot be before the application date."))
        if session is None:
            return errors
        if errors or fund_id is None:
            GRANTED.release(session, self)
            return errors
        if not _counts(self):  # held at nothing: its stored amount no longer counts either
            GRANTED.reserve(session, self, fund_id, ZERO)
            return errors
        # the balance is read and the grant written in one locked step
        lock_fund(session, fund_id)
        with session.no_autoflush:
            row = session.execute(
                select(*(getattr(IncubationFund, a) for a in FUND_SOURCES)).where(IncubationFund.id == fund_id)
            ).one_or_none()
        if row is None:
            errors.add("fund", gettext("Choose the incubation fund."))
            GRANTED.release(session, self)
            return errors
        committed = sum((Decimal(v or 0) for v in row), ZERO)
        used = _granted_stored(session, fund_id, leave_out=self)
        if not GRANTED.reserve(session, self, fund_id, self.amount, limit=committed, used=used):
            balance = GRANTED.room(session, self, fund_id, limit=committed, used=used)
            errors.add("amount", gettext(
                "This grant of %(amount)s yuan would overdraw the fund: its balance is %(balance)s yuan.",
                amount=format_amount(self.amount), balance=format_amount(max(balance, ZERO))))
        return errors


# what grants take from a fund's balance, held under the fund's row lock;
# an import's grants checked and not written yet count too (core.api.Limit)
GRANTED = Limit("homes.granted", IncubationFund)


# what a fund has granted (approved or awaiting approval), in the fund's SELECT
IncubationFund.granted = column_property(
    select(func.coalesce(func.sum(Grant.amount), 0))
    .where(Grant.fund_id == IncubationFund.id, Grant.status != REJECTED)
    .correlate_except(Grant)
    .scalar_subquery()
)
