"""Rules that compare records hold under concurrent requests (both sides of
each rule take the same row lock, core/tenancy/locks.py), and another unit's fund is
"not found" before any rule about it runs.

Each race round sends the two sides of a rule at the same moment from
separate HTTP sessions; the rounds are repeated (QQH_RACE_ROUNDS, default 6)
because a race without the lock shows only in some of them."""

from __future__ import annotations

import os
from decimal import Decimal

from sqlalchemy import func, select

from plugins.homes.models import Grant, IncubationFund, Pairing
from core.testing import at_once
from plugins.homes.tests.conftest import (
    FUND_API, GRANT_API, HOME_API, PAIRING_API, SECTOR_API, create, fund_payload, grant_payload, home_payload, unique,
)

ROUNDS = int(os.environ.get("QQH_RACE_ROUNDS", "6"))


def test_another_units_fund_is_not_found_before_any_rule_runs(as_user, unit_ids, make_org):
    fs, sz = as_user("fs_clerk"), as_user("sz_clerk")
    fund = create(fs, FUND_API, fund_payload(unit_ids, name=unique("佛山基金")))
    sz_org = make_org("440300")
    answers = []
    for pk in (fund, 99999999):
        for payload in (grant_payload(pk, sz_org, applied_on="2000-01-01"),  # before the fund's founding
                        grant_payload(pk, sz_org, amount="99999999.00")):  # beyond its balance
            r = sz.post(GRANT_API, json=payload)
            answers.append((r.status_code, r.json()["message"]))
    assert all(a == answers[0] for a in answers), answers
    code, message = answers[0]
    assert code == 422 and list(message) == ["fund"] and "记录不存在" in message["fund"][0], answers
    assert "2012" not in str(answers) and "100,000" not in str(answers)


def test_lowering_a_funds_commitment_while_grants_are_added(as_user, unit_ids, make_org, db):
    admin, fs = as_user("admin"), as_user("fs_clerk")
    orgs = [make_org() for _ in range(2)]
    bad = 0
    for i in range(ROUNDS):
        fund = create(admin, FUND_API, fund_payload(unit_ids, name=unique("并发基金"), from_youth_foundation="60000.00",
                                                    from_volunteer_foundation="0"))
        create(admin, GRANT_API, grant_payload(fund, orgs[0], amount="30000.00"))
        # one lowers the commitment to 40,000 (granted 30,000: allowed alone), one grants 20,000 (alone: allowed)
        at_once(
            lambda: admin.put(f"{FUND_API}{fund}", json={"from_youth_foundation": "40000.00"}),
            lambda: fs.post(GRANT_API, json=grant_payload(fund, orgs[1], amount="20000.00", purpose=f"并发{i}")),
        )
        with db() as s:
            committed = s.execute(select(IncubationFund.from_youth_foundation).where(IncubationFund.id == fund)).scalar_one()
            granted = s.execute(select(func.coalesce(func.sum(Grant.amount), 0)).where(Grant.fund_id == fund)).scalar_one()
        bad += Decimal(granted) > Decimal(committed)
    assert bad == 0, f"overdrawn in {bad} of {ROUNDS} rounds"


def test_two_pairings_of_one_sector_at_the_same_moment(as_user, unit_ids, db):
    fs = as_user("fs_clerk")
    other = as_user("fs_clerk")
    bad = 0
    for _ in range(ROUNDS):
        sector = create(fs, SECTOR_API, {"name": unique("界别"), "unit": unit_ids["440600"], "kind": "sector"})
        homes = [create(fs, HOME_API, home_payload(unit_ids)) for _ in range(2)]
        at_once(
            lambda: fs.post(PAIRING_API, json={"sector": sector, "home": homes[0], "started_on": "2012-06-01"}),
            lambda: other.post(PAIRING_API, json={"sector": sector, "home": homes[1], "started_on": "2012-06-01"}),
        )
        with db() as s:
            n = s.execute(select(func.count(Pairing.id)).where(Pairing.sector_id == sector, Pairing.ended_on.is_(None))).scalar_one()
        bad += n > 1
    assert bad == 0, f"two open pairings in {bad} of {ROUNDS} rounds"
