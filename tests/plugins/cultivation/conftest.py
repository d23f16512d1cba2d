"""Helpers for the cultivation plugin's tests (the app, live server and
users come from tests/conftest.py)."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from sqlalchemy import func, select

from core.tenancy.units import Unit
from core.values.validators import credit_code_check_char


def unique(prefix="测试组织") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def new_credit_code(division="440600") -> str:
    """A valid credit code nobody else uses (random organization part)."""
    body = "52" + division + "T" + uuid.uuid4().hex[:8].upper()  # hex: never I O Z S V
    return body + credit_code_check_char(body)


@pytest.fixture
def db(app):
    """A function that opens a fresh session of the app's database."""

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


def count_orgs(db, **where) -> int:
    from plugins.cultivation.models import YouthOrg

    with db() as s:
        q = select(func.count(YouthOrg.id))
        for k, v in where.items():
            q = q.where(getattr(YouthOrg, k) == v)
        return s.execute(q).scalar_one()


def count_services(db, **where) -> int:
    from plugins.cultivation.models import Service

    with db() as s:
        q = select(func.count(Service.id))
        for k, v in where.items():
            q = q.where(getattr(Service, k) == v)
        return s.execute(q).scalar_one()
