#!/usr/bin/env python3
"""Load test (a benchmark, not a timed test): 亲青汇 under gunicorn on PostgreSQL, beside a stock
Flask-AppBuilder 5.3 app (bench/fabside) under the same load, in the same run.

Usage: python3 bench/load.py [--seconds 30] [--workers 4] [--users 16] [--writers 4] [--rows 20000]
                             [--pg postgresql+psycopg2://postgres@127.0.0.1:55432/postgres] [--quick] [--no-fab]

A fresh database on the PostgreSQL server --pg names (the shared test server by default; it is
dropped afterwards) gets the 1,901-unit Guangdong tree, N memo notes spread over the towns and
users of several cities and roles (province admin, 佛山/顺德/深圳 clerks, 佛山 inspector, 佛山 unit
admin). gunicorn (core/gunicorn_conf.py, --workers) serves it on a loopback port; --users threads
(each a user, cookie session, keep-alive) read lists, record pages, the REST list, the dashboard and
the KPI report, and --writers threads (bearer tokens, as machine clients) create notes, closed loop
(no think time), for --seconds. It prints throughput and p50/p95/p99 per endpoint, then checks that
no answer was a 5xx and that every acknowledged write (201 with an id) is in the database exactly
once.

Then the comparison, with the same threads, for the same time, on the endpoints both apps have
(HTML list, record page, REST list, REST create; no dashboard or KPI report in stock FAB): first
亲青汇, then the stock FAB app (the same rows, copied into its own database on the same server,
under the same gunicorn settings). The aim (issue 20): ≥ 1.5× its throughput at equal or lower p99.

Requests go to 127.0.0.1 only, the loops are bounded in time, and the servers are stopped at the
end. --quick (5 s, 2 workers, 3+1 threads, 500 rows) only checks that it runs.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from urllib.parse import quote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

READERS = ["admin", "fs_clerk", "sd_clerk", "sz_clerk", "fs_inspector", "fs_admin"]
WRITERS = ["fs_clerk", "sd_clerk", "sz_clerk"]
WRITE_UNIT = {"fs_clerk": "440606", "sd_clerk": "440606", "sz_clerk": "440306"}  # a unit each may write to


# -- a small HTTP client (stdlib only: the bench needs neither requests nor pytest) -------------------

class Client:
    def __init__(self, port):
        self.port = port
        self.conn = None
        self.cookies = {}
        self.headers = {}

    def request(self, method, path, body=None, headers=None):
        head = dict(self.headers, **(headers or {}))
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, path, body=body, headers=head)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if attempt or method != "GET":
                    raise
        for name, value in r.getheaders():
            if name.lower() == "set-cookie":
                k, _, rest = value.partition("=")
                self.cookies[k] = rest.split(";", 1)[0]
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return r.status, data

    def login_form(self, username, password):
        status, page = self.request("GET", "/login/")
        m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            rb'value="([^"]+)"[^>]*name="csrf_token"', page)
        form = f"username={quote(username)}&password={quote(password)}" + (f"&csrf_token={m.group(1).decode()}" if m else "")
        status, _ = self.request("POST", "/login/", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, f"login of {username}: {status}"
        return self

    def login_token(self, username, password):
        body = json.dumps({"username": username, "password": password, "provider": "db"})
        status, data = self.request("POST", "/api/v1/security/login", body, {"Content-Type": "application/json"})
        assert status == 200, f"token of {username}: {status} {data[:200]}"
        self.headers["Authorization"] = "Bearer " + json.loads(data)["access_token"]
        self.cookies.clear()
        return self


# -- servers -------------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(app_spec, env, workers, conf=None):
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120"]
    if conf:
        cmd += ["-c", conf]
    log = tempfile.NamedTemporaryFile(prefix="qqh-load-gunicorn.", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd + [app_spec], cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT, **env), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/login/")
            if c.getresponse().status == 200:
                c.close()
                return proc, port
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            break
    stop(proc)
    raise SystemExit(f"gunicorn did not start ({app_spec}): see {log.name}")


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- the load ------------------------------------------------------------------------------------------

def run_load(port, readers, writers, seconds, tag):
    """Closed-loop threads until the deadline; returns (timings per endpoint, statuses, acknowledged titles)."""
    timings = defaultdict(list)
    statuses = defaultdict(int)
    acked = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    start = threading.Barrier(len(readers) + len(writers) + 1)

    def loop(client, plan):
        rnd = random.Random(hash(plan))
        start.wait()
        while time.perf_counter() < deadline:
            label, method, path, body, head, on_ok = plan(rnd)
            t = time.perf_counter()
            try:
                status, data = client.request(method, path, body, head)
            except OSError:
                status, data = 599, b""
            ms = (time.perf_counter() - t) * 1000
            with lock:
                timings[label].append(ms)
                statuses[(label, status)] += 1
                if on_ok and status in (200, 201):
                    on_ok(data)

    threads = [threading.Thread(target=loop, args=a, daemon=True) for a in readers + writers]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join(seconds + 180)
    elapsed = time.perf_counter() - t0
    return timings, statuses, acked, elapsed


def warm(readers, rounds=3):
    """A few untimed reads per reader first: each gunicorn worker builds its caches and pool once."""
    for client, plan in readers:
        rnd = random.Random(1)
        for _ in range(rounds):
            _, method, path, body, head, _ = plan(rnd)
            client.request(method, path, body, head)


def summary(title, timings, statuses, elapsed):
    total = sum(len(v) for v in timings.values())
    print(f"\n{title}: {total:,} requests in {elapsed:.1f} s = {total / elapsed:.1f} requests/s")
    allt = sorted(t for v in timings.values() for t in v)
    for label in sorted(timings) + ["all"]:
        v = sorted(timings[label]) if label != "all" else allt
        if not v:
            continue
        pct = lambda p: v[min(len(v) - 1, int(len(v) * p))]
        codes = ", ".join(f"{s}×{n}" for (lbl, s), n in sorted(statuses.items()) if lbl == label) if label != "all" else ""
        print(f"  {label:22} {len(v) / elapsed:7.1f}/s  p50 {statistics.median(v):7.1f} ms  p95 {pct(0.95):7.1f} ms  "
              f"p99 {pct(0.99):7.1f} ms  {codes}")
    return total / elapsed, (allt[min(len(allt) - 1, int(len(allt) * 0.99))] if allt else 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--users", type=int, default=16, help="reader threads")
    ap.add_argument("--writers", type=int, default=4, help="writer threads")
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--pg", default=os.environ.get("QQH_TEST_PG_URL") or "postgresql+psycopg2://postgres@127.0.0.1:55432/postgres")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-fab", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.workers, args.users, args.writers, args.rows = 5, 2, 3, 1, 500

    import logging

    logging.disable(logging.WARNING)
    import sqlalchemy as sa

    from bench._support import PASSWORD, USERS, fresh_database, initialise, make_app

    url, drop = fresh_database(args.pg)
    fab_url, fab_drop = (None, lambda: None) if args.no_fab else fresh_database(args.pg)
    procs = []
    try:
        tmp = tempfile.mkdtemp(prefix="qqh-load.")
        app = make_app(url, os.path.join(tmp, "instance"))
        initialise(app, USERS)
        with app.app_context():
            from core.tenancy.units import Unit
            from tests.memo_plugin.models import MemoNote

            session = app.appbuilder.session
            towns = session.execute(sa.select(Unit.id).where(Unit.level == "town")).scalars().all()
            units = dict(session.execute(sa.select(Unit.code, Unit.id)).all())
            rnd = random.Random(2012)
            now = datetime.datetime(2012, 12, 1)
            rows = [dict(title=f"记事 {i}", noted_on=datetime.date(2012, 1, 1) + datetime.timedelta(days=rnd.randrange(330)),
                         unit_id=rnd.choice(towns), created_on=now, changed_on=now) for i in range(args.rows)]
            for i in range(0, len(rows), 10_000):
                session.execute(MemoNote.__table__.insert(), rows[i:i + 10_000])
            session.commit()
            session.execute(sa.text("ANALYZE"))
            session.commit()
            note_ids = session.execute(sa.select(MemoNote.id).limit(500)).scalars().all()
            in_scope = {}  # records each reader may open
            for user in READERS:
                path = session.execute(sa.select(Unit.path).where(Unit.code == USERS[user][0])).scalar_one()
                in_scope[user] = session.execute(
                    sa.select(MemoNote.id).join(Unit, Unit.id == MemoNote.unit_id)
                    .where(Unit.path >= path, Unit.path < path[:-1] + "0").limit(500)).scalars().all()
            app.extensions["qqh_db"].engine.dispose()
        if not args.no_fab:
            out = subprocess.run([sys.executable, "-m", "bench.fabside.side", "--source", url, "--db", fab_url, "--no-time"],
                                 cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True)
            assert out.returncode == 0, out.stderr[-3000:]
        print(f"PostgreSQL {sa.engine.make_url(args.pg).host}:{sa.engine.make_url(args.pg).port}; {args.rows:,} notes; "
              f"gunicorn -w {args.workers}; {args.users} readers + {args.writers} writers, {args.seconds:g} s per phase; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)

        env = {"QQH_DATABASE_URL": url, "QQH_SECRET_KEY": "load-" + "k" * 40, "QQH_INSTANCE_PATH": os.path.join(tmp, "instance"),
               "QQH_WORKERS": str(args.workers)}
        proc, port = gunicorn("core.app:create_app()", env, args.workers, "python:core.gunicorn_conf")
        procs.append(proc)

        tag = "load-" + uuid.uuid4().hex[:8]
        ours = {"list": "/memonoteview/list/", "show": "/memonoteview/show/{}", "rest": "/api/v1/memonote/?q=(page_size:25)",
                "post": "/api/v1/memonote/"}

        def plans(port, urls, password, full, fab_units=None):
            readers, writers, acked = [], [], []
            for i in range(args.users):
                user = READERS[i % len(READERS)]
                c = Client(port).login_form(user, password)
                if fab_units:  # stock FAB's REST API takes bearer tokens only
                    token = Client(port).login_token(user, password)
                    c.headers = token.headers
                mine = in_scope[user] or note_ids  # (a tiny --quick run may leave a subtree empty)

                def plan(rnd, user=user, mine=mine):
                    choices = [("HTML list", urls["list"] + (f"?page_{'MemoNoteView' if not fab_units else 'NoteView'}={rnd.randrange(5)}")),
                               ("record page", urls["show"].format(rnd.choice(mine))),
                               ("REST list", urls["rest"])]
                    if full:
                        choices += [("dashboard", "/"), ("KPI report", f"/api/v1/kpi/report?year=2012")]
                    label, path = rnd.choice(choices)
                    return label, "GET", path, None, None, None
                readers.append((c, plan))
            for i in range(args.writers):
                user = WRITERS[i % len(WRITERS)]
                c = Client(port).login_token(user, password)
                unit = (fab_units or units)[WRITE_UNIT[user]]
                counter = iter(range(10**9))

                def plan(rnd, user=user, unit=unit, counter=counter):
                    title = f"{tag} {user} {next(counter)}"
                    body = json.dumps({"title": title, "noted_on": "2012-03-05", "unit": unit})
                    return ("REST create", "POST", urls["post"], body, {"Content-Type": "application/json"},
                            lambda data, title=title: acked.append((title, json.loads(data)["id"])))
                writers.append((c, plan))
            return readers, writers, acked

        results = {}
        for phase, full in (("亲青汇, every endpoint", True), ("亲青汇, the endpoints stock FAB has", False)):
            if args.no_fab and not full:
                continue
            readers, writers, acked = plans(port, ours, PASSWORD, full)
            warm(readers)
            timings, statuses, _, elapsed = run_load(port, readers, writers, args.seconds, tag)
            results[phase] = summary(phase, timings, statuses, elapsed)
            bad = {k: n for k, n in statuses.items() if k[1] >= 500}
            with app.app_context():
                from tests.memo_plugin.models import MemoNote

                session = app.appbuilder.session
                stored = session.execute(sa.select(MemoNote.title, sa.func.count()).where(MemoNote.title.like(f"{tag}%"))
                                         .group_by(MemoNote.title)).all()
                app.extensions["qqh_db"].engine.dispose()
            counts = dict(stored)
            missing = [t for t, _ in acked if counts.get(t, 0) != 1]
            print(f"  5xx: {sum(bad.values())}; acknowledged writes {len(acked):,}, each in the database exactly once: "
                  f"{'yes' if not missing else 'NO, ' + str(len(missing)) + ' missing or doubled'}")
            tag = "load-" + uuid.uuid4().hex[:8]
            assert not bad and not missing, (bad, missing[:5])
        stop(proc)

        if not args.no_fab:
            fab_engine = sa.create_engine(fab_url)
            with fab_engine.connect() as c:
                fab_units = dict(c.execute(sa.text("SELECT code, id FROM fab_unit")).all())
            from bench.fabside.app import PASSWORD as FAB_PASSWORD

            proc, port = gunicorn("bench.fabside.app:create_app()", {"FABSIDE_DB_URL": fab_url}, args.workers)
            procs.append(proc)
            fab = {"list": "/noteview/list/", "show": "/noteview/show/{}", "rest": "/api/v1/note/?q=(page_size:25)",
                   "post": "/api/v1/note/"}
            readers, writers, acked = plans(port, fab, FAB_PASSWORD, False, fab_units)
            warm(readers)
            timings, statuses, _, elapsed = run_load(port, readers, writers, args.seconds, tag)
            results["stock FAB"] = summary("stock Flask-AppBuilder 5.3, the same endpoints", timings, statuses, elapsed)
            with fab_engine.connect() as c:
                n = c.execute(sa.text("SELECT count(*) FROM fab_note WHERE title LIKE :t"), {"t": tag + "%"}).scalar()
            fab_engine.dispose()
            bad = sum(n for k, n in statuses.items() if k[1] >= 500)
            print(f"  5xx: {bad}; acknowledged writes {len(acked):,}, rows written {n:,}")
            assert not bad and n == len(acked), (bad, n, len(acked))
            stop(proc)
            (ours_rps, ours_p99), (fab_rps, fab_p99) = results["亲青汇, the endpoints stock FAB has"], results["stock FAB"]
            print(f"\n亲青汇 / stock FAB on the same endpoints: throughput {ours_rps / fab_rps:.2f}× (aim ≥ 1.5×), "
                  f"p99 {ours_p99:.0f} ms vs {fab_p99:.0f} ms (aim: equal or lower)")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        for p in procs:
            stop(p)
        drop()
        fab_drop()


if __name__ == "__main__":
    main()
