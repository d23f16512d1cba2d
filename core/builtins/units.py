"""Built-in plugin ``units``: the League unit tree, unit admins' modules and
users, the plugins' page and the OpenAPI document (core/web/views.py).
"""

import click
from flask_babel import lazy_gettext as _l

from core.builtins import manifest
from core.hookspecs import hookimpl


@hookimpl
def qqh_manifest():
    return manifest("units", _l("League units"))


@hookimpl
def qqh_register(appbuilder):
    from core.web.views import register

    register(appbuilder)


@hookimpl
def qqh_cli(group):
    """``qqh user add/unlock`` and ``qqh units move``."""
    from core.web.commands import fail, with_app

    # -- users --------------------------------------------------------------------
    @group.group()
    def user():
        """User accounts."""

    @user.command("add")
    @click.argument("username")
    @click.option("--password", required=True)
    @click.option("--unit", "unit_code", required=True, help="Code of the user's unit, e.g. 440600.")
    @click.option("--role", type=click.Choice(["province_admin", "unit_admin", "clerk", "inspector"]), required=True)
    @click.option("--name", default=None, help="Display name.")
    @with_app
    def user_add(username, password, unit_code, role, name):
        """Create a user bound to a unit with one of the four roles."""
        from flask import current_app

        from core.tenancy.units import unit_by_code

        sm = current_app.appbuilder.sm
        session = current_app.appbuilder.session
        unit = unit_by_code(session, unit_code)
        if unit is None:
            fail(f"no unit has the code {unit_code}.")
        if sm.find_user(username=username) is not None:
            fail(f"the user {username} exists already.")
        r = sm.find_role(role)
        if r is None:
            fail(f"the role {role} does not exist: run `qqh init` first.")
        from core.tenancy.scope import InvalidInput

        try:
            u = sm.add_user(username, name or username, unit.name, f"{username}@qinqinghui.local", r, password=password)
        except InvalidInput as exc:
            fail(str(exc))
        if not u:
            fail(f"could not create the user {username}.")
        u.unit = unit
        session.commit()
        click.echo(f"Created {username} ({role}) for {unit.name} {unit.code}.")

    @user.command("unlock")
    @click.argument("username")
    @with_app
    def user_unlock(username):
        """Let USERNAME log in again after too many failed logins."""
        from flask import current_app

        from core.tenancy import accounts

        sm = current_app.appbuilder.sm
        if sm.find_user(username=username) is None:
            fail(f"no user is called {username}.")
        was = accounts.unlock(current_app.appbuilder.session, username)
        click.echo(f"{username} unlocked." if was else f"{username} was not locked; its failed logins are forgotten.")

    # -- units --------------------------------------------------------------------
    @group.group()
    def units():
        """The League unit tree."""

    @units.command("move")
    @click.argument("code")
    @click.option("--parent", "parent_code", required=True)
    @click.option("--tier", type=click.Choice(["province", "city", "county", "town", "university", "direct"]))
    @click.option("--level", type=click.Choice(["province", "city", "county", "town", "university", "direct"]),
                  help="Also change the unit's level (default: unchanged).")
    @with_app
    def units_move(code, parent_code, tier, level):
        """Move a unit (and its subtree) under another parent, e.g. 顺德区 to the province."""
        from flask import current_app

        from core.tenancy.units import move_unit, unit_by_code

        session = current_app.appbuilder.session
        unit, parent = unit_by_code(session, code), unit_by_code(session, parent_code)
        if unit is None or parent is None:
            fail("unknown unit code.")
        try:
            n = move_unit(session, unit, parent)
        except ValueError as exc:
            fail(str(exc))
        if tier:
            unit.tier = tier
        if level:
            unit.level = level
        session.commit()
        click.echo(f"Moved {n} unit(s).")
