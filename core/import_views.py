"""Import/export pages, REST endpoints and CLI commands (issue: Excel-native
import and export), for every list a plugin declares with ``qqh_importables``.

Pages (``/excel/``): the lists, template download, export of a list view's
current filter, upload → check report → confirm. REST: ``GET
/api/v1/import/``, ``GET /api/v1/import/<name>/template``, ``POST
/api/v1/import/<name>?dry_run=1&on_duplicate=update|skip``, ``GET
/api/v1/export/<name>?unit=CODE``. CLI: ``qqh import`` and ``qqh export``.

Permissions, all on the view name ``ImportExport``: ``can_list``,
``can_get``, ``can_download`` (template) and ``can_export`` are read
permissions (inspectors have them), ``can_import`` is a write permission
(clerks and unit administrators).
"""

from __future__ import annotations

import io
import os
import re

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.api import BaseApi, expose as api_expose, protect
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.urltools import get_filter_args, get_order_args
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy.orm import selectinload

from core import clock, fab, jobs, modules
from core.importing import (
    SKIP,
    UPDATE,
    XLSX_MIME,
    Importable,
    ImportReport,
    Limits,
    UploadStore,
    check_declaration,
    format_size,
    run_import,
    write_error_file,
    write_export,
    write_template,
)
from core.scoping import Scope, ScopedInterface, current_scope, current_user, in_scope as scoped
from core.units import unit_by_code

PERMISSION_VIEW = "ImportExport"
MAX_SHOWN_PROBLEMS = 500


# -- the registry ------------------------------------------------------------------
from core.lowcode.importing import with_custom_columns  # noqa: E402 — custom fields are columns too


def importables(app=None) -> dict[str, tuple[str, Importable]]:
    """Every declared list: name → (plugin, Importable), in load order."""
    app = app or current_app
    from core.lowcode.list_views import custom_importables  # custom lists (自定义台账): defined as data

    return {**app.extensions.get("qqh_importables", {}), **custom_importables()}


def collect_importables(app) -> dict[str, tuple[str, Importable]]:
    registry = app.extensions["qqh_plugins"]
    found = {}
    for plugin, imp in registry.collect("qqh_importables", "importable list", key=lambda i: i.name):
        check_declaration(plugin, imp)
        found[imp.name] = (plugin, imp)
    app.extensions["qqh_importables"] = found
    return found


def find_importable(name: str) -> Importable | None:
    """The list ``name``, unless unknown or its plugin is switched off for
    the user's unit."""
    entry = importables().get(name)
    if entry is None or entry[0] in modules.current_switched_off():
        return None
    return with_custom_columns(entry[1])


def importable_or_404(name: str) -> Importable:
    imp = find_importable(name)
    if imp is None:
        abort(404, description=gettext("Unknown list."))
    return imp


def visible_importables() -> list[tuple[str, Importable]]:
    off = modules.current_switched_off()
    return [(p, imp) for p, imp in importables().values() if p not in off]


def list_view_for(model):
    """The registered list page of ``model`` (its filters are the export's)."""
    from core.lowcode.list_views import enter_model

    enter_model(model)  # a custom list's class: its page is the custom lists' page, for this list
    for v in current_app.appbuilder.baseviews:
        dm = getattr(v, "datamodel", None)
        if isinstance(v, ModelView) and isinstance(dm, ScopedInterface) and dm.obj is model:
            return v
    return None


def importable_for_model(model) -> Importable | None:
    for _plugin, imp in importables().values():
        if imp.model is model:
            return with_custom_columns(imp)
    return None


def limits() -> Limits:
    return Limits.from_config(current_app.config)


def upload_store() -> UploadStore:
    cfg = current_app.config
    folder = cfg.get("QQH_UPLOAD_PATH") or os.path.join(cfg["QQH_INSTANCE_PATH"], "imports")
    return UploadStore(folder, int(cfg.get("QQH_IMPORT_KEEP_SECONDS", 3600)))


# -- export ------------------------------------------------------------------------
class ExportRefused(ValueError):
    pass


def export_query(imp: Importable, scope, unit_code: str | None = None, use_request_filters: bool = False):
    """The records to export: the user's subtree (``scope``), optionally the
    subtree of ``unit_code``, and — from a request — the list page's search
    filters (``_flt_*``) and ordering (``_oc_*``/``_od_*``), as the page
    shows them. Raises :class:`ExportRefused` for a unit outside the scope."""
    session = current_app.appbuilder.session
    model = imp.model
    query = session.query(model)
    view = list_view_for(model)
    ordered = False
    if view is not None and use_request_filters:
        filters = view.datamodel.get_filters(view.search_columns)
        get_filter_args(filters)
        joined = filters.get_joined_filters(fab.base_filters(view))
        order_column, order_direction = get_order_args().get(view.__class__.__name__, ("", ""))
        if order_column not in (view.order_columns or []):
            order_column, order_direction = view.base_order or ("", "")
        query = view.datamodel.apply_all(query, joined, order_column, order_direction)
        ordered = bool(order_column)
    elif view is not None and fab.base_filters(view):
        query = view.datamodel.apply_filters(query, fab.base_filters(view))
    query = scoped(query, model, scope)
    if unit_code:
        unit = unit_by_code(session, unit_code.strip())
        if unit is None or not Scope.of(scope).contains(unit):
            raise ExportRefused(gettext("Unit %(code)s does not exist or is outside your units.", code=unit_code))
        query = scoped(query, model, Scope(unit.path))  # the unit's subtree
    if not ordered:
        query = query.order_by(*model.__mapper__.primary_key)
    rels = [c.attr for c in imp.columns if c.kind in ("unit", "ref")]
    return query.options(*(selectinload(getattr(model, r)) for r in rels))


def export_file_name(imp: Importable) -> str:
    return f"{imp.label}-{clock.today().isoformat()}.xlsx"


def export_response(imp: Importable, query):
    buf = io.BytesIO()
    write_export(imp, query.yield_per(1000), buf)
    buf.seek(0)
    return send_file(buf, mimetype=XLSX_MIME, as_attachment=True, download_name=export_file_name(imp))


# -- big exports as background jobs (core/jobs.py) ----------------------------------------
def export_job_rows() -> int:
    """Exports of more rows than this run as a job (QQH_EXPORT_JOB_ROWS)."""
    return int(jobs._setting(current_app, "QQH_EXPORT_JOB_ROWS", 5000))


def export_is_big(query) -> bool:
    return query.order_by(None).count() > export_job_rows()


def start_export(name, wait):
    """Hand the export of list ``name`` — as this request asks for it (its
    query string: unit, filters, order) — to the job workers, which run it as
    the user; the job, finished or still running, after ``wait`` seconds."""
    job_id = jobs.submit("export", dict(name=name), user=current_user(), address=_address(),
                         query_string=request.query_string.decode("utf-8", "replace"))
    return jobs.wait(job_id, wait)


@jobs.kind("export")
def _export_job(params, ctx):
    imp = find_importable(params["name"])
    if imp is None:
        raise jobs.JobRefused(gettext("Unknown list."))
    try:
        query = export_query(imp, current_scope(), request.args.get("unit"), use_request_filters=True)
    except ExportRefused as exc:
        raise jobs.JobRefused(str(exc)) from None
    total = query.order_by(None).count()
    ctx.progress("export", 0, total)
    app = current_app._get_current_object()
    try:
        with jobs.open_file(app, ctx.job_id) as fh:
            n = write_export(imp, query.yield_per(1000), fh, lambda done: ctx.progress("export", done, total))
    except BaseException:
        try:
            os.remove(jobs.file_path(app, ctx.job_id))
        except OSError:
            pass
        raise
    ctx.progress("export", n, max(total, n))
    return dict(name=params["name"], rows=n, file_name=export_file_name(imp))


def export_job_file(job):
    """The finished export of ``job`` for the current user, its owner only:
    a download, or None."""
    user = current_user()
    if job is None or job.kind != "export" or job.state != jobs.DONE or job.user_id != getattr(user, "id", None):
        return None
    path = jobs.file_path(current_app, job.id)
    if not os.path.isfile(path):
        return None
    return send_file(path, mimetype=XLSX_MIME, as_attachment=True, download_name=job.outcome["file_name"],
                     max_age=0)


def template_response(imp: Importable, scope):
    data = write_template(current_app.appbuilder.session, imp, scope, limits())
    suffix = gettext("import template")
    name = f"{imp.label}-{suffix}.xlsx"
    return send_file(io.BytesIO(data), mimetype=XLSX_MIME, as_attachment=True, download_name=name)


def excel_links():
    """For the list page template (qqh/import_list.html): the Excel actions
    of the list being shown, or None when its model is not importable."""
    endpoint = (request.endpoint or "").split(".", 1)[0]
    view = next((v for v in current_app.appbuilder.baseviews if v.endpoint == endpoint), None)
    model = getattr(getattr(view, "datamodel", None), "obj", None)
    imp = importable_for_model(model) if model is not None else None
    if imp is None or importables()[imp.name][0] in modules.current_switched_off():
        return None
    sm = current_app.appbuilder.sm
    query = request.query_string.decode("utf-8", "replace")
    export_url = url_for("ExcelView.export", name=imp.name) + (f"?{query}" if query else "")
    return {
        "name": imp.name,
        "export_url": export_url if sm.has_access("can_export", PERMISSION_VIEW) else None,
        "import_url": url_for("ExcelView.upload", name=imp.name) if sm.has_access("can_import", PERMISSION_VIEW) else None,
        "template_url": url_for("ExcelView.template", name=imp.name) if sm.has_access("can_download", PERMISSION_VIEW) else None,
    }


# -- checking uploads ----------------------------------------------------------------
def _user_id():
    return getattr(current_user(), "id", None)


def check_upload(imp: Importable, filename: str, data: bytes, on_duplicate: str, commit: bool = False) -> ImportReport:
    return run_import(
        current_app.appbuilder.session,
        imp,
        filename,
        data,
        scope=current_scope(),
        on_duplicate=on_duplicate,
        commit=commit,
        user_id=_user_id(),
        limits=limits(),
    )


def read_upload(file) -> bytes:
    """At most one byte more than allowed: enough to refuse a large file."""
    return file.stream.read(limits().max_bytes + 1)


def _csrf_ok() -> bool:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    from flask_wtf.csrf import ValidationError as CSRFError, validate_csrf

    try:
        validate_csrf(request.form.get("csrf_token"))
        return True
    except CSRFError:
        return False


def _csrf_token() -> str:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return ""
    from flask_wtf.csrf import generate_csrf

    return generate_csrf()


def key_label(imp: Importable) -> str:
    return "、".join(str(imp.column(k).header) for k in imp.natural_key)


# -- imports as background jobs (core/jobs.py) -----------------------------------------
def _address():
    return (request.remote_addr or "")[:64] or None


def start_import(name, token, on_duplicate, commit, job_id=None, api=False, wait=None):
    """Hand the check (or the commit) of a pending upload to the job workers
    and wait for it a moment: the job, finished or still running."""
    job_id = jobs.submit("import", dict(name=name, token=token, on_duplicate=on_duplicate, commit=commit, api=api),
                         user=current_user(), address=_address(), job_id=job_id)
    return jobs.wait(job_id, jobs.wait_seconds(current_app) if wait is None else wait)


@jobs.kind("import")
def _import_job(params, ctx):
    name, token = params["name"], params["token"]
    entry = importables().get(name)
    store = upload_store()
    found = store.load(token, _user_id(), name) if entry is not None else None
    if found is None:
        raise jobs.JobRefused(gettext("This upload has expired or does not exist: upload the file again."))
    data, meta = found
    imp = with_custom_columns(entry[1])  # the list's custom fields are columns too, in a job as in a request
    report = run_import(current_app.appbuilder.session, imp, meta["filename"], data, scope=current_scope(),
                        on_duplicate=params["on_duplicate"], commit=params["commit"], user_id=_user_id(),
                        limits=limits(), progress=ctx.progress)
    if params.get("api") or report.written:
        store.drop(token)
    else:
        meta.update(on_duplicate=params["on_duplicate"], report=report.as_dict())
        meta.pop("job", None)
        store.save_meta(token, meta)
    result = dict(name=name, token=token, commit=params["commit"], written=report.written, ok=report.ok,
                  rows=report.rows, new=report.new, updated=report.updated, skipped=report.skipped,
                  problems=[p.message for p in report.errors[:20]] if not report.rows else [])
    if params.get("api"):
        result["report"] = report.as_dict()
    return result


def _pending_job(meta) -> str | None:
    """The job still working on this upload, if any."""
    job_id = meta.get("job")
    job = jobs.get(job_id) if job_id else None
    return job.id if job is not None and job.state not in jobs.FINISHED else None


def job_label(job) -> str:
    params = job.request_params
    if job.kind == "export":
        entry = importables().get(params.get("name"))
        return gettext("Exporting %(list)s", list=str(entry[1].label) if entry else "")
    if job.kind == "import":
        entry = importables().get(params.get("name"))
        label = str(entry[1].label) if entry else ""
        if params.get("commit"):
            return gettext("Importing %(list)s", list=label)
        return gettext("Checking the file for %(list)s", list=label)
    return gettext("Working")


def job_outcome(job):
    """Page: where an import job leads — its progress while it runs, then the
    report, the form (with what was wrong) or the list (saved)."""
    if job.state not in jobs.FINISHED:
        return redirect(url_for("ExcelView.job", job_id=job.id))
    if job.kind == "export":
        return render_export_job(job)
    params = job.request_params
    name, token = params.get("name"), params.get("token")
    report_url = url_for("ExcelView.report", name=name, token=token)
    if job.state == jobs.FAILED:
        flash(job.error, "danger")
        found = upload_store().load(token, job.user_id, name)
        if found is None or found[1].get("report") is None:  # nothing checked to show
            upload_store().drop(token)
            return redirect(url_for("ExcelView.upload", name=name))
        return redirect(report_url)
    res = job.outcome
    if not res["commit"]:
        if not res["ok"] and not res["rows"]:
            for problem in res["problems"]:
                flash(problem, "danger")
            upload_store().drop(token)
            return redirect(url_for("ExcelView.upload", name=name))
        return redirect(report_url)
    if not res["written"]:
        flash(gettext("The data changed since the check: see the new result below; nothing was saved."), "warning")
        return redirect(report_url)
    flash(gettext("Imported: %(new)d new, %(updated)d updated, %(skipped)d skipped.",
                  new=res["new"], updated=res["updated"], skipped=res["skipped"]), "success")
    entry = importables().get(name)
    view = list_view_for(entry[1].model) if entry else None
    return redirect(url_for(f"{view.endpoint}.list") if view is not None else url_for("ExcelView.index"))


def render_export_job(job):
    """Page: a finished export — the download (its owner's only), or why it failed."""
    from flask import render_template

    ab = current_app.appbuilder
    mine = job.user_id == getattr(current_user(), "id", None)
    ready = job.state == jobs.DONE and mine and os.path.isfile(jobs.file_path(current_app, job.id))
    return render_template("qqh/job_export.html", base_template=ab.base_template, appbuilder=ab,
                           label=job_label(job), job=job, outcome=job.outcome, mine=mine,
                           download_url=url_for("JobApi.download", job_id=job.id) if ready else None,
                           back_url=url_for("ExcelView.index"), keep_days="{:g}".format(jobs.keep_days(current_app)))


# -- pages -------------------------------------------------------------------------
class ExcelView(BaseView):
    """The lists, their templates and exports, and the import steps."""

    route_base = "/excel"
    class_permission_name = PERMISSION_VIEW
    default_view = "index"

    def _render(self, template, **kwargs):
        return self.render_template(template, csrf_token_value=_csrf_token(), **kwargs)

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        sm = self.appbuilder.sm
        registry = current_app.extensions["qqh_plugins"]
        rows = []
        for plugin, imp in visible_importables():
            view = list_view_for(imp.model)
            rows.append(
                dict(
                    imp=imp,
                    plugin=registry.installed[plugin].manifest.label if plugin in registry.installed else gettext("Custom lists"),
                    list_url=url_for(f"{view.endpoint}.list") if view is not None else None,
                )
            )
        return self._render(
            "qqh/import_index.html",
            rows=rows,
            can_import=sm.has_access("can_import", PERMISSION_VIEW),
            can_export=sm.has_access("can_export", PERMISSION_VIEW),
        )

    @expose("/<name>/template")
    @has_access
    @permission_name("download")
    def template(self, name):
        return template_response(importable_or_404(name), current_scope())

    @expose("/<name>/export")
    @has_access
    @permission_name("export")
    def export(self, name):
        imp = importable_or_404(name)
        try:
            query = export_query(imp, current_scope(), request.args.get("unit"), use_request_filters=True)
        except ExportRefused as exc:
            flash(str(exc), "danger")
            return redirect(url_for("ExcelView.index"))
        if export_is_big(query):  # a job: its page shows the progress, then the download
            job = start_export(name, jobs.wait_seconds(current_app))
            return redirect(url_for("ExcelView.job", job_id=job.id))
        return export_response(imp, query)

    @expose("/<name>/import", methods=["GET", "POST"])
    @has_access
    @permission_name("import")
    def upload(self, name):
        imp = importable_or_404(name)
        problems = []
        if request.method == "POST":
            on_duplicate = request.form.get("on_duplicate", UPDATE)
            file = request.files.get("file")
            if not _csrf_ok():
                problems = [gettext("The form has expired: reload the page and try again.")]
            elif on_duplicate not in (UPDATE, SKIP):
                problems = [gettext("Choose update or skip for duplicates.")]
            elif file is None or not file.filename:
                problems = [gettext("Choose a file to upload.")]
            else:
                filename = os.path.basename(file.filename.replace("\\", "/"))
                data = read_upload(file)
                job_id = jobs.new_id()
                token = upload_store().save(
                    data, dict(name=name, user_id=_user_id(), filename=filename, on_duplicate=on_duplicate, job=job_id),
                )
                job = start_import(name, token, on_duplicate, commit=False, job_id=job_id)
                if job.state == jobs.DONE and not job.outcome["ok"] and not job.outcome["rows"]:
                    problems = job.outcome["problems"]  # nothing to report row by row: say it on the form
                    upload_store().drop(token)
                else:
                    return job_outcome(job)
        lim = limits()
        return self._render(
            "qqh/import_upload.html",
            imp=imp,
            problems=problems,
            key_label=key_label(imp),
            max_size=format_size(lim.max_bytes),
            max_rows=f"{lim.max_rows:,}",
        )

    def _load(self, name, token):
        imp = importable_or_404(name)
        found = upload_store().load(token, _user_id(), name)
        if found is None:
            flash(gettext("This upload has expired or does not exist: upload the file again."), "warning")
        return imp, found

    @expose("/<name>/import/<token>", methods=["GET"])
    @has_access
    @permission_name("import")
    def report(self, name, token):
        imp, found = self._load(name, token)
        if found is None:
            return redirect(url_for("ExcelView.upload", name=name))
        data, meta = found
        pending = _pending_job(meta)
        if pending is not None:
            return redirect(url_for("ExcelView.job", job_id=pending))
        wanted = request.args.get("on_duplicate")
        if wanted in (UPDATE, SKIP) and wanted != meta["on_duplicate"] or meta.get("report") is None:
            job_id = jobs.new_id()
            upload_store().save_meta(token, dict(meta, job=job_id))
            job = start_import(name, token, wanted if wanted in (UPDATE, SKIP) else meta["on_duplicate"],
                               commit=False, job_id=job_id)
            if job.state not in jobs.FINISHED:
                return redirect(url_for("ExcelView.job", job_id=job.id))
            found = upload_store().load(token, _user_id(), name)
            if found is None or found[1].get("report") is None:
                return job_outcome(job)
            meta = found[1]
        report = ImportReport.from_dict(meta["report"])
        return self._render(
            "qqh/import_report.html",
            imp=imp,
            report=report,
            token=token,
            key_label=key_label(imp),
            errors=report.errors[:MAX_SHOWN_PROBLEMS],
            notes=report.notes[:MAX_SHOWN_PROBLEMS],
            max_shown=MAX_SHOWN_PROBLEMS,
        )

    @expose("/<name>/import/<token>", methods=["POST"])
    @has_access
    @permission_name("import")
    def commit(self, name, token):
        imp, found = self._load(name, token)
        if found is None:
            return redirect(url_for("ExcelView.upload", name=name))
        if not _csrf_ok():
            flash(gettext("The form has expired: reload the page and try again."), "danger")
            return redirect(url_for("ExcelView.report", name=name, token=token))
        data, meta = found
        pending = _pending_job(meta)
        if pending is not None:
            return redirect(url_for("ExcelView.job", job_id=pending))
        if not (meta.get("report") or {}).get("ok"):
            return redirect(url_for("ExcelView.report", name=name, token=token))
        job_id = jobs.new_id()
        upload_store().save_meta(token, dict(meta, job=job_id))
        return job_outcome(start_import(name, token, meta["on_duplicate"], commit=True, job_id=job_id))

    @expose("/jobs/<job_id>")
    @has_access
    @permission_name("list")
    def job(self, job_id):
        """A job's progress (a bar the page updates itself), then where its outcome is shown."""
        job = jobs.get(job_id)
        if not jobs.visible_to(job, current_user()):
            abort(404, description=gettext("No such job."))
        if job.state in jobs.FINISHED:
            return job_outcome(job)
        return self._render("qqh/job_progress.html", job=job.as_dict(), label=job_label(job),
                            status_url=url_for("JobApi.status", job_id=job.id))

    @expose("/<name>/import/<token>/errors")
    @has_access
    @permission_name("import")
    def errors(self, name, token):
        imp, found = self._load(name, token)
        if found is None:
            return redirect(url_for("ExcelView.upload", name=name))
        data, meta = found
        report = ImportReport.from_dict(meta["report"])
        out = write_error_file(imp, meta["filename"], data, report, limits())
        stem = os.path.splitext(meta["filename"])[0]
        suffix = gettext("Errors in the row")
        return send_file(io.BytesIO(out), mimetype=XLSX_MIME, as_attachment=True, download_name=f"{stem}-{suffix}.xlsx")


# -- REST API ------------------------------------------------------------------------
def _describe(imp: Importable) -> dict:
    return {
        "name": imp.name,
        "label": str(imp.label),
        "natural_key": list(imp.natural_key),
        "columns": [
            {
                "attr": c.attr,
                "header": str(c.header),
                "kind": c.kind,
                "required": c.required,
                "choices": {k: str(v) for k, v in c.choices.items()} if c.choices else None,
            }
            for c in imp.columns
        ],
    }


class ImportApi(BaseApi):
    """Templates and imports of the declared lists."""

    resource_name = "import"
    class_permission_name = PERMISSION_VIEW
    allow_browser_login = True
    openapi_spec_tag = "Import and export"

    @api_expose("/", methods=["GET"])
    @protect()
    @permission_name("get")
    def lists(self):
        """The lists that can be imported and exported, with their columns.
        ---
        get:
          summary: Importable lists
          responses:
            200:
              description: name, label, natural key and columns of each list
        """
        return self.response(200, result=[_describe(imp) for _p, imp in visible_importables()])

    @api_expose("/<name>/template", methods=["GET"])
    @protect()
    @permission_name("download")
    def template(self, name):
        """The template workbook of a list (headers, drop-downs, an example
        row, an instructions sheet).
        ---
        get:
          summary: Template workbook
          parameters:
          - in: path
            name: name
            required: true
            schema:
              type: string
          responses:
            200:
              description: the .xlsx template
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema:
                    type: string
                    format: binary
            404:
              description: no such list
        """
        imp = find_importable(name)
        if imp is None:
            return self.response(404, message=gettext("Unknown list."))
        return template_response(imp, current_scope())

    @api_expose("/<name>", methods=["POST"])
    @protect()
    @permission_name("import")
    def upload(self, name):
        """Check an .xlsx or .csv file and, with dry_run=0, import it. Every
        row is checked first; nothing is written unless all are valid, and
        then all are written in one transaction.
        ---
        post:
          summary: Import a file (dry run by default)
          parameters:
          - in: path
            name: name
            required: true
            schema:
              type: string
          - in: query
            name: dry_run
            description: 1 (default) only checks; 0 checks and writes
            schema:
              type: integer
              enum: [0, 1]
              default: 1
          - in: query
            name: on_duplicate
            description: what to do with a row whose natural key exists already
            schema:
              type: string
              enum: [update, skip]
              default: update
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    file:
                      type: string
                      format: binary
          responses:
            200:
              description: every row is valid (and written when dry_run=0); counts and notes in result
            400:
              description: no file or a bad parameter
            404:
              description: no such list
            202:
              description: still being processed (see Prefer); Location is the job (GET /api/v1/job/ID)
            422:
              description: the file or some rows are invalid; nothing was written; errors in result
            503:
              description: the import failed; nothing was written
        """
        imp = find_importable(name)
        if imp is None:
            return self.response(404, message=gettext("Unknown list."))
        dry_run = request.args.get("dry_run", "1")
        on_duplicate = request.args.get("on_duplicate", UPDATE)
        if dry_run not in ("0", "1") or on_duplicate not in (UPDATE, SKIP):
            return self.response_400(message=gettext("Use dry_run=0 or 1 and on_duplicate=update or skip."))
        file = request.files.get("file")
        if file is None or not file.filename:
            return self.response_400(message=gettext("Choose a file to upload."))
        filename = os.path.basename(file.filename.replace("\\", "/"))
        job_id = jobs.new_id()
        token = upload_store().save(read_upload(file), dict(name=name, user_id=_user_id(), filename=filename,
                                                            on_duplicate=on_duplicate, job=job_id, api=True))
        job = start_import(name, token, on_duplicate, commit=dry_run == "0", job_id=job_id, api=True,
                           wait=_api_wait())
        return import_api_answer(self, job)


def _api_wait() -> float:
    """How long the import API waits before answering 202: ``Prefer:
    respond-async`` not at all, ``Prefer: wait=N`` (RFC 7240) up to N seconds
    (at most 25), else QQH_JOB_WAIT_SECONDS."""
    prefer = request.headers.get("Prefer", "").lower()
    if "respond-async" in prefer:
        return 0
    m = re.search(r"\bwait=(\d+)", prefer)
    if m:
        return min(float(m.group(1)), 25.0)
    return jobs.wait_seconds(current_app)


def import_api_answer(api, job):
    """An import job as the API answers it: 202 with the job's address while
    it runs; then 200 (valid, written unless a dry run), 422 (invalid rows
    or file, nothing written) or 503 (it failed, nothing written)."""
    if job.state not in jobs.FINISHED:
        location = url_for("JobApi.status", job_id=job.id)
        response = api.response(202, message=gettext("The file is being processed: ask the job's address for its progress."),
                                job=job.as_dict(), location=location)
        response.headers["Location"] = location
        return response
    if job.state == jobs.FAILED:
        return api.response(503, message=job.error, job=job.as_dict())
    report = job.outcome["report"]
    if not report["ok"]:
        first = report["errors"][0]
        where = gettext("Row %(row)d", row=first["row"]) + "：" if first.get("row") else ""
        return api.response(422, message=where + first["message"], result=report)
    return api.response(200, result=report)


class JobApi(BaseApi):
    """Background jobs: their progress and outcome (your own; province administrators all)."""

    resource_name = "job"
    class_permission_name = PERMISSION_VIEW
    allow_browser_login = True
    openapi_spec_tag = "Import and export"

    @api_expose("/", methods=["GET"])
    @protect()
    @permission_name("get")
    def recent(self):
        """Your 50 latest jobs (a province administrator's: everyone's).
        ---
        get:
          summary: Latest jobs
          responses:
            200:
              description: id, kind, state, progress and times of each job
        """
        from sqlalchemy import select

        from core.scoping import user_scope

        user = current_user()
        stmt = select(jobs.Job).order_by(jobs.Job.created.desc()).limit(50)
        if not user_scope(user).everything:
            stmt = stmt.where(jobs.Job.user_id == getattr(user, "id", -1))
        found = current_app.appbuilder.session.execute(stmt).scalars().all()
        out = []
        for j in found:
            d = j.as_dict()
            d.pop("result")
            out.append(d)
        return self.response(200, result=out)

    @api_expose("/<job_id>", methods=["GET"])
    @protect()
    @permission_name("get")
    def status(self, job_id):
        """A job: state (queued, running, done, failed), progress (stage,
        done, total, percent), and once it has ended its result or error.
        For an import, ``result.report`` is what the synchronous answer held
        and ``result.ok`` whether every row was valid.
        ---
        get:
          summary: A job's progress and outcome
          parameters:
          - in: path
            name: job_id
            required: true
            schema:
              type: string
          responses:
            200:
              description: the job
            404:
              description: no such job, or not yours
        """
        job = jobs.get(job_id)
        if not jobs.visible_to(job, current_user()):
            return self.response(404, message=gettext("No such job."))
        return self.response(200, result=job_view(job))

    @api_expose("/<job_id>/file", methods=["GET"])
    @protect()
    @permission_name("export")
    def download(self, job_id):
        """The file a finished export job wrote (its owner only).
        ---
        get:
          summary: The file of an export job
          parameters:
          - in: path
            name: job_id
            required: true
            schema:
              type: string
          responses:
            200:
              description: the .xlsx file
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema:
                    type: string
                    format: binary
            404:
              description: no such export, not yours, not finished, or deleted (after QQH_JOB_KEEP_DAYS)
        """
        found = export_job_file(jobs.get(job_id))
        if found is None:
            return self.response(404, message=gettext("No such file: the export is not yours, not done yet, "
                                                      "or was deleted."))
        return found


def job_view(job) -> dict:
    """A job as the API shows it; a finished export's result has the
    address of its file (``download``) for its owner."""
    d = job.as_dict()
    if job.kind == "export" and job.state == jobs.DONE and d["result"] is not None:
        if job.user_id == getattr(current_user(), "id", None):
            d["result"]["download"] = url_for("JobApi.download", job_id=job.id)
    return d


class ExportApi(BaseApi):
    """Exports of the declared lists, limited to the caller's units."""

    resource_name = "export"
    class_permission_name = PERMISSION_VIEW
    allow_browser_login = True
    openapi_spec_tag = "Import and export"

    @api_expose("/<name>", methods=["GET"])
    @protect()
    @permission_name("export")
    def export(self, name):
        """The records of a list in the caller's units as .xlsx; ``unit``
        limits it to one unit's subtree, and the list page's ``_flt_*``
        filter arguments may be passed as they are.
        ---
        get:
          summary: Export a list
          parameters:
          - in: path
            name: name
            required: true
            schema:
              type: string
          - in: query
            name: unit
            description: code of a unit in your subtree (default your whole subtree)
            schema:
              type: string
          responses:
            200:
              description: the .xlsx file
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema:
                    type: string
                    format: binary
            202:
              description: more rows than QQH_EXPORT_JOB_ROWS — the export runs as a job; Location is the job
                (GET /api/v1/job/ID), whose result.download is the file once it is done
            404:
              description: no such list, or a unit outside your subtree
        """
        imp = find_importable(name)
        if imp is None:
            return self.response(404, message=gettext("Unknown list."))
        try:
            query = export_query(imp, current_scope(), request.args.get("unit"), use_request_filters=True)
        except ExportRefused as exc:
            return self.response(404, message=str(exc))
        if export_is_big(query):
            job = start_export(name, _api_wait())
            if job.state == jobs.FAILED:
                return self.response(503, message=job.error, job=job.as_dict())
            if job.state == jobs.DONE and export_job_file(job) is not None:
                return export_job_file(job)
            location = url_for("JobApi.status", job_id=job.id)
            response = self.response(202, message=gettext("The export is being written: ask the job's address for "
                                                          "its progress and the file."),
                                     job=job_view(job), location=location)
            response.headers["Location"] = location
            return response
        return export_response(imp, query)


def _too_large(exc):
    """Flask refused a body above MAX_CONTENT_LENGTH: say so in the user's language."""
    from flask import jsonify, render_template

    message = gettext("The upload is too large: at most %(limit)s.", limit=format_size(limits().max_bytes))
    if request.path.startswith("/api/"):
        return jsonify(message=message), 413
    ab = current_app.appbuilder
    return render_template("qqh/error.html", message=message, base_template=ab.base_template, appbuilder=ab), 413


def register(appbuilder) -> None:
    """Add the import/export pages and APIs to ``appbuilder``."""
    app = current_app._get_current_object()
    collect_importables(app)
    appbuilder.add_view(
        ExcelView,
        "Excel import and export",
        label=_l("Excel import and export"),
        icon="fa-file-excel-o",
        category="Organization",
        category_label=_l("Organization"),
    )
    appbuilder.add_api(ImportApi)
    appbuilder.add_api(ExportApi)
    appbuilder.add_api(JobApi)
    jobs.install(app)
    app.jinja_env.globals["qqh_excel_links"] = excel_links
    app.register_error_handler(413, _too_large)


# -- CLI -------------------------------------------------------------------------------
def register_cli(cli) -> None:
    """Add ``qqh import`` / ``qqh export`` / ``qqh worker`` to the ``qqh`` click group."""
    import time

    import click

    from core.cli import fail, with_app

    def find(resource: str) -> Importable:
        entry = importables().get(resource)
        if entry is None:
            fail(gettext("No such list: %(name)s (available: %(names)s)", name=resource,
                         names=", ".join(importables()) or "-"))
        return with_custom_columns(entry[1])

    def acting_user(username: str | None, permission: str):
        """(scope, user id) of --as USER; the whole province without it."""
        from core.scoping import ALL, user_scope

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
        """Import FILE (.xlsx or .csv) into the list RESOURCE (e.g. samplenote):
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

            from core.personal import user_sees_personal_data

            sm = current_app.appbuilder.sm
            full = not as_user or user_sees_personal_data(sm.find_user(username=as_user))
            with open(out, "wb") as fh:
                n = write_export(imp, query.yield_per(1000), fh, progress, full=full)
        click.echo(gettext("Wrote %(n)d rows to %(file)s.", n=n, file=out))


def _line(p) -> str:
    where = gettext("Row %(row)d", row=p.row) if p.row else gettext("Whole file")
    col = f" [{p.column}]" if p.column else ""
    return f"{where}{col}: {p.message}"
