"""The authorization matrix, generated from the running app's own registry.

Every route in ``app.url_map`` that belongs to a registered view or API
(Flask-AppBuilder's security pages included, and whatever a plugin adds) is
tried by each role — province admin ``admin``, unit admin ``fs_admin`` (佛山),
clerks ``fs_clerk`` (佛山) and ``sd_clerk`` (顺德), inspector ``fs_inspector``
(佛山) and an anonymous visitor — with a record of the own subtree and one of
another city (深圳) where the route takes a record, with cookie sessions and,
for the REST API, with bearer tokens. Each answer is classified and compared
with POLICY below; routes without a permission must be in PUBLIC.

Records come from every plugin's demo data (``qqh demo``) in a database of
this module's own, so nothing here disturbs the other tests. Nothing is
destroyed that a test needs: reads are GETs, REST writes send ``{}`` (refused,
or harmless: 422 or an edit that changes nothing), deletes that should
succeed are tried on a record that does not exist (authorized → 404, refused
→ 401/403), real records are only offered to deletes that must be refused.
"""

from __future__ import annotations

import sys
import time

import pytest
from sqlalchemy import inspect as sa_inspect, select

from tests.conftest import ENGINES, PASSWORD, Client, LiveServer, initialise, make_app, new_database

# -- the policy ------------------------------------------------------------------------
# Permission families a role may use. "read"/"write": data pages and APIs;
# "unit_write": changing the unit tree; "unit_admin": the unit admin's own
# pages (users of the subtree, modules); "admin": FAB's security pages and
# APIs, "Admin*" pages, province-level management ("manage"); "self": the
# user's own account, the menu and the API description.
POLICY = {
    "admin": {"read", "write", "unit_write", "unit_admin", "admin", "self"},
    "fs_admin": {"read", "write", "unit_write", "unit_admin", "self"},
    "fs_clerk": {"read", "write", "self"},
    "sd_clerk": {"read", "write", "self"},
    "fs_inspector": {"read", "self"},
    None: set(),  # anonymous
}
EVERYWHERE = {"admin"}  # roles whose scope is the whole province
READ = {"can_list", "can_show", "can_get", "can_info", "can_download", "can_export", "can_report", "can_profile"}
WRITE = {"can_add", "can_edit", "can_delete", "can_post", "can_put", "can_import", "can_choose"}
SELF_PERMISSIONS = {"can_userinfo", "can_resetmypassword", "can_userinfoedit"}
SELF_VIEWS = {"ResetMyPasswordView", "UserInfoEditView", "Menu", "OpenApi"}
# routes anyone may open (no permission): log in and out, language, static files, the
# landing page (the login prompt for visitors), FAB's "back" link, token login/refresh
PUBLIC = {
    "static", "appbuilder.static", "AuthDBView.login", "AuthDBView.logout", "LocaleView.index",
    "DashboardView.index", "UtilView.back", "SecurityApi.login", "SecurityApi.refresh",
    "QqhAuthDBView.login", "QqhAuthDBView.logout",  # core/tenancy/accounts.py: throttled login, logout by POST
    "qqh_health",  # /health for load balancers (core/health.py)
}
# models whose records every user reads, whichever unit keeps them (writes stay with
# the keeping unit's subtree): the training plugin's shared lecturer pool
SHARED_READ = {"Lecturer"}
OWN, OTHER = "440606", "440300"  # 顺德 (inside every 佛山 user's subtree), 深圳

PAIRS = {"n": 0}


def family(view, perm: str) -> str:
    """The permission family of ``perm`` on ``view`` (see POLICY)."""
    name = view.class_permission_name
    security = any(c.__module__.startswith("flask_appbuilder.security") for c in type(view).__mro__)
    if name.startswith("UnitAdmin"):
        return "unit_admin"
    if name in SELF_VIEWS or (security and perm in SELF_PERMISSIONS):
        return "self"
    if security or name.startswith("Admin") or perm == "can_manage":
        return "admin"
    if perm in READ:
        return "read"
    if perm in WRITE:
        return "unit_write" if name == "Unit" else "write"
    raise AssertionError(f"{name}.{perm}: classify this permission in tests/test_authorization_matrix.py")


# -- the app, its users and records -------------------------------------------------------
@pytest.fixture(scope="module")
def world(engine_name, tmp_path_factory):
    url, drop = new_database(engine_name, tmp_path_factory)
    app = make_app(url, tmp_path_factory.mktemp("matrix"))
    initialise(app)
    from core.ops.demo import load_demo

    with app.app_context():
        load_demo(app)
        app.appbuilder.sm.add_role("matrix_throwaway")  # what role pages are tried on
        records, paths, scopes = find_records(app)
    server = LiveServer(app)
    yield app, server, records, paths, scopes
    server.stop()
    with app.app_context():
        app.extensions["qqh_db"].session.remove()
        app.extensions["qqh_db"].engine.dispose()
    drop()


def find_records(app):
    """For every model a view shows: {OWN: id, OTHER: id} of records in 顺德's
    and 深圳's subtrees (a model without units: any one record), and each
    record's unit path (None: not scoped)."""
    from core.tenancy.units import Unit

    session = app.appbuilder.session
    units = dict(session.execute(select(Unit.code, Unit.path)).all())
    records, paths = {}, {}
    models = {v.datamodel.obj for v in app.appbuilder.baseviews if getattr(v, "datamodel", None) is not None}
    for model in models:
        pk = sa_inspect(model).primary_key[0]
        found = {}
        for where in (OWN, OTHER):
            prefix = units[where]
            if model is Unit:
                row = session.execute(select(Unit.id, Unit.path).where(Unit.code == where)).first()
            elif hasattr(model, "unit_id") and getattr(model, "__qqh_unit_owned__", False):
                stmt = select(pk, Unit.path).join(Unit, Unit.id == model.unit_id).where(Unit.path.startswith(prefix))
                if hasattr(model, "username"):  # never an account the matrix logs in with
                    stmt = stmt.where(model.username.notin_([u for u in POLICY if u]))
                row = session.execute(stmt.order_by(pk).limit(1)).first()
            else:
                row = through_unit_owned(session, model, prefix)
            if row is not None:
                found[where] = row[0]
                paths[(model, row[0])] = row[1]
        records[model] = found
    scopes = {}
    sm = app.appbuilder.sm
    for name in POLICY:
        if name is not None:
            user = sm.find_user(username=name)
            scopes[name] = None if name in EVERYWHERE else user.unit.path
    return records, paths, scopes


def through_unit_owned(session, model, prefix):
    """A record of a model without a unit: seen through the unit-owned records
    that point to it (trainees through enrolments), else any record, unscoped."""
    from core.tenancy.units import Unit

    pk = sa_inspect(model).primary_key[0]
    present = set(sa_inspect(session.connection()).get_table_names())  # not a model of a plugin left off
    for mapper in model.registry.mappers:
        other = mapper.class_
        if not (getattr(other, "__qqh_unit_owned__", False) and hasattr(other, "unit_id")):
            continue
        if mapper.local_table.name not in present:
            continue
        for rel in mapper.relationships:
            if rel.mapper.class_ is model and rel.direction.name == "MANYTOONE":
                fk = list(rel.local_columns)[0]
                outside = select(fk).join(Unit, Unit.id == other.unit_id).where(~Unit.path.startswith(prefix))
                row = session.execute(
                    select(fk, Unit.path).join(Unit, Unit.id == other.unit_id)
                    .where(Unit.path.startswith(prefix), fk.notin_(outside)).order_by(fk).limit(1)
                ).first()
                return row
    row = session.execute(select(pk).order_by(pk.desc()).limit(1)).first()  # the newest: a throwaway role
    return (row[0], None) if row else None


# -- the cells -----------------------------------------------------------------------------
GHOST = 987654321  # an id no record has


def cells(app, records, paths):
    """(description, method, url, kind, family, record path or None, expected kind of
    answer per role, rest?) for every route of every registered view."""
    from core.excel.service import importables

    views = {v.endpoint: v for v in app.appbuilder.baseviews}
    lists = list(importables(app))
    plugins = app.extensions["qqh_plugins"].switchable()  # a built-in one cannot be made mandatory: 404
    out, public = [], []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        view_name, _, meth = endpoint.partition(".")
        view = views.get(view_name)
        func = getattr(view, meth, None) if view is not None else None
        perm = getattr(func, "_permission_name", None)
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        if meth == "action":  # FAB checks each action's own permission inside the route
            for name, act in (view.actions or {}).items():
                if act.single:
                    perm_a = view.get_action_permission_name(name)
                    perm_a = perm_a if perm_a.startswith("can_") else "can_" + perm_a
                    for where, pk in records.get(model, {}).items():
                        c = cell(rule, "POST", {"name": name, "pk": pk}, family(view, perm_a), paths.get((model, pk)), True, False, "action")
                        out.append(dict(c, perm=perm_a, model=model))
            continue
        if meth == "action_post":
            for name, act in (view.actions or {}).items():
                if act.multiple:
                    perm_a = view.get_action_permission_name(name)
                    perm_a = perm_a if perm_a.startswith("can_") else "can_" + perm_a
                    c = cell(rule, "POST", {}, family(view, perm_a), None, True, False, "action_post")
                    c["form"] = {"action": name, "rowid": [str(pk) for pk in records.get(model, {}).values()]}
                    out.append(c)
            continue
        if perm is None:
            public.append(endpoint)
            continue
        perm = "can_" + ((view.method_permission_name or {}).get(meth) or perm)
        rest = rule.rule.startswith("/api/")
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        http = "GET" if "GET" in methods else methods[0]
        args = set(rule.arguments)
        if "filename" in args or "token" in args:
            continue  # a stored upload: nothing to name generically
        fam = family(view, perm)
        in_base = perm in (view.base_permissions or [])
        targets = []  # (url arguments, record path or None, record real?)
        if "pk" in args and "name" not in args:
            for where, pk in records.get(model, {}).items():
                targets.append(({"pk": pk}, paths.get((model, pk)), True))
            if http in ("DELETE",) or meth == "delete":
                targets.append(({"pk": GHOST}, None, False))
        elif "name" in args:
            names = plugins if view_name.startswith("Admin") else lists
            for name in names:
                targets.append(({"name": name}, None, True))
        elif args - {"version"}:
            continue
        else:
            targets.append(({}, None, True))
        for values, path, real in targets:
            c = dict(cell(rule, http, values, fam, path, real, rest, meth), perm=perm, model=model, pk=values.get("pk"))
            if not in_base:
                c["family"] = "nobody"
            out.append(c)
    return out, public


def cell(rule, http, values, fam, path, real, rest, meth):
    url = rule.rule
    for k, v in {"version": "v1", **values}.items():
        url = url.replace(f"<{k}>", str(v)).replace(f"<int:{k}>", str(v)).replace(f"<string:{k}>", str(v))
    params = {}
    if meth in ("list",) and not rest:
        params = {"psize_" + rule.endpoint.split(".")[0]: 1}
    elif meth == "get_list":
        params = {"q": "(page_size:1)"}
    elif meth == "export":
        params = {"unit": OWN}
    return {"desc": f"{http} {url}", "method": http, "url": url, "params": params, "family": fam, "path": path,
            "real": real, "rest": rest, "meth": meth, "endpoint": rule.endpoint}


def expected(c, role, scopes) -> str:
    """What ``role`` must get: "allowed", "missing" (authorized, no such record for
    them: 404) or "refused"."""
    may = c["family"] in POLICY[role]
    if not may:
        return "refused"
    if not c["real"]:
        return "missing"
    scope = scopes.get(role)
    if c.get("perm") in SELF_PERMISSIONS:  # the user's own account, whatever record the route names
        return "allowed"
    model = c.get("model")
    if model is not None and model.__name__ in SHARED_READ and c["family"] == "read":
        return "allowed"
    if c["family"] != "self" and c["path"] is not None and scope is not None and not c["path"].startswith(scope):
        return "missing"
    return "allowed"


def outcome(r, c, client=None) -> str:
    code = r.status_code
    if code == 404:
        return "missing"
    if code in (401, 403, 405):
        return "refused"
    if 300 <= code < 400:
        location = r.headers.get("Location", "")
        if "/login" in location:
            return "refused"
        if c["meth"] in ("action", "action_post"):  # FAB's action routes refuse by redirecting back
            return "refused" if location in (".", "") or "/action/" in location else "allowed"
        if c["meth"] in ("add", "edit") and not c["rest"]:
            return "refused"  # the form answers 200; a redirect turns the user away
        if client is not None and c["method"] == "GET" and c["meth"] != "delete":
            path = location.split("://", 1)[-1]
            path = path[path.index("/"):] if "://" in location else location
            if path.startswith("/"):
                return outcome(client.get(path), dict(c, meth="followed"), None)
        return "allowed"
    if code < 300 or code in (400, 422):
        return "allowed"  # 400/422: authorized, the (empty) input refused
    return f"error {code}"


def agrees(want: str, got: str) -> bool:
    if want == "allowed":
        return got == "allowed"
    if want == "missing":
        return got in ("missing", "refused")  # out of scope: 404 or 403 both refuse
    return got in ("refused", "missing")


def gone(app, c) -> bool:
    with app.app_context():
        s = app.appbuilder.session
        found = s.get(c["model"], c["pk"]) is not None
        s.rollback()
        return not found


def send(client, c, other_unit_record):
    method = c["method"]
    kw = {"params": c["params"]}
    if method in ("POST", "PUT"):
        kw["json"] = {}
        if not c["rest"]:
            kw = {"params": c["params"], "data": c.get("form", {})}
    return client.request(method, c["url"], **kw)


def login(live, username, how):
    c = Client(live.url)
    if username is None:
        return c
    if how == "token":
        r = c.post("/api/v1/security/login", json={"username": username, "password": PASSWORD, "provider": "db"})
        assert r.status_code == 200, r.text
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return c
    return c.login(username)


def harmless(c, want: str) -> bool:
    """Whether sending the cell is harmless: reads always; writes that send an
    empty body ({}: refused or no change); deletes and custom POSTs only when
    they must be refused or hit no record."""
    if c["method"] == "GET" and c["meth"] not in ("delete",):
        return True
    if c["meth"] == "delete" or c["method"] == "DELETE":
        return want != "allowed"
    if c["meth"] in ("post", "put", "add", "edit"):
        return True
    return want != "allowed"


def test_authorization_matrix(world):
    app, live, records, paths, scopes = world
    with app.app_context():
        all_cells, public = cells(app, records, paths)
    open_routes = sorted(set(public) - PUBLIC)
    assert open_routes == [], f"routes without a permission, open to anyone: {open_routes}"
    started = time.monotonic()
    wrong, n = [], 0
    # with both engines, the REST cells are tried with bearer tokens on PostgreSQL and with cookie
    # sessions on SQLite (as tests/conftest.py's as_api_user): every cell on both engines, each REST cell
    # both ways; with SQLite alone, both ways there
    engine = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0].split("+")[0]
    rest_auth = ({"sqlite": "cookie", "postgresql": "token"}.get(engine) if len(ENGINES) > 1 else None)
    # reads and harmless writes first, by every role; then the deletes that must be
    # refused (a wrong answer there deletes the record)
    is_delete = lambda c: c["meth"] == "delete" or c["method"] == "DELETE"  # noqa: E731
    phases = [[c for c in all_cells if not is_delete(c)], [c for c in all_cells if is_delete(c)]]
    for phase, how, role in [(p, h, r) for p in phases for h in ("cookie", "token") for r in POLICY]:
        if how == "token" and role is None:
            continue
        if True:
            client = login(live, role, how)
            try:
                for c in phase:
                    if how == "token" and not c["rest"]:
                        continue  # pages are for browsers
                    if c["rest"] and rest_auth and how != rest_auth:
                        continue  # each REST cell: token on one engine, cookie on the other
                    want = expected(c, role, scopes)
                    if not harmless(c, want):
                        continue
                    deleting = c.get("pk") is not None and c["real"] and (c["meth"] == "delete" or c["method"] == "DELETE")
                    existed = deleting and not gone(app, c)
                    r = send(client, c, None)
                    got = outcome(r, c, client)
                    if existed:  # what a delete did is what the database says
                        got = "allowed" if gone(app, c) else ("refused" if got == "allowed" else got)
                    n += 1
                    if not agrees(want, got):
                        wrong.append(f"{how:6} {role or 'anonymous':12} {c['desc']:70} [{c['family']}] want {want}, got {got} ({r.status_code})")
            finally:
                client.close()
    tier = tier_cells(app, live, scopes)
    n += tier["n"]
    wrong += tier["wrong"]
    PAIRS["n"] += n
    line = f"authorization matrix [{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}]: {n} pairs checked in {time.monotonic() - started:.0f} s, {len(wrong)} wrong"
    sys.__stdout__.write("\n" + line + "\n")
    sys.__stdout__.flush()
    assert not wrong, line + "\n" + "\n".join(sorted(wrong))


def tier_cells(app, live, scopes):
    """Only province admins change a unit's tier, region or level (its KPI targets
    follow them): the unit admin is refused on its own unit, by page and API."""
    from core.tenancy.units import Unit

    with app.app_context():
        s = app.appbuilder.session
        unit = s.execute(select(Unit).where(Unit.code == "440600")).scalar_one()
        uid, before = unit.id, (unit.tier, unit.prd, unit.level)
    changes = [{"tier": "town"}, {"prd": not before[1]}, {"level": "town"}]
    wrong, n = [], 0
    for how in ("cookie", "token"):
        for role in ("fs_admin", "fs_clerk"):
            client = login(live, role, how)
            try:
                for change in changes:
                    r = client.put(f"/api/v1/unit/{uid}", json=change)
                    n += 1
                    with app.app_context():
                        now = app.appbuilder.session.get(Unit, uid)
                        app.appbuilder.session.refresh(now)
                        after = (now.tier, now.prd, now.level)
                    if r.status_code < 300 or after != before:
                        wrong.append(f"{how:6} {role:12} PUT /api/v1/unit/{uid} {change} (佛山, own unit): want refused, got {r.status_code}")
                    if after != before:
                        with app.app_context():
                            u = app.appbuilder.session.get(Unit, uid)
                            u.tier, u.prd, u.level = before
                            app.appbuilder.session.commit()
            finally:
                client.close()
    admin = login(live, "admin", "token")
    r = admin.put(f"/api/v1/unit/{uid}", json={"tier": before[0]})
    n += 1
    if r.status_code != 200:
        wrong.append(f"token  admin        PUT /api/v1/unit/{uid} tier: want allowed, got {r.status_code}")
    admin.close()
    return {"n": n, "wrong": wrong}
