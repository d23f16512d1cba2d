"""What plugin tests, core's tests and the benchmarks all need, with no test framework: an app on a
fresh SQLite or PostgreSQL database, the unit tree and users loaded as `qqh init` loads them, and a
live HTTP server in a thread. Imports neither pytest nor requests (bench/ runs without them)."""

from __future__ import annotations

import os
import tempfile
import threading
import uuid

USERS = {
    # username: (unit code, role)
    "admin": ("440000", "province_admin"),
    "fs_clerk": ("440600", "clerk"),
    "sd_clerk": ("440606", "clerk"),
    "sz_clerk": ("440300", "clerk"),
    "fs_inspector": ("440600", "inspector"),
    "fs_admin": ("440600", "unit_admin"),
}
PASSWORD = "Test-pass-123"

# The tests' users get a cheap password hash, as Django's test settings do (MD5PasswordHasher): FAB's
# default, scrypt, costs ~0.1–0.8 s a login on a 2-core machine, and a suite logs in thousands of
# times. Production keeps scrypt (tests/test_accounts.py::test_production_hashes_passwords_with_scrypt).
TEST_PASSWORD_HASH = "pbkdf2:sha256:1000"


def fresh_database(server_url: str | None = None, folder: str | None = None) -> tuple[str, callable]:
    """A fresh empty database: a SQLite file in ``folder`` (a new temporary
    folder by default), or, when ``server_url`` names a PostgreSQL server
    (any database on it), a new database on that server. Returns its URL and
    a function that drops it."""
    if not server_url or server_url.startswith("sqlite"):
        folder = folder or tempfile.mkdtemp(prefix="qqh-bench.")
        return f"sqlite:///{os.path.join(folder, 'qqh.db')}", lambda: None
    import sqlalchemy as sa

    name = "qqh_t_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as c:
            # FORCE (PostgreSQL 13+) ends the sessions still open on it in the same statement: a
            # worker thread that reconnects between a terminate and the drop cannot make it fail
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def make_app(url: str, instance, **overrides):
    """The app on the database ``url`` (not migrated: see ``initialise``), as tests and benchmarks run it."""
    from core.app import create_app

    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "QQH_INSTANCE_PATH": str(instance),
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "t" * 40,
        # requests wait this long for their import job (run by the real worker thread) before they
        # show its progress instead: long enough on a loaded machine for the tests' small files
        "QQH_JOB_WAIT_SECONDS": 30,
    }
    config.update(overrides)
    return create_app(config)


def _fake_hash() -> str:
    # what FAB checks an unknown user's password against (so that timing does not tell who exists)
    from werkzeug.security import generate_password_hash

    return generate_password_hash("not a password", method=TEST_PASSWORD_HASH)


def make_test_app(url: str, instance, **overrides):
    """``make_app`` with the tests' cheap password hash (TEST_PASSWORD_HASH)."""
    overrides.setdefault("FAB_PASSWORD_HASH_METHOD", TEST_PASSWORD_HASH)
    overrides.setdefault("AUTH_DB_FAKE_PASSWORD_HASH_CHECK", _fake_hash())
    return make_app(url, instance, **overrides)


def initialise(app, users=USERS):
    """What `qqh init` does, plus the given users (username: (unit code, role))."""
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
        for username, (code, role) in users.items():
            if sm.find_user(username=username):
                continue
            u = sm.add_user(username, username, "测试", f"{username}@t.local", sm.find_role(role), password=PASSWORD)
            u.unit = unit_by_code(session, code)
        session.commit()


def close_app(app) -> None:
    """Stop what the app runs in the background and close its connections (before its database is dropped)."""
    from core.ops.jobs import stop_worker

    stop_worker(app)  # its thread would reconnect to a database about to be dropped
    with app.app_context():
        app.extensions["qqh_db"].session.remove()
        app.extensions["qqh_db"].engine.dispose()


class LiveServer:
    """The app behind a real HTTP server on a free loopback port, in a thread."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
