#!/usr/bin/env python3
"""KPI report speed at province scale, against hand-written SQL in the same run.

Usage: python3 bench/kpi_bench.py [--orgs 100000] [--enrolments 500000] [--repeat 7]
                                  [--url DATABASE_URL | --sqlite-file FILE]

Builds a fresh database (SQLite in a temp folder unless --url names an empty
PostgreSQL database) with the real 1,901-unit Guangdong tree plus 100
universities, then:

* 100,000 youth organizations (the cultivation plugin's YouthOrg, when that
  plugin is installed): checks direct_contacts, cultivated, pilots (sums);
* 500,000 "enrolments" as memo notes whose title is a person (300,000
  people, a fifth of them trained in a second unit): check memo_notes
  (a sum: enrolments) and a distinct check bench_people (people trained,
  which cannot be summed from children: the shape of trained_leaders).

Targets for 2012 apply to the province, every city, county and university.
It then times, as the median of --repeat runs taken in turns:

* the KPI report of the province (its children) and of the whole tree (every
  unit with a target), with statuses — ``core.kpi.engine.evaluate`` — **cold** (the
  kept figures of core.kpi.live forgotten: everything computed and kept),
  **warm** (nothing written since), **after one write** (one organization
  added: the three checks on organizations recomputed; one enrolment added:
  the two checks on enrolments, the distinct one included), and computed
  from the records without keeping anything (``live=False``);
* the same figures by raw SQL written by hand: (a) everything in SQL (a
  unit→child / unit→ancestor join, GROUP BY, COUNT(DISTINCT)) and (b) the
  fastest raw form measured for this problem, "GROUP BY owning unit in SQL,
  roll up along the unit path in a few lines of Python";
* the warm ``GET /api/v1/kpi/report`` and dashboard (``GET /``) of the
  province administrator, in-process (Flask test client, logged in).

It checks that the report and both raw forms give the same figures, and
prints the ratios of the cold report to the faster raw form. With SQLite the
CPU time of this process (which includes the SQL) is printed too, being
steadier than wall time on a busy machine. Self-contained: no test code.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# core's test fixture plugin (tests/memo_plugin): its notes are bench records
os.environ.setdefault("QQH_PLUGIN_MODULES", "memo=tests.memo_plugin")
os.environ.setdefault("QQH_PLUGINS", "cultivation,homes,memo,training")

YEAR = 2012
AS_OF = datetime.date(YEAR, 12, 31)
START = datetime.date(YEAR, 1, 1)


def interleaved(fns: dict, repeat: int, before: dict | None = None) -> tuple[dict, dict, dict]:
    """Median wall-clock ms and median CPU ms of this process (with SQLite
    the SQL runs in-process, so CPU time is steady on a busy machine) of
    each function, run in turns after one warm-up run; and their results.
    ``before[name]`` runs (untimed) before each run of ``fns[name]``."""
    before = before or {}
    results = {}
    for name, fn in fns.items():
        before.get(name, lambda: None)()
        results[name] = fn()
    wall = {name: [] for name in fns}
    cpu = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            before.get(name, lambda: None)()
            w, c = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append((time.process_time() - c) * 1000)
            wall[name].append((time.perf_counter() - w) * 1000)
    med = lambda d: {name: statistics.median(v) for name, v in d.items()}
    return med(wall), med(cpu), results


PASSWORD = "Bench-pass-123"


def make_app(url: str, instance):
    from core.app import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "QQH_INSTANCE_PATH": str(instance), "TESTING": True,
        "WTF_CSRF_ENABLED": False, "SECRET_KEY": "b" * 40,
    })


def initialise(app):
    """What `qqh init` does, plus the province administrator ``admin``."""
    with app.app_context():
        from core import migrate
        from core.cli import sync_roles_and_permissions
        from core.tenancy.units import load_divisions, unit_by_code

        migrate.upgrade(app)
        session = app.appbuilder.session
        load_divisions(session)
        session.commit()
        sync_roles_and_permissions()
        sm = app.appbuilder.sm
        if not sm.find_user(username="admin"):
            u = sm.add_user("admin", "admin", "测试", "admin@bench.local", sm.find_role("province_admin"), password=PASSWORD)
            u.unit = unit_by_code(session, "440000")
        session.commit()


def load(app, n_orgs, n_enrolments):
    from sqlalchemy import select

    from core.kpi.engine import KpiTarget
    from core.tenancy.units import Unit, compute_path
    from tests.memo_plugin.models import MemoNote

    session = app.appbuilder.session
    rnd = random.Random(YEAR)
    province = session.execute(select(Unit).where(Unit.code == "440000")).scalar_one()
    for i in range(100):
        code = f"GDU{i:03d}"
        path, depth = compute_path(province, code)
        session.add(Unit(code=code, name=f"高校{i:03d}", level="university", tier="university", prd=False,
                         undergraduate=i < 40, parent=province, path=path, depth=depth))
    session.flush()
    units = session.execute(select(Unit.id, Unit.level)).all()
    by_level = defaultdict(list)
    for uid, level in units:
        by_level[level].append(uid)

    def owner():
        r = rnd.random()
        level = "town" if r < 0.70 else "county" if r < 0.90 else "city" if r < 0.97 else "university"
        return rnd.choice(by_level[level])

    now = datetime.datetime(YEAR, 12, 1)
    t0 = time.perf_counter()
    registry = app.extensions["qqh_plugins"]
    if "cultivation" in registry.order:
        from plugins.cultivation.models import YouthOrg

        batch = []
        for i in range(n_orgs):
            connected = START + datetime.timedelta(days=rnd.randrange(365)) if rnd.random() < 0.6 else None
            cultivated = START + datetime.timedelta(days=rnd.randrange(365)) if rnd.random() < 0.5 else None
            batch.append(dict(name=f"青年社会组织{i}", category="interest", service_field="other", reg_status="unregistered",
                              is_pilot=rnd.random() < 0.05, directly_connected_on=connected, cultivated_on=cultivated,
                              unit_id=owner(), created_on=now, changed_on=now))
            if len(batch) == 20_000:
                session.execute(YouthOrg.__table__.insert(), batch)
                batch = []
        if batch:
            session.execute(YouthOrg.__table__.insert(), batch)
    people = [owner() for _ in range(300_000)]  # each person's home unit
    batch = []
    for i in range(n_enrolments):
        person = rnd.randrange(len(people))
        unit = people[person] if rnd.random() < 0.8 else owner()
        batch.append(dict(title=f"P{person}", noted_on=START + datetime.timedelta(days=rnd.randrange(365)),
                          unit_id=unit, created_on=now, changed_on=now))
        if len(batch) == 20_000:
            session.execute(MemoNote.__table__.insert(), batch)
            batch = []
    if batch:
        session.execute(MemoNote.__table__.insert(), batch)
    for check in ("memo_notes", "bench_people", "direct_contacts", "cultivated", "pilots"):
        for tier, threshold in (("province", 1000), ("city", 100), ("county", 20), ("university", 5)):
            session.add(KpiTarget(plan_year=YEAR, check_key=check, tier=tier, threshold=threshold, due=AS_OF, period="year",
                                     scope="subtree"))  # the raw SQL counts 含下级
    session.commit()
    with app.extensions["qqh_db"].engine.connect() as c:  # planner statistics, as a deployment would have
        c.exec_driver_sql("ANALYZE")
        c.commit()
    return time.perf_counter() - t0


# -- the raw SQL, by hand ----------------------------------------------------------------
# each: (check key, kind, FROM+WHERE of the records, the member column for distinct)
RAW = {
    "memo_notes": ("sum", "memo_note r WHERE r.noted_on >= :start AND r.noted_on <= :as_of", None),
    "bench_people": ("distinct", "memo_note r WHERE r.noted_on >= :start AND r.noted_on <= :as_of", "r.title"),
    "direct_contacts": ("sum", "cultivation_youth_org r WHERE r.directly_connected_on <= :as_of", None),
    "cultivated": ("sum", "cultivation_youth_org r WHERE r.cultivated_on >= :start AND r.cultivated_on <= :as_of", None),
    "pilots": ("sum", "cultivation_youth_org r WHERE r.is_pilot = :yes AND r.directly_connected_on <= :as_of", None),
}
PARAMS = {"start": START, "as_of": AS_OF, "yes": True}


def raw_all_sql(session, keys, root_id, whole_tree):
    """Everything in SQL, one statement per check: the records aggregated per
    owning unit, joined to the reported units whose subtree holds that unit
    (a unit→reported-unit map over the paths), summed or counted distinct."""
    from sqlalchemy import text

    which = "a.level IN ('province', 'city', 'county', 'university')" if whole_tree else "(a.parent_id = :root OR a.id = :root)"
    reported = (
        "SELECT u.id AS unit_id, a.code AS code FROM qqh_unit u JOIN qqh_unit a "
        f"ON {which} AND substr(u.path, 1, length(a.path)) = a.path"
    )
    out = {}
    for key in keys:
        kind, source, member = RAW[key]
        table, where = source.split(" WHERE ")
        if kind == "sum":
            sql = (
                f"WITH m AS MATERIALIZED ({reported}), "
                f"per_unit AS (SELECT r.unit_id, COUNT(*) AS n FROM {table} WHERE {where} GROUP BY r.unit_id) "
                "SELECT m.code, SUM(per_unit.n) FROM per_unit JOIN m ON m.unit_id = per_unit.unit_id GROUP BY m.code"
            )
        else:
            sql = (
                f"WITH m AS MATERIALIZED ({reported}), "
                f"pairs AS (SELECT DISTINCT r.unit_id, {member} AS member FROM {table} WHERE {where}) "
                "SELECT m.code, COUNT(DISTINCT pairs.member) FROM pairs JOIN m ON m.unit_id = pairs.unit_id GROUP BY m.code"
            )
        for code, value in session.execute(text(sql), dict(PARAMS, root=root_id)):
            out[(key, code)] = value
    return out


def raw_groupby_rollup(session, keys, root_path, wanted):
    """GROUP BY owning unit in SQL, roll up along the unit path in Python."""
    from sqlalchemy import text

    paths = dict(session.execute(text("SELECT id, path FROM qqh_unit")).all())
    out = {}
    for key in keys:
        kind, source, member = RAW[key]
        table, where = source.split(" WHERE ")
        if kind == "sum":
            sql = f"SELECT r.unit_id, COUNT(*) FROM {table} WHERE {where} GROUP BY r.unit_id"
            acc = defaultdict(int)
            for unit_id, value in session.execute(text(sql), PARAMS):
                for code in paths[unit_id].split("/"):
                    if code in wanted:
                        acc[code] += value
        else:
            sql = f"SELECT DISTINCT r.unit_id, {member} FROM {table} WHERE {where}"
            acc = defaultdict(set)
            for unit_id, value in session.execute(text(sql), PARAMS):
                for code in paths[unit_id].split("/"):
                    if code in wanted:
                        acc[code].add(value)
            acc = {c: len(v) for c, v in acc.items()}
        for code, value in acc.items():
            out[(key, code)] = value
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", type=int, default=100_000)
    ap.add_argument("--enrolments", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--url")
    ap.add_argument("--sqlite-file", help="keep the SQLite database in this file and reuse it when it is loaded already")
    args = ap.parse_args()

    import logging

    logging.disable(logging.WARNING)
    from sqlalchemy import select

    from core.kpi import engine as kpi
    from core.kpi import live as kpilive
    from core.kpi.engine import KpiCheck
    from core.tenancy.units import Unit
    from tests.memo_plugin.models import MemoNote

    tmp = tempfile.mkdtemp()
    reuse = bool(args.sqlite_file and os.path.exists(args.sqlite_file))
    url = args.url or f"sqlite:///{os.path.abspath(args.sqlite_file) if args.sqlite_file else tmp + '/bench.db'}"
    app = make_app(url, os.path.join(tmp, "instance"))
    if not reuse:
        initialise(app)

    def people_query(plan_year, as_of):
        return (
            select(MemoNote.unit_id, MemoNote.title)
            .where(MemoNote.noted_on >= datetime.date(plan_year, 1, 1), MemoNote.noted_on <= as_of)
            .distinct()
        )

    with app.app_context():
        seconds = 0.0 if reuse else load(app, args.orgs, args.enrolments)
        session = app.appbuilder.session
        checks = dict(kpi.registered_checks())
        checks["bench_people"] = KpiCheck("bench_people", "people trained", "people", people_query, rollup="distinct")
        keys = [k for k in RAW if k in checks]
        engine = app.extensions["qqh_db"].engine.dialect.name
        n_units = session.query(Unit).count()
        loaded = f"reused {args.sqlite_file}" if reuse else f"loaded in {seconds:.1f} s"
        print(f"{engine}: {n_units:,} units; {args.orgs if 'cultivated' in keys else 0:,} organizations, "
              f"{args.enrolments:,} enrolments {loaded}; checks: {', '.join(keys)}", flush=True)
        province = session.execute(select(Unit).where(Unit.code == "440000")).scalar_one()
        root_id, root_path = province.id, province.path
        registered = kpi.registered_checks()
        registered["bench_people"] = checks["bench_people"]  # the API and the dashboard count it too
        rnd = random.Random(1)
        town_ids = list(session.execute(select(Unit.id).where(Unit.level == "town")).scalars())

        def forget():
            kpilive.clear(session)
            session.commit()

        def write_org():
            from plugins.cultivation.models import YouthOrg

            session.add(YouthOrg(name=f"新组织{time.time_ns()}",  # unique when a --sqlite-file is reused
                                 category="interest", service_field="other",
                                 reg_status="unregistered", directly_connected_on=AS_OF, unit_id=rnd.choice(town_ids)))
            session.commit()

        def write_note():
            session.add(MemoNote(title=f"P{rnd.randrange(300_000)}", noted_on=AS_OF, unit_id=rnd.choice(town_ids)))
            session.commit()

        for label, depth in (("province + children", 1), ("whole tree", None)):
            def report(live=None):
                session.expire_all()
                root = session.get(Unit, root_id)
                return kpi.evaluate(session, YEAR, root, AS_OF, depth=depth, checks=checks, live=live)

            rep = report(False)
            wanted = {r.unit.code for r in rep.rows}
            fns = {
                "cold": report,
                "warm": report,
                "org write": report,
                "note write": report,
                "uncached": lambda: report(False),
                "sql": lambda: raw_all_sql(session, keys, root_id, depth is None),
                "roll": lambda: raw_groupby_rollup(session, keys, root_path, wanted),
            }
            before = {"cold": forget, "note write": write_note}
            if "cultivated" in keys:
                before["org write"] = write_org
            else:
                del fns["org write"]
            wall, cpu, results = interleaved(fns, args.repeat, before)
            # every report equals a fresh computation and both raw forms
            final = {(r.target.check_key, r.unit.code): r.value for r in report(False).rows}
            assert {(r.target.check_key, r.unit.code): r.value for r in report().rows} == final
            figures = {(r.target.check_key, r.unit.code): r.value for r in results["uncached"].rows}
            for name in ("sql", "roll"):
                raw = results[name]
                for (key, code), value in figures.items():
                    assert raw.get((key, code), 0) == value, (name, key, code, raw.get((key, code)), value)
            # CPU time of this process covers the SQL only with SQLite (in-process)
            kinds = (("wall", wall), ("cpu", cpu)) if engine == "sqlite" else (("wall", wall),)
            print(f"  {label}: {len(rep.units)} units, {len(rep.rows)} rows", flush=True)
            for kind, t in kinds:
                best = min(t["sql"], t["roll"])
                writes = "".join(f" | after one {w} {t[w]:7.1f}" for w in ("org write", "note write") if w in t)
                print(f"    {kind:4} ms | report: cold {t['cold']:7.1f} | warm {t['warm']:6.1f}{writes} | "
                      f"not kept {t['uncached']:7.1f} || raw all-SQL {t['sql']:7.1f} | raw group-by+roll-up {t['roll']:7.1f} "
                      f"|| cold / fastest raw = {t['cold'] / best:.2f}×, not kept / fastest raw = {t['uncached'] / best:.2f}×",
                      flush=True)

        # the pages, warm, through the app (logged in as the province administrator), the
        # app's objects out of the collector's reach as in a gunicorn worker (core.app.freeze_heap)
        from core.app import freeze_heap

        freeze_heap()
        client = app.test_client()
        r = client.post("/login/", data={"username": "admin", "password": PASSWORD})
        assert r.status_code == 302 and "/login" not in r.headers.get("Location", ""), r.status_code
        api = f"/api/v1/kpi/report?year={YEAR}&unit=440000&as_of={AS_OF.isoformat()}"
        page = f"/?year={YEAR}&unit=440000&as_of={AS_OF.isoformat()}"

        def get(url):
            def go():
                resp = client.get(url)
                assert resp.status_code == 200, (url, resp.status_code)
                return len(resp.data)
            return go

        wall, cpu, sizes = interleaved({"api": get(api), "page": get(page)}, max(args.repeat, 7))
        print(f"  warm GET {api}: {wall['api']:.1f} ms ({sizes['api'] // 1024} KB); "
              f"dashboard GET {page}: {wall['page']:.1f} ms ({sizes['page'] // 1024} KB)", flush=True)
        if engine == "sqlite":  # the SQL runs in this process: its CPU time covers the whole request
            print(f"    cpu ms: API {cpu['api']:.1f}, dashboard {cpu['page']:.1f}", flush=True)


if __name__ == "__main__":
    main()
