"""What the benchmarks and the tests both need, with no test framework:
an app on a fresh SQLite or PostgreSQL database, the unit tree and users
loaded as `qqh init` loads them, and a live HTTP server in a thread.

The bench scripts import this module (they must run without pytest or
requests installed); tests/conftest.py imports it too, so both build the
app the same way.
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid

# the benches and core's tests use core's test fixture plugin (tests/memo_plugin, no package of the
# product: added by QQH_PLUGIN_MODULES, see core/plugins.py): its notes are bench records. The reference
# plugin (plugins/sample) is not theirs: it may change freely and has its own tests.
os.environ.setdefault("QQH_PLUGIN_MODULES", "memo=tests.memo_plugin")
os.environ.setdefault("QQH_PLUGINS", "cultivation,homes,memo,training")

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
