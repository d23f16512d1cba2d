#!/usr/bin/env python3
"""Filtering a list by a custom field (issue 18): the memo notes list with
N records (default 100,000) and a single-choice custom field, timed as the
HTML list page (25 rows) unfiltered and filtered by the field (?cf_kind=2,
about one record in ten), as the province admin; in-process requests (Flask
test client). The bar: filtered within 2x unfiltered.

Usage: python3 bench/lowcode_bench.py [--rows 100000] [--repeat 30] [--url DATABASE_URL]
(SQLite in a temp folder unless --url names an empty PostgreSQL database.)
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# core's test fixture plugin (tests/memo_plugin): its notes are bench records
os.environ.setdefault("QQH_PLUGIN_MODULES", "memo=tests.memo_plugin")
os.environ.setdefault("QQH_PLUGINS", "cultivation,homes,memo,training")
PASSWORD = "Bench-pass-2012"


def make_app(url, instance):
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
        u = sm.add_user("admin", "admin", "测试", "admin@t.local", sm.find_role("province_admin"), password=PASSWORD)
        u.unit = unit_by_code(session, "440000")
        session.commit()
    return app


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--url")
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)
    from sqlalchemy import select, text

    tmp = tempfile.mkdtemp()
    app = make_app(args.url or f"sqlite:///{tmp}/bench.db", os.path.join(tmp, "instance"))
    with app.app_context():
        from core.lowcode import service
        from core.lowcode.models import CustomField
        from core.tenancy.units import Unit
        from tests.memo_plugin.models import MemoNote

        session = app.appbuilder.session
        field = CustomField(list_name="memo_note", code="kind", label="类别", kind="choice",
                            options=[[str(i), f"类别{i}"] for i in range(10)], position=0)
        service.check_field(session, field)
        session.add(field)
        session.flush()
        service.after_field_written(session, field)
        session.commit()
        towns = session.execute(select(Unit.id).where(Unit.level == "town")).scalars().all()
        rnd = random.Random(2012)
        now = datetime.datetime(2012, 12, 1)
        t0 = time.perf_counter()
        batch = []
        for i in range(args.rows):
            batch.append(dict(title=f"记事 {i}", noted_on=datetime.date(2012, 1, 1) + datetime.timedelta(days=rnd.randrange(330)),
                              unit_id=rnd.choice(towns), created_on=now, changed_on=now,
                              qqh_fields={"kind": str(rnd.randrange(10))}))
            if len(batch) == 10_000:
                session.execute(MemoNote.__table__.insert(), batch)
                batch = []
        if batch:
            session.execute(MemoNote.__table__.insert(), batch)
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
        engine = session.get_bind().dialect.name
        print(f"loaded {args.rows:,} notes in {time.perf_counter() - t0:.1f} s ({engine})")
    client = app.test_client()
    client.post("/login/", data={"username": "admin", "password": PASSWORD})
    medians = {}
    for label, path in (("unfiltered", "/memonoteview/list/"), ("filtered", "/memonoteview/list/?cf_kind=2")):
        r = client.get(path)
        assert r.status_code == 200 and "记事" in r.get_data(as_text=True), (path, r.status_code)
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        medians[label] = statistics.median(times)
        print(f"{label:10} median {medians[label]:6.1f} ms   p90 {times[int(len(times) * 0.9)]:6.1f} ms")
    ratio = medians["filtered"] / medians["unfiltered"]
    print(f"filtered / unfiltered: {ratio:.2f} (bar: 2.00) {'OK' if ratio <= 2 else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
