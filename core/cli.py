"""The ``qqh`` command."""

from __future__ import annotations

import json
import os

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from core.config import ConfigError
from core.web.commands import fail, get_app, with_app
from core.plugins import PluginError


def _database_hint(exc: Exception, url: str) -> str:
    from core.config import mask_url, url_hint

    safe = mask_url(url)
    first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    if "permission denied for schema" in first or "must be owner of" in first:
        return (
            f"cannot use the database {safe} ({first}): the role may not create tables there; make it the "
            f"owner of the database (ALTER DATABASE name OWNER TO role;) and run `qqh init` again."
        )
    return (
        f"cannot use the database {safe} ({first}): check that the server is running "
        f"and that QQH_DATABASE_URL is right, then run `qqh init`.{url_hint(os.environ.get('QQH_DATABASE_URL') or url)}"
    )


class AppGroup(click.Group):
    """Builds the app once, inside a clear-error guard, for every command."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (ConfigError, PluginError) as exc:
            fail(str(exc))
        except (OperationalError, ProgrammingError) as exc:
            app = (ctx.find_root().obj or {}).get("app")
            url = app.config["SQLALCHEMY_DATABASE_URI"] if app else "?"
            fail(_database_hint(exc, url))


@click.group(cls=AppGroup, help="亲青汇 administration command.")
@click.pass_context
def cli(ctx):
    from core.app import create_app

    root = ctx.find_root()
    root.ensure_object(dict).setdefault("make_app", lambda: create_app(registry=root.obj.get("registry")))


# -- set-up -------------------------------------------------------------------
def sync_roles_and_permissions() -> None:
    """Create the four roles and every view's permissions (idempotent)."""
    from flask import current_app

    sm = current_app.appbuilder.sm
    current_app.appbuilder.add_permissions(update_perms=True)
    sm.create_db()  # FAB: builtin roles, admin and public roles (no create_all: FAB_CREATE_DB is off)
    from core.tenancy.security import ROLE_LABELS

    for role in ROLE_LABELS:
        sm.add_role(role)


@cli.command()
@click.option("--admin-user", default="admin", show_default=True)
@click.option("--admin-password", default=None, help="Default: a random one, printed (at least 8 characters, not a common one).")
@click.option("--plan-year", type=int, default=None, help="Also load the notice's targets for this plan year.")
@with_app
def init(admin_user, admin_password, plan_year):
    """Migrate the database, load the Guangdong unit tree, create roles and the admin (idempotent)."""
    from flask import current_app

    from core import migrate
    from core.tenancy.units import CITY_TIER_COUNTIES, Unit, load_divisions, unit_by_code

    migrate.upgrade()
    session = current_app.appbuilder.session
    # 顺德区 at city tier, reporting to the province (README: how to undo it)
    added = load_divisions(session, city_tier=CITY_TIER_COUNTIES)
    session.commit()
    sync_roles_and_permissions()
    sm = current_app.appbuilder.sm
    user = sm.find_user(username=admin_user)
    from core.tenancy.scope import InvalidInput

    if user is None:
        import secrets

        role = sm.find_role(current_app.config["AUTH_ROLE_ADMIN"])
        password = admin_password or secrets.token_urlsafe(12)
        try:
            user = sm.add_user(admin_user, "省级", "管理员", f"{admin_user}@qinqinghui.local", role, password=password)
        except InvalidInput as exc:
            fail(str(exc))
        if not user:
            fail(f"could not create the user {admin_user}")
        user.unit = unit_by_code(session, "440000")
        session.commit()
        click.echo(f"Created the province administrator {admin_user}.")
        if not admin_password:
            click.echo(f"Its password: {password} (change it after logging in).")
    elif admin_password:
        try:
            sm.reset_password(user.id, admin_password)
        except InvalidInput as exc:
            fail(str(exc))
    total = session.query(Unit).count()
    click.echo(f"Units: {total} ({added} added). Database ready.")
    if plan_year:
        _load_targets(plan_year)


def _load_targets(plan_year: int) -> None:
    try:
        from core.kpi import engine as kpi
    except ImportError:
        return
    loader = getattr(kpi, "load_default_targets", None)
    if loader:
        n = loader(plan_year)
        click.echo(f"Targets for {plan_year}: {n} added.")


@cli.command()
@with_app
def demo():
    """Load every enabled plugin's demo data (deterministic, idempotent)."""
    from flask import current_app

    from core.ops.demo import load_demo

    counts = load_demo(current_app)
    for name, n in counts.items():
        click.echo(f"{name}: {n}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, type=int, show_default=True)
@click.option("--debug", is_flag=True)
def run(host, port, debug):
    """Serve the app (development server; use gunicorn in production)."""
    app = get_app()
    with app.app_context():
        from core import migrate

        pending = migrate.drift(app)
        if pending:
            fail("the database is not up to date with the code: run `qqh init` (or `qqh db upgrade`) first.")
    click.echo(f"亲青汇 serving on http://{host}:{port}/")
    from core.web.headers import RequestHandler  # no `Server: Werkzeug/… Python/…` banner

    app.run(host=host, port=port, debug=debug, use_reloader=False, request_handler=RequestHandler)


# -- db -----------------------------------------------------------------------
@cli.group()
def db():
    """Database migrations (Alembic)."""


@db.command("upgrade")
@with_app
def db_upgrade():
    """Bring the database to the head of core and of every enabled plugin."""
    from core import migrate

    targets = migrate.upgrade()
    click.echo("Up to date: " + ", ".join(targets))


@db.command("downgrade")
@click.argument("target")
@with_app
def db_downgrade(target):
    """Downgrade to TARGET (e.g. NAME@base to remove the tables of the plugin NAME)."""
    from flask import current_app

    from core import migrate

    migrate.downgrade(current_app, target)


@db.command("current")
@with_app
def db_current():
    """Show the applied revisions."""
    from alembic import command

    from core import migrate

    command.current(migrate.alembic_config(), verbose=False)


@db.command("check")
@with_app
def db_check():
    """Fail when models and database differ (a migration is missing)."""
    from core import migrate

    diffs = migrate.drift()
    if diffs:
        for d in diffs:
            click.echo(repr(d))
        fail(f"{len(diffs)} difference(s) between the models and the database.")
    click.echo("Models and database agree.")


@db.command("revision")
@click.option("--owner", required=True, help="core or a plugin name: whose branch gets the revision.")
@click.option("-m", "--message", required=True)
@click.option("--empty", is_flag=True, help="Do not autogenerate.")
@with_app
def db_revision(owner, message, empty):
    """Write a new migration on a branch (autogenerated from its own tables only)."""
    from flask import current_app

    from core import migrate

    try:
        migrate.revision(current_app, owner, message, autogenerate=not empty)
    except ValueError as exc:
        fail(str(exc))


# -- plugins ------------------------------------------------------------------
@cli.group()
def plugins():
    """Installed plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True)
def plugins_list(as_json):
    """List installed plugins with version and whether they are enabled."""
    from core.config import plugin_names
    from core.plugins import PluginRegistry

    ctx = click.get_current_context().find_root()
    registry = (ctx.obj or {}).get("registry") or PluginRegistry(enabled=plugin_names())
    rows = registry.describe()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        state = "built-in" if r["builtin"] else "enabled" if r["enabled"] else "disabled"
        req = f" requires {', '.join(r['requires'])}" if r["requires"] else ""
        click.echo(f"{r['name']:<16} {r['version']:<10} {state:<9} {r['label']}{req}")


@cli.group()
def plugin():
    """Writing a plugin."""


@plugin.command("new")
@click.argument("name")
@click.option("--dir", "folder", default=".", show_default=True, help="Where the package folder qqh-NAME is written.")
@click.option("--title", default=None, help="Its Chinese title (default: NAME), e.g. 青年创业.")
def plugin_new(name, folder, title):
    """Generate an installable plugin package NAME from the reference plugin (docs/plugins.md, Start)."""
    from core.scaffold import ScaffoldError, generate

    try:
        path = generate(name, folder, title)
    except ScaffoldError as exc:
        fail(str(exc))
    click.echo(f"已生成 Generated {path}\n  pip install -e {path}\n  QQH_PLUGINS=...,{name} qqh db upgrade\n"
               f"  python3 -m pytest {path}")


def _builtin_commands() -> None:
    """The commands of core's built-in plugins (core/builtins), there for
    every use of ``cli`` (``main`` adds the enabled plugins' ones)."""
    from core.plugins import PluginRegistry

    PluginRegistry(enabled=[], use_entry_points=False).call("qqh_cli", group=cli)


_builtin_commands()


def main(argv=None):
    """Entry point: load plugins first so that they can add subcommands."""
    from core.config import plugin_names
    from core.plugins import PluginRegistry

    try:
        registry = PluginRegistry(enabled=plugin_names())
    except PluginError as exc:
        fail(str(exc))
    registry.hook.qqh_cli(group=cli)
    return cli.main(args=argv, prog_name="qqh", obj={"registry": registry})


if __name__ == "__main__":  # pragma: no cover
    main()
