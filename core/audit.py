"""Audit log (placeholder: the audit branch provides the real module)."""

from __future__ import annotations


def log_event(action: str, *, username: str | None = None, user_id: int | None = None, unit_id: int | None = None, detail: dict | None = None) -> None:
    """Record an account event (no-op until the audit module is merged)."""
