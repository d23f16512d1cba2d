"""KPI checks on a small known data set, with hand-computed answers.

The data live in two throw-away units (a city and a county below it) so that
the records of other tests in the shared database do not matter."""

import datetime
import uuid

import pytest
from sqlalchemy import delete

from core.testing.engines import compute_values
from core.api import Unit
from core.testing.engines import compute_path, unit_by_code
from plugins.cultivation.kpi import CHECKS, default_targets
from plugins.cultivation.models import YouthOrg
from core.testing import statements_of

D = datetime.date
CHECK = {c.key: c for c in CHECKS}

# (unit, connected, pilot, cultivated)
DATA = [
    ("city", D(2012, 3, 10), True, D(2012, 5, 1)),
    ("city", D(2012, 3, 31), False, D(2011, 12, 31)),  # cultivated the year before
    ("city", D(2012, 4, 1), True, D(2012, 12, 31)),
    ("city", None, True, D(2013, 1, 1)),  # a pilot not connected; cultivated the year after
    ("county", D(2011, 6, 1), True, None),  # connected before the plan year: still on the list
    ("county", D(2012, 3, 31), False, D(2012, 3, 31)),
    ("county", None, False, D(2012, 6, 15)),
]
# hand-computed: {check: {as_of: (city's own records, county's)}}
EXPECTED = {
    "direct_contacts": {D(2012, 3, 31): (2, 2), D(2012, 12, 31): (3, 2), D(2011, 12, 31): (0, 1)},
    "cultivated": {D(2012, 3, 31): (0, 1), D(2012, 12, 31): (2, 2), D(2013, 6, 30): (2, 2)},
    "pilots": {D(2012, 3, 31): (1, 1), D(2012, 12, 31): (2, 1), D(2012, 3, 9): (0, 1)},
}


@pytest.fixture(scope="module")
def dataset(app):
    tag = uuid.uuid4().hex[:6].upper()
    with app.app_context():
        s = app.appbuilder.session
        province = unit_by_code(s, "440000")
        city = Unit(code=f"KC{tag}", name=f"测试市{tag}", level="city", tier="city", prd=True)
        city.path, city.depth = compute_path(province, city.code)
        city.parent = province
        county = Unit(code=f"KK{tag}", name=f"测试县{tag}", level="county", tier="county", prd=True)
        county.path, county.depth = compute_path(city, county.code)
        county.parent = city
        s.add_all([city, county])
        s.flush()
        units = {"city": city, "county": county}
        for i, (where, connected, pilot, cultivated) in enumerate(DATA):
            s.add(YouthOrg(name=f"KPI{tag}-{i}", unit=units[where], category="interest", service_field="other",
                           reg_status="unregistered", directly_connected_on=connected, is_pilot=pilot,
                           cultivated_on=cultivated))
        s.commit()
        ids = {"city": city.id, "county": county.id, "codes": (city.code, county.code)}
    yield ids
    with app.app_context():
        s = app.appbuilder.session
        s.execute(delete(YouthOrg).where(YouthOrg.unit_id.in_([ids["city"], ids["county"]])))
        s.execute(delete(Unit).where(Unit.id == ids["county"]))
        s.execute(delete(Unit).where(Unit.id == ids["city"]))
        s.commit()


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_check_is_one_grouped_select_with_the_right_rows(app, dataset, key):
    check = CHECK[key]
    with app.app_context():
        s = app.appbuilder.session
        for as_of, (city_n, county_n) in EXPECTED[key].items():
            with statements_of(s.get_bind()) as statements:
                rows = dict(s.execute(check.query(2012, as_of)).all())
            assert len(statements) == 1
            assert rows.get(dataset["city"], 0) == city_n, (key, as_of)
            assert rows.get(dataset["county"], 0) == county_n, (key, as_of)


def test_core_rolls_the_values_up_the_tree(app, dataset):
    city_code, county_code = dataset["codes"]
    with app.app_context():
        s = app.appbuilder.session
        city = s.get(Unit, dataset["city"])
        as_of = D(2012, 12, 31)
        values = compute_values(s, 2012, {k: [as_of] for k in CHECK}, CHECK, city, {city_code, county_code})
    assert values[("direct_contacts", as_of, city_code)] == 5  # 3 of its own + 2 of the county
    assert values[("direct_contacts", as_of, county_code)] == 2
    assert values[("cultivated", as_of, city_code)] == 4
    assert values[("pilots", as_of, city_code)] == 3


def test_the_notice_targets():
    targets = {(t.check, t.tier): t for t in default_targets(2012)}
    assert targets[("direct_contacts", "prd_city")].threshold == 30
    assert targets[("direct_contacts", "prd_city")].due == D(2012, 3, 31)
    assert targets[("direct_contacts", "nonprd_county")].threshold == 5
    assert targets[("direct_contacts", "nonprd_county")].due == D(2012, 4, 30)
    assert targets[("cultivated", "nonprd_city")].threshold == 15
    assert targets[("cultivated", "prd_county")].due == D(2012, 12, 31)
    assert targets[("pilots", "province")].threshold == 10 and targets[("pilots", "county")].threshold == 2
    assert targets[("pilots", "undergraduate")].due == D(2012, 3, 20)
    assert {t.check for t in targets.values()} == {"direct_contacts", "cultivated", "pilots"}


def test_checks_are_registered(app):
    registry = app.extensions["qqh_plugins"]
    keys = {c.key for _, c in registry.collect("qqh_kpi_checks", "KPI check", key=lambda c: c.key)}
    assert {"direct_contacts", "cultivated", "pilots"} <= keys
