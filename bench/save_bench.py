#!/usr/bin/env python3
"""Save speed with and without the audit log's listeners (core/audit/trail.py).

Usage: python3 bench/save_bench.py [--saves 100] [--rounds 5] [--url DATABASE_URL]

Builds a fresh database (SQLite in a temp folder unless --url names an empty
PostgreSQL database) with the Guangdong tree, logs in as the 佛山 clerk and
times in-process requests (Flask test client, no network): N REST creates
(POST /api/v1/memonote/) and N REST edits (PUT) of those records, with the
audit listeners on and off, in alternating rounds so that both see the same
machine load. Prints the median time per request in ms of each, and the
audit rows written.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--saves", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--url")
    args = ap.parse_args()

    import logging

    logging.disable(logging.WARNING)
    from sqlalchemy import func, select

    from core.audit import trail as audit
    from bench._support import PASSWORD, initialise, make_app

    tmp = tempfile.mkdtemp()
    url = args.url or f"sqlite:///{tmp}/bench.db"
    app = make_app(url, os.path.join(tmp, "instance"))
    initialise(app, {"admin": ("440000", "province_admin"), "fs_clerk": ("440600", "clerk")})
    with app.app_context():
        from core.tenancy.units import Unit

        unit = app.appbuilder.session.execute(select(Unit.id).where(Unit.code == "440606")).scalar_one()
    client = app.test_client()
    client.post("/login/", data={"username": "fs_clerk", "password": PASSWORD})

    def one_round(tag):
        ids, post, put = [], [], []
        for i in range(args.saves):
            t = time.perf_counter()
            r = client.post("/api/v1/memonote/", json={"title": f"{tag}-{i}", "body": "正文", "noted_on": "2012-03-05", "unit": unit})
            post.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 201, r.data
            ids.append(r.json["id"])
        for i, pk in enumerate(ids):
            t = time.perf_counter()
            r = client.put(f"/api/v1/memonote/{pk}", json={"title": f"{tag}-{i}", "body": "改过", "noted_on": "2012-03-06", "unit": unit})
            put.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.data
        return post, put

    one_round("warm-up")
    results = {True: ([], []), False: ([], [])}
    for n in range(args.rounds):
        for on in (True, False):
            audit.set_recording(on)
            post, put = one_round(f"r{n}-{on}")
            results[on][0].extend(post)
            results[on][1].extend(put)
    audit.set_recording(True)
    with app.app_context():
        logged = app.appbuilder.session.execute(select(func.count()).select_from(audit.AuditLog).where(audit.AuditLog.model == "memo_note")).scalar()
    engine = url.split(":")[0]
    for on in (True, False):
        post, put = results[on]
        print(f"{engine:10} audit {'on ' if on else 'off'}  REST create median {statistics.median(post):6.2f} ms   "
              f"REST edit median {statistics.median(put):6.2f} ms   ({len(post)} each)")
    print(f"audit rows for the notes: {logged:,}")


if __name__ == "__main__":
    main()
