"""Configuration from the environment, with clear errors."""

from __future__ import annotations

import datetime
import os
import secrets

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.tenancy.accounts import fab_password_validator
from core.tenancy.security import FAB_ROLES, PROVINCE_ADMIN


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says what to do."""


def _instance_path(default: str) -> str:
    path = os.environ.get("QQH_INSTANCE_PATH") or default
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the instance folder {path} ({exc.strerror}): "
            f"set QQH_INSTANCE_PATH to a writable folder."
        ) from exc
    return path


def _secret_key(instance_path: str) -> str:
    key = os.environ.get("QQH_SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ConfigError("QQH_SECRET_KEY must be at least 32 characters long.")
        return key
    path = os.path.join(instance_path, "secret_key")
    try:
        if not os.path.exists(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        with open(path) as fh:
            key = fh.read().strip()
    except OSError as exc:
        raise ConfigError(
            f"Cannot keep the secret key in {path} ({exc.strerror}): "
            f"make the folder writable or set QQH_SECRET_KEY."
        ) from exc
    if len(key) < 32:
        raise ConfigError(f"The secret key in {path} is shorter than 32 characters: delete the file.")
    return key


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ***, whatever characters the
    password holds (a raw ``@`` too: everything up to the last ``@`` is the
    user and password)."""
    scheme, sep, rest = str(url).partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at:
        return str(url)
    user, colon, _password = creds.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


def url_hint(url: str) -> str:
    """A hint for a password that was not percent-encoded, or ''."""
    rest = str(url).partition("://")[2]
    creds = rest.rpartition("@")[0]
    if "@" in creds or "/" in creds or "?" in creds or "#" in creds:
        return " The password holds @ / ? or #: percent-encode it in the URL (@ is %40, / is %2F)."
    return ""


def database_url(instance_path: str) -> str:
    url = os.environ.get("QQH_DATABASE_URL") or "sqlite:///" + os.path.join(instance_path, "qqh.db")
    if "@" in url.partition("://")[2].rpartition("@")[0]:
        raise ConfigError(
            f"the password in QQH_DATABASE_URL ({mask_url(url)}) holds a raw @: percent-encode it "
            f"(@ is %40, / is %2F, : is %3A), e.g. python3 -c 'import urllib.parse; print(urllib.parse.quote(input(), safe=\"\"))'."
        )
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"QQH_DATABASE_URL is not a database URL ({mask_url(url)!r}): write it like "
            f"postgresql+psycopg2://user:password@host:5432/dbname or sqlite:////path/qqh.db."
        ) from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"QQH_DATABASE_URL uses {parsed.get_backend_name()!r}: only postgresql and sqlite are supported."
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    return url


def plugin_names() -> list[str] | None:
    raw = os.environ.get("QQH_PLUGINS")
    if raw is None or not raw.strip():
        return None  # every installed plugin
    if raw.strip().lower() == "none":
        return []
    return [p.strip() for p in raw.split(",") if p.strip()]


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _int_setting(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}.")
    return value


def build_config(instance_path: str) -> dict:
    instance_path = _instance_path(instance_path)
    session_hours = _int_setting("QQH_SESSION_HOURS", 12)
    return {
        "QQH_INSTANCE_PATH": instance_path,
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        # a pooled connection is tested before use: a restarted database costs no request
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "QQH_PLUGINS": plugin_names(),
        # pending uploads (imports waiting for confirmation): a folder every app server shares
        "QQH_UPLOAD_PATH": os.environ.get("QQH_UPLOAD_PATH") or os.path.join(instance_path, "imports"),
        # attachments (files kept with records; shared by every app server, included in backups)
        "QQH_ATTACHMENT_PATH": os.environ.get("QQH_ATTACHMENT_PATH") or os.path.join(instance_path, "attachments"),
        "QQH_ATTACHMENT_MAX_BYTES": _int_setting("QQH_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
        "QQH_TODO_DAYS": _int_setting("QQH_TODO_DAYS", 14),
        "QQH_PROXY_COUNT": int(os.environ.get("QQH_PROXY_COUNT") or 0),  # proxies in front (nginx: 1)
        "APP_NAME": "亲青汇",
        "APP_THEME": "",
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("QQH_TIME_ZONE") or "Asia/Shanghai",
        # "today" and "now" of every date comparison (core/values/clock.py)
        "QQH_TIME_ZONE": os.environ.get("QQH_TIME_ZONE") or "Asia/Shanghai",
        # a fixed "now" for demonstrations (bin/serve: a day inside the demo's plan year); unset: the real clock
        **({"QQH_NOW": os.environ["QQH_NOW"].strip()} if os.environ.get("QQH_NOW", "").strip() else {}),
        "LANGUAGES": {"zh": {"flag": "cn", "name": "简体中文"}, "en": {"flag": "gb", "name": "English"}},
        "AUTH_TYPE": 1,  # AUTH_DB
        "AUTH_ROLE_ADMIN": PROVINCE_ADMIN,
        "AUTH_ROLE_PUBLIC": "Public",
        "FAB_ROLES": FAB_ROLES,
        "FAB_CREATE_DB": False,  # Alembic owns the schema
        "FAB_UPDATE_PERMS": False,  # permissions are synced by `qqh init`
        "FAB_API_SWAGGER_UI": False,  # its page loads scripts from a CDN
        "FAB_ADD_SECURITY_API": False,
        # the four roles are built in (core/tenancy/security.py): FAB's pages of raw permission records
        # (names such as can_list on UnitView) would only confuse a province admin
        "FAB_ADD_SECURITY_PERMISSION_VIEW": False,
        "FAB_ADD_SECURITY_VIEW_MENU_VIEW": False,
        "FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW": False,
        # core/tenancy/accounts.py: one password policy for every form FAB draws
        "FAB_PASSWORD_COMPLEXITY_ENABLED": True,
        "FAB_PASSWORD_COMPLEXITY_VALIDATOR": fab_password_validator,
        "QQH_LOGIN_MAX_FAILURES": _int_setting("QQH_LOGIN_MAX_FAILURES", 5),
        "QQH_LOGIN_MAX_FAILURES_PER_ADDRESS": _int_setting("QQH_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        "QQH_LOGIN_LOCK_MINUTES": _int_setting("QQH_LOGIN_LOCK_MINUTES", 15),
        "QQH_SESSION_HOURS": session_hours,
        "PERMANENT_SESSION_LIFETIME": datetime.timedelta(hours=session_hours),
        # the cookie is sent only when the session changed: its end is fixed at login (accounts.session_valid),
        # and a resent unchanged cookie from a slower request replaced a newer one (a form's flash was lost)
        "SESSION_REFRESH_EACH_REQUEST": False,
        "FAB_API_MAX_PAGE_SIZE": 500,
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": _flag("QQH_HTTPS"),  # also Secure on any request that came over HTTPS
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _flag("QQH_HTTPS"),
        "QQH_MAX_PAGE_SIZE": 100,
        "JSON_AS_ASCII": False,
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "RATELIMIT_ENABLED": False,
    }
