"""What a feature's ``qqh`` command needs: the application (built once, by the factory the root group
gives), a request of a user (``--as``), and a clear failure. Features register their commands through
the ``qqh_cli`` hook; core/cli.py is the root group."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click


def fail(message: str) -> None:
    click.echo(f"错误 Error: {message}", err=True)
    sys.exit(1)


def get_app():
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    if "app" not in root.obj:
        root.obj["app"] = root.obj["make_app"]()  # the factory the root group ``qqh`` gives (core/cli.py)
    return root.obj["app"]


def with_app(f):
    """Run the command inside the app. A command with ``--as USER`` (its
    parameter named ``as_user``) runs inside a request of that user: see
    :func:`request_of`."""
    import functools

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        app = get_app()
        with app.app_context():
            username = kwargs.get("as_user")
            if not username:
                return f(*args, **kwargs)
            with request_of(username):
                return f(*args, **kwargs)

    return wrapper


@contextmanager
def request_of(username: str):
    """Run the enclosed code as a request of ``username`` runs on the pages:
    the user is logged in where Flask-Login and FAB keep them, so that
    ``core.tenancy.scope.current_user``/``current_scope`` answer for them (their
    subtree), personal data is masked as it is for them, and records are
    recorded as theirs. Without it a command has no user: the whole
    province, nothing masked. Fails for an unknown or inactive user."""
    from flask import current_app, g
    from flask_babel import gettext
    from flask_login import login_user

    user = current_app.appbuilder.sm.find_user(username=username)
    if user is None:
        fail(gettext("No such user: %(name)s", name=username))
    if not user.is_active:
        fail(gettext("The user %(name)s is not active.", name=username))
    with current_app.test_request_context("/"):
        login_user(user)
        g.user = user  # what FAB's before_request sets on every request
        yield user
