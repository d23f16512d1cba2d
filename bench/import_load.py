#!/usr/bin/env python3
"""A 20,000-row import under load, through gunicorn (issue 20, point 3).

Usage: python3 bench/import_load.py [--rows 20000] [--readers 20] [--workers 4]
                                    [--timeout 30] [--pg postgresql+psycopg2://postgres@127.0.0.1:55432/postgres]

Makes a fresh PostgreSQL database on the --pg server (dropped afterwards),
runs `qqh init` and `qqh demo`, starts gunicorn with core/gunicorn_conf.py
(--workers, gunicorn's default 30 s --timeout), then, while --readers
cookie-session users read list pages and the dashboard without pause, the
佛山 unit administrator sends a --rows .xlsx to the import API: the dry run,
then the commit. Each answers 202 with the job's address (or its result at
once when it is quick), which is polled until the job ends. Prints the time
of each import job, the readers' throughput and p50/p95/p99, and every
status code seen; then checks that the rows are in the database exactly
once. Exit status 1 on any 5xx or a wrong count.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # core (the unit tree) from this checkout
DEMO_PASSWORD = "Qqh-demo-2012"  # core/ops/demo.py
READERS = ["shunde", "shenzhen", "inspector", "foshan"]
PAGES = ["/memonoteview/list/", "/", "/unitview/list/", "/excel/"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def importer_units(url: str, code: str = "440600") -> list[str]:
    """The codes of the units in the subtree of ``code`` (the importer's own
    unit, 佛山), read from core's unit tree in the bench database — not a
    list written here: 顺德 (440606) reports to the province (core.tenancy.units.
    CITY_TIER_COUNTIES) and is outside 佛山's subtree."""
    from core.tenancy.units import Unit, subtree_of

    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            path = c.execute(sa.select(Unit.path).where(Unit.code == code)).scalar_one()
            codes = c.execute(sa.select(Unit.code).where(subtree_of(path)).order_by(Unit.path)).scalars().all()
    finally:
        engine.dispose()
    assert codes, f"no units under {code}"
    return codes


def make_file(n: int, tag: str, towns: list[str]) -> bytes:
    """``n`` rows spread over ``towns`` (unit codes the importer may import into)."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["标题", "正文", "日期", "单位"])
    for i in range(n):
        ws.append([f"{tag}-{i:05d}", "压力测试", f"2012-{1 + i % 12:02d}-{1 + i % 28:02d}", towns[i % len(towns)]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def login(base: str, username: str) -> "requests.Session":
    import requests  # the HTTP client of the load, installed with the bench extra
    s = requests.Session()
    page = s.get(base + "/login/", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = s.post(base + "/login/", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
               allow_redirects=False, timeout=30)
    assert r.status_code == 302 and "/login" not in r.headers.get("Location", ""), f"login of {username} failed"
    return s


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def import_job(base, session, data, dry_run: int, codes: Counter) -> tuple[float, dict]:
    t0 = time.monotonic()
    r = session.post(base + "/api/v1/import/memonote", params={"dry_run": dry_run, "on_duplicate": "update"},
                     files={"file": ("压力.xlsx", data)}, timeout=120)
    codes[f"import POST {r.status_code}"] += 1
    if r.status_code != 202:
        print("   ", r.status_code, r.text[:300], flush=True)
        return time.monotonic() - t0, r.json()
    location = r.headers["Location"]
    last = None
    while True:
        time.sleep(0.5)
        p = session.get(base + location, timeout=60)
        codes[f"job GET {p.status_code}"] += 1
        if p.status_code != 200:
            continue
        job = p.json()["result"]
        if job["percent"] != last:
            print(f"    {job['state']:8} {job['stage'] or '-':6} {job['done']:>6}/{job['total']:<6} {job['percent']:3d}%", flush=True)
            last = job["percent"]
        if job["state"] in ("done", "failed"):
            return time.monotonic() - t0, job


def main():
    import requests  # the HTTP client of the load, installed with the bench extra
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--readers", type=int, default=20)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("--pg", default=os.environ.get("QQH_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:55432/postgres"))
    args = ap.parse_args()

    name = "qqh_bench_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"))
    url = sa.engine.make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    tmp = tempfile.mkdtemp(prefix="qqh-import-load-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QQH_")}
    env.update(QQH_DATABASE_URL=url, QQH_INSTANCE_PATH=os.path.join(tmp, "instance"),
               QQH_UPLOAD_PATH=os.path.join(tmp, "uploads"), QQH_SECRET_KEY="b" * 48, PYTHONPATH=ROOT,
               QQH_WORKERS=str(args.workers), QQH_TIMEOUT=str(args.timeout),
               # core's test fixture plugin (tests/memo_plugin), whose notes list is imported
               QQH_PLUGINS=os.environ.get("QQH_PLUGINS", "cultivation,homes,memo,training"),
               QQH_PLUGIN_MODULES=os.environ.get("QQH_PLUGIN_MODULES", "memo=tests.memo_plugin"))
    gunicorn = None
    try:
        for cmd in (["init"], ["demo"]):
            subprocess.run([sys.executable, "-m", "core", *cmd], env=env, check=True, capture_output=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(tmp, "gunicorn.log"), "w")
        gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:core.gunicorn_conf",
                                     "-b", f"127.0.0.1:{port}", "core.app:create_app()"],
                                    env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 300
        while True:
            try:
                if requests.get(base + "/health", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert gunicorn.poll() is None and time.time() < deadline, "gunicorn did not start"
            time.sleep(0.5)
        print(f"gunicorn: {args.workers} workers, --timeout {args.timeout}; PostgreSQL database {name}", flush=True)
        tag = "L" + uuid.uuid4().hex[:6]
        towns = importer_units(url)
        data = make_file(args.rows, tag, towns)
        print(f"file: {args.rows:,} rows over {len(towns)} units of 佛山's subtree, {len(data) / 1e6:.1f} MB", flush=True)

        stop = threading.Event()
        latencies, codes, lock = [], Counter(), threading.Lock()

        def reader(i):
            s = login(base, READERS[i % len(READERS)])
            rnd = random.Random(i)
            while not stop.is_set():
                page = rnd.choice(PAGES)
                t0 = time.monotonic()
                try:
                    r = s.get(base + page, timeout=120)
                    code = r.status_code
                except requests.RequestException as exc:
                    code = type(exc).__name__
                with lock:
                    latencies.append(time.monotonic() - t0)
                    codes[f"read {code}"] += 1

        threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(args.readers)]
        for t in threads:
            t.start()
        time.sleep(3)
        importer = requests.Session()  # a REST client: bearer token
        r = importer.post(base + "/api/v1/security/login", timeout=60,
                          json={"username": "foshan", "password": DEMO_PASSWORD, "provider": "db"})
        importer.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        started = time.monotonic()
        with lock:
            n0 = len(latencies)
        print("dry run:", flush=True)
        dry_s, dry = import_job(base, importer, data, 1, codes)
        print("commit:", flush=True)
        commit_s, commit = import_job(base, importer, data, 0, codes)
        stop.set()
        for t in threads:
            t.join(130)
        elapsed = time.monotonic() - started
        reads = latencies[n0:]
        engine = sa.create_engine(url)
        with engine.connect() as c:
            stored = c.execute(sa.text("SELECT count(*), count(DISTINCT title) FROM memo_note WHERE title LIKE :t"),
                               {"t": tag + "-%"}).one()
        engine.dispose()
        print()
        print(f"dry run job: {dry_s:6.1f} s  state={dry.get('state')}  ok={(dry.get('result') or {}).get('ok')}")
        print(f"commit job:  {commit_s:6.1f} s  state={commit.get('state')}  new={((commit.get('result') or {}).get('report') or {}).get('new')}")
        print(f"readers: {len(reads)} requests in {elapsed:.1f} s = {len(reads) / elapsed:.1f}/s; "
              f"p50 {pct(reads, 50) * 1000:.0f} ms, p95 {pct(reads, 95) * 1000:.0f} ms, p99 {pct(reads, 99) * 1000:.0f} ms, "
              f"mean {statistics.mean(reads) * 1000 if reads else 0:.0f} ms")
        print("status codes:", dict(sorted(codes.items())))
        print(f"rows in the database: {stored[0]} ({stored[1]} distinct titles), expected {args.rows}")
        bad = [k for k in codes if re.search(r" (5\d\d|[A-Z]\w+)$", k)]
        ok = not bad and stored[0] == stored[1] == args.rows and commit.get("state") == "done"
        print("RESULT:", "ok, no 5xx" if ok else f"FAILED {bad}")
        return 0 if ok else 1
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(60)
        admin.dispose()
        with sa.create_engine(args.pg, isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
