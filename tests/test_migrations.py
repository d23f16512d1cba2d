"""Alembic owns the schema: models and migrations agree, plugin branches go
up and down on their own, and a disabled plugin's tables are never dropped."""

import os

import sqlalchemy as sa

from core import migrate
from tests.conftest import ENGINES, initialise, make_app, new_database

import pytest


def test_models_and_migrations_agree(app):
    with app.app_context():
        assert migrate.drift(app) == []


def tables(app):
    with app.app_context():
        return set(sa.inspect(app.extensions["qqh_db"].engine).get_table_names())


@pytest.mark.parametrize("engine", ENGINES)
def test_plugin_branch_up_down_and_disabled_plugin_kept(engine, tmp_path_factory):
    url, drop = new_database(engine, tmp_path_factory)
    try:
        full = make_app(url, tmp_path_factory.mktemp("i"))
        with full.app_context():
            migrate.upgrade(full)
        names = tables(full)
        assert {"ab_user", "qqh_unit", "memo_note", "alembic_version"} <= names

        with full.app_context():
            migrate.downgrade(full, "memo@base")
        names = tables(full)
        assert "memo_note" not in names and "qqh_unit" in names

        with full.app_context():
            migrate.upgrade(full)
            db = full.extensions["qqh_db"]
            db.session.execute(sa.text("INSERT INTO qqh_unit (code, name, level, tier, prd, undergraduate, path, depth) VALUES ('440000','广东省','province','province', false, false, '440000/', 0)"))
            db.session.execute(sa.text("INSERT INTO memo_note (title, noted_on, unit_id, created_on, changed_on) VALUES ('kept', '2012-03-01', 1, '2012-03-01', '2012-03-01')"))
            db.session.commit()
            db.engine.dispose()

        # the same database, with the memo plugin disabled
        bare = make_app(url, tmp_path_factory.mktemp("j"), QQH_PLUGINS=[])
        with bare.app_context():
            assert migrate.upgrade(bare) == ["core"]
            assert migrate.drift(bare) == []  # nothing proposes dropping memo_note
            db = bare.extensions["qqh_db"]
            assert db.session.execute(sa.text("SELECT title FROM memo_note")).scalar() == "kept"
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


def test_autogenerate_is_limited_to_the_owner(app):
    with app.app_context():
        owned = migrate.owned_tables(app)
    assert "memo_note" in owned["memo"]
    assert "memo_note" not in owned["core"]
    assert {"ab_user", "qqh_unit"} <= owned["core"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_database_of_the_previous_release_upgrades_with_qqh_init(engine, tmp_path_factory):
    """A deployment at core 0002_kpi (the release before accounts, audit log and
    target scopes), holding users and roles, is brought up to date by the new
    code's `qqh init`: nothing the app does at start (roles are written then)
    may need a table that only the pending migrations create."""
    from tests.test_platform import run_qqh

    url, drop = new_database(engine, tmp_path_factory)
    try:
        app = make_app(url, tmp_path_factory.mktemp("old"))
        initialise(app)
        with app.app_context():
            migrate.downgrade(app, "0002_kpi")
            db = app.extensions["qqh_db"]
            # the previous release's roles were other permission sets: the new code rewrites them at start
            db.session.execute(sa.text("DELETE FROM ab_permission_view_role"))
            db.session.commit()
            app.extensions["qqh_db"].session.remove()
            app.extensions["qqh_db"].engine.dispose()
        assert "qqh_audit_log" not in tables(app) and "ab_user" in tables(app)
        r = run_qqh("init", "--admin-password", "Upgrade-pass-2468",
                    env={"QQH_DATABASE_URL": url, "QQH_INSTANCE_PATH": str(tmp_path_factory.mktemp("new")),
                         "QQH_PLUGIN_MODULES": os.environ["QQH_PLUGIN_MODULES"]})  # its revisions are in the database
        assert r.returncode == 0, r.stdout + r.stderr
        assert {"qqh_audit_log", "qqh_login_throttle"} <= tables(app)
    finally:
        drop()
