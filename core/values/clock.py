""""Today" and "now" in the deployment's time zone (Beijing time).

Every date comparison of core and the plugins ("not in the future", due
dates, the dashboard's default date, the assessment) asks :func:`today` or
:func:`now`, never the server's own clock: the server may run on UTC, and
from 00:00 to 08:00 Beijing time its date is still yesterday.

The zone is the ``QQH_TIME_ZONE`` setting (app config, else the environment
variable; default ``Asia/Shanghai``). The instant itself can be fixed for
tests and demonstrations, without touching :mod:`datetime`: the app config
key ``QQH_NOW`` (an ISO instant with its offset, e.g.
``2012-03-31T23:30:00+08:00``; it reaches a live server's threads too) or
the :func:`frozen` context manager.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
_frozen: datetime.datetime | None = None


def _app_config():
    try:
        from flask import current_app

        return current_app.config
    except RuntimeError:  # no app context
        return None


def _config(key: str):
    config = _app_config()
    return config.get(key) if config is not None else None


def zone() -> ZoneInfo:
    return _zone(_app_config())


def _zone(config) -> ZoneInfo:
    name = (config.get("QQH_TIME_ZONE") if config is not None else None) or os.environ.get("QQH_TIME_ZONE") or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(f"QQH_TIME_ZONE={name!r} is not a known time zone (e.g. Asia/Shanghai).") from None


def _instant(value) -> datetime.datetime:
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        raise ValueError("a fixed clock needs an instant with its offset, e.g. 2012-03-31T23:30:00+08:00")
    return value


def aware_now() -> datetime.datetime:
    """The current instant, in the configured zone."""
    config = _app_config()  # once: asked per row of an import
    fixed = _frozen if _frozen is not None else (config.get("QQH_NOW") if config is not None else None)
    instant = _instant(fixed) if fixed else datetime.datetime.now(datetime.timezone.utc)
    return instant.astimezone(_zone(config))


def now() -> datetime.datetime:
    """The local wall-clock time (naive, to the second) in the configured zone."""
    return aware_now().replace(tzinfo=None, microsecond=0)


def today() -> datetime.date:
    """Today's date in the configured zone."""
    return aware_now().date()


@contextlib.contextmanager
def frozen(instant):
    """Within the block, the clock shows ``instant`` (aware datetime or ISO text)."""
    global _frozen
    before, _frozen = _frozen, _instant(instant)
    try:
        yield
    finally:
        _frozen = before
