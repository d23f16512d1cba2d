"""KPI checks on a small known data set, with hand-computed answers.

The data live in two throw-away units (a city and a county below it), so the
records of other tests in the shared database do not matter."""

import datetime
import uuid

import pytest
from sqlalchemy import delete, select

from core.testing.engines import compute_values, load_default_targets
from core.api import Unit
from core.testing.engines import compute_path, unit_by_code
from plugins.cultivation.models import YouthOrg
from plugins.homes.kpi import CHECKS
from plugins.homes.models import ChecklistEntry, ChecklistItem, Home, IncubationFund, Residency
from core.testing import statements_of

D = datetime.date
CHECK = {c.key: c for c in CHECKS}

# bases: (key, unit, opened, signage (挂牌), every checklist item met on, kind).
# A 亲青家园 counts from its signage once it meets every item in use; a campus
# terminal store (终端门店) is never a 亲青家园: it is counted apart.
HOMES = [
    ("H1", "city", D(2012, 3, 10), D(2012, 3, 15), D(2012, 3, 20), "youth_centre"),  # counts from 3-20
    ("H2", "city", None, None, None, "youth_centre"),  # being built: never counted
    ("H3", "city", D(2011, 1, 1), D(2011, 2, 1), D(2011, 3, 1), "youth_centre"),
    ("H4", "county", D(2012, 6, 1), None, D(2012, 6, 1), "youth_centre"),  # no sign: not a 亲青家园
    ("H5", "county", D(2011, 12, 1), D(2011, 12, 1), None, "youth_centre"),  # one item short: not counted
    ("H6", "county", D(2012, 6, 1), D(2012, 6, 10), D(2012, 6, 5), "youth_centre"),  # counts from its sign, 6-10
    ("H7", "city", D(2012, 4, 1), D(2012, 4, 1), D(2012, 4, 1), "campus_room"),  # a terminal store
]
# funds: (unit, established)
FUNDS = [("city", D(2012, 5, 20)), ("county", D(2012, 7, 1)), ("county", D(2011, 5, 1))]
# residencies: (organization, base, entered, ended)
RESIDENCIES = [
    ("A", "H1", D(2012, 4, 1), None),
    ("A", "H4", D(2012, 6, 15), None),  # A lives in a city base and a county base
    ("B", "H3", D(2011, 6, 1), D(2011, 12, 31)),  # gone before 2012
    ("C", "H3", D(2011, 9, 1), D(2012, 2, 1)),  # still there in 2012
    ("D", "H5", D(2012, 8, 1), None),
    ("E", "H4", D(2012, 7, 1), D(2012, 9, 30)),
]
# hand-computed: {check: {(plan year, as_of): (city's own records, county's)}}
EXPECTED = {
    "homes": {
        (2012, D(2011, 12, 31)): (1, 0),
        (2012, D(2012, 3, 19)): (1, 0),
        (2012, D(2012, 3, 31)): (2, 0),
        (2012, D(2012, 6, 9)): (2, 0),
        (2012, D(2012, 12, 31)): (2, 1),
    },
    "terminal_stores": {
        (2012, D(2012, 3, 31)): (0, 0),
        (2012, D(2012, 12, 31)): (1, 0),
    },
    "fund_amount": {
        (2012, D(2012, 5, 19)): (0, 100000),
        (2012, D(2012, 12, 31)): (100000, 200000),
    },
    "funds": {
        (2012, D(2012, 5, 19)): (0, 1),
        (2012, D(2012, 5, 31)): (1, 1),
        (2012, D(2012, 12, 31)): (1, 2),
    },
    "incubated_orgs": {
        (2012, D(2012, 3, 31)): ({"C"}, set()),
        (2012, D(2012, 6, 30)): ({"A", "C"}, {"A"}),
        (2012, D(2012, 12, 31)): ({"A", "C"}, {"A", "D", "E"}),
        (2013, D(2013, 6, 30)): ({"A"}, {"A", "D"}),
    },
}
# the city's value covers its subtree; an organization counts once
ROLLED_UP = {
    (2012, D(2012, 12, 31)): {"homes": 3, "funds": 3, "incubated_orgs": 4, "terminal_stores": 1, "fund_amount": 300000},
    (2012, D(2012, 6, 30)): {"homes": 3, "funds": 2, "incubated_orgs": 2},
    (2013, D(2013, 6, 30)): {"homes": 3, "funds": 3, "incubated_orgs": 2},
}


@pytest.fixture(scope="module")
def dataset(app):
    tag = uuid.uuid4().hex[:6].upper()
    with app.app_context():
        s = app.appbuilder.session
        province = unit_by_code(s, "440000")
        city = Unit(code=f"HC{tag}", name=f"家园测试市{tag}", level="city", tier="city", prd=True)
        city.path, city.depth = compute_path(province, city.code)
        city.parent = province
        county = Unit(code=f"HK{tag}", name=f"家园测试县{tag}", level="county", tier="county", prd=True)
        county.path, county.depth = compute_path(city, county.code)
        county.parent = city
        s.add_all([city, county])
        s.flush()
        units = {"city": city, "county": county}
        orgs = {}
        for key in "ABCDE":
            orgs[key] = YouthOrg(name=f"KPI{tag}-{key}", unit=county if key == "D" else city, category="interest",
                                 service_field="other", reg_status="unregistered")
        s.add_all(orgs.values())
        homes = {}
        for key, where, opened, signed, _met, kind in HOMES:
            homes[key] = Home(name=f"KPI{tag}-{key}", unit=units[where], kind=kind, address="测试地址",
                              opened_on=opened, signage_on=signed)
        s.add_all(homes.values())
        s.flush()
        items = list(s.execute(select(ChecklistItem.id).where(ChecklistItem.active.is_(True))).scalars())
        assert len(items) >= 2
        for key, where, opened, signed, met, kind in HOMES:
            if opened is None:
                continue
            # every item in use met on ``met``; H5 meets all but the last one
            for item in items[:-1] if met is None else items:
                s.add(ChecklistEntry(home_id=homes[key].id, item_id=item, unit=units[where], met_on=met or opened, evidence="台账"))
        for i, (where, established) in enumerate(FUNDS):
            s.add(IncubationFund(name=f"KPI{tag}-F{i}", unit=units[where], established_on=established,
                                 from_youth_foundation=100000))
        s.flush()
        for org, home, entered, ended in RESIDENCIES:
            status = "incubating" if ended is None else "graduated"
            r = Residency(org=orgs[org], home=homes[home], entered_on=entered, ended_on=ended, status=status)
            s.add(r)
            s.flush()
            assert r.validate() == {}, (org, home, r.validate())  # the data set obeys the rules
        s.commit()
        ids = {
            "city": city.id, "county": county.id, "codes": (city.code, county.code),
            "orgs": {k: o.id for k, o in orgs.items()},
        }
    yield ids
    with app.app_context():
        s = app.appbuilder.session
        unit_ids = [ids["city"], ids["county"]]
        s.execute(delete(Residency).where(Residency.unit_id.in_(unit_ids)))
        s.execute(delete(ChecklistEntry).where(ChecklistEntry.unit_id.in_(unit_ids)))
        s.execute(delete(Home).where(Home.unit_id.in_(unit_ids)))
        s.execute(delete(IncubationFund).where(IncubationFund.unit_id.in_(unit_ids)))
        s.execute(delete(YouthOrg).where(YouthOrg.unit_id.in_(unit_ids)))
        s.execute(delete(Unit).where(Unit.id == ids["county"]))
        s.execute(delete(Unit).where(Unit.id == ids["city"]))
        s.commit()


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_check_is_one_select_with_the_right_rows(app, dataset, key):
    check = CHECK[key]
    names = {v: k for k, v in dataset["orgs"].items()}
    with app.app_context():
        s = app.appbuilder.session
        for (year, as_of), (city_value, county_value) in EXPECTED[key].items():
            with statements_of(s.get_bind()) as statements:
                rows = s.execute(check.query(year, as_of)).all()
            assert len(statements) == 1
            if check.rollup == "distinct":
                got = {u: {names[o] for uu, o in rows if uu == u} for u in (dataset["city"], dataset["county"])}
                assert got[dataset["city"]] == city_value, (key, as_of)
                assert got[dataset["county"]] == county_value, (key, as_of)
            else:
                got = dict(rows)
                assert got.get(dataset["city"], 0) == city_value, (key, as_of)
                assert got.get(dataset["county"], 0) == county_value, (key, as_of)


def test_core_rolls_the_values_up_the_tree(app, dataset):
    city_code, county_code = dataset["codes"]
    with app.app_context():
        s = app.appbuilder.session
        city = s.get(Unit, dataset["city"])
        for (year, as_of), expected in ROLLED_UP.items():
            values = compute_values(s, year, {k: [as_of] for k in CHECK}, CHECK, city, {city_code, county_code})
            for key, n in expected.items():
                v = values.get((key, as_of, city_code), set() if CHECK[key].rollup == "distinct" else 0)
                assert (len(v) if isinstance(v, set) else v) == n, (key, year, as_of)


def test_checks_are_registered_and_the_notice_targets_exist(app):
    registry = app.extensions["qqh_plugins"]
    keys = {c.key for _, c in registry.collect("qqh_kpi_checks", "KPI check", key=lambda c: c.key)}
    assert {"homes", "funds", "incubated_orgs", "terminal_stores", "fund_amount"} <= keys
    assert CHECK["incubated_orgs"].rollup == "distinct"
    # this plugin ships the notice's targets for its checks (the notice's table), all 本级,
    # and the province's 500万元 fund
    from plugins.homes.kpi import default_targets as homes_targets

    targets = {(t.check, t.tier): t for t in homes_targets(2012)}
    may31, jun30, dec31 = D(2012, 5, 31), D(2012, 6, 30), D(2012, 12, 31)
    assert {k: (t.threshold, t.due, t.period) for k, t in targets.items() if k[0] != "fund_amount"} == {
        ("funds", "prd_city"): (1, may31, None), ("funds", "nonprd_city"): (1, jun30, None),
        ("homes", "prd_city"): (1, may31, None), ("homes", "prd_county"): (1, may31, None),
        ("homes", "nonprd_city"): (1, jun30, None), ("homes", "nonprd_county"): (1, jun30, None),
        ("homes", "town"): (1, dec31, None),
    }
    assert {t.scope for t in targets.values()} == {"own"}
    assert (targets[("fund_amount", "province")].threshold, targets[("fund_amount", "province")].due) == (5_000_000, D(2012, 12, 31))
    assert [n for n, _ in registry.call("qqh_default_targets", plan_year=2012) if n == "homes"] == ["homes"]
    with app.app_context():
        load_default_targets(2012)  # idempotent, and the checks' labels are this plugin's
        from core.testing.engines import check_label

        assert check_label("homes") == "挂牌并达到建设手册要求的“亲青家园”" and check_label("funds") == "成立的孵化基金"
