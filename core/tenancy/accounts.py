"""Accounts: one password policy, e-mail check, login throttling with
lock-out, logout by POST, revocation of sessions and tokens, session lifetime.

- :func:`password_problem` is the one policy, applied wherever a password is
  set: FAB's forms (its ``FAB_PASSWORD_COMPLEXITY_VALIDATOR`` hook: /users/add,
  /unitusers add and reset, /resetmypassword, /resetpassword) and the security
  manager's ``add_user`` and ``reset_password`` (the CLI and every other path).
- Failed logins are counted in the database (table ``qqh_login_throttle``, one
  row per account and per client address), so the lock holds across gunicorn
  workers. It applies wherever FAB checks a password (``auth_user_db``): the
  login page and ``POST /api/v1/security/login``.
- ``ab_user.valid_after``: sessions and tokens issued before it are refused.
  Logout and a password change move it to now. A cookie session remembers
  when it logged in (``qqh_auth_at``); a token carries ``qqh_at``.
"""

from __future__ import annotations

import datetime
import os
import re
import time

from flask import current_app, flash, g, has_request_context, jsonify, redirect, request, session, url_for
from flask_appbuilder import Model, expose
from flask_appbuilder.security.views import AuthDBView
from flask_babel import gettext
from flask_login import logout_user
from sqlalchemy import DateTime, Integer, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from wtforms.validators import ValidationError

from core import logs
from core.audit import trail as audit
from core.tenancy.scope import InvalidInput
from core.values.resources import CORE_DIR
from core.values.validators import too_big

MIN_PASSWORD_LENGTH = 8
COMMON_PASSWORDS_FILE = os.path.join(CORE_DIR, "data", "common_passwords.txt")
SESSION_AUTH_KEY = "qqh_auth_at"  # when the cookie session logged in (seconds since the epoch)
TOKEN_AUTH_CLAIM = "qqh_at"  # when the token was issued, to the microsecond (``iat`` has whole seconds)

_common: frozenset[str] | None = None


def common_passwords() -> frozenset[str]:
    global _common
    if _common is None:
        with open(COMMON_PASSWORDS_FILE, encoding="utf-8") as fh:
            _common = frozenset(w.strip().lower() for w in fh if w.strip() and not w.startswith("#"))
    return _common


# -- the password policy -----------------------------------------------------------
def password_problem(password: str | None, username: str | None = None) -> str | None:
    """Why ``password`` may not be used (a message in the user's language), or None."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return gettext("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if username and password.strip().lower() == username.strip().lower():
        return gettext("The password must not be the user name.")
    if password.strip().lower() in common_passwords():
        return gettext("This password is among the most common ones: choose another.")
    return None


def check_password(password: str | None, username: str | None = None) -> None:
    problem = password_problem(password, username)
    if problem:
        raise InvalidInput({"password": problem})


def _username_of_form() -> str | None:
    """The user whose password a FAB form sets: the form's user name (add),
    the user of the page (reset of ``pk``) or the current user (my password)."""
    if not has_request_context():
        return None
    if request.form.get("username"):
        return request.form["username"]
    pk = (request.view_args or {}).get("pk") or request.args.get("pk")
    sm = current_app.appbuilder.sm
    if pk is not None and str(pk).isdigit() and not too_big(str(pk)):
        user = sm.get_user_by_id(int(pk))
        return getattr(user, "username", None)
    user = getattr(g, "user", None)
    return getattr(user, "username", None)


def fab_password_validator(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: FAB calls it on every password field of its forms."""
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    problem = password_problem(password, _username_of_form())
    if problem:
        raise PasswordComplexityValidationError(problem)


EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def email_problem(email: str | None) -> str | None:
    email = (email or "").strip()
    if not email or len(email) > 254 or not EMAIL_RE.match(email):
        return gettext("Enter a valid e-mail address, e.g. name@example.com.")
    return None


class EmailAddress:
    """WTForms validator for an e-mail address (no extra package)."""

    def __call__(self, form, field):
        problem = email_problem(field.data)
        if problem:
            raise ValidationError(problem)


def check_user_fields(username: str | None, email: str | None, password: str | None = None, check_pw: bool = True) -> None:
    errors = {}
    problem = email_problem(email)
    if problem:
        errors["email"] = problem
    if check_pw:
        problem = password_problem(password, username)
        if problem:
            errors["password"] = problem
    if errors:
        raise InvalidInput(errors)


# -- login throttling -----------------------------------------------------------
class LoginThrottle(Model):
    """Failed logins of one account (``user:NAME``) or one client address (``addr:IP``)."""

    __tablename__ = "qqh_login_throttle"
    __qqh_audit__ = False  # bookkeeping: login failures are audited as events (log_event)

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_failure: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime.datetime | None] = mapped_column(DateTime, index=True)


def _now() -> datetime.datetime:
    return datetime.datetime.utcnow()


def user_key(username: str) -> str:
    return "user:" + (username or "").strip().lower()[:300]


def address_key(address: str) -> str:
    return "addr:" + (address or "")[:300]


def _limits() -> tuple[int, int, datetime.timedelta]:
    cfg = current_app.config
    return (
        int(cfg.get("QQH_LOGIN_MAX_FAILURES", 5)),
        int(cfg.get("QQH_LOGIN_MAX_FAILURES_PER_ADDRESS", 20)),
        datetime.timedelta(minutes=int(cfg.get("QQH_LOGIN_LOCK_MINUTES", 15))),
    )


def locked_keys(db, keys: list[str]) -> list[str]:
    rows = db.execute(
        select(LoginThrottle.key).where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until > _now())
    ).scalars()
    return list(rows)


def _record_failure(db, key: str, limit: int, window: datetime.timedelta) -> bool:
    """Count one failure of ``key``; True when it has just become locked."""
    now = _now()
    row = db.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0)
        db.add(row)
    elif (row.locked_until is not None and row.locked_until <= now) or (row.last_failure and row.last_failure < now - window):
        row.failures, row.locked_until = 0, None  # the lock or the failures have expired
    row.failures += 1
    row.last_failure = now
    if row.failures >= limit and row.locked_until is None:
        row.locked_until = now + window
        return True
    return False


def authenticate(sm, check, username: str, password: str):
    """FAB's ``auth_user_db`` (``check``) behind the throttle."""
    db = sm.session
    max_user, max_address, window = _limits()
    address = request.remote_addr if has_request_context() else None
    keys = [user_key(username)] + ([address_key(address)] if address else [])
    if locked_keys(db, keys):
        audit.log_event("login_failed", username=username, detail={"reason": "locked", "address": address})
        logs.security_event("login_refused_locked", username)
        if has_request_context() and not request.path.startswith("/api/"):
            flash(gettext("Too many failed logins: this account or address is locked for %(minutes)d minutes, or until an administrator unlocks it.",
                          minutes=int(window.total_seconds() // 60)), "danger")
        return None
    user = check(username, password)
    if user is None:
        for attempt in (1, 2):  # a concurrent first failure of the same key may insert its row first
            try:
                newly_locked = _record_failure(db, keys[0], max_user, window)
                if address:
                    _record_failure(db, keys[1], max_address, window)
                # forget expired failures (of any key): the table stays small
                db.execute(delete(LoginThrottle).where(
                    LoginThrottle.last_failure < _now() - window,
                    (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < _now()),
                ))
                db.commit()
                break
            except IntegrityError:
                db.rollback()
                if attempt == 2:
                    raise
        audit.log_event("login_failed", username=username, detail={"address": address})
        if newly_locked:
            audit.log_event("lockout", username=username, detail={"address": address})
            logs.security_event("locked_out", username)
        return None
    db.execute(delete(LoginThrottle).where(LoginThrottle.key == keys[0]))
    db.commit()
    if has_request_context() and not request.path.startswith("/api/"):
        session[SESSION_AUTH_KEY] = time.time()
        session.permanent = True  # the cookie expires after QQH_SESSION_HOURS
    audit.log_event("login", username=user.username, user_id=user.id, unit_id=getattr(user, "unit_id", None))
    return user


def unlock(db, username: str) -> bool:
    """Lift the lock of an account (and its failure count); True when it was locked."""
    key = user_key(username)
    was = bool(locked_keys(db, [key]))
    db.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
    from core.tenancy.security import QqhUser

    db.execute(update(QqhUser).where(QqhUser.username == username).values(fail_login_count=0))
    db.commit()
    audit.log_event("unlock", username=username, detail={"by": getattr(getattr(g, "user", None), "username", None) if has_request_context() else None})
    return was


def is_locked(db, username: str) -> bool:
    return bool(locked_keys(db, [user_key(username)]))


# -- revocation -------------------------------------------------------------------
def _epoch(value: datetime.datetime | None) -> float | None:
    return None if value is None else value.replace(tzinfo=datetime.timezone.utc).timestamp()


def revoke(user, keep_current: bool = False) -> None:
    """End every session and token of ``user`` issued until now (not committed).
    ``keep_current``: the current cookie session stays (its user changed its own password)."""
    user.valid_after = _now()
    if keep_current and has_request_context():
        session[SESSION_AUTH_KEY] = _epoch(user.valid_after)


def session_valid(user) -> bool:
    """Whether the current cookie session of ``user`` still holds."""
    auth_at = session.get(SESSION_AUTH_KEY)
    if not isinstance(auth_at, (int, float)):
        return False
    valid_after = _epoch(getattr(user, "valid_after", None))
    if valid_after is not None and auth_at < valid_after:
        return False
    return time.time() - auth_at <= float(current_app.config.get("QQH_SESSION_HOURS", 12)) * 3600


def install_jwt(jwt_manager) -> None:
    """Tokens carry their issue time; a token issued before the user's ``valid_after`` is refused."""

    @jwt_manager.additional_claims_loader
    def _claims(_identity):
        return {TOKEN_AUTH_CLAIM: time.time()}

    @jwt_manager.token_in_blocklist_loader
    def _revoked(_header, payload) -> bool:
        sub = str(payload.get("sub", ""))
        if not sub.isdigit():
            return True
        user = current_app.appbuilder.sm.get_user_by_id(int(sub))  # kept between requests: no query of its own
        valid_after = user.valid_after if user is not None else None
        issued = payload.get(TOKEN_AUTH_CLAIM, payload.get("iat", 0))
        return valid_after is not None and issued < _epoch(valid_after)

    @jwt_manager.revoked_token_loader
    def _revoked_answer(_header, _payload):
        return jsonify(message=gettext("This token has been revoked (logout or password change): log in again.")), 401

    @jwt_manager.unauthorized_loader
    def _missing(_reason):
        return jsonify(message=gettext("Log in first.")), 401

    @jwt_manager.invalid_token_loader
    def _invalid(_reason):
        return jsonify(message=gettext("This token is not valid: log in again.")), 422

    @jwt_manager.expired_token_loader
    def _expired(_header, _payload):
        return jsonify(message=gettext("This token has expired: log in again.")), 401


# -- logout by POST ---------------------------------------------------------------
class QqhAuthDBView(AuthDBView):
    """FAB's login page; logout only by POST (a link or an image cannot log a user
    out), and logging out ends every session and token of the user."""

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        if request.method == "GET":
            if getattr(g, "user", None) is None or not g.user.is_authenticated:
                return redirect(self.appbuilder.get_url_for_login)
            return self.render_template("qqh/logout.html", appbuilder=self.appbuilder)
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            from flask_wtf.csrf import CSRFError, validate_csrf

            try:
                validate_csrf(request.form.get("csrf_token"))
            except (CSRFError, ValidationError):
                flash(gettext("The form has expired: please try again."), "danger")
                return redirect(url_for(f"{type(self).__name__}.logout"))
        from core.web import fab

        user = fab.authenticated_user(self)
        if user is not None:
            revoke(user)
            self.appbuilder.sm.update_user(user)
            audit.log_event("logout", username=user.username, user_id=user.id, unit_id=getattr(user, "unit_id", None))
        logout_user()
        session.pop(SESSION_AUTH_KEY, None)
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)
        return redirect(self.appbuilder.get_url_for_login)


# -- Chinese refusals ----------------------------------------------------------------
def _chinese_api_refusals() -> None:
    from flask_appbuilder.api import BaseApi

    if getattr(BaseApi, "_qqh_refusals", False):
        return
    BaseApi.response_401 = lambda self: self.response(401, message=gettext("Log in first."))
    BaseApi.response_403 = lambda self: self.response(403, message=gettext("You are not allowed to do this."))
    BaseApi.response_404 = lambda self: self.response(404, message=gettext("Not found"))
    BaseApi._qqh_refusals = True


def install(app) -> None:
    from flask_wtf.csrf import generate_csrf

    _chinese_api_refusals()
    common_passwords()
    app.jinja_env.globals["qqh_csrf_token"] = generate_csrf  # the logout form's token, whether or not CSRF is enforced
