"""Helpers for the training plugin's tests (the app, live server and users
come from tests/conftest.py). Every test makes its own records with unique
names; nothing assumes an empty table."""

from __future__ import annotations

import contextlib
import random
import uuid

import pytest
from sqlalchemy import func, select

from core.tenancy.units import Unit, unit_by_code
from core.values.validators import resident_id_check_char

CAMPS = "/api/v1/trainingcamp/"
ENROL = "/api/v1/trainingenrolment/"
LECTURERS = "/api/v1/traininglecturer/"
TRAINEES = "/api/v1/trainingtrainee/"


def unique(prefix="测试") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def new_resident_id(male: bool = True, division: str = "440606") -> str:
    """A valid ID number nobody else uses (random birth date and sequence)."""
    rnd = random.Random(uuid.uuid4().int)
    born = f"{rnd.randint(1970, 2000)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
    seq = rnd.randint(0, 49) * 20 + rnd.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
    body = f"{division}{born}{seq:03d}"
    return body + resident_id_check_char(body)


def new_mobile() -> str:
    return "139" + f"{uuid.uuid4().int % 10**8:08d}"


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
    """A youth organization of ``unit`` (cultivation's public model), made
    directly in the database; returns its id."""
    from plugins.cultivation.models import YouthOrg

    def make(unit="440606", name=None):
        with app.app_context():
            s = app.appbuilder.session
            org = YouthOrg(name=name or unique("训练测试组织"), unit=unit_by_code(s, unit), category="interest",
                           service_field="other", reg_status="unregistered")
            s.add(org)
            s.commit()
            return org.id

    return make


@pytest.fixture
def camp_payload(unit_ids):
    def make(unit="440600", **kw):
        data = {
            "title": unique("佛山市“亲青汇训练营”"),
            "session_no": 1,
            "unit": unit_ids[unit],
            "starts_on": "2012-04-20",
            "ends_on": "2012-04-22",
            "place": "佛山市南海区桂城街道",
            "capacity": 30,
            "status": "open",
            "media_partners": "佛山日报",
            "org_partners": "南海桂城创益中心",
            "institution_partners": "公益大讲堂",
        }
        data.update(kw)
        return {k: v for k, v in data.items() if v is not ...}

    return make


def create(client, url, payload) -> int:
    r = client.post(url, json=payload)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def person(**kw) -> dict:
    data = {"name": unique("学员")[:10], "gender": "male", "phone": new_mobile(), "resident_id": new_resident_id(),
            "role": "秘书长", "enrolled_on": "2012-04-01", "attended": False}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not ...}


def count(db, model, **where) -> int:
    with db() as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.execute(q).scalar_one()
