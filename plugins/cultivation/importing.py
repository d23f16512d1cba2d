"""Importable/exportable lists of the cultivation plugin (core's import
engine reads them through ``qqh_importables``).

* ``youthorg`` — the youth organization registry, which is the direct-contact
  list (直接联系名单): a row with a 直接联系日期 is on the list.
* ``youthorgservice`` — services given to organizations; the organization is
  named by its credit code or by its name.
"""

from __future__ import annotations

import datetime

from flask_babel import lazy_gettext as _l
from core.api import Column, Importable, credit_code, phone
from plugins.cultivation.models import (
    CATEGORIES,
    LEGAL_FORMS,
    REG_STATUSES,
    SERVICE_FIELDS,
    SERVICE_KINDS,
    Service,
    YouthOrg,
    find_orgs,
    org_cell,
)

# An organization is identified by its credit code when it has one, else by
# its name within its unit; both are unique. core's engine takes one key and
# treats a row with an empty key part as new, so the key is (name, unit),
# which every row has: re-importing a list updates (or skips) instead of
# duplicating, and validate() refuses a credit code that another
# organization already has.
ORG_KEYS = (("credit_code",), ("name", "unit"))


YOUTHORG = Importable(
    name="youthorg",
    model=YouthOrg,
    label=_l("Youth organizations (direct-contact list)"),
    columns=(
        Column("name", _l("Organization name"), required=True, example="容桂街道青少年成长促进会"),
        Column("unit", _l("Owning unit"), kind="unit", required=True, example="440606",
               help=_l("Code or full name of the League unit.")),
        Column("credit_code", _l("Unified social credit code"), parse=credit_code, example="52440606MJL123456B",
               help=_l("18 characters; required once the organization is registered.")),
        Column("category", _l("Category"), kind="enum", required=True,
               example=CATEGORIES["league_affairs"]),
        Column("service_field", _l("Service field"), kind="enum", required=True,
               example=SERVICE_FIELDS["left_behind_children"]),
        Column("reg_status", _l("Registration status"), kind="enum", required=True,
               example=REG_STATUSES["registered"]),
        Column("legal_form", _l("Legal form"), kind="enum", example=LEGAL_FORMS["social_group"],
               help=_l("Only for registered organizations.")),
        Column("founded_on", _l("Founded on"), kind="date", example=datetime.date(2010, 6, 1)),
        Column("contact_name", _l("Contact person"), example="梁嘉欣"),
        Column("contact_phone", _l("Contact phone"), parse=phone, example="0757-22383456"),
        Column("members", _l("Members"), kind="int", example=60),
        Column("youth_share", _l("Youth share (%)"), kind="int", example=85),
        Column("directly_connected_on", _l("Directly connected on"), kind="date", example=datetime.date(2012, 3, 15),
               help=_l("The day your unit put it on its direct-contact list; empty if it is not on the list.")),
        Column("is_pilot", _l("Pilot"), kind="bool", example=_l("Yes")),
        Column("cultivated_on", _l("Cultivated on"), kind="date", example=datetime.date(2012, 6, 30)),
        Column("note", _l("Remarks"), example=""),
    ),
    natural_key=ORG_KEYS[1],
)

SERVICE = Importable(
    name="youthorgservice",
    model=Service,
    label=_l("Services to organizations"),
    columns=(
        Column("org", _l("Youth organization"), kind="ref", required=True, ref_many=find_orgs, format=org_cell,
               example="容桂街道青少年成长促进会", help=_l("Credit code or exact name of the organization."), width=30),
        Column("unit", _l("Owning unit"), kind="unit",
               help=_l("Leave empty: a service belongs to its organization's unit.")),
        Column("kind", _l("Kind of service"), kind="enum", required=True,
               example=SERVICE_KINDS["purchase"]),
        Column("starts_on", _l("Start date"), kind="date", required=True, example=datetime.date(2012, 4, 1)),
        Column("ends_on", _l("End date"), kind="date", example=datetime.date(2012, 12, 31)),
        Column("outcome", _l("Outcome"), kind="enum",
               help=_l("Registration counselling only.")),
        Column("contract", _l("Contract"), example="飞扬地带青少年社工服务购买合同"),
        Column("amount", _l("Amount (yuan)"), kind="decimal", example="120000.00"),
        Column("custodian", _l("Custodian"), help=_l("Financial custody only: who keeps the accounts.")),
        Column("note", _l("Remarks")),
    ),
    natural_key=("org", "kind", "starts_on"),
)

IMPORTABLES = [YOUTHORG, SERVICE]
