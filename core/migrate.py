"""One Alembic environment (``migrations/``): core's revisions plus one
branch per plugin, each living inside its plugin. A disabled plugin's
revisions stay known, but are not applied, and its tables are never dropped."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.autogenerate import compare_metadata
from flask import current_app

from core.values.resources import MIGRATIONS_DIR
CORE_BRANCH = "core"


def alembic_config(app=None, only_tables: set[str] | None = None) -> Config:
    app = app or current_app
    registry = app.extensions["qqh_plugins"]
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS_DIR)
    locations = [os.path.join(MIGRATIONS_DIR, "versions")] + list(registry.migration_dirs().values())
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["qqh_app"] = app
    cfg.attributes["qqh_only_tables"] = only_tables
    return cfg


def upgrade(app=None) -> list[str]:
    """Bring the database to the head of core and of every enabled plugin."""
    app = app or current_app
    registry = app.extensions["qqh_plugins"]
    check_encoding(app)
    cfg = alembic_config(app)
    targets = [CORE_BRANCH] + [n for n in registry.order if n in registry.migration_dirs(enabled_only=True)]
    for target in targets:
        command.upgrade(cfg, f"{target}@head")
    return targets


def check_encoding(app) -> None:
    """Refuse, before any migration, a PostgreSQL database that is not UTF-8
    (on SQL_ASCII the first Chinese label fails half-way through the schema)."""
    from sqlalchemy import text

    from core.config import ConfigError, mask_url

    engine = app.extensions["qqh_db"].engine
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        encoding = conn.execute(text("SHOW server_encoding")).scalar()
    if str(encoding).upper().replace("-", "") != "UTF8":
        raise ConfigError(
            f"the database {mask_url(app.config['SQLALCHEMY_DATABASE_URI'])} uses the {encoding} encoding; "
            f"亲青汇 needs UTF8: create it with CREATE DATABASE name OWNER role ENCODING 'UTF8' "
            f"TEMPLATE template0; nothing was changed."
        )


def downgrade(app, target: str) -> None:
    command.downgrade(alembic_config(app), target)


def owned_tables(app=None) -> dict[str, set[str]]:
    """Tables per owner (``core`` or a plugin name)."""
    from flask_appbuilder import Model

    app = app or current_app
    registry = app.extensions["qqh_plugins"]
    plugin_tables: dict[str, set[str]] = {}
    for name, models in registry.call("qqh_models"):
        plugin_tables[name] = {m.__table__.name for m in models}
    taken = set().union(*plugin_tables.values()) if plugin_tables else set()
    core = {t for t in Model.metadata.tables if t not in taken}
    # tables of installed-but-disabled plugins are in the metadata when their
    # modules were imported; they belong to no enabled owner
    for _name, models in registry.call_disabled("qqh_models"):
        core -= {m.__table__.name for m in models}
    return {CORE_BRANCH: core, **plugin_tables}


def drift(app=None) -> list:
    """Differences between the models of the enabled plugins and the database
    (empty when migrations and models agree)."""
    from flask_appbuilder import Model

    app = app or current_app
    wanted = set().union(*owned_tables(app).values())
    engine = app.extensions["qqh_db"].engine
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": include_object_for(wanted),
            },
        )
        return compare_metadata(ctx, Model.metadata)


def include_object_for(wanted: set[str] | None):
    def include_object(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = getattr(table, "name", name)
        if type_ == "table" and reflected and compare_to is None:
            return False  # a table we do not know (a disabled plugin's): never drop it
        if wanted is not None and table_name not in wanted:
            return False
        return True

    return include_object


def revision(app, owner: str, message: str, autogenerate: bool = True) -> None:
    """Write a new revision on ``owner``'s branch (core or a plugin)."""
    registry = app.extensions["qqh_plugins"]
    tables = owned_tables(app)
    if owner not in tables:
        raise ValueError(f"unknown owner {owner!r}")
    cfg = alembic_config(app, only_tables=tables[owner])
    version_path = os.path.join(MIGRATIONS_DIR, "versions") if owner == CORE_BRANCH else registry.migration_dirs()[owner]
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(cfg)
    kwargs = dict(message=message, autogenerate=autogenerate, version_path=version_path)
    if _branch_head(script, owner):
        kwargs["head"] = f"{owner}@head"
    else:
        kwargs.update(head="base", branch_label=owner, depends_on=_branch_head(script, CORE_BRANCH) if owner != CORE_BRANCH else None)
    command.revision(cfg, **kwargs)


def _branch_head(script, branch: str) -> str | None:
    """Head revision of ``branch``'s own chain (dependencies not followed)."""
    from alembic.util import CommandError

    try:
        rev = script.get_revision(f"{branch}@head")
    except CommandError:
        return None
    return rev.revision if rev else None
