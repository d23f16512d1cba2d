"""The ``qqh excel`` commands."""

from __future__ import annotations



import os

from flask import current_app
from flask_babel import gettext, lazy_gettext as _l

from core.web import fab
from core.ops import jobs
from core.excel.engine import SKIP, UPDATE, run_import
from core.excel.workbooks import write_export
from core.excel.declarations import Importable


from core.lowcode.importing import with_custom_columns  # noqa: E402 — custom fields are columns too
from core.excel.service import ExportRefused, PERMISSION_VIEW, export_query, importables, limits

# -- CLI -------------------------------------------------------------------------------
def register_cli(cli) -> None:
    """Add ``qqh import`` / ``qqh export`` / ``qqh worker`` to the ``qqh`` click group."""
    import time

    import click

    from core.web.commands import fail, with_app

    def find(resource: str) -> Importable:
        entry = importables().get(resource)
        if entry is None:
            fail(gettext("No such list: %(name)s (available: %(names)s)", name=resource,
                         names=", ".join(importables()) or "-"))
        return with_custom_columns(entry[1])

    def acting_user(username: str | None, permission: str):
        """(scope, user id) of --as USER; the whole province without it."""
        from core.tenancy.scope import ALL, user_scope

        if not username:
            return ALL, None
        sm = current_app.appbuilder.sm
        user = sm.find_user(username=username)
        if user is None:
            fail(gettext("No such user: %(name)s", name=username))
        if not fab.has_view_access(sm, user, permission, PERMISSION_VIEW):
            fail(gettext("%(user)s may not do this (%(permission)s).", user=username, permission=permission))
        return user_scope(user), user.id

    class Bars:
        """One click progress bar per stage (read, check, write)."""

        labels = {"read": _l("Reading the file"), "check": _l("Checking the rows"), "write": _l("Saving the records")}

        def __init__(self):
            self.bar, self.stage, self.done = None, None, 0

        def __call__(self, stage, done, total):
            if stage != self.stage:
                self.close()
                self.stage, self.done = stage, 0
                self.bar = click.progressbar(length=max(total, 1), label=str(self.labels[stage]), file=click.get_text_stream("stderr"))
                self.bar.__enter__()
            if done > self.done:
                self.bar.update(done - self.done)
                self.done = done

        def close(self):
            if self.bar is not None:
                self.bar.__exit__(None, None, None)
                self.bar = None

    @cli.command("import")
    @click.argument("resource")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Only check the file; write nothing.")
    @click.option("--on-duplicate", type=click.Choice([UPDATE, SKIP]), default=UPDATE, show_default=True,
                  help="What to do with a row whose natural key exists already.")
    @click.option("--as", "as_user", default=None, metavar="USER",
                  help="Import as this user: only their units, recorded as theirs.")
    @with_app
    def import_command(resource, file, dry_run, on_duplicate, as_user):
        """Import FILE (.xlsx or .csv) into the list RESOURCE (e.g. sampleevent):
        every row is checked first, and nothing is written unless all are valid."""
        imp = find(resource)
        scope, user_id = acting_user(as_user, "can_import")
        with open(file, "rb") as fh:
            data = fh.read(limits().max_bytes + 1)
        bars = Bars()
        try:
            report = run_import(current_app.appbuilder.session, imp, os.path.basename(file), data, scope=scope,
                                on_duplicate=on_duplicate, commit=not dry_run, user_id=user_id, limits=limits(),
                                progress=bars)
        finally:
            bars.close()
        for p in report.notes[:20]:
            click.echo(_line(p))
        for p in report.errors[:50]:
            click.echo(_line(p), err=True)
        if len(report.errors) > 50:
            click.echo(gettext("... and %(n)d more problems.", n=len(report.errors) - 50), err=True)
        click.echo(gettext("%(rows)d rows: %(new)d new, %(updated)d updated, %(unchanged)d unchanged, "
                           "%(skipped)d skipped, %(errors)d with errors.",
                           rows=report.rows, new=report.new, updated=report.updated, unchanged=report.unchanged,
                           skipped=report.skipped, errors=report.error_rows))
        if not report.ok:
            fail(gettext("Nothing was saved."))
        click.echo(gettext("Records saved.") if report.written else gettext("Dry run: nothing was saved."))

    @cli.command("worker")
    @click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
    @with_app
    def worker_command(burst):
        """Run background jobs (imports, big exports): an RQ worker when
        QQH_REDIS_URL is set, else jobs claimed from the job table (as the app
        servers' worker threads do)."""
        app = current_app._get_current_object()
        if jobs.mode(app) == "rq":
            from rq import SimpleWorker

            jobs._rq_app = app
            queue = jobs._rq_queue(app)
            jobs.rq_requeue_stale(app)  # jobs whose worker died, or lost by Redis
            SimpleWorker([queue], connection=queue.connection).work(burst=burst, with_scheduler=False)
            return
        while True:
            jobs.maybe_purge(app)
            ran = jobs.run_claimed(app)
            if ran is None:
                if burst:
                    return
                time.sleep(float(app.config.get("QQH_JOB_POLL_SECONDS", 2)))

    @cli.command("export")
    @click.argument("resource")
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="The .xlsx file to write.")
    @click.option("--unit", "unit_code", default=None, help="Only this unit's subtree (its code).")
    @click.option("--as", "as_user", default=None, metavar="USER", help="Export as this user: only their units.")
    @with_app
    def export_command(resource, out, unit_code, as_user):
        """Export the list RESOURCE to an .xlsx file."""
        imp = find(resource)
        scope, _uid = acting_user(as_user, "can_export")
        try:
            query = export_query(imp, scope, unit_code)
        except ExportRefused as exc:
            fail(str(exc))
        total = query.order_by(None).count()
        with click.progressbar(length=max(total, 1), label=str(_l("Exporting the records")), file=click.get_text_stream("stderr")) as bar:
            state = {"n": 0}

            def progress(n):
                bar.update(n - state["n"])
                state["n"] = n

            from core.tenancy.personal import user_sees_personal_data

            sm = current_app.appbuilder.sm
            full = not as_user or user_sees_personal_data(sm.find_user(username=as_user))
            with open(out, "wb") as fh:
                n = write_export(imp, query.yield_per(1000), fh, progress, full=full)
        click.echo(gettext("Wrote %(n)d rows to %(file)s.", n=n, file=out))


def _line(p) -> str:
    where = gettext("Row %(row)d", row=p.row) if p.row else gettext("Whole file")
    col = f" [{p.column}]" if p.column else ""
    return f"{where}{col}: {p.message}"
