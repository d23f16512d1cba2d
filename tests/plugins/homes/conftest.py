"""Helpers for the homes plugin's tests (the app, live server and users come
from tests/conftest.py). Organizations are made with cultivation's public
model; everything of this plugin goes through its REST API or pages."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from sqlalchemy import func, select

from core.tenancy.units import Unit, unit_by_code

HOME_API = "/api/v1/qinqinghome/"
ENTRY_API = "/api/v1/homechecklistentry/"
ITEM_API = "/api/v1/homechecklistitem/"
RESIDENCY_API = "/api/v1/homeresidency/"
SECTOR_API = "/api/v1/homesector/"
PAIRING_API = "/api/v1/homepairing/"
FUND_API = "/api/v1/incubationfund/"
GRANT_API = "/api/v1/incubationgrant/"


def unique(prefix="测试") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
def db(app):
    """A function that opens a session of the app's database."""

    @contextlib.contextmanager
    def session():
        with app.app_context():
            s = app.appbuilder.session
            try:
                yield s
            finally:
                s.rollback()

    return session


@pytest.fixture
def unit_ids(app):
    with app.app_context():
        return dict(app.appbuilder.session.execute(select(Unit.code, Unit.id)).all())


@pytest.fixture
def make_org(app):
    """A youth organization of the unit with ``code`` (cultivation's public model)."""

    def make(code="440600", **kw):
        from plugins.cultivation.models import YouthOrg

        with app.app_context():
            s = app.appbuilder.session
            org = YouthOrg(name=unique("家园测试组织"), unit=unit_by_code(s, code), category="interest",
                           service_field="other", reg_status="unregistered", **kw)
            s.add(org)
            s.commit()
            return org.id

    return make


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


def create(client, api, payload) -> int:
    r = client.post(api, json=payload)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def count(db, model, **where) -> int:
    with db() as s:
        q = select(func.count(model.id))
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.execute(q).scalar_one()
