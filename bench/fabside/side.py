"""Run the stock FAB side of a bench in its own process (our app patches FAB when imported):

    python3 -m bench.fabside.side --source OUR_DB_URL --db FAB_DB_URL [--repeat 50] [--no-time]

copies the units, the memo notes and the users' units of our database into a fresh FAB database,
then (unless --no-time) times the HTML list and the REST list in-process (Flask test client) as the
province admin and the 佛山 clerk, and prints one JSON line per page: user, label, times (ms), size."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
import time

import sqlalchemy as sa

from bench.fabside.app import PASSWORD, create_app, setup

PAGES = (("stock FAB HTML", "/noteview/list/"), ("stock FAB REST", "/api/v1/note/?q=(page_size:25)"))


def copy_rows(source: str):
    engine = sa.create_engine(source)
    with engine.connect() as c:
        units = [dict(r._mapping) for r in c.execute(sa.text(
            "SELECT id, code, name, level, path, parent_id FROM qqh_unit ORDER BY depth"))]
        notes = [dict(r._mapping) for r in c.execute(sa.text(
            "SELECT id, title, body, noted_on, unit_id, created_on, changed_on FROM memo_note"))]
        members = {r.username: r.path for r in c.execute(sa.text(
            "SELECT u.username, q.path FROM ab_user u JOIN qqh_unit q ON q.id = u.unit_id"))}
    engine.dispose()
    if engine.dialect.name == "sqlite":  # SQLite gives dates back as text through text()
        import datetime

        for n in notes:
            for k, conv in (("noted_on", datetime.date.fromisoformat), ("created_on", datetime.datetime.fromisoformat),
                            ("changed_on", datetime.datetime.fromisoformat)):
                if isinstance(n[k], str):
                    n[k] = conv(n[k])
    return units, notes, members


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--no-time", action="store_true")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    units, notes, paths = copy_rows(args.source)
    app = create_app(args.db)
    setup(app, units, notes, {name: (path, name == "admin") for name, path in paths.items()})
    print(json.dumps({"loaded": len(notes)}), flush=True)
    if args.no_time:
        return
    gc.collect()
    gc.freeze()  # as our side does (core.app.freeze_heap): the collector leaves the built app alone
    for user in ("admin", "fs_clerk"):
        client = app.test_client()
        r = client.post("/login/", data={"username": user, "password": PASSWORD})
        assert r.status_code == 302, r.data[:300]
        # stock FAB's REST API takes a bearer token (its documented way), not the cookie session
        token = client.post("/api/v1/security/login", json={"username": user, "password": PASSWORD, "provider": "db"})
        assert token.status_code == 200, token.data[:300]
        headers = {"Authorization": "Bearer " + token.json["access_token"]}
        for label, path in PAGES:
            r = client.get(path, headers=headers)
            assert r.status_code == 200, (path, r.status_code, r.data[:300])
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                client.get(path, headers=headers)
                times.append((time.perf_counter() - t) * 1000)
            print(json.dumps({"user": user, "label": label, "times": times, "size": len(r.data),
                              "rows": r.json["count"] if r.is_json else None}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
