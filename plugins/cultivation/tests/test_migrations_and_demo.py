"""The plugin's demo data: plentiful, valid and alive (both engines), on the plugin contract's app, which
has every enabled plugin's demo data (core.testing.plugin ``contract_app``). What the contract checks
itself — the branch down and up alone, models and migrations agreeing, the demo idempotent — is in
test_contract.py."""

import datetime

from sqlalchemy import select

from core.api import Unit, credit_code
from core.testing.engines import kpi
from plugins.cultivation.models import Service, YouthOrg


def test_demo_data_is_plentiful_valid_and_alive(contract_app):
    contract_app.ensure_demo("cultivation")
    app = contract_app.app
    with app.app_context():
        assert contract_app.first_demo["cultivation"] > 600  # what its first load added
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
