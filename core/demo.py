"""`qqh demo`: every enabled plugin's deterministic demo data."""

from __future__ import annotations


def load_demo(app) -> dict[str, int]:
    registry = app.extensions["qqh_plugins"]
    session = app.appbuilder.session
    counts = {}
    for name, n in registry.call("qqh_demo_data", session=session):
        counts[name] = n or 0
    session.commit()
    return counts
