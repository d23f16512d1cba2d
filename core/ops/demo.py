"""`qqh demo`: every enabled plugin's deterministic demo data."""

from __future__ import annotations


DEMO_PASSWORD = "Qqh-demo-2012"
DEMO_USERS = [
    # username, unit code, role, display name
    ("foshan", "440600", "unit_admin", "佛山团市委"),
    ("shunde", "440606", "clerk", "顺德区团委"),
    ("shenzhen", "440300", "clerk", "深圳团市委"),
    ("inspector", "440000", "inspector", "省联合督查组"),
]


def load_demo_users(app) -> int:
    from core.tenancy.units import unit_by_code

    sm = app.appbuilder.sm
    session = app.appbuilder.session
    n = 0
    for username, code, role, name in DEMO_USERS:
        unit = unit_by_code(session, code)
        if sm.find_user(username=username) or unit is None:
            continue
        user = sm.add_user(username, name, "", f"{username}@demo.qinqinghui.local", sm.find_role(role), password=DEMO_PASSWORD)
        user.unit = unit
        n += 1
    session.commit()
    return n


def load_demo(app) -> dict[str, int]:
    registry = app.extensions["qqh_plugins"]
    session = app.appbuilder.session
    counts = {"users": load_demo_users(app)}
    for name, n in registry.call("qqh_demo_data", session=session):
        counts[name] = n or 0
    session.commit()
    return counts
