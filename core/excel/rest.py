"""The import, export and job REST APIs."""

from __future__ import annotations



import os
import re

from flask import current_app, request, url_for
from flask_appbuilder.api import BaseApi, expose as api_expose, protect
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext

from core.ops import jobs
from core.excel.engine import SKIP, UPDATE
from core.excel.declarations import format_size
from core.tenancy.scope import current_scope, current_user


from core.excel.service import (
    ExportRefused, PERMISSION_VIEW, _describe, _user_id, export_is_big, export_job_file, export_query,
    export_response, find_importable, limits, read_upload, start_export, start_import, template_response,
    upload_store, visible_importables,
)

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

        from core.tenancy.scope import user_scope

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
