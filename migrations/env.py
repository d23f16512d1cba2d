"""Alembic environment of 亲青汇: run through `qqh db ...` (core.migrate)."""

from alembic import context
from flask_appbuilder import Model

from core.migrate import include_object_for

config = context.config
app = config.attributes["qqh_app"]
only_tables = config.attributes.get("qqh_only_tables")


def run_migrations_online() -> None:
    engine = app.extensions["qqh_db"].engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Model.metadata,
            include_object=include_object_for(only_tables),
            compare_type=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported: run `qqh db upgrade` against a database.")
run_migrations_online()
