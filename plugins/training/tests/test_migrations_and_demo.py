"""The plugin's branch and its demo data: plentiful, valid and alive (both engines), on the plugin
contract's app, which has every enabled plugin's demo data (core.testing.plugin ``contract_app``). What
the contract checks itself — the branch down and up alone, models and migrations agreeing, the demo
idempotent — is in test_contract.py."""

import datetime

from sqlalchemy import func, select

from core.api import Unit, phone, resident_id
from core.testing.engines import kpi, migrate
from plugins.training.models import Camp, CampLecturer, Enrolment, Lecturer, Trainee

OWN = {"training_camp", "training_enrolment", "training_trainee", "training_lecturer", "training_camp_lecturer"}


def test_the_branch_depends_on_core_and_cultivation(app):
    from alembic.script import ScriptDirectory

    with app.app_context():
        script = ScriptDirectory.from_config(migrate.alembic_config(app))
        rev = script.get_revision("training_0001")
    assert rev.revision == "training_0001" and rev.branch_labels == {"training"}
    assert set(rev.dependencies) == {"0001_core", "cultivation_0001"}
    with app.app_context():
        assert migrate.owned_tables(app)["training"] == OWN


def test_demo_data_is_plentiful_valid_and_alive(contract_app):
    contract_app.ensure_demo("training")
    app = contract_app.app
    with app.app_context():
        assert contract_app.first_demo["training"] > 2000  # what its first load added
        s = app.appbuilder.session
        camps = s.execute(select(Camp)).scalars().all()
        opening = [c for c in camps if c.unit.code == "440000" and c.session_no == 1]
        assert len(opening) == 1
        c1 = opening[0]
        assert (c1.starts_on, c1.ends_on) == (datetime.date(2012, 3, 23), datetime.date(2012, 3, 25))
        assert "南海" in c1.place and "佛山" in c1.place
        assert sum(1 for c in camps if c.unit.code == "440000") == 10
        prd = {"440100", "440300", "440400", "440600", "441300", "441900", "442000", "440700", "441200"}
        per_city = {code: sum(1 for c in camps if c.unit.code == code) for code in prd}
        assert all(n >= 4 for n in per_city.values()), per_city
        for c in camps:
            assert c.enrolled_count <= c.capacity and c.validate() == {}, (repr(c), c.validate())
        n_enrol = s.execute(select(func.count(Enrolment.id))).scalar_one()
        n_attended = s.execute(select(func.count(Enrolment.id)).where(Enrolment.attended.is_(True))).scalar_one()
        n_people = s.execute(select(func.count(Trainee.id))).scalar_one()
        assert 300 <= n_people < n_enrol  # people come back to other camps
        assert 0.80 <= n_attended / n_enrol <= 0.90
        assert s.execute(select(func.count(Lecturer.id))).scalar_one() >= 10
        assert s.execute(select(func.count()).select_from(CampLecturer)).scalar_one() >= len(camps)
        # every person passes the same checks as input, and is one trainee per camp
        for t in s.execute(select(Trainee).limit(300)).scalars():
            assert phone(t.phone) == t.phone
            assert t.resident_id is None or resident_id(t.resident_id) == t.resident_id
        for e in s.execute(select(Enrolment).order_by(Enrolment.id).limit(200)).scalars():
            assert e.validate() == {}, (e.name, e.validate())
            assert e.unit_id == e.camp.unit_id
        s.rollback()
        pairs = s.execute(select(func.count()).select_from(
            select(Enrolment.camp_id, Enrolment.trainee_id).distinct().subquery())).scalar_one()
        assert pairs == n_enrol
        # a living demo: some cities and counties have trained enough leaders by late in the plan year,
        # others not yet; a city's "one camp every quarter" is met in some quarters and not in others
        if not s.execute(select(kpi.KpiTarget.id).where(kpi.KpiTarget.plan_year == 2012).limit(1)).first():
            kpi.load_default_targets(2012, s)
        day = datetime.date(2012, 12, 20)
        province = s.execute(select(Unit).where(Unit.code == "440000")).scalar_one()
        report = kpi.evaluate(s, 2012, province, day, depth=None, today=day)
        for level in ("city", "county"):
            seen = [r.status for r in report.rows if r.target.check_key == "trained_leaders" and r.unit.level == level]
            met = seen.count(kpi.MET) / len(seen)
            assert set(seen) == {kpi.MET, kpi.IN_PROGRESS} and 0.2 <= met <= 0.75, (level, met, set(seen))
        for as_of in (datetime.date(2012, 6, 30), datetime.date(2012, 9, 30), day):  # Q2, Q3 at their ends; Q4 now
            report = kpi.evaluate(s, 2012, province, as_of, depth=1, today=day)
            seen = [r.status for r in report.rows if r.target.check_key == "camps" and r.unit.level == "city"]
            met = seen.count(kpi.MET) / len(seen)
            assert len(seen) == 21 and 0.2 <= met <= 0.75, (as_of, met, set(seen))
        s.rollback()
