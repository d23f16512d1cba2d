"""Helpers for the cultivation plugin's tests. The app, live server, users and the ``db`` and ``unit_ids``
fixtures are core.testing's (core.testing.plugin). The plugins that require cultivation (homes, training)
make their organizations with ``make_org`` and ``org_payload`` from here: this module is cultivation's
public test helpers."""

from __future__ import annotations

import uuid

import pytest

from core.api import credit_code_check_char
from core.testing import count, unique as _unique
from core.testing.engines import unit_by_code


def unique(prefix="测试组织") -> str:
    return _unique(prefix)


def new_credit_code(division="440600") -> str:
    """A valid credit code nobody else uses (random organization part)."""
    body = "52" + division + "T" + uuid.uuid4().hex[:8].upper()  # hex: never I O Z S V
    return body + credit_code_check_char(body)


@pytest.fixture
def org_payload(unit_ids):
    def make(unit="440600", **kw):
        data = {
            "name": unique(),
            "unit": unit_ids[unit],
            "category": "league_affairs",
            "service_field": "graduates",
            "reg_status": "unregistered",
            "contact_name": "陈嘉欣",
            "contact_phone": "13812345678",
            "members": 30,
            "youth_share": 80,
            "founded_on": "2011-05-04",
            "directly_connected_on": "2012-03-15",
            "is_pilot": False,
        }
        data.update(kw)
        return {k: v for k, v in data.items() if v is not ...}

    return make


@pytest.fixture
def make_org(app):
    """``make_org(unit="440600", name=None, **columns)``: a youth organization of that unit, made directly
    in the database (as another plugin's test needs one); returns its id."""

    def make(unit="440600", name=None, **kw):
        from plugins.cultivation.models import YouthOrg

        with app.app_context():
            s = app.appbuilder.session
            org = YouthOrg(name=name or unique(), unit=unit_by_code(s, unit), category="interest",
                           service_field="other", reg_status="unregistered", **kw)
            s.add(org)
            s.commit()
            return org.id

    return make


def count_orgs(db, **where) -> int:
    from plugins.cultivation.models import YouthOrg

    return count(db, YouthOrg, **where)


def count_services(db, **where) -> int:
    from plugins.cultivation.models import Service

    return count(db, Service, **where)
