"""Kept KPI figures (core.kpi.live) stay exact: random adds, edits, moves of
units and deletes — through the ORM, core's bulk statements, and another
process's connection — and after each the kept report equals one computed
from the records; a write recomputes only the checks that read its table."""

from __future__ import annotations

import datetime
import random
import uuid

import sqlalchemy as sa
from sqlalchemy import delete, insert, select, update

from core.kpi import engine as kpi
from core.kpi import live as kpilive
from core.tenancy import versions
from core.kpi.engine import KpiCheck, KpiTarget
from core.tenancy.units import Unit, compute_path, move_unit
from core.testing import statements_of

D = datetime.date
YEAR = 2019  # this module's plan year: its targets are its own


def people_query(plan_year, as_of):
    from tests.memo_plugin.models import MemoNote

    return (
        select(MemoNote.unit_id, MemoNote.title)
        .where(MemoNote.noted_on >= D(plan_year, 1, 1), MemoNote.noted_on <= as_of)
        .distinct()
    )


def notes_query(plan_year, as_of):
    from tests.memo_plugin.models import MemoNote

    return (
        select(MemoNote.unit_id, sa.func.count(MemoNote.id))
        .where(MemoNote.noted_on >= D(plan_year, 1, 1), MemoNote.noted_on <= as_of)
        .group_by(MemoNote.unit_id)
    )


def targets_query(plan_year, as_of):
    """A check on another table than the notes (the targets themselves)."""
    return select(KpiTarget.id.label("unit_id"), sa.literal(0)).where(KpiTarget.plan_year == -1)


CHECKS = {
    "kl_people": KpiCheck("kl_people", "people", "people", people_query, rollup="distinct"),
    "kl_notes": KpiCheck("kl_notes", "notes", "notes", notes_query),
    "kl_other": KpiCheck("kl_other", "other", "x", targets_query),
}


def make_unit(s, parent, code, level):
    path, depth = compute_path(parent, code)
    u = Unit(code=code, name=f"测试{code}", level=level, tier=level, prd=True, undergraduate=False, parent=parent,
             path=path, depth=depth)
    s.add(u)
    s.flush()
    return u


def figures(report):
    return sorted(
        (r.unit.code, r.target.check_key, r.target.period, r.target.scope, r.due, r.value, r.own_value,
         r.subtree_value, r.status, tuple(r.missed_quarters))
        for r in report.rows
    )


def count_statements(engine, fn):
    with statements_of(engine) as seen:
        fn()
    return seen


def test_kept_figures_equal_fresh_ones_after_random_writes(app):
    from tests.memo_plugin.models import MemoNote

    rnd = random.Random(2019)
    tag = uuid.uuid4().hex[:5].upper()
    with app.app_context():
        s = app.appbuilder.session
        engine = app.extensions["qqh_db"].engine
        province = s.execute(select(Unit).where(Unit.code == "440000")).scalar_one()
        city = make_unit(s, province, f"LC{tag}", "city")
        counties = [make_unit(s, city, f"L{i}{tag}", "county") for i in range(3)]
        towns = [make_unit(s, counties[i % 3], f"L{i}T{tag}", "town") for i in range(5)]
        for check, tier, period, scope in (
            ("kl_people", "city", "year", "subtree"), ("kl_people", "county", "quarter", "subtree"),
            ("kl_notes", "county", "year", "own"), ("kl_notes", "town", "quarter", "own"),
            ("kl_notes", "city", "quarter", "subtree"), ("kl_other", "city", "year", "own"),
        ):
            s.add(KpiTarget(plan_year=YEAR, check_key=check, tier=tier, threshold=3, due=D(YEAR, 9, 30), period=period,
                            scope=scope, first_quarter=2))
        s.commit()
        city_id = city.id
        unit_ids = [city.id] + [u.id for u in counties + towns]
        county_ids = [u.id for u in counties]
        town_ids = [u.id for u in towns]
        now = datetime.datetime(YEAR, 12, 1)
        other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # another worker's process

        def day():
            return D(YEAR, 1, 1) + datetime.timedelta(days=rnd.randrange(365))

        def note(**kw):
            return dict(dict(title=f"P{rnd.randrange(12)}", noted_on=day(), unit_id=rnd.choice(unit_ids),
                             created_on=now, changed_on=now), **kw)

        def some_ids(n=1):
            ids = list(s.execute(select(MemoNote.id).where(MemoNote.unit_id.in_(unit_ids))).scalars())
            return rnd.sample(ids, min(n, len(ids)))

        def orm_add():
            s.add_all(MemoNote(**{k: v for k, v in note().items() if k not in ("created_on", "changed_on")})
                      for _ in range(rnd.randint(1, 4)))

        def orm_edit():
            for i in some_ids(2):
                n = s.get(MemoNote, i)
                field = rnd.choice(["noted_on", "unit_id", "title"])
                setattr(n, field, note()[field])

        def orm_delete():
            for i in some_ids():
                s.delete(s.get(MemoNote, i))

        def bulk_insert():
            s.execute(insert(MemoNote), [note() for _ in range(rnd.randint(2, 30))])

        def bulk_update():
            s.execute(update(MemoNote).where(MemoNote.id.in_(some_ids(5))).values(noted_on=day()))

        def bulk_delete():
            s.execute(delete(MemoNote).where(MemoNote.id.in_(some_ids(3))))

        def move_town():
            town = s.get(Unit, rnd.choice(town_ids))
            move_unit(s, town, s.get(Unit, rnd.choice(county_ids)))

        def move_county():  # a whole subtree under another county, or back under the city
            a, b = rnd.sample(county_ids, 2)
            a_unit = s.get(Unit, a)
            target = s.get(Unit, city_id) if a_unit.parent_id != city_id else s.get(Unit, b)
            if target.path.startswith(a_unit.path):
                target = s.get(Unit, city_id)
            move_unit(s, a_unit, target)

        def other_process():
            with other.begin() as c:
                if rnd.random() < 0.5:
                    c.execute(sa.text("INSERT INTO memo_note (title, noted_on, unit_id, created_on, changed_on) "
                                      "VALUES (:t, :d, :u, :n, :n)"), dict(t=f"P{rnd.randrange(12)}", d=day(), u=rnd.choice(unit_ids), n=now))
                else:
                    c.execute(MemoNote.__table__.update().where(MemoNote.unit_id.in_(unit_ids), MemoNote.title == f"P{rnd.randrange(12)}")
                              .values(unit_id=rnd.choice(unit_ids)))

        ops = [orm_add, orm_add, orm_edit, orm_delete, bulk_insert, bulk_update, bulk_delete, move_town, move_county, other_process]

        def report(live, as_of):
            root = s.get(Unit, city_id)
            return kpi.evaluate(s, YEAR, root, as_of, depth=None, checks=CHECKS, live=live, today=D(YEAR, 6, 1))

        orm_add()
        bulk_insert()
        s.commit()
        try:
            for step in range(36):
                op = rnd.choice(ops)
                op()
                as_of = rnd.choice([D(YEAR, 3, 31), D(YEAR, 5, 15), D(YEAR, 8, 1)])  # few: kept figures get reused
                if step % 5 == 0:  # inside the writing transaction: computed, never kept
                    assert figures(report(True, as_of)) == figures(report(False, as_of)), (step, op.__name__)
                s.commit()
                kept = figures(report(True, as_of))
                assert kept == figures(report(False, as_of)), (step, op.__name__)
                assert figures(report(True, as_of)) == kept  # now read from the kept figures
            # warm: no statement of any check, only the versions and the figures
            as_of = D(YEAR, 8, 1)
            report(True, as_of)
            warm = count_statements(engine, lambda: report(True, as_of))
            assert not any("memo_note" in q for q in warm) and len(warm) <= 5, [q[:90] for q in warm]  # units, targets, modules switched off, versions, figures
            # a write to the notes recomputes the two checks on notes, not the one on targets
            s.add(MemoNote(title="P0", noted_on=D(YEAR, 2, 2), unit_id=town_ids[0]))
            s.commit()
            s.get(Unit, city_id).path  # loaded again after the commit, not counted
            after = count_statements(engine, lambda: report(True, as_of))
            assert any("memo_note" in q for q in after)
            assert len(after) == len(warm) + 2 + 2 * 2, [q[:80] for q in after]   # the two checks, and keeping their figures (delete + insert each)
            assert figures(report(True, as_of)) == figures(report(False, as_of))
            # and a write that bumps nothing they read leaves them kept
            s.add(KpiTarget(plan_year=YEAR + 1, check_key="kl_notes", tier="town", threshold=1, due=D(YEAR + 1, 9, 30)))
            s.commit()
            s.get(Unit, city_id).path
            assert len(count_statements(engine, lambda: report(True, as_of))) == len(warm) + 1 + 2
        finally:
            s.rollback()
            other.dispose()
            ids = [u for u in unit_ids]
            s.execute(delete(MemoNote).where(MemoNote.unit_id.in_(ids)))
            s.execute(delete(KpiTarget).where(KpiTarget.plan_year.in_([YEAR, YEAR + 1])))
            s.commit()


def test_writes_bump_their_tables_version_in_their_transaction(app):
    from tests.memo_plugin.models import MemoNote

    with app.app_context():
        s = app.appbuilder.session
        vt = versions.TableVersion.__table__

        def version():
            return s.execute(select(vt.c.version).where(vt.c.table_name == "memo_note")).scalar() or 0

        before = version()
        unit_id = s.execute(select(Unit.id).where(Unit.code == "440000")).scalar_one()
        s.add(MemoNote(title="x", noted_on=D(YEAR, 1, 1), unit_id=unit_id))
        s.flush()
        s.execute(update(MemoNote).where(MemoNote.title == "x").values(title="y"))
        assert version() == before  # bumped at commit, in the same transaction
        assert versions.wrote_in_transaction(s)
        s.rollback()  # taken back with the data
        assert version() == before and not versions.wrote_in_transaction(s)
        s.add(MemoNote(title="z", noted_on=D(YEAR, 1, 1), unit_id=unit_id))
        s.flush()
        s.execute(delete(MemoNote).where(MemoNote.title == "z"))
        s.commit()
        assert version() == before + 1  # once per transaction
        # a second connection of the same thread writes the same table while the session's
        # transaction is open (as the audit log's own transaction does): no lock wait
        s.execute(update(MemoNote).where(MemoNote.title == "nothing").values(title="nothing"))
        engine = s.get_bind()
        with engine.connect() as other:
            if other.dialect.name == "postgresql":
                other.exec_driver_sql("SET lock_timeout = '3s'")
                other.execute(update(MemoNote).where(MemoNote.title == "nothing").values(title="nothing"))
                other.commit()
        s.commit()
        assert version() == before + (3 if engine.dialect.name == "postgresql" else 2)
