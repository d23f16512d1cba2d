"""A camp's places hold when they are cut while someone enrols, and a camp is
not cancelled while someone's attendance is recorded: the enrolment and the
camp's edit take the same row lock (core/tenancy/locks.py). Rounds: QQH_RACE_ROUNDS
(default 6)."""

from __future__ import annotations

import os

from plugins.training.models import Camp, Enrolment
from plugins.training.tests.conftest import CAMPS, ENROL, count, create, person
from core.testing import at_once

ROUNDS = int(os.environ.get("QQH_RACE_ROUNDS", "6"))


def test_cutting_the_places_while_someone_enrols(as_user, camp_payload, make_org, db):
    fs, other = as_user("fs_clerk"), as_user("fs_clerk")
    org = make_org("440606")
    bad = 0
    for _ in range(ROUNDS):
        camp = create(fs, CAMPS, camp_payload(capacity=2))
        assert fs.post(ENROL, json=dict(person(), camp=camp, youth_org=org)).status_code == 201
        at_once(
            lambda: fs.put(f"{CAMPS}{camp}", json={"capacity": 1}),
            lambda: other.post(ENROL, json=dict(person(), camp=camp, youth_org=org)),
        )
        with db() as s:
            capacity = s.get(Camp, camp).capacity
        bad += count(db, Enrolment, camp_id=camp) > capacity
    assert bad == 0, f"more enrolled than places in {bad} of {ROUNDS} rounds"


def test_cancelling_a_camp_while_attendance_is_recorded(as_user, camp_payload, make_org, db):
    fs, other = as_user("fs_clerk"), as_user("fs_clerk")
    org = make_org("440606")
    bad = 0
    for _ in range(ROUNDS):
        camp = create(fs, CAMPS, camp_payload(capacity=5))
        pk = create(fs, ENROL, dict(person(), camp=camp, youth_org=org))
        at_once(
            lambda: fs.put(f"{CAMPS}{camp}", json={"status": "cancelled"}),
            lambda: other.put(f"{ENROL}{pk}", json={"attended": True}),
        )
        with db() as s:
            cancelled = s.get(Camp, camp).status == "cancelled"
        bad += cancelled and count(db, Enrolment, camp_id=camp, attended=True) > 0
    assert bad == 0, f"a cancelled camp with attendance in {bad} of {ROUNDS} rounds"
