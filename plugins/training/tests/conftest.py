"""Helpers for the training plugin's tests (the app, live server, users, ``db`` and ``unit_ids`` are
core.testing's fixtures). Organizations are made with the test helpers of cultivation, the plugin training
requires (``make_org``, ``org_payload``). Every test makes its own records with unique names; nothing
assumes an empty table."""

from __future__ import annotations

import random
import uuid

import pytest

from core.api import resident_id_check_char
from core.testing import count, create, unique  # noqa: F401 (this folder's tests take them from here)
from plugins.cultivation.tests.conftest import make_org, org_payload  # noqa: F401 (fixtures)

CAMPS = "/api/v1/trainingcamp/"
ENROL = "/api/v1/trainingenrolment/"
LECTURERS = "/api/v1/traininglecturer/"
TRAINEES = "/api/v1/trainingtrainee/"


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


def person(**kw) -> dict:
    data = {"name": unique("学员")[:10], "gender": "male", "phone": new_mobile(), "resident_id": new_resident_id(),
            "role": "秘书长", "enrolled_on": "2012-04-01", "attended": False}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not ...}
