"""Finding importable lists, exports and imports as jobs: what the pages, API and CLI share.

Import/export pages, REST endpoints and CLI commands (issue: Excel-native
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

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import ModelView
from flask_appbuilder.urltools import get_filter_args, get_order_args
from flask_babel import gettext
from sqlalchemy.orm import selectinload

from core.values import clock
from core.web import fab
from core.ops import jobs
from core.tenancy import modules
from core.excel.engine import ImportReport, run_import
from core.excel.workbooks import XLSX_MIME, write_export, write_template
from core.excel.declarations import Importable, Limits, check_declaration
from core.excel.uploads import UploadStore
from core.tenancy.scope import Scope, current_scope, current_user, in_scope as scoped
from core.web.scoped_views import ScopedInterface
from core.tenancy.units import unit_by_code


# -- the registry ------------------------------------------------------------------
from core.lowcode.importing import with_custom_columns  # noqa: E402 — custom fields are columns too

PERMISSION_VIEW = "ImportExport"
MAX_SHOWN_PROBLEMS = 500


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


# -- big exports as background jobs (core/ops/jobs.py) ----------------------------------------
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


# -- imports as background jobs (core/ops/jobs.py) -----------------------------------------
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


# -- a list described (the API's _info) ---------------------------------------------
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
