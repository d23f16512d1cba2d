"""Helpers for the homes plugin's tests (the app, live server, users, ``db`` and ``unit_ids`` are
core.testing's fixtures). Organizations are made with the test helpers of cultivation, the plugin homes
requires (``make_org``, ``org_payload``); everything of this plugin goes through its REST API or pages."""

from __future__ import annotations

from core.testing import count, create, unique  # noqa: F401 (this folder's tests take them from here)
from plugins.cultivation.tests.conftest import make_org, org_payload  # noqa: F401 (fixtures)

HOME_API = "/api/v1/qinqinghome/"
ENTRY_API = "/api/v1/homechecklistentry/"
ITEM_API = "/api/v1/homechecklistitem/"
RESIDENCY_API = "/api/v1/homeresidency/"
SECTOR_API = "/api/v1/homesector/"
PAIRING_API = "/api/v1/homepairing/"
FUND_API = "/api/v1/incubationfund/"
GRANT_API = "/api/v1/incubationgrant/"


def home_payload(unit_ids, unit="440600", **kw):
    data = {
        "name": unique("测试家园"),
        "unit": unit_ids[unit],
        "kind": "youth_centre",
        "address": "佛山市禅城区岭南大道北120号",
        "area": "350.50",
        "opened_on": "2012-04-01",
        "signage_on": "2012-05-04",
        "offers_venue": True,
        "offers_network": True,
        "manager": "陈嘉欣",
        "phone": "0757-83331234",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not ...}


def fund_payload(unit_ids, unit="440600", **kw):
    data = {
        "name": unique("测试孵化基金"),
        "unit": unit_ids[unit],
        "established_on": "2012-05-20",
        "from_youth_foundation": "60000.00",
        "from_volunteer_foundation": "40000",
        "from_federation_members": "0",
        "from_entrepreneurs": "0",
        "from_other": "0",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not ...}


def grant_payload(fund, org, **kw):
    data = {"fund": fund, "org": org, "purpose": "项目启动资金", "applied_on": "2012-06-01", "amount": "10000.00"}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not ...}
