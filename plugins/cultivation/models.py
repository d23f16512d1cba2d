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
from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.api import (
    CREDIT_CODE_PATTERN,
    Choices,
    PHONE_PATTERN,
    Unique,
    UnitOwned,
    ValidationError,
    clock,
    credit_code,
    format_amount,
    format_date_zh,
    limits,
    parse_amount,
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

MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_MEMBERS = 1_000_000


def _add(errors: dict, field: str, message) -> None:
    errors.setdefault(field, []).append(str(message))


def _check_lengths(item, errors: dict, fields) -> None:
    """Text longer than its column is refused here, whatever the way in."""
    for field in fields:
        value = getattr(item, field)
        limit = type(item).__table__.c[field].type.length
        if value and len(value) > limit:
            _add(errors, field, gettext("At most %(n)d characters (this has %(got)d).", n=limit, got=len(value)))


def _today() -> datetime.date:
    return clock.today()


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

    # -- labels shown in lists and on the profile -------------------------
    category_label = CATEGORIES.label_of("category")

    service_field_label = SERVICE_FIELDS.label_of("service_field")

    reg_status_label = REG_STATUSES.label_of("reg_status")

    legal_form_label = LEGAL_FORMS.label_of("legal_form")

    @property
    def directly_connected(self) -> bool:
        return self.directly_connected_on is not None

    # -- rules ----------------------------------------------------------------
    def validate(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        self.name = (self.name or "").strip()
        if not self.name:
            _add(errors, "name", gettext("Enter the organization's name."))
        _check_lengths(self, errors, ("name", "contact_name"))
        for field, choices, message in (
            ("category", CATEGORIES, _l("Choose the category.")),  # lazy: translated only when said
            ("service_field", SERVICE_FIELDS, _l("Choose the service field.")),
            ("reg_status", REG_STATUSES, _l("Choose the registration status.")),
        ):
            if getattr(self, field) not in choices:
                _add(errors, field, message)
        try:
            self.credit_code = credit_code(self.credit_code)
        except ValidationError as exc:
            _add(errors, "credit_code", exc)
        self.legal_form = self.legal_form or None
        if self.reg_status == REGISTERED:
            if not self.credit_code and "credit_code" not in errors:
                _add(errors, "credit_code", gettext("A registered organization must have its unified social credit code."))
            if self.legal_form not in LEGAL_FORMS:
                _add(errors, "legal_form", gettext("Choose the legal form of the registered organization."))
        elif self.legal_form is not None:
            _add(errors, "legal_form", gettext("Only a registered organization has a legal form; leave it empty."))
        today = _today()
        for field, message in (
            ("founded_on", _l("The founding date cannot be in the future.")),
            ("directly_connected_on", _l("The direct-contact date cannot be in the future.")),
            ("cultivated_on", _l("The cultivation date cannot be in the future.")),
        ):
            day = getattr(self, field)
            if day is not None and day > today:
                _add(errors, field, message)
        self.contact_name = (self.contact_name or "").strip() or None
        if (self.contact_phone or "").strip():
            try:
                self.contact_phone = phone(self.contact_phone)
            except ValidationError as exc:
                _add(errors, "contact_phone", exc)
        else:
            self.contact_phone = None
        if self.members is not None and self.members < 0:
            _add(errors, "members", gettext("The number of members cannot be negative."))
        elif self.members is not None and self.members > MAX_MEMBERS:
            _add(errors, "members", gettext("The number of members is implausibly large."))
        if self.youth_share is not None and not 0 <= self.youth_share <= 100:
            _add(errors, "youth_share", gettext("The youth share is a percentage from 0 to 100."))
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

    kind_label = SERVICE_KINDS.label_of("kind")

    outcome_label = COUNSELLING_OUTCOMES.label_of("outcome")

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
        errors: dict[str, list[str]] = {}
        if self.org is None and self.org_id is None:
            _add(errors, "org", gettext("Choose the youth organization."))
        if self.kind not in SERVICE_KINDS:
            _add(errors, "kind", gettext("Choose the kind of service."))
        if self.starts_on is None:
            _add(errors, "starts_on", gettext("Enter the date the service started."))
        elif self.ends_on is not None and self.ends_on < self.starts_on:
            _add(errors, "ends_on", gettext("The end date cannot be before the start date."))
        for field in ("contract", "custodian", "note"):
            setattr(self, field, (getattr(self, field) or "").strip() or None)
        _check_lengths(self, errors, ("contract", "custodian"))
        self.outcome = self.outcome or None
        if self.amount is not None:
            try:
                self.amount = parse_amount(self.amount)
                if self.amount > MAX_AMOUNT:
                    _add(errors, "amount", gettext("The amount is too large."))
            except ValidationError as exc:
                _add(errors, "amount", exc)
        kind = self.kind
        if kind == COUNSELLING:
            if self.outcome not in COUNSELLING_OUTCOMES:
                _add(errors, "outcome", gettext("Choose the outcome of the registration counselling."))
        elif self.outcome is not None:
            _add(errors, "outcome", gettext("Only registration counselling has an outcome; leave it empty."))
        if kind == PURCHASE:
            if not self.contract:
                _add(errors, "contract", gettext("Enter the contract of the purchased service."))
            if self.amount is None and "amount" not in errors:
                _add(errors, "amount", gettext("Enter the amount of the purchased service in yuan."))
            if self.ends_on is None and self.starts_on is not None:
                _add(errors, "ends_on", gettext("Enter the end of the purchased service's period."))
        else:
            if self.contract is not None:
                _add(errors, "contract", gettext("Only a purchased service has a contract; leave it empty."))
            if self.amount is not None and "amount" not in errors:
                _add(errors, "amount", gettext("Only a purchased service has an amount; leave it empty."))
        if kind == CUSTODY:
            if not self.custodian:
                _add(errors, "custodian", gettext("Enter the custodian of the financial custody."))
        elif self.custodian is not None:
            _add(errors, "custodian", gettext("Only financial custody has a custodian; leave it empty."))
        return errors
