#!/usr/bin/env python3
"""Reporting loop speed (core/reporting/reports.py) on a fresh database.

Usage: python3 bench/reporting_bench.py [--records 5000] [--universities 150] [--url DATABASE_URL]

Builds a fresh database (SQLite in a temp folder unless --url names an empty
PostgreSQL database) with the real 1,901-unit Guangdong tree plus
``--universities`` units (2,000+ in all), gives 顺德区 ``--records`` youth
organizations on its direct-contact list of the year, then measures:

* the province's table of the direct-contact list over every unit: the
  number of SQL statements it takes (the bar: 1) and its time;
* a submission of 顺德区's list (the frozen snapshot of every record, its
  history row, the audit log and the notification of the city): its time
  (the bar: under 2 s on SQLite).
"""

import argparse
import datetime
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

YEAR = 2012


def make_app(url: str, instance: str):
    """A migrated app with the unit tree and a clerk at 顺德区 and at 佛山 (no tests.* import)."""
    from core.app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "QQH_INSTANCE_PATH": instance, "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "SECRET_KEY": "b" * 40})
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
        for name, code in (("bench_sd", "440606"), ("bench_fs", "440600")):
            u = sm.add_user(name, name, "测试", f"{name}@bench.local", sm.find_role("clerk"), password="Bench-pass-123")
            u.unit = unit_by_code(session, code)
        session.commit()
    return app


def load(app, n_records: int, n_universities: int) -> None:
    from sqlalchemy import select

    from core.tenancy.units import Unit, compute_path, unit_by_code
    from plugins.cultivation.models import YouthOrg

    session = app.appbuilder.session
    province = session.execute(select(Unit).where(Unit.code == "440000")).scalar_one()
    for i in range(n_universities):
        code = f"GDU{i:03d}"
        path, depth = compute_path(province, code)
        session.add(Unit(code=code, name=f"高校{i:03d}", level="university", tier="university", prd=False,
                         undergraduate=False, parent=province, path=path, depth=depth))
    session.flush()
    shunde = unit_by_code(session, "440606")
    now = datetime.datetime(YEAR, 12, 1)
    rows = [dict(name=f"顺德组织{i}", category="interest", service_field="other", reg_status="unregistered",
                 directly_connected_on=datetime.date(YEAR, 1 + i % 12, 1 + i % 28), is_pilot=False,
                 unit_id=shunde.id, created_on=now, changed_on=now) for i in range(n_records)]
    session.execute(YouthOrg.__table__.insert(), rows)
    session.commit()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--universities", type=int, default=150)
    ap.add_argument("--url")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.url or f"sqlite:///{tmp}/bench.db"
    app = make_app(url, os.path.join(tmp, "instance"))
    with app.app_context():
        load(app, args.records, args.universities)
    from sqlalchemy import event, func, select

    from core.reporting import reports as rep
    from core.kpi.engine import top_unit
    from core.tenancy.units import Unit

    with app.test_request_context():
        session = app.appbuilder.session
        item = rep.registered_items()["direct_contact_list"]
        root = top_unit(session)
        units = session.execute(select(func.count(Unit.id))).scalar()
        statements = []
        engine = session.get_bind()
        listener = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        t0 = time.perf_counter()
        due, rows = rep.state_table(session, item, YEAR, root)
        table_ms = (time.perf_counter() - t0) * 1000
        event.remove(engine, "before_cursor_execute", listener)
        print(f"province table: {len(rows)} units (of {units}), {len(statements)} SQL statement(s), {table_ms:.0f} ms")

        sd = app.appbuilder.sm.find_user(username="bench_sd")
        t0 = time.perf_counter()
        sub = rep.submit(session, item.key, YEAR, sd, "bench")
        submit_s = time.perf_counter() - t0
        print(f"submit of {sub.row_count} records ({len(sub.snapshot) / 1e6:.1f} MB snapshot): {submit_s:.2f} s "
              f"({'under' if submit_s < 2 else 'OVER'} 2 s, {engine.dialect.name})")
    if not args.url:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
