#!/usr/bin/env python3
"""List-page speed with the real 1,901-unit tree and N unit-owned records.

Usage: python3 bench/list_page.py [--rows 100000] [--repeat 50] [--url DATABASE_URL]

Builds a fresh database (SQLite in a temp folder unless --url names an empty
PostgreSQL database), loads the Guangdong tree and N sample notes spread over
the towns, then times in-process requests (Flask test client, no network):
the HTML list page (25 rows) and the REST list, as the province admin and as
a city clerk (佛山). Prints the median and 90th percentile in ms and the page
size. The bar (ARCHITECTURE.md): Django admin rendered the same 25 rows in
~11 ms; stock FAB took ~55 ms because its search form listed every unit.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--url")
    args = ap.parse_args()

    import logging

    logging.disable(logging.WARNING)
    from sqlalchemy import select

    from tests.conftest import PASSWORD, initialise, make_app

    tmp = tempfile.mkdtemp()
    url = args.url or f"sqlite:///{tmp}/bench.db"
    app = make_app(url, os.path.join(tmp, "instance"))
    initialise(app, {"admin": ("440000", "province_admin"), "fs_clerk": ("440600", "clerk")})
    with app.app_context():
        from core.units import Unit
        from plugins.sample.models import SampleNote

        session = app.appbuilder.session
        towns = session.execute(select(Unit.id).where(Unit.level == "town")).scalars().all()
        rnd = random.Random(2012)
        t0 = time.perf_counter()
        now = datetime.datetime(2012, 12, 1)
        batch = []
        for i in range(args.rows):
            batch.append(dict(title=f"记事 {i}", noted_on=datetime.date(2012, 1, 1) + datetime.timedelta(days=rnd.randrange(330)),
                              unit_id=rnd.choice(towns), created_on=now, changed_on=now))
            if len(batch) == 10_000:
                session.execute(SampleNote.__table__.insert(), batch)
                batch = []
        if batch:
            session.execute(SampleNote.__table__.insert(), batch)
        session.commit()
        print(f"loaded {args.rows:,} notes in {time.perf_counter() - t0:.1f} s ({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})")

    for user in ("admin", "fs_clerk"):
        client = app.test_client()
        client.post("/login/", data={"username": user, "password": PASSWORD})
        for label, path in (("HTML list page", "/samplenoteview/list/"), ("REST list", "/api/v1/samplenote/?q=(page_size:25)")):
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
            size = len(r.data)
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            print(f"{user:9} {label:15} median {statistics.median(times):6.1f} ms   p90 {times[int(len(times) * 0.9)]:6.1f} ms   {size / 1024:6.1f} KB")


if __name__ == "__main__":
    main()
