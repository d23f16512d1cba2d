"""Public models of the cultivation plugin (培育"亲青汇"青年社会组织).

Other plugins that need a youth organization declare ``requires=("cultivation",)``
in their manifest and import from here only::

    from plugins.cultivation.models import YouthOrg

``YouthOrg`` is the registry of youth social organizations (青年社会组织);
``Service`` is one service a League unit gives an organization (注册辅导,
购买服务, 财务托管, free 场地/网络/后勤). Both are unit-owned (core scoping).
Enumerations are stored as short codes; the dicts below map code → Chinese
label (lazy gettext), for forms, lists, import templates and reports.

``validate()`` holds every rule, so pages, REST API and import refuse the
same input with the same Chinese message and write nothing. It also
normalises values (credit code in capitals, phone in standard form).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from flask_appbuilder import Model
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.api import (
    CREDIT_CODE_PATTERN,
    Choices,
    Errors,
    PHONE_PATTERN,
    Unique,
    UnitOwned,
    ValidationError,
    credit_code,
    format_amount,
    format_date_zh,
    in_scope,
    limits,
    phone,
)

__all__ = [
    "YouthOrg",
    "Service",
    "CATEGORIES",
    "SERVICE_FIELDS",
    "REG_STATUSES",
    "LEGAL_FORMS",
    "SERVICE_KINDS",
    "COUNSELLING_OUTCOMES",
    "REGISTERED",
    "find_orgs",
    "org_cell",
]

# 两大类 (notice 三(一))
CATEGORIES = Choices({
    "league_affairs": _l("Takes on League affairs"),  # 承接共青团事务类
    "interest": _l("Youth interests and self-organised"),  # 兴趣爱好自主类
})
# the notice's five service fields, plus other
SERVICE_FIELDS = Choices({
    "migrant_workers": _l("Social integration of new-generation industrial workers"),
    "graduates": _l("Employment and entrepreneurship of university students"),
    "left_behind_children": _l("Healthy growth of left-behind children"),
    "creative_culture": _l("Youth creative culture"),
    "youth_rights": _l("Protection of the lawful rights of young people"),
    "other": _l("Other field"),
})
REGISTERED = "registered"
REG_STATUSES = Choices({
    "unregistered": _l("Not registered"),
    "registering": _l("Registration in progress"),
    REGISTERED: _l("Registered"),
})
# legal form of a registered organization (民政 registration)
LEGAL_FORMS = Choices({
    "private_non_enterprise": _l("Private non-enterprise unit"),  # 民办非企业单位
    "social_group": _l("Social group"),  # 社会团体
    "other": _l("Other legal form"),
})

COUNSELLING, PURCHASE, CUSTODY = "counselling", "purchase", "custody"
SERVICE_KINDS = Choices({
    COUNSELLING: _l("Registration counselling"),  # 注册辅导
    PURCHASE: _l("Purchased service"),  # 购买服务
    CUSTODY: _l("Financial custody"),  # 财务托管
    "venue": _l("Free venue"),  # 场地
    "network": _l("Free network"),  # 网络
    "logistics": _l("Free logistics"),  # 后勤
})
COUNSELLING_OUTCOMES = Choices({
    "registered": _l("Registered successfully"),
    "in_progress": _l("Still in progress"),
    "not_registered": _l("Not registered in the end"),
})

MAX_MEMBERS = 1_000_000


class YouthOrg(UnitOwned, Model):
    """青年社会组织: a youth social organization on a unit's registry.

    ``directly_connected_on``: the day the unit put it on its direct-contact
    list (直接联系名单); ``is_pilot``: one of the unit's pilots (试点);
    ``cultivated_on``: the day the unit counts it as cultivated (培育).
    """

    __tablename__ = "cultivation_youth_org"
    __table_args__ = (
        UniqueConstraint("credit_code", name="uq_cultivation_youth_org_credit_code"),  # NULLs may repeat
        UniqueConstraint("unit_id", "name", name="uq_cultivation_youth_org_unit_name"),
    )
    # checked by core after validate(): one query per record, per batch in an import
    __qqh_unique__ = (
        Unique(("credit_code",), _l("Another organization already has this credit code.")),
        Unique(("unit_id", "name"), _l("This unit already has an organization with this name."), field="name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    credit_code: Mapped[str | None] = mapped_column(String(18), info=limits(pattern=CREDIT_CODE_PATTERN))
    category: Mapped[str] = mapped_column(String(20), nullable=False, info=CATEGORIES.info())
    service_field: Mapped[str] = mapped_column(String(30), nullable=False, info=SERVICE_FIELDS.info())
    reg_status: Mapped[str] = mapped_column(String(20), nullable=False, default="unregistered", info=REG_STATUSES.info())
    legal_form: Mapped[str | None] = mapped_column(String(30), info=LEGAL_FORMS.info())
    founded_on: Mapped[datetime.date | None] = mapped_column(Date)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30), info=limits(pattern=PHONE_PATTERN))
    members: Mapped[int | None] = mapped_column(Integer, info=limits(minimum=0, maximum=MAX_MEMBERS))
    youth_share: Mapped[int | None] = mapped_column(Integer, info=limits(minimum=0, maximum=100))  # per cent of members aged 14-35
    directly_connected_on: Mapped[datetime.date | None] = mapped_column(Date, index=True)
    is_pilot: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    cultivated_on: Mapped[datetime.date | None] = mapped_column(Date, index=True)
    note: Mapped[str | None] = mapped_column(Text)

    # deleting an organization deletes its services; no back-reference, so a
    # service being entered is not attached to the organization before it is
    # checked and written
    services = relationship(
        "Service", cascade="all, delete-orphan", order_by="Service.starts_on.desc()", overlaps="org"
    )

    def __repr__(self) -> str:
        return self.name or ""

    # category_label, service_field_label, reg_status_label, legal_form_label:
    # given by core for every column with choices (core.values.choices)

    @property
    def directly_connected(self) -> bool:
        return self.directly_connected_on is not None

    # -- rules ----------------------------------------------------------------
    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        errors.text(self, "name", required=_l("Enter the organization's name."))
        errors.choice(self, "category", _l("Choose the category."))  # lazy: translated only when said
        errors.choice(self, "service_field", _l("Choose the service field."))
        errors.choice(self, "reg_status", _l("Choose the registration status."))
        errors.parsed(self, "credit_code", credit_code)
        self.legal_form = self.legal_form or None
        if self.reg_status == REGISTERED:
            if not self.credit_code and "credit_code" not in errors:
                errors.add("credit_code", gettext("A registered organization must have its unified social credit code."))
            if self.legal_form not in LEGAL_FORMS:
                errors.add("legal_form", gettext("Choose the legal form of the registered organization."))
        elif self.legal_form is not None:
            errors.add("legal_form", gettext("Only a registered organization has a legal form; leave it empty."))
        errors.not_future(self, "founded_on", _l("The founding date cannot be in the future."))
        errors.not_future(self, "directly_connected_on", _l("The direct-contact date cannot be in the future."))
        errors.not_future(self, "cultivated_on", _l("The cultivation date cannot be in the future."))
        errors.text(self, "contact_name")
        errors.parsed(self, "contact_phone", phone)
        if self.members is not None and self.members < 0:
            errors.add("members", gettext("The number of members cannot be negative."))
        elif self.members is not None and self.members > MAX_MEMBERS:
            errors.add("members", gettext("The number of members is implausibly large."))
        if self.youth_share is not None and not 0 <= self.youth_share <= 100:
            errors.add("youth_share", gettext("The youth share is a percentage from 0 to 100."))
        if self.is_pilot is None:
            self.is_pilot = False
        return errors


class Service(UnitOwned, Model):
    """A service a League unit gives a youth organization (服务).

    One model with a ``kind``, rather than one model per kind: the kinds share
    the organization, the period and the note; an organization's profile, the
    REST API and the import list are one list; ``validate()`` says which
    fields each kind needs. Its unit is always its organization's unit, so a
    service is seen exactly by those who see the organization.
    """

    __tablename__ = "cultivation_service"
    __qqh_unit_from__ = "org"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("cultivation_youth_org.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, info=SERVICE_KINDS.info())
    starts_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[datetime.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20), info=COUNSELLING_OUTCOMES.info())  # registration counselling
    contract: Mapped[str | None] = mapped_column(String(200))  # purchased service
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # purchased service, 元
    custodian: Mapped[str | None] = mapped_column(String(200))  # financial custody
    note: Mapped[str | None] = mapped_column(Text)

    org = relationship(YouthOrg, overlaps="services")

    def __repr__(self) -> str:
        return f"{self.kind_label} {self.starts_on or ''}".strip()

    @property
    def amount_text(self) -> str:
        return format_amount(self.amount) if self.amount is not None else ""

    @property
    def period_text(self) -> str:
        start = format_date_zh(self.starts_on)
        if self.ends_on is None:
            return start
        return f"{start}—{format_date_zh(self.ends_on)}"

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        if self.org is None and self.org_id is None:
            errors.add("org", gettext("Choose the youth organization."))
        errors.choice(self, "kind", _l("Choose the kind of service."))
        if self.starts_on is None:
            errors.add("starts_on", gettext("Enter the date the service started."))
        elif self.ends_on is not None and self.ends_on < self.starts_on:
            errors.add("ends_on", gettext("The end date cannot be before the start date."))
        for field in ("contract", "custodian", "note"):
            errors.text(self, field)
        self.outcome = self.outcome or None
        errors.amount(self, "amount")
        kind = self.kind
        if kind == COUNSELLING:
            if self.outcome not in COUNSELLING_OUTCOMES:
                errors.add("outcome", gettext("Choose the outcome of the registration counselling."))
        elif self.outcome is not None:
            errors.add("outcome", gettext("Only registration counselling has an outcome; leave it empty."))
        if kind == PURCHASE:
            if not self.contract:
                errors.add("contract", gettext("Enter the contract of the purchased service."))
            if self.amount is None and "amount" not in errors:
                errors.add("amount", gettext("Enter the amount of the purchased service in yuan."))
            if self.ends_on is None and self.starts_on is not None:
                errors.add("ends_on", gettext("Enter the end of the purchased service's period."))
        else:
            if self.contract is not None:
                errors.add("contract", gettext("Only a purchased service has a contract; leave it empty."))
            if self.amount is not None and "amount" not in errors:
                errors.add("amount", gettext("Only a purchased service has an amount; leave it empty."))
        if kind == CUSTODY:
            if not self.custodian:
                errors.add("custodian", gettext("Enter the custodian of the financial custody."))
        elif self.custodian is not None:
            errors.add("custodian", gettext("Only financial custody has a custodian; leave it empty."))
        return errors


# -- an organization named in a file ------------------------------------------------------
def org_cell(org) -> str:
    """How an organization is written in an export (any plugin's list that
    points to one): its credit code when it has one (unique), else its name
    — what :func:`find_orgs` reads back."""
    return org.credit_code or org.name


def find_orgs(session, texts, scope) -> dict:
    """Youth organizations in ``scope`` written by credit code or by an exact
    name that only one organization in reach has: {text: YouthOrg}. One
    query whatever the rows (an import column's ``ref_many``)."""
    texts = {t for t in texts if t and t.strip()}
    if not texts:
        return {}
    codes: dict[str, str] = {}
    for t in texts:
        try:
            code = credit_code(t)
        except ValidationError:
            code = None
        if code:
            codes[t] = code
    cond = YouthOrg.name.in_(sorted({t.strip() for t in texts}))
    if codes:
        cond = or_(cond, YouthOrg.credit_code.in_(sorted(set(codes.values()))))
    by_code, by_name = {}, {}
    for org in session.execute(in_scope(select(YouthOrg).where(cond), YouthOrg, scope)).scalars():
        if org.credit_code:
            by_code[org.credit_code] = org
        by_name.setdefault(org.name, []).append(org)
    out = {}
    for t in texts:
        if t in codes and codes[t] in by_code:
            out[t] = by_code[codes[t]]
        elif len(by_name.get(t.strip(), [])) == 1:
            out[t] = by_name[t.strip()][0]
    return out
