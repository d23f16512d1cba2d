"""``qqh backup FILE`` and ``qqh restore FILE``.

A backup is a tar archive:

- ``manifest.json``: product version, engine, time, the applied head of every
  migration branch, the database's Alembic heads, the installed plugins that
  own data, and the folders included;
- ``database.sqlite`` (SQLite's online backup API: consistent while the app
  serves) or ``database.dump`` (``pg_dump -Fc``, restored with ``pg_restore``;
  found on PATH or in /usr/lib/postgresql/*/bin);
- ``files/attachments/...``: the attachments folder (``QQH_ATTACHMENT_PATH``)
  when configured.

Restore goes into an empty database (``--replace`` to overwrite one) and
refuses, with one line, a backup of another engine, from a newer schema (a
revision this code does not know) or with data of plugins not installed.
"""

from __future__ import annotations

import datetime
import glob
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile

import click
import sqlalchemy as sa
from flask import current_app

import core

FORMAT = 1
#: config keys of folders that belong in a backup
FILE_FOLDERS = {"attachments": "QQH_ATTACHMENT_PATH"}


class BackupError(RuntimeError):
    """Backup or restore cannot go on; the message says why and what to do."""


# -- PostgreSQL tools -------------------------------------------------------------
def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True,
                    key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0):
        path = os.path.join(d, name)
        if os.access(path, os.X_OK):
            return path
    raise BackupError(f"{name} not found: install the PostgreSQL client (postgresql-client) or put it on PATH.")


def _pg_args(url: sa.engine.URL) -> tuple[list[str], dict]:
    """Connection arguments and environment: the password goes in PGPASSWORD, never on a command line."""
    args = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(cmd: list[str], env: dict, what: str) -> None:
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        first = (r.stderr.strip().splitlines() or ["exit code %d" % r.returncode])[0]
        raise BackupError(f"{what} failed: {first}")


# -- manifest ---------------------------------------------------------------------
def manifest(app) -> dict:
    from core import health

    engine = app.extensions["qqh_db"].engine
    registry = app.extensions["qqh_plugins"]
    heads = health._branch_heads(app)
    with engine.connect() as conn:
        applied = health.applied_revisions(app, conn)
        from alembic.migration import MigrationContext

        db_heads = sorted(MigrationContext.configure(conn).get_current_heads())
    branches = {b: (h if h in applied else None) for b, h in heads.items()}
    plugins = {n: registry.installed[n].manifest.version if hasattr(registry.installed[n], "manifest") else None
               for n in registry.switchable()}
    return {
        "format": FORMAT,
        "product": "qinqinghui",
        "version": core.__version__,
        "engine": engine.dialect.name,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "migrations": branches,
        "alembic_heads": db_heads,
        "plugins": {n: str(v) if v is not None else None for n, v in plugins.items()},
        "folders": [],
    }


# -- backup -----------------------------------------------------------------------
def backup(app, target: str) -> dict:
    engine = app.extensions["qqh_db"].engine
    url = engine.url
    info = manifest(app)
    with tempfile.TemporaryDirectory(prefix="qqh-backup.") as tmp:
        if url.get_backend_name() == "sqlite":
            db_file = os.path.join(tmp, "database.sqlite")
            src = sqlite3.connect(url.database)
            dst = sqlite3.connect(db_file)
            try:
                src.backup(dst)  # the online backup API: a consistent copy while others write
            finally:
                dst.close()
                src.close()
        else:
            db_file = os.path.join(tmp, "database.dump")
            args, env = _pg_args(url)
            _run([pg_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", db_file, *args, url.database],
                 env, "pg_dump")
        partial = target + ".partial"
        with tarfile.open(partial, "w") as tar:
            folders = []
            for name, key in FILE_FOLDERS.items():
                folder = app.config.get(key)
                if folder and os.path.isdir(folder):
                    folders.append(name)
            info["folders"] = folders
            data = json.dumps(info, ensure_ascii=False, indent=2).encode()
            entry = tarfile.TarInfo("manifest.json")
            entry.size = len(data)
            entry.mtime = int(datetime.datetime.now().timestamp())
            tar.addfile(entry, io.BytesIO(data))
            tar.add(db_file, arcname=os.path.basename(db_file))
            for name in folders:
                tar.add(app.config[FILE_FOLDERS[name]], arcname=f"files/{name}")
        os.chmod(partial, 0o600)  # the whole database: readable by its owner only
        os.replace(partial, target)
    return info


# -- restore ----------------------------------------------------------------------
def read_manifest(path: str) -> dict:
    try:
        with tarfile.open(path, "r") as tar:
            fh = tar.extractfile("manifest.json")
            return json.load(fh)
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{path} is not a 亲青汇 backup ({exc}).") from exc


def check_restorable(app, info: dict) -> None:
    """Refuse (BackupError) what this installation cannot take."""
    from alembic.util import CommandError

    from core import health

    if info.get("product") != "qinqinghui" or info.get("format") != FORMAT:
        raise BackupError("not a 亲青汇 backup of a format this version reads.")
    engine = app.extensions["qqh_db"].engine
    if info.get("engine") != engine.dialect.name:
        raise BackupError(
            f"the backup is of a {info.get('engine')} database; QQH_DATABASE_URL is {engine.dialect.name}."
        )
    registry = app.extensions["qqh_plugins"]
    missing = sorted(set(info.get("plugins") or {}) - set(registry.installed))
    if missing:
        raise BackupError(
            f"the backup holds data of plugin(s) not installed here: {', '.join(missing)}; install them first."
        )
    script = health._script(app)
    for rev in info.get("alembic_heads") or []:
        try:
            known = script.get_revision(rev)
        except CommandError:
            known = None
        if known is None:
            raise BackupError(
                f"the backup comes from a newer schema (revision {rev} is unknown to 亲青汇 {core.__version__}, "
                f"backup made by {info.get('version')}): install that version or newer first."
            )


def restore(app, path: str, replace: bool = False) -> dict:
    info = read_manifest(path)
    check_restorable(app, info)
    db = app.extensions["qqh_db"]
    engine = db.engine
    tables = sa.inspect(engine).get_table_names()
    if tables and not replace:
        raise BackupError(
            f"the database is not empty ({len(tables)} tables): restore into an empty database, or add --replace."
        )
    db.session.remove()
    engine.dispose()
    url = engine.url
    with tempfile.TemporaryDirectory(prefix="qqh-restore.") as tmp:
        with tarfile.open(path, "r") as tar:
            tar.extractall(tmp, filter="data")
        if url.get_backend_name() == "sqlite":
            src = sqlite3.connect(os.path.join(tmp, "database.sqlite"))
            dst = sqlite3.connect(url.database)
            try:
                src.backup(dst)  # replaces the whole content of the target
            finally:
                dst.close()
                src.close()
        else:
            args, env = _pg_args(url)
            cmd = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                   *args, "-d", url.database]
            if replace:
                cmd += ["--clean", "--if-exists"]
            _run(cmd + [os.path.join(tmp, "database.dump")], env, "pg_restore")
        for name in info.get("folders") or []:
            folder = app.config.get(FILE_FOLDERS.get(name, ""), None)
            if not folder:
                raise BackupError(f"the backup holds the {name} folder: set {FILE_FOLDERS[name]} to restore it.")
            os.makedirs(folder, mode=0o700, exist_ok=True)
            shutil.copytree(os.path.join(tmp, "files", name), folder, dirs_exist_ok=True)
    engine.dispose()
    return info


# -- commands ---------------------------------------------------------------------
def register_cli(cli) -> None:
    from core.web.commands import fail, with_app

    @cli.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True))
    @with_app
    def backup_cmd(file):
        """Back up the database (and the attachments folder) into FILE, with a manifest."""
        try:
            info = backup(current_app, file)
        except BackupError as exc:
            fail(str(exc))
        heads = ", ".join(f"{b} {h}" for b, h in info["migrations"].items())
        click.echo(f"Backed up {info['engine']} database to {file} (亲青汇 {info['version']}; {heads}).")

    @cli.command("restore")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--replace", is_flag=True, help="Overwrite a database that is not empty.")
    @with_app
    def restore_cmd(file, replace):
        """Restore a backup made by `qqh backup` into the configured (empty) database."""
        try:
            info = restore(current_app, file, replace=replace)
        except BackupError as exc:
            fail(str(exc))
        click.echo(f"Restored {file} (made {info['created']} by 亲青汇 {info['version']}).")
