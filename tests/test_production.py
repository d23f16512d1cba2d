"""What the README's production section warns about fails with one useful
line: a raw '@' in the password (never printed, hint to percent-encode), a
database that is not UTF-8 (refused before any migration), a role that does
not own the database (hint to make it the owner)."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from tests.test_platform import run_qqh

PG_URL = os.environ.get("QQH_TEST_PG_URL")


def one_line(r) -> str:
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_raw_at_in_the_password_is_never_printed(tmp_path):
    r = run_qqh("db", "upgrade", env={"QQH_DATABASE_URL": "postgresql://qqh:se@cr3t-pw@127.0.0.1:1/none",
                                      "QQH_INSTANCE_PATH": str(tmp_path)})
    line = one_line(r)
    assert "cr3t" not in line and "se@" not in line and "qqh:***@127.0.0.1:1/none" in line
    assert "percent-encode" in line


@pytest.fixture
def pg_admin():
    if not PG_URL:
        pytest.skip("needs QQH_TEST_PG_URL")
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    made = []
    yield engine, made
    with engine.connect() as c:
        for kind, name in reversed(made):
            if kind == "database":
                c.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            c.execute(sa.text(f'DROP {kind.upper()} IF EXISTS "{name}"'))
    engine.dispose()


def test_sql_ascii_database_is_refused_before_migrating(pg_admin, tmp_path):
    engine, made = pg_admin
    name = "qqh_ascii_" + uuid.uuid4().hex[:8]
    with engine.connect() as c:
        c.execute(sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"))
    made.append(("database", name))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    line = one_line(run_qqh("init", env={"QQH_DATABASE_URL": url, "QQH_INSTANCE_PATH": str(tmp_path)}))
    assert "SQL_ASCII" in line and "UTF8" in line
    db = sa.create_engine(url)
    assert sa.inspect(db).get_table_names() == []  # nothing half-migrated
    db.dispose()


def test_role_that_does_not_own_the_database_gets_the_hint(pg_admin, tmp_path):
    engine, made = pg_admin
    role, name = "qqh_role_" + uuid.uuid4().hex[:8], "qqh_notown_" + uuid.uuid4().hex[:8]
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        made.append(("role", role))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))  # owned by postgres; PostgreSQL 15: no CREATE on public
        made.append(("database", name))
    url = sa.engine.make_url(PG_URL).set(database=name, username=role).render_as_string(hide_password=False)
    line = one_line(run_qqh("init", env={"QQH_DATABASE_URL": url, "QQH_INSTANCE_PATH": str(tmp_path)}))
    assert "permission denied for schema public" in line and "OWNER TO" in line
