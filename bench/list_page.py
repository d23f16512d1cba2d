#!/usr/bin/env python3
"""List-page speed with the real 1,901-unit tree and N unit-owned records.

Usage: python3 bench/list_page.py [--rows 100000] [--repeat 50] [--url DATABASE_URL] [--no-django] [--no-fab]
                                  [--quick]

Builds a fresh database (SQLite in a temp folder unless --url names an empty
PostgreSQL database), loads the Guangdong tree and N memo notes spread over
the towns, then times in-process requests (Flask test client, no network):
the HTML list page (25 rows) and the REST list, as the province admin and as
a city clerk (佛山). Prints the median and 90th percentile in ms and the page
size. The bar (ARCHITECTURE.md): Django admin rendered the same 25 rows in
~11 ms; stock FAB took ~55 ms because its search form listed every unit.

When Django is installed (`pip install django`, or `pip install -e .[bench]`; only this script uses it), the
same units and rows are copied into a Django admin (bench/djangoside: same
columns, order, search and date filter, scoped to the clerk's subtree by the
same indexed path range) on the same engine (its own SQLite file, or its own
database on the same PostgreSQL server) and timed the same way, in the same
run, so that both sides see the same machine load.

A stock Flask-AppBuilder 5.3 app (bench/fabside: one ModelView and one
ModelRestApi over a note of the same shape, its clerk scoped by a stock base
filter on the same path range) gets the same units, rows and users on the same
engine and is timed the same way in its own process (our app patches FAB, so
the stock side must not share a process with it). The ratios printed at the
end are the bars of issue 21: our REST list ≤ 0.8× stock FAB's, our HTML list
≤ 0.5× Django admin's. --quick (500 rows, 3 repeats) only checks that it runs.
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
    ap.add_argument("--no-django", action="store_true", help="skip the Django admin side")
    ap.add_argument("--no-fab", action="store_true", help="skip the stock Flask-AppBuilder side")
    ap.add_argument("--quick", action="store_true", help="500 rows, 3 repeats: a smoke run")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.repeat = 500, 3

    import logging

    logging.disable(logging.WARNING)
    from sqlalchemy import select, text

    from bench._support import PASSWORD, initialise, make_app

    tmp = tempfile.mkdtemp()
    url = args.url or f"sqlite:///{tmp}/bench.db"
    app = make_app(url, os.path.join(tmp, "instance"))
    initialise(app, {"admin": ("440000", "province_admin"), "fs_clerk": ("440600", "clerk")})
    with app.app_context():
        from core.tenancy.units import Unit
        from tests.memo_plugin.models import MemoNote

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
                session.execute(MemoNote.__table__.insert(), batch)
                batch = []
        if batch:
            session.execute(MemoNote.__table__.insert(), batch)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))  # as autovacuum would soon after a bulk load
            session.commit()
        print(f"loaded {args.rows:,} notes in {time.perf_counter() - t0:.1f} s ({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})")

    django_client = None
    if not args.no_django:
        try:
            import django  # noqa: F401
        except ImportError:
            print("Django is not installed: pip install django to time Django admin on the same rows")
        else:
            django_client = django_side(app, tmp, url)

    fab = fab_side(url, tmp, args.repeat) if not args.no_fab else {}
    # what a gunicorn worker does once its app is built (core/gunicorn_conf.py): the collector leaves the
    # objects alive now alone — Django's too, in this process; the stock FAB side does the same in its own.
    # Without it a full collection walks both apps' heaps during the timed requests (ours 6.1 → 7.6 ms).
    from core.app import freeze_heap

    freeze_heap()
    medians = {}
    for user in ("admin", "fs_clerk"):
        client = app.test_client()
        client.post("/login/", data={"username": user, "password": PASSWORD})
        pages = [("HTML list page", client, "/memonoteview/list/"), ("REST list", client, "/api/v1/memonote/?q=(page_size:25)")]
        if django_client:
            pages.append(("Django admin", django_client(user), "/admin/djangoside/note/"))
        sizes, times = {}, {label: [] for label, _c, _p in pages}
        for label, c, path in pages:
            r = c.get(path)
            assert r.status_code == 200, (path, r.status_code)
            sizes[label] = len(r.data if hasattr(r, "data") else r.content)
        # in turns (ours, Django's, ours, …): on a shared machine, whose speed changes from one second to
        # the next, both sides then see the same machine
        for _ in range(args.repeat):
            for label, c, path in pages:
                t = time.perf_counter()
                c.get(path)
                times[label].append((time.perf_counter() - t) * 1000)
        for label, _c, _p in pages:
            report(user, label, times[label], sizes[label], medians)
        for label, (times, size) in fab.get(user, {}).items():
            report(user, label, times, size, medians)
    print("ratios (median):")
    for user in ("admin", "fs_clerk"):
        m = medians.get(user, {})
        for ours, theirs, bar in (("REST list", "stock FAB REST", 0.8), ("HTML list page", "stock FAB HTML", None),
                                  ("HTML list page", "Django admin", 0.5)):
            if ours in m and theirs in m:
                aim = f"  (aim ≤ {bar}×)" if bar else ""
                print(f"  {user:9} {ours} / {theirs} = {m[ours] / m[theirs]:.2f}×{aim}")


def report(user, label, times, size, medians):
    times = sorted(times)
    medians.setdefault(user, {})[label] = statistics.median(times)
    print(f"{user:9} {label:15} median {statistics.median(times):6.1f} ms   p90 {times[int(len(times) * 0.9)]:6.1f} ms   "
          f"{size / 1024:6.1f} KB", flush=True)


def fab_side(url, tmp, repeat):
    """Time the stock FAB app (bench/fabside) on a copy of our rows, in its own process, on the same
    engine (its own SQLite file, or a fresh database on the same PostgreSQL server)."""
    import json
    import subprocess

    from bench._support import fresh_database

    fab_url, drop = fresh_database(None if url.startswith("sqlite") else url, tmp if url.startswith("sqlite") else None)
    if url.startswith("sqlite"):
        fab_url = f"sqlite:///{os.path.join(tmp, 'fab.db')}"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        out = subprocess.run([sys.executable, "-m", "bench.fabside.side", "--source", url, "--db", fab_url,
                              "--repeat", str(repeat)], cwd=root, env=env, capture_output=True, text=True, timeout=3600)
    finally:
        drop()
    if out.returncode:
        print("stock FAB side failed:\n" + out.stderr[-3000:])
        return {}
    found = {}
    for line in out.stdout.splitlines():
        d = json.loads(line)
        if "user" in d:
            found.setdefault(d["user"], {})[d["label"]] = (d["times"], d["size"])
    return found


def django_database(url, tmp):
    """Django's database on the same engine as ours: its own SQLite file, or a
    database beside ours on the same PostgreSQL server (made afresh)."""
    import sqlalchemy as sa

    if not url.startswith("postgresql"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(tmp, "django.db")}
    ours = sa.engine.make_url(url)
    name = f"{ours.database}_django"
    server = sa.create_engine(ours.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return {"ENGINE": "django.db.backends.postgresql", "NAME": name, "USER": ours.username or "",
            "PASSWORD": ours.password or "", "HOST": ours.host or "", "PORT": str(ours.port or "")}


def django_side(app, tmp, url):
    """Copy the units and notes into a Django admin on the same engine; return user -> logged-in test client."""
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-" + "x" * 50,
        ALLOWED_HOSTS=["testserver"],
        DATABASES={"default": django_database(url, tmp)},
        INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.sessions", "django.contrib.messages", "bench.djangoside"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware", "django.middleware.locale.LocaleMiddleware",
                    "django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware",
                    "django.contrib.messages.middleware.MessageMiddleware"],
        ROOT_URLCONF="bench.djangoside.urls",
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                       "django.contrib.auth.context_processors.auth",
                                                       "django.contrib.messages.context_processors.messages"]}}],
        LANGUAGE_CODE="zh-hans",
        USE_I18N=True,
        USE_TZ=False,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.contrib.auth.models import Permission, User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.djangoside.models import Member, Note, Unit as DUnit

    call_command("migrate", "auth", verbosity=0)  # djangoside has no migrations: its tables refer to auth_user
    call_command("migrate", run_syncdb=True, verbosity=0)
    with app.app_context():
        from sqlalchemy import select

        from core.tenancy.units import Unit
        from tests.memo_plugin.models import MemoNote

        session = app.appbuilder.session
        units = session.execute(select(Unit.id, Unit.code, Unit.name, Unit.level, Unit.path, Unit.parent_id).order_by(Unit.depth)).all()
        DUnit.objects.bulk_create([DUnit(id=u.id, code=u.code, name=u.name, level=u.level, path=u.path, parent_id=u.parent_id) for u in units])
        rows = session.execute(select(MemoNote.id, MemoNote.title, MemoNote.noted_on, MemoNote.unit_id,
                                      MemoNote.created_on, MemoNote.changed_on)).all()
        Note.objects.bulk_create([Note(id=n.id, title=n.title, noted_on=n.noted_on, unit_id=n.unit_id, created_on=n.created_on,
                                       changed_on=n.changed_on) for n in rows], batch_size=5000)
        paths = {u.code: u for u in units}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    admin = User.objects.create_superuser("admin", password="bench")
    Member.objects.create(user=admin, unit_id=paths["440000"].id)
    clerk = User.objects.create_user("fs_clerk", password="bench", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(content_type__app_label="djangoside", codename__endswith="_note"))
    Member.objects.create(user=clerk, unit_id=paths["440600"].id)

    def client(user):
        c = Client()
        assert c.login(username=user, password="bench")
        return c

    return client


if __name__ == "__main__":
    main()
