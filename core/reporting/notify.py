"""In-app notifications (我的消息), always on; e-mail optional.

:func:`notify` writes one row per recipient (one INSERT for them all) in the
caller's transaction and, when ``QQH_SMTP_HOST`` is set, sends each recipient
with an e-mail address a plain-text mail after the transaction commits (off by
default: intranets rarely have a mail server). Settings: ``QQH_SMTP_HOST``,
``QQH_SMTP_PORT`` (25), ``QQH_SMTP_USER`` / ``QQH_SMTP_PASSWORD`` (login when
set), ``QQH_SMTP_TLS`` (1: STARTTLS), ``QQH_SMTP_FROM`` (sender address).
A mail that cannot be sent is logged; the in-app notification stays.
"""

from __future__ import annotations

import datetime
import logging
import os
import smtplib
from email.message import EmailMessage

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, Model, expose, has_access
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, event, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.values import clock
from core.tenancy.scope import current_user
from core.values.validators import too_big

log = logging.getLogger(__name__)


class Notification(Model):
    """站内消息: one message to one user; ``read_on`` empty until read."""

    __tablename__ = "qqh_notification"
    __qqh_audit__ = False  # bookkeeping: what caused it (a review, a reminder) is audited itself

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    created_on: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(300))
    read_on: Mapped[datetime.datetime | None] = mapped_column(DateTime)


def smtp_settings(config=None) -> dict | None:
    """The SMTP settings (app config first, then the environment); None when
    e-mail is off (no ``QQH_SMTP_HOST``)."""
    config = config if config is not None else current_app.config

    def get(name, default=None):
        value = config.get(name)
        return value if value not in (None, "") else os.environ.get(name) or default

    host = get("QQH_SMTP_HOST")
    if not host:
        return None
    return {
        "host": host,
        "port": int(get("QQH_SMTP_PORT", 25)),
        "user": get("QQH_SMTP_USER"),
        "password": get("QQH_SMTP_PASSWORD"),
        "tls": str(get("QQH_SMTP_TLS", "")) in ("1", "true", "yes"),
        "sender": get("QQH_SMTP_FROM", "qqh@localhost"),
    }


def notify(session, user_ids, title: str, body: str = "", url: str = "") -> int:
    """Notify the users ``user_ids`` (in the caller's transaction; nothing is
    committed here). Returns the number of notifications written."""
    ids = sorted({int(i) for i in user_ids if i is not None})
    if not ids:
        return 0
    now = clock.now()
    rows = [dict(user_id=i, created_on=now, title=str(title)[:200], body=str(body or ""), url=str(url or "")[:300]) for i in ids]
    session.execute(insert(Notification), rows)
    settings = smtp_settings()
    if settings is not None:
        from flask_appbuilder.security.sqla.models import User

        addresses = [a for (a,) in session.execute(select(User.email).where(User.id.in_(ids), User.active.is_(True))) if a]
        if addresses:
            plain = session() if hasattr(session, "registry") else session
            plain.info.setdefault("qqh_mail", []).append((settings, addresses, str(title), str(body or ""), str(url or "")))
    return len(rows)


def _send(settings: dict, addresses: list[str], title: str, body: str, url: str) -> None:
    msg = EmailMessage()
    msg["Subject"] = title
    msg["From"] = settings["sender"]
    msg["To"] = ", ".join(addresses)
    msg.set_content(body + (f"\n\n{url}" if url else ""))
    try:
        with smtplib.SMTP(settings["host"], settings["port"], timeout=10) as smtp:
            if settings["tls"]:
                smtp.starttls()
            if settings["user"]:
                smtp.login(settings["user"], settings["password"] or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException):
        log.exception("Could not send the notification mail %r to %s", title, addresses)


@event.listens_for(Session, "after_commit")
def _mail_after_commit(session) -> None:
    for item in session.info.pop("qqh_mail", ()):
        _send(*item)


@event.listens_for(Session, "after_rollback")
def _forget_mail(session) -> None:
    session.info.pop("qqh_mail", None)


def unread_count(session, user_id) -> int:
    if user_id is None:
        return 0
    return session.execute(
        select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_on.is_(None))
    ).scalar()


def messages_of(session, user_id, limit: int = 200) -> list[Notification]:
    return list(session.execute(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc()).limit(limit)
    ).scalars())


def mark_read(session, user_id, ids=None) -> int:
    """Mark the user's messages ``ids`` (None: all) read; returns how many."""
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_on.is_(None))
    if ids is not None:
        ids = [int(i) for i in ids if str(i).isdigit() and not too_big(str(i))]
        if not ids:
            return 0
        stmt = stmt.where(Notification.id.in_(ids))
    n = session.execute(stmt.values(read_on=clock.now())).rowcount
    session.commit()
    return n


def as_dict(n: Notification) -> dict:
    return {"id": n.id, "title": n.title, "body": n.body or "", "url": n.url or "",
            "created_on": n.created_on.isoformat(), "read": n.read_on is not None}


class MessagesView(BaseView):
    """我的消息: the user's notifications, newest first."""

    route_base = "/messages"
    default_view = "mine"
    class_permission_name = "Messages"

    @expose("/")
    @has_access
    @permission_name("list")
    def mine(self):
        user = current_user()
        session = self.appbuilder.session
        return self.render_template("qqh/reporting/messages.html", messages=messages_of(session, user.id),
                                    unread=unread_count(session, user.id))

    # marking one's own messages read is no data entry: every role may, inspectors too
    @expose("/read", methods=["POST"])
    @has_access
    @permission_name("show")
    def read(self):
        user = current_user()
        raw = request.form.get("id")
        n = mark_read(self.appbuilder.session, user.id, None if not raw else [raw])
        flash(gettext("%(n)s message(s) marked read.", n=n), "success")
        return redirect(url_for("MessagesView.mine"))


class MessagesApi(BaseApi):
    resource_name = "messages"
    class_permission_name = "Messages"
    allow_browser_login = True
    openapi_spec_tag = "Messages"

    @api_expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get_mine(self):
        """My notifications, newest first, and how many are unread.
        ---
        get:
          responses:
            200:
              description: the messages
        """
        user = current_user()
        session = self.appbuilder.session
        return self.response(200, unread=unread_count(session, user.id),
                             result=[as_dict(n) for n in messages_of(session, user.id)])

    @api_expose("/read", methods=["POST"])
    @protect()
    @safe
    @permission_name("get")
    def read(self):
        """Mark messages read: ``{"ids": [1, 2]}``, or every one without ``ids``.
        ---
        post:
          responses:
            200:
              description: how many were marked
        """
        data = request.get_json(silent=True) or {}
        ids = data.get("ids") if isinstance(data, dict) else None
        if ids is not None and not isinstance(ids, list):
            return self.response_400(message=gettext("Send the ids as a list of numbers."))
        n = mark_read(self.appbuilder.session, current_user().id, ids)
        return self.response(200, marked=n)


def register(appbuilder) -> None:
    appbuilder.add_view(MessagesView, "My messages", label=_l("My messages"), icon="fa-envelope",
                        category="Reporting", category_label=_l("Reporting"), category_icon="fa-paper-plane")
    appbuilder.add_api(MessagesApi)
