"""KPI checks on a small known data set, with hand-computed answers.

The data live in throw-away units (a city and two counties below it) so that
the records of other tests in the shared database do not matter.

    camp  unit    last day     status     attended (no-shows in brackets)
    c1    county1 2012-03-25   finished   P1 P2 (P3)
    c2    county2 2012-05-10   finished   P1 P4          <- P1 again, in another county
    c3    city    2012-08-02   finished   P2 (P5)
    c4    city    2012-06-01   cancelled  P4             <- never counts
    c5    county1 2011-12-20   finished   P5             <- the year before
    c6    county2 2013-01-05   finished   P3             <- the year after
    c7    city    2013-01-02   planned    -              <- began in 2012, ends in 2013
    c8    county2 2012-06-21   planned    (P3)           <- ended, nobody attended: not held
"""

import datetime
import uuid

import pytest
from sqlalchemy import delete

from core.testing.engines import compute_values
from core.api import Unit
from core.testing.engines import compute_path, unit_by_code
from plugins.cultivation.models import YouthOrg
from plugins.training.kpi import CHECKS, default_targets
from plugins.training.models import Camp, Enrolment, Trainee
from core.testing import statements_of

D = datetime.date
CHECK = {c.key: c for c in CHECKS}

CAMPS = {  # name: (unit, first day, last day, status)
    "c1": ("county1", D(2012, 3, 24), D(2012, 3, 25), "finished"),
    "c2": ("county2", D(2012, 5, 9), D(2012, 5, 10), "finished"),
    "c3": ("city", D(2012, 8, 1), D(2012, 8, 2), "finished"),
    "c4": ("city", D(2012, 6, 1), D(2012, 6, 1), "cancelled"),
    "c5": ("county1", D(2011, 12, 19), D(2011, 12, 20), "finished"),
    "c6": ("county2", D(2013, 1, 4), D(2013, 1, 5), "finished"),
    "c7": ("city", D(2012, 12, 30), D(2013, 1, 2), "planned"),
    "c8": ("county2", D(2012, 6, 20), D(2012, 6, 21), "planned"),
}
ENROLMENTS = [  # (camp, person, attended)
    ("c1", "P1", True), ("c1", "P2", True), ("c1", "P3", False),
    ("c2", "P1", True), ("c2", "P4", True),
    ("c3", "P2", True), ("c3", "P5", False),
    ("c4", "P4", True),
    ("c5", "P5", True),
    ("c6", "P3", True),
    ("c8", "P3", False),
]
# hand-computed, for each as-of date: the units' own values (city, county1, county2)
CAMPS_HELD = {
    D(2012, 3, 31): (0, 1, 0),
    D(2012, 6, 30): (0, 1, 1),
    D(2012, 12, 31): (1, 1, 1),
    D(2013, 6, 30): (1, 1, 1),  # after the plan year: still the plan year's camps
    D(2012, 1, 31): (0, 0, 0),
}
TRAINED = {  # the people each unit trained itself
    D(2012, 3, 31): (set(), {"P1", "P2"}, set()),
    D(2012, 6, 30): (set(), {"P1", "P2"}, {"P1", "P4"}),
    D(2012, 12, 31): ({"P2"}, {"P1", "P2"}, {"P1", "P4"}),
}


@pytest.fixture(scope="module")
def dataset(app):
    tag = uuid.uuid4().hex[:6].upper()
    with app.app_context():
        s = app.appbuilder.session
        province = unit_by_code(s, "440000")
        units = {}
        city = Unit(code=f"TC{tag}", name=f"训练测试市{tag}", level="city", tier="city", prd=True)
        city.path, city.depth = compute_path(province, city.code)
        city.parent = province
        units["city"] = city
        for i in (1, 2):
            county = Unit(code=f"TK{i}{tag}", name=f"训练测试县{i}{tag}", level="county", tier="county", prd=True)
            county.path, county.depth = compute_path(city, county.code)
            county.parent = city
            units[f"county{i}"] = county
        s.add_all(units.values())
        s.flush()
        org = YouthOrg(name=f"KPI训练组织{tag}", unit=units["county1"], category="interest", service_field="other",
                       reg_status="unregistered")
        people = {p: Trainee(name=f"{p}{tag}", gender="male", phone=f"1380000{i:04d}") for i, p in
                  enumerate(["P1", "P2", "P3", "P4", "P5"])}
        camps = {
            name: Camp(unit=units[u], title=f"KPI{tag}", session_no=int(name[1]), starts_on=first, ends_on=last,
                       place="测试", capacity=50, status=status)
            for name, (u, first, last, status) in CAMPS.items()
        }
        s.add_all([org, *people.values(), *camps.values()])
        for camp, p, attended in ENROLMENTS:
            t = people[p]
            s.add(Enrolment(camp=camps[camp], trainee=t, youth_org=org, name=t.name, gender="male", phone=t.phone,
                            attended=attended))
        s.commit()
        ids = {k: u.id for k, u in units.items()}
        ids["codes"] = {k: u.code for k, u in units.items()}
        ids["people"] = {p: t.id for p, t in people.items()}
        ids["org"] = org.id
    yield ids
    with app.app_context():
        s = app.appbuilder.session
        unit_ids = [ids["city"], ids["county1"], ids["county2"]]
        s.execute(delete(Enrolment).where(Enrolment.unit_id.in_(unit_ids)))
        s.execute(delete(Camp).where(Camp.unit_id.in_(unit_ids)))
        s.execute(delete(Trainee).where(Trainee.id.in_(ids["people"].values())))
        s.execute(delete(YouthOrg).where(YouthOrg.id == ids["org"]))
        for key in ("county1", "county2", "city"):
            s.execute(delete(Unit).where(Unit.id == ids[key]))
        s.commit()


def run_once(session, stmt):
    """Rows of ``stmt``, asserting it is ONE SQL statement."""
    with statements_of(session.get_bind()) as statements:
        rows = session.execute(stmt).all()
    assert len(statements) == 1
    return rows


def test_camps_is_one_grouped_select_with_the_right_rows(app, dataset):
    with app.app_context():
        s = app.appbuilder.session
        for as_of, expected in CAMPS_HELD.items():
            rows = dict(run_once(s, CHECK["camps"].query(2012, as_of)))
            got = tuple(rows.get(dataset[k], 0) for k in ("city", "county1", "county2"))
            assert got == expected, as_of


def test_trained_leaders_are_distinct_people_per_unit(app, dataset):
    names = {v: k for k, v in dataset["people"].items()}
    with app.app_context():
        s = app.appbuilder.session
        for as_of, expected in TRAINED.items():
            rows = run_once(s, CHECK["trained_leaders"].query(2012, as_of))
            assert len(rows) == len(set(rows))  # distinct pairs
            for key, people in zip(("city", "county1", "county2"), expected):
                got = {names[t] for u, t in rows if u == dataset[key]}
                assert got == people, (as_of, key)


def test_core_rolls_up_camps_by_sum_and_people_by_distinct(app, dataset):
    codes = dataset["codes"]
    with app.app_context():
        s = app.appbuilder.session
        city = s.get(Unit, dataset["city"])
        dates = [D(2012, 3, 31), D(2012, 6, 30), D(2012, 12, 31)]
        values = compute_values(s, 2012, {k: dates for k in CHECK}, CHECK, city, set(codes.values()))
    end = D(2012, 12, 31)
    assert values[("camps", end, codes["city"])] == 3  # 1 of its own + 1 + 1 of its counties
    assert values[("camps", D(2012, 6, 30), codes["city"])] == 2
    people = values[("trained_leaders", end, codes["city"])]
    # P1 was trained by both counties and P2 by a county and the city: 3 people, not 5
    assert people == {dataset["people"][p] for p in ("P1", "P2", "P4")}
    assert len(values[("trained_leaders", end, codes["county1"])]) == 2
    assert len(values[("trained_leaders", D(2012, 3, 31), codes["city"])]) == 2
    # a quarter is the difference of two cut-offs: the city held one camp in Q3, none of it own in Q2
    q3 = values[("camps", end, codes["city"])] - values[("camps", D(2012, 6, 30), codes["city"])]
    assert q3 == 1
    q2_people = values[("trained_leaders", D(2012, 6, 30), codes["city"])] - values[
        ("trained_leaders", D(2012, 3, 31), codes["city"])]
    assert q2_people == {dataset["people"]["P4"]}  # P1 was trained in Q1 already


def test_the_notice_targets():
    targets = {(t.check, t.tier, t.period): t for t in default_targets(2012)}
    assert targets[("camps", "province", None)].threshold == 10
    assert targets[("camps", "city", "quarter")].threshold == 1
    assert targets[("trained_leaders", "province", None)].threshold == 1000
    assert targets[("trained_leaders", "prd_city", None)].threshold == 300
    assert targets[("trained_leaders", "prd_county", None)].threshold == 100
    assert targets[("trained_leaders", "nonprd_city", None)].threshold == 200
    assert targets[("trained_leaders", "nonprd_county", None)].threshold == 50
    assert all(t.due == D(2012, 12, 31) for t in targets.values())


def test_checks_are_registered_with_the_right_rollup(app):
    registry = app.extensions["qqh_plugins"]
    checks = {c.key: c for _, c in registry.collect("qqh_kpi_checks", "KPI check", key=lambda c: c.key)}
    assert checks["camps"].rollup == "sum" and checks["trained_leaders"].rollup == "distinct"
    assert str(checks["trained_leaders"].label) and str(checks["camps"].unit_of_measure)
