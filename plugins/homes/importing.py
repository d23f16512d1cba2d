"""Importable/exportable lists of the homes plugin (core's import engine
reads them through ``qqh_importables``).

* ``qinqinghome`` — the bases (亲青家园), identified by name within the unit.
* ``incubationfund`` — incubation funds with their committed amounts per
  source, identified by name within the unit.
* ``incubationgrant`` — grants; the fund is named as 名称（单位代码） or by its
  name alone, the organization by its credit code or its name. Every row is
  checked against the fund's balance together with the rows above it, under
  the fund's lock, so a file can never overdraw a fund.
"""

from __future__ import annotations

import datetime
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.api import Column, Importable, Unit, in_scope, phone
from plugins.cultivation.models import find_orgs, org_cell
from plugins.homes.models import (
    FUND_SOURCES,
    HOME_SERVICES,
    Grant,
    Home,
    IncubationFund,
    parse_area,
)

_NAME_AND_CODE = re.compile(r"(?P<name>.+?)[（(](?P<code>[0-9A-Za-z_-]+)[）)]")


_scoped = in_scope


# -- references --------------------------------------------------------------------------
def fund_cell(fund) -> str:
    """How a grant's fund is written in an export: 名称（单位代码）."""
    return f"{fund.name}（{fund.unit.code}）"


def find_funds(session, texts: set[str], scope) -> dict[str, IncubationFund]:
    """Funds in ``scope`` named 名称（单位代码） or by a name that is unique
    within reach; one query."""
    wanted: dict[str, tuple[str, str | None]] = {}
    for t in texts:
        m = _NAME_AND_CODE.fullmatch(t.strip())
        wanted[t] = (m["name"].strip(), m["code"]) if m else (t.strip(), None)
    names = {n for n, _c in wanted.values()}
    if not names:
        return {}
    stmt = _scoped(
        select(IncubationFund, Unit.code).join(Unit, Unit.id == IncubationFund.unit_id).where(IncubationFund.name.in_(names)),
        IncubationFund,
        scope,
    )
    by_name: dict[str, list[tuple[IncubationFund, str]]] = {}
    for fund, code in session.execute(stmt).all():
        by_name.setdefault(fund.name, []).append((fund, code))
    out = {}
    for t, (name, code) in wanted.items():
        found = [f for f, c in by_name.get(name, []) if code is None or c == code]
        if len(found) == 1:
            out[t] = found[0]
    return out


# -- the lists -------------------------------------------------------------------------------
HOMES = Importable(
    name="qinqinghome",
    model=Home,
    label=_l("Qinqing homes"),
    columns=(
        Column("name", _l("Name of the base"), required=True, example="广州市青年社会组织孵化基地", width=30),
        Column("unit", _l("Owning unit"), kind="unit", required=True, example="440100",
               help=_l("Code or full name of the League unit.")),
        Column("kind", _l("Kind of base"), kind="enum", required=True, example="youth_centre"),
        Column("address", _l("Address"), required=True, example="广州市越秀区北京路广州市青年文化宫7楼", width=36),
        Column("area", _l("Area (m²)"), kind="decimal", parse=parse_area, example="800",
               help=_l("Floor area in square metres.")),
        Column("opened_on", _l("Opened on"), kind="date", example=datetime.date(2012, 3, 15),
               help=_l("Empty while the base is being built: it is counted from this day.")),
        Column("signage_on", _l("Sign hung on"), kind="date", example=datetime.date(2012, 3, 15)),
        *(Column(attr, label, kind="bool", example=True) for attr, label in HOME_SERVICES.items()),
        Column("manager", _l("Manager"), example="陈晓婷"),
        Column("phone", _l("Contact phone"), parse=phone, example="020-83331234"),
        Column("note", _l("Remarks")),
    ),
    natural_key=("name", "unit"),
)

FUNDS = Importable(
    name="incubationfund",
    model=IncubationFund,
    label=_l("Incubation funds"),
    columns=(
        Column("name", _l("Name of the fund"), required=True, example="佛山市青年社会组织孵化基金", width=30),
        Column("unit", _l("Owning unit"), kind="unit", required=True, example="440600",
               help=_l("Code or full name of the League unit.")),
        Column("established_on", _l("Established on"), kind="date", required=True, example=datetime.date(2012, 5, 28)),
        Column("from_youth_foundation", FUND_SOURCES["from_youth_foundation"], kind="decimal", example="1000000.00",
               help=_l("Committed amount in yuan; 0 if none.")),
        Column("from_volunteer_foundation", FUND_SOURCES["from_volunteer_foundation"], kind="decimal", example="500000.00"),
        Column("from_federation_members", FUND_SOURCES["from_federation_members"], kind="decimal", example="300000.00"),
        Column("from_entrepreneurs", FUND_SOURCES["from_entrepreneurs"], kind="decimal", example="200000.00"),
        Column("from_other", FUND_SOURCES["from_other"], kind="decimal", example="0"),
        Column("other_source", _l("Name of the other source"),
               help=_l("Required when another source committed an amount.")),
        Column("purpose", _l("Use of the fund"), example="扶持本市亲青家园建设和入驻青年社会组织", width=30),
    ),
    natural_key=("name", "unit"),
)

GRANTS = Importable(
    name="incubationgrant",
    model=Grant,
    label=_l("Grants"),
    columns=(
        Column("fund", _l("Incubation fund"), kind="ref", required=True, ref_many=find_funds, format=fund_cell,
               example="佛山市青年社会组织孵化基金（440600）", width=34,
               help=_l("Name of the fund, with its unit code in brackets when two units use the same name.")),
        Column("org", _l("Youth organization"), kind="ref", required=True, ref_many=find_orgs, format=org_cell,
               example="容桂街道青少年成长促进会", width=30, help=_l("Credit code or exact name of the organization.")),
        Column("unit", _l("Owning unit"), kind="unit", help=_l("Leave empty: a grant belongs to its fund's unit.")),
        Column("purpose", _l("Purpose"), required=True, example="青少年社工服务项目启动资金", width=30),
        Column("applied_on", _l("Applied on"), kind="date", required=True, example=datetime.date(2012, 6, 15)),
        Column("amount", _l("Amount (yuan)"), kind="decimal", required=True, example="50000.00"),
        Column("status", _l("Approval"), kind="enum", example="approved",
               help=_l("Empty means awaiting approval.")),
        Column("approved_on", _l("Decided on"), kind="date", example=datetime.date(2012, 6, 30)),
        Column("approved_by", _l("Approved by"), example="佛山团市委书记办公会"),
        Column("note", _l("Remarks")),
    ),
    natural_key=("fund", "org", "applied_on"),
    defaults={"status": "pending"},
)

IMPORTABLES = [HOMES, FUNDS, GRANTS]
