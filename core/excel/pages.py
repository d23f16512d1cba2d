"""The Excel page: lists, templates, uploads, the confirmation and the jobs."""

from __future__ import annotations



import io
import os

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext

from core.ops import jobs
from core.excel.engine import SKIP, UPDATE, ImportReport
from core.excel.workbooks import XLSX_MIME, write_error_file
from core.excel.declarations import format_size
from core.tenancy.scope import current_scope, current_user


from core.excel.service import (
    ExportRefused, MAX_SHOWN_PROBLEMS, PERMISSION_VIEW, _csrf_ok, _csrf_token, _pending_job, _user_id, export_is_big,
    export_query, export_response, importable_or_404, job_label, job_outcome, key_label, limits, list_view_for,
    read_upload, start_export, start_import, template_response, upload_store, visible_importables,
)

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
