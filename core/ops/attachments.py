"""Attachments (附件, 佐证材料) for any unit-owned record: a core facility.

- A file belongs to one record, named by its table and id. It is scoped like
  its record: whoever may not see the record gets 404 for the file too, and
  the check asks the record (:func:`core.tenancy.scope.scoped_get`), so a record
  moved to another unit takes its files along.
- Limits: size (``QQH_ATTACHMENT_MAX_BYTES``, default 10 MB) and type. The
  type is what the CONTENT is (magic bytes), and it must agree with the name:
  images (PNG, JPEG, GIF, WebP), PDF, Office documents (OOXML: a zip holding
  ``[Content_Types].xml`` and the part folder of its kind; legacy Office: an
  OLE compound file). A renamed executable is refused.
- The bytes live outside the database under ``QQH_ATTACHMENT_PATH`` (default
  ``attachments/`` in the instance folder; in backups), named by their
  SHA-256 (``ab/abcdef…``), so every app server can share one folder and the
  same content is stored once. Files are written atomically, mode 0640.
- Deleting a record deletes its attachment rows in the same flush (audited
  like any delete); a bulk delete of records removes the rows of every record
  that it reaches. After the commit, a file no row refers to any more
  is removed; a file written by a transaction that rolled back likewise.
  ``qqh attachments purge`` sweeps what a crash may have left.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import tempfile
import zipfile

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, Model, expose, has_access
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, delete, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.tenancy.scope import InvalidInput, current_user, scoped_get

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
PERMISSION_VIEW = "Attachment"

# extension → (family, MIME type)
KINDS = {
    "png": ("png", "image/png"),
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "gif": ("gif", "image/gif"),
    "webp": ("webp", "image/webp"),
    "pdf": ("pdf", "application/pdf"),
    "docx": ("ooxml:word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("ooxml:xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("ooxml:ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "doc": ("ole", "application/msword"),
    "xls": ("ole", "application/vnd.ms-excel"),
    "ppt": ("ole", "application/vnd.ms-powerpoint"),
}
IMAGES = frozenset({"png", "jpeg", "gif", "webp"})
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Attachment(Model):
    """附件: one file of one unit-owned record (``record_type`` is its table)."""

    __tablename__ = "qqh_attachment"
    __table_args__ = (Index("ix_qqh_attachment_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # the record's unit when the file was added: for the audit log
    unit_id: Mapped[int] = mapped_column(Integer, ForeignKey("qqh_unit.id"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    created_on: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    created_by_fk: Mapped[int | None] = mapped_column(Integer, ForeignKey("ab_user.id"), nullable=True)

    def __repr__(self):
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.kind in IMAGES

    @property
    def mimetype(self) -> str:
        return KINDS.get(self.extension, ("", "application/octet-stream"))[1]

    @property
    def extension(self) -> str:
        return self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else ""

    @property
    def size_text(self) -> str:
        from core.excel.declarations import format_size

        return format_size(self.size)


# -- which records can have files -------------------------------------------------
def attachable_models() -> dict[str, type]:
    """table name → model, for every mapped unit-owned model with an integer id
    (users are unit-owned for scoping, but are no records)."""
    out = {}
    for mapper in Model.registry.mappers:
        model = mapper.class_
        table = getattr(model, "__tablename__", None)
        if (
            table
            and table != "ab_user"
            and mapper.inherits is None  # a custom list's class (core/lowcode/lists.py): its table's base model
            and getattr(model, "__qqh_unit_owned__", False)
            and hasattr(model, "unit_id")
            and len(mapper.primary_key) == 1
            and mapper.primary_key[0].name == "id"
        ):
            out[table] = model
    return out


def record_key(record) -> tuple[str, int]:
    return type(record).__tablename__, record.id


def find_record(record_type, record_id, write: bool = True):
    """The record if the current user may see it (``write``: may change it),
    else None (never a hint whether it exists). A model whose records are
    read beyond its units' subtrees (a notice, by the units below it)
    declares ``__qqh_readable__ = staticmethod(fn(session, pk) -> record | None)``
    for reading; writing is always limited to the user's subtree."""
    model = attachable_models().get(str(record_type or ""))
    try:
        pk = int(record_id)
    except (TypeError, ValueError):
        return None
    if model is None or not 0 < pk < 2**31:
        return None
    readable = getattr(model, "__qqh_readable__", None)
    if not write and readable is not None:
        return readable(current_app.appbuilder.session, pk)
    return scoped_get(model, pk)


def attachments_of(session, record) -> list[Attachment]:
    record_type, record_id = record_key(record)
    stmt = select(Attachment).where(Attachment.record_type == record_type, Attachment.record_id == record_id)
    return list(session.execute(stmt.order_by(Attachment.id)).scalars())


def get_visible(session, pk, write: bool = False) -> tuple[Attachment, object] | None:
    """(attachment, its record) if the current user may see the record
    (``write``: may change it)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**31:
        return None
    att = session.get(Attachment, pk)
    if att is None:
        return None
    record = find_record(att.record_type, att.record_id, write=write)
    return (att, record) if record is not None else None


# -- the content check -----------------------------------------------------------------
def max_bytes() -> int:
    return int(current_app.config.get("QQH_ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def allowed_text() -> str:
    return gettext("images (PNG, JPEG, GIF, WebP), PDF and Office documents (Word, Excel, PowerPoint)")


def check_file(filename: str, data: bytes) -> str:
    """The kind of the file (png, pdf, ooxml…) if its name and content agree
    and are allowed; raises :class:`InvalidInput` otherwise."""
    from core.excel.declarations import format_size

    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    if not name:
        raise InvalidInput({"file": gettext("Choose a file to upload.")})
    if len(name) > 255:
        raise InvalidInput({"file": gettext("The file name is too long (at most 255 characters).")})
    if not data:
        raise InvalidInput({"file": gettext("The file %(name)s is empty.", name=name)})
    if len(data) > max_bytes():
        raise InvalidInput({"file": gettext("The file %(name)s is too large: at most %(limit)s.",
                                            name=name, limit=format_size(max_bytes()))})
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = KINDS.get(ext)
    refused = InvalidInput({"file": gettext(
        "The file %(name)s is refused: only %(allowed)s may be attached, and the content must be what the name says.",
        name=name, allowed=allowed_text())})
    if kind is None or not _content_is(kind[0], data):
        raise refused
    return kind[0].split(":")[0]


def _content_is(family: str, data: bytes) -> bool:
    if family == "png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if family == "jpeg":
        return data.startswith(b"\xff\xd8\xff")
    if family == "gif":
        return data[:6] in (b"GIF87a", b"GIF89a")
    if family == "webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if family == "pdf":
        return data.startswith(b"%PDF-")
    if family == "ole":
        return data.startswith(OLE_MAGIC)
    if family.startswith("ooxml:"):
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:  # the directory only: nothing is unpacked
                names = z.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return False
        folder = family.split(":", 1)[1]
        return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)
    return False


# -- the folder --------------------------------------------------------------------------
def folder() -> str:
    return current_app.config.get("QQH_ATTACHMENT_PATH") or os.path.join(current_app.instance_path, "attachments")


def file_path(sha256: str, base: str | None = None) -> str:
    return os.path.join(base or folder(), sha256[:2], sha256)


def _store(data: bytes) -> str:
    """Write ``data`` under its hash (atomically; rewritten when present, so a
    file removed meanwhile by another server comes back). Returns the hash."""
    digest = hashlib.sha256(data).hexdigest()
    target = file_path(digest)
    os.makedirs(os.path.dirname(target), mode=0o750, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".part-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o640)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return digest


def add_files(session, record, files) -> list[Attachment]:
    """Attach ``files`` ((filename, bytes) pairs) to ``record``, in the
    session's transaction. Every file is checked before anything is written."""
    checked = [(name, data, check_file(name, data)) for name, data in files]
    if not checked:
        raise InvalidInput({"file": gettext("Choose a file to upload.")})
    record_type, record_id = record_key(record)
    user = current_user()
    from core.values import clock

    out = []
    for name, data, kind in checked:
        digest = _store(data)
        session.info.setdefault("qqh_new_files", set()).add(digest)
        att = Attachment(
            record_type=record_type, record_id=record_id, unit_id=record.unit_id,
            filename=os.path.basename(name.replace("\\", "/")).strip(), kind=kind, size=len(data), sha256=digest,
            created_on=clock.now(), created_by_fk=getattr(user, "id", None),
        )
        session.add(att)
        out.append(att)
    return out


def read_upload(storage) -> tuple[str, bytes]:
    """(filename, bytes) of a werkzeug FileStorage, reading at most one byte
    more than the limit."""
    data = storage.stream.read(max_bytes() + 1)
    return storage.filename or "", data


# -- no orphan files ----------------------------------------------------------------------
def _forget(session, digests) -> None:
    session.info.setdefault("qqh_gone_files", set()).update(digests)


@event.listens_for(Session, "before_flush")
def _records_deleted(session, _context, _instances) -> None:
    """A deleted record takes its attachments with it, in the same flush
    (one SELECT per kind of record deleted)."""
    by_type: dict[str, list[int]] = {}
    gone = []
    for item in session.deleted:
        if isinstance(item, Attachment):
            gone.append(item.sha256)
        elif getattr(type(item), "__qqh_unit_owned__", False) and getattr(item, "id", None) is not None:
            table = getattr(type(item), "__tablename__", None)
            if table and table != "ab_user":
                by_type.setdefault(table, []).append(item.id)
    for table, ids in by_type.items():
        rows = session.execute(
            select(Attachment).where(Attachment.record_type == table, Attachment.record_id.in_(ids))
        ).scalars().all()
        for att in rows:
            session.delete(att)
            gone.append(att.sha256)
    if gone:
        _forget(session, gone)


@event.listens_for(Session, "do_orm_execute")
def _records_bulk_deleted(state) -> None:
    """``delete(Model).where(...)``: the attachments of the records it reaches
    go first, in the same transaction (one SELECT and one DELETE)."""
    if not state.is_delete:
        return None
    mapper = state.bind_mapper
    model = mapper.class_ if mapper is not None else None
    table = getattr(model, "__tablename__", None)
    if model is None or model is Attachment or table not in attachable_models():
        return None
    criteria = list(getattr(state.statement, "_where_criteria", ()))
    reached = (Attachment.record_type == table) & Attachment.record_id.in_(select(model.id).where(*criteria))
    session = state.session
    digests = session.execute(select(Attachment.sha256).where(reached)).scalars().all()
    if digests:
        session.execute(delete(Attachment).where(reached).execution_options(synchronize_session=False))
        _forget(session, digests)
    return None


def remove_unreferenced(bind, digests, base: str) -> int:
    """Remove the files of ``digests`` that no attachment row refers to."""
    digests = set(digests)
    if not digests:
        return 0
    with bind.connect() as conn:
        kept = set(conn.execute(select(Attachment.sha256).where(Attachment.sha256.in_(digests))).scalars())
    n = 0
    for digest in digests - kept:
        try:
            os.unlink(file_path(digest, base))
            n += 1
        except FileNotFoundError:
            pass
    return n


def _after_end(session, key: str) -> None:
    digests = session.info.pop(key, None)
    if not digests:
        return
    try:
        base = folder()
        bind = session.get_bind()
        remove_unreferenced(bind, digests, base)
    except Exception:  # never fail the request for a file left behind: `qqh attachments purge` sweeps it
        import logging

        logging.getLogger(__name__).exception("could not remove attachment files")


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    session.info.pop("qqh_new_files", None)
    _after_end(session, "qqh_gone_files")


@event.listens_for(Session, "after_rollback")
def _rolled_back(session) -> None:
    session.info.pop("qqh_gone_files", None)
    _after_end(session, "qqh_new_files")


def purge(session, base: str, min_age_seconds: int = 3600) -> tuple[int, int]:
    """Remove attachment rows whose record is gone (one DELETE per kind of
    record) and files no row refers to (older than ``min_age_seconds``, so
    an upload in progress on another server is left alone). Returns
    (rows, files) removed."""
    rows = 0
    for table, model in attachable_models().items():
        orphans = (Attachment.record_type == table) & Attachment.record_id.not_in(select(model.id))
        rows += session.execute(delete(Attachment).where(orphans).execution_options(synchronize_session=False)).rowcount or 0
    session.commit()
    known = set(session.execute(select(Attachment.sha256)).scalars())
    files = 0
    now = datetime.datetime.now().timestamp()
    for root, _dirs, names in os.walk(base):
        for name in names:
            path = os.path.join(root, name)
            if name not in known and now - os.path.getmtime(path) >= min_age_seconds:
                os.unlink(path)
                files += 1
    return rows, files


# -- pages -----------------------------------------------------------------------------------
def _safe_next(default: str) -> str:
    target = request.form.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else default


def _send(att: Attachment, inline: bool):
    path = file_path(att.sha256)
    if not os.path.exists(path):
        abort(404)
    return send_file(path, mimetype=att.mimetype, as_attachment=not inline, download_name=att.filename,
                     conditional=True, etag=att.sha256, max_age=0)


class AttachmentView(BaseView):
    """Upload (from a record's page), download, preview and delete."""

    route_base = "/attachments"
    class_permission_name = PERMISSION_VIEW
    default_view = "upload"

    @expose("/upload", methods=["POST"])
    @has_access
    @permission_name("add")
    def upload(self):
        session = self.appbuilder.session
        back = _safe_next(url_for("DashboardView.index"))
        record = find_record(request.form.get("record_type"), request.form.get("record_id"))
        if record is None:
            abort(404)
        try:
            files = [read_upload(f) for f in request.files.getlist("file") if f and f.filename]
            add_files(session, record, files)
            session.commit()
        except InvalidInput as exc:
            session.rollback()
            for msgs in exc.messages.values():
                for m in msgs:
                    flash(m, "danger")
        else:
            flash(gettext("Attached: %(names)s", names="、".join(n for n, _d in files)), "success")
        return redirect(back)

    @expose("/<pk>/download")
    @has_access
    @permission_name("download")
    def download(self, pk):
        found = get_visible(self.appbuilder.session, pk)
        if found is None:
            abort(404)
        return _send(found[0], inline=False)

    @expose("/<pk>/preview")
    @has_access
    @permission_name("download")
    def preview(self, pk):
        found = get_visible(self.appbuilder.session, pk)
        if found is None or not found[0].is_image:
            abort(404)
        return _send(found[0], inline=True)

    @expose("/<pk>/delete", methods=["POST"])
    @has_access
    @permission_name("delete")
    def remove(self, pk):
        session = self.appbuilder.session
        found = get_visible(session, pk, write=True)
        if found is None:
            abort(404)
        att = found[0]
        name = att.filename
        session.delete(att)
        session.commit()
        flash(gettext("Removed the attachment %(name)s.", name=name), "success")
        return redirect(_safe_next(url_for("DashboardView.index")))


def describe(att: Attachment) -> dict:
    return {
        "id": att.id, "record_type": att.record_type, "record_id": att.record_id, "filename": att.filename,
        "kind": att.kind, "mimetype": att.mimetype, "size": att.size, "sha256": att.sha256,
        "created_on": att.created_on.isoformat(), "is_image": att.is_image,
        "url": url_for("AttachmentApi.content", pk=att.id),
    }


class AttachmentApi(BaseApi):
    """Attachments of unit-owned records, scoped like their record."""

    resource_name = "attachment"
    class_permission_name = PERMISSION_VIEW
    allow_browser_login = True
    openapi_spec_tag = "Attachments"

    @api_expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def list_of(self):
        """The attachments of one record.
        ---
        get:
          summary: Attachments of a record
          parameters:
          - in: query
            name: record_type
            required: true
            schema:
              type: string
          - in: query
            name: record_id
            required: true
            schema:
              type: integer
          responses:
            200:
              description: the record's attachments
            400:
              description: record_type or record_id missing
            404:
              description: no such record, or outside your units
        """
        if not request.args.get("record_type") or not request.args.get("record_id"):
            return self.response(400, message=gettext("Say whose attachments: record_type (the table) and record_id."))
        record = find_record(request.args.get("record_type"), request.args.get("record_id"), write=False)
        if record is None:
            return self.response(404, message=gettext("Not found"))
        return self.response(200, result=[describe(a) for a in attachments_of(self.appbuilder.session, record)])

    @api_expose("/", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def upload(self):
        """Attach files (multipart/form-data: record_type, record_id, file).
        ---
        post:
          summary: Attach files to a record
          requestBody:
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    record_type:
                      type: string
                    record_id:
                      type: integer
                    file:
                      type: string
                      format: binary
          responses:
            201:
              description: the attachments added
            404:
              description: no such record, or outside your units
            422:
              description: a file refused (type, content or size); nothing was written
        """
        session = self.appbuilder.session
        record = find_record(request.form.get("record_type"), request.form.get("record_id"))
        if record is None:
            return self.response(404, message=gettext("Not found"))
        try:
            files = [read_upload(f) for f in request.files.getlist("file") if f and f.filename]
            added = add_files(session, record, files)
            session.commit()
        except InvalidInput as exc:
            session.rollback()
            return self.response(422, message=exc.messages)
        return self.response(201, result=[describe(a) for a in added])

    @api_expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def info(self, pk):
        """One attachment's description.
        ---
        get:
          summary: An attachment
          parameters:
          - in: path
            name: pk
            required: true
            schema:
              type: integer
          responses:
            200:
              description: name, kind, size, hash
            404:
              description: not found, or outside your units
        """
        found = get_visible(self.appbuilder.session, pk)
        if found is None:
            return self.response(404, message=gettext("Not found"))
        return self.response(200, result=describe(found[0]))

    @api_expose("/<int:pk>/content", methods=["GET"])
    @protect()
    @safe
    @permission_name("download")
    def content(self, pk):
        """The file itself.
        ---
        get:
          summary: Download an attachment
          parameters:
          - in: path
            name: pk
            required: true
            schema:
              type: integer
          responses:
            200:
              description: the file
              content:
                application/octet-stream:
                  schema:
                    type: string
                    format: binary
            404:
              description: not found, or outside your units
        """
        found = get_visible(self.appbuilder.session, pk)
        if found is None:
            return self.response(404, message=gettext("Not found"))
        return _send(found[0], inline=False)

    @api_expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("delete")
    def remove(self, pk):
        """Delete an attachment (its file goes when no other record uses it).
        ---
        delete:
          summary: Delete an attachment
          parameters:
          - in: path
            name: pk
            required: true
            schema:
              type: integer
          responses:
            200:
              description: deleted
            404:
              description: not found, or outside your units
        """
        session = self.appbuilder.session
        found = get_visible(session, pk, write=True)
        if found is None:
            return self.response(404, message=gettext("Not found"))
        session.delete(found[0])
        session.commit()
        return self.response(200, message=gettext("Deleted."))


def _record_of_page():
    """The record of the page being drawn (FAB's show page passes only its pk)."""
    endpoint = request.endpoint or ""
    pk = (request.view_args or {}).get("pk")
    name = endpoint.split(".", 1)[0]
    view = next((v for v in current_app.appbuilder.baseviews if type(v).__name__ == name), None)
    model = getattr(getattr(view, "datamodel", None), "obj", None)
    if model is None or pk is None:
        return None
    try:
        return scoped_get(model, int(pk))
    except (TypeError, ValueError):
        return None


def panel(record=None) -> dict | None:
    """What a record's page shows under it (jinja: ``qqh_attachments()`` on a
    record's page, or ``qqh_attachments(record)``)."""
    if record is None:
        record = _record_of_page()
    if record is None or getattr(record, "id", None) is None:
        return None
    table = getattr(type(record), "__tablename__", None)
    if table not in attachable_models():
        return None
    sm = current_app.appbuilder.sm
    return {
        "record_type": table,
        "record_id": record.id,
        "items": attachments_of(current_app.appbuilder.session, record),
        "can_add": sm.has_access("can_add", PERMISSION_VIEW),
        "can_delete": sm.has_access("can_delete", PERMISSION_VIEW),
        "limit": max_bytes(),
        "accept": ",".join("." + e for e in KINDS),
    }


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(AttachmentView)
    appbuilder.add_api(AttachmentApi)
    current_app.jinja_env.globals["qqh_attachments"] = panel


def register_cli(cli) -> None:
    import click

    from core.web.commands import with_app

    @cli.group("attachments")
    def group():
        """Attachments (附件)."""

    @group.command("purge")
    @click.option("--min-age", default=3600, show_default=True, help="Leave files younger than this many seconds.")
    @with_app
    def purge_command(min_age):
        """Remove attachment rows of deleted records and files nobody refers to."""
        rows, files = purge(current_app.appbuilder.session, folder(), min_age)
        click.echo(gettext("Removed %(rows)d attachment records and %(files)d files.", rows=rows, files=files))
