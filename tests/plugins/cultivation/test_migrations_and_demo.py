"""The plugin's Alembic branch up and down, and its demo data, in a database
of their own (both engines)."""

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from core import migrate
from core.ops.demo import load_demo
from core.values.validators import credit_code
from plugins.cultivation.models import Service, YouthOrg
from tests.conftest import initialise, make_app, new_database

OWN = {"cultivation_youth_org", "cultivation_service"}


@pytest.fixture(scope="module")
def fresh(engine_name, tmp_path_factory):
    url, drop = new_database(engine_name, tmp_path_factory)
    instance = tmp_path_factory.mktemp("inst")
    app = make_app(url, instance)
    initialise(app, {"admin": ("440000", "province_admin")})
    yield app, url, instance
    with app.app_context():
        app.extensions["qqh_db"].session.remove()
        app.extensions["qqh_db"].engine.dispose()
    drop()


def tables(url):
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def qqh(url, instance, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QQH_") or k == "QQH_PLUGIN_MODULES"}  # the fixture plugin
    env.update(QQH_DATABASE_URL=url, QQH_INSTANCE_PATH=str(instance))
    return subprocess.run([sys.executable, "-c", "from core.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=300)


def dependants(app) -> set[str]:
    """Tables of plugins that require cultivation (their branches go down with it)."""
    registry = app.extensions["qqh_plugins"]
    with app.app_context():
        owned = migrate.owned_tables(app)
    return set().union(*[owned.get(n, set()) for n, p in registry.installed.items()
                         if "cultivation" in p.manifest.requires])


def test_demo_data_is_plentiful_valid_and_idempotent(fresh):
    app, url, _ = fresh
    with app.app_context():
        first = load_demo(app)["cultivation"]
        assert first > 600
        assert load_demo(app)["cultivation"] == 0  # idempotent
        s = app.appbuilder.session
        orgs = s.execute(select(YouthOrg)).scalars().all()
        assert 300 <= len(orgs) <= 3000
        assert any(o.name == "容桂街道青少年成长促进会" and o.unit.name == "容桂街道" for o in orgs)
        cities = {o.unit.path.split("/")[1] for o in orgs if o.unit.depth >= 1}
        assert len(cities) == 21
        registered = [o for o in orgs if o.reg_status == "registered"]
        assert len(registered) >= 100 and len(orgs) - len(registered) >= 100
        assert all(credit_code(o.credit_code) == o.credit_code for o in registered)
        assert len({o.credit_code for o in registered}) == len(registered)
        for o in orgs:  # every demo record passes the same rules as input
            assert o.validate() == {}, (o.name, o.validate())
        services = s.execute(select(Service)).scalars().all()
        assert {x.kind for x in services} == {"counselling", "purchase", "custody", "venue", "network", "logistics"}
        for x in services:
            assert x.validate() == {} and x.unit_id == x.org.unit_id
        # a living demo: late in the plan year, the cities and counties meet some targets and not others
        import datetime

        from core.kpi import engine as kpi
        from core.tenancy.units import Unit

        if not s.execute(select(kpi.KpiTarget.id).where(kpi.KpiTarget.plan_year == 2012).limit(1)).first():
            kpi.load_default_targets(2012, s)
        day = datetime.date(2012, 12, 20)
        province = s.execute(select(Unit).where(Unit.code == "440000")).scalar_one()
        report = kpi.evaluate(s, 2012, province, day, depth=None, today=day)
        for check in ("direct_contacts", "cultivated", "pilots"):
            for level in ("city", "county"):
                seen = [r.status for r in report.rows if r.target.check_key == check and r.unit.level == level]
                assert kpi.MET in seen and set(seen) - {kpi.MET}, (check, level, set(seen))
                assert 0.2 <= seen.count(kpi.MET) / len(seen) <= 0.8, (check, level, seen.count(kpi.MET), len(seen))
        s.rollback()


def test_branch_goes_down_and_up_alone(fresh):
    app, url, instance = fresh
    before = tables(url)
    assert OWN <= before
    r = qqh(url, instance, "db", "downgrade", "cultivation@base")
    assert r.returncode == 0, r.stderr
    after = tables(url)
    assert not (after & OWN)
    assert before - after <= OWN | dependants(app)  # nobody else's tables
    assert {"qqh_unit", "ab_user", "memo_note"} <= after
    r = qqh(url, instance, "db", "upgrade")
    assert r.returncode == 0, r.stderr
    assert OWN <= tables(url)
    with app.app_context():
        assert migrate.drift(app) == []  # models and migration agree
