"""No request ever yields a 500: every registered route, given garbage, ids
that do not exist and malformed bodies, answers with a 4xx (or a page). The
routes of the plugins that run the plugin contract get its garbage crawl
there (core.testing.contract); the other tests here cover every route."""

import pathlib
import re

import pytest

from core.testing.contract import classes_of, routes_of
from tests.conftest import Client, LiveServer, initialise, make_app, new_database

GARBAGE_Q = ["(", "(page_size:-1)", "(filters:!((col:nope,opr:eq,value:1)))", "(order_column:nope)", "!!", "(page:99999999)"]
BODIES = [None, "not json", {"unit": "x"}, {"unit": 999999}, {"title": None}, {"noted_on": "2012-02-30"}, [], {"id": {"x": 1}}]


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("appbuilder.") or "logout" in rule.rule:
            continue
        yield rule


def contract_routes(app) -> set[str]:
    """The routes of the plugins that run the plugin contract (plugins/NAME/tests/test_contract.py): its
    crawl (core.testing.contract, test_contract_routes_answer_no_500) posts garbage to each of them, so
    test_no_route_answers_500 crawls core's and its fixture plugin's routes, whose code they share."""
    registry = app.extensions["qqh_plugins"]
    names = [n for n in registry.order if not registry.installed[n].builtin
             and (pathlib.Path(registry.installed[n].module.__file__).parent / "tests" / "test_contract.py").exists()]
    return {rule.rule for n in names for rule in routes_of(app, classes_of(registry, n))}


def fill(rule, value):
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", str(value), rule.rule)


@pytest.fixture(scope="module")
def own_app(engine_name, tmp_path_factory):
    """A database of its own: this test posts garbage everywhere, and some of
    it is valid (module choices, for instance)."""
    url, drop = new_database(engine_name, tmp_path_factory)
    application = make_app(url, tmp_path_factory.mktemp("instance"))
    initialise(application)
    server = LiveServer(application)
    yield application, server
    server.stop()
    with application.app_context():
        application.extensions["qqh_db"].session.remove()
        application.extensions["qqh_db"].engine.dispose()
    drop()


@pytest.mark.parametrize("user", ["admin", "fs_clerk", "fs_inspector"])
def test_no_route_answers_500(own_app, user, engine_name):
    if engine_name == "postgresql" and user == "fs_inspector":
        # a read-only role is refused before the database on every write: its reads are the clerk's
        pytest.skip("the inspector's crawl is the clerk's reads: on PostgreSQL, admin and clerk are enough")
    app, server = own_app
    client = Client(server.url).login(user)
    failures = []
    theirs = contract_routes(app)
    assert theirs and "/api/v1/memonote/" not in theirs  # the task plugins' routes, not the fixture plugin's
    for rule in routes(app):
        if rule.rule in theirs:
            continue
        for value in ("999999", "abc", "0") if rule.arguments else ("",):  # a route without arguments once
            url = fill(rule, value)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if method == "GET":
                    calls = [dict()] + ([dict(params={"q": q}) for q in GARBAGE_Q] if url.startswith("/api/") else [])
                elif url.startswith("/api/"):
                    calls = [dict(json=b) if not isinstance(b, str) else dict(data=b, headers={"Content-Type": "application/json"}) for b in BODIES]
                else:
                    calls = [dict(data={"x": "1"}), dict(data={"unit": "999999", "title": "x"})]
                for kw in calls:
                    r = client.request(method, url, **kw)
                    if r.status_code >= 500:
                        failures.append((method, url, kw, r.status_code, r.text[:200]))
    assert not failures, sorted({(m, re.sub(r"\d+|abc", "N", u), s) for m, u, k, s, t in failures})


BIG = "99999999999999999999"  # no 64-bit integer holds it
CJK = re.compile(r"[\u4e00-\u9fff]")


def message(r) -> str:
    if r.headers.get("Content-Type", "").startswith("application/json"):
        return str(r.json().get("message", ""))
    return r.text


def modules_back_on(app) -> None:
    """test_no_route_answers_500 posts every form, the module choice included:
    an empty POST /modules/ switches every module off for the admin's unit (as
    it should). Later tests of this module want them on again."""
    from core.tenancy.modules import UnitModule

    with app.app_context():
        session = app.appbuilder.session
        session.query(UnitModule).delete()
        session.commit()


def test_out_of_range_ids_answer_404(own_app):
    """Every route taking an id, given one beyond the integer range (both
    engines fail on it in the database): 404 to GET/PUT/DELETE, never a 500."""
    app, server = own_app
    modules_back_on(app)
    client = Client(server.url).login("admin")
    failures, checked = [], 0
    for rule in routes(app):
        if not rule.arguments & {"pk", "id"}:
            continue
        url = fill(rule, BIG)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            kw = {"json": {"title": "x", "unit": int(BIG)}} if url.startswith("/api/") and method in ("PUT", "POST") else {}
            r = client.request(method, url, **kw)
            checked += 1
            expected = r.status_code == 404 if method in ("GET", "PUT", "DELETE") else r.status_code < 500
            if not expected:
                failures.append((method, rule.rule, r.status_code, r.text[:120]))
    assert checked > 50
    assert not failures, failures
    # a body naming a unit beyond the range is refused as a value, not a 500
    r = client.post("/api/v1/memonote/", json={"title": "x", "noted_on": "2012-03-05", "unit": int(BIG)})
    assert r.status_code == 422, r.text[:300]


def test_malformed_q_answers_400_in_chinese(own_app):
    """Every REST endpoint reading ``q`` as Rison (found from its decorators,
    not from a list): parser errors are 400 with a Chinese message."""
    from core.web.inputs import uses_rison

    app, server = own_app
    modules_back_on(app)
    client = Client(server.url).login("admin")
    endpoints = {ep for ep, fn in app.view_functions.items() if uses_rison(fn)}
    failures, checked = [], 0
    for rule in routes(app):
        if rule.endpoint not in endpoints or "GET" not in rule.methods:
            continue
        for q in ("(((", "-4.92e+16", "(page:" + BIG + ")", "!(1,2)"):
            r = client.get(fill(rule, "1"), params={"q": q})
            checked += 1
            if r.status_code != 400 or not CJK.search(message(r)):
                failures.append((rule.rule, q, r.status_code, r.text[:120]))
    assert checked > 40
    assert not failures, failures
    # pickers read q as search text, not Rison
    assert client.get("/api/v1/unit/picker", params={"q": "((("}).status_code == 200


def test_page_paging_arguments_are_sane_and_capped(own_app):
    """Every list page: page and page size that are not numbers fall back to
    the defaults, sizes are capped at 100 rows (1,901 units exist), filters
    with numbers beyond the range are 400."""
    app, server = own_app
    modules_back_on(app)
    client = Client(server.url).login("admin")
    failures = []
    lists = [r for r in routes(app) if r.endpoint.endswith(".list") and not r.arguments]
    assert len(lists) > 10
    for rule in lists:
        view = rule.endpoint.split(".")[0]
        for args in ({f"psize_{view}": "abc"}, {f"page_{view}": "abc"}, {f"psize_{view}": "-5"}, {f"psize_{view}": "100000"}):
            r = client.get(rule.rule, params=args)
            if r.status_code != 200:
                failures.append((rule.rule, args, r.status_code))
            elif r.text.count('class="action_check"') > 100 or r.text.count("<tr") > 102:
                failures.append((rule.rule, args, "more than 100 rows"))
    assert not failures, failures
    units = [r for r in lists if r.endpoint.split(".")[0] == "UnitView"]
    if units:
        r = client.get(units[0].rule, params={"psize_UnitView": "100000"})
        assert r.status_code == 200 and 100 <= r.text.count("<tr") <= 102
        assert len(r.content) < 1_000_000
    r = client.get("/memonoteview/list/", params={"_flt_0_unit": BIG})
    assert r.status_code == 400 and CJK.search(r.text)


def test_query_arguments_beyond_any_id_answer_no_500(own_app):
    """Ids read from the query string or a form (add pages opened from a parent record, the
    record a page names, a custom field's search, messages to mark read) beyond every
    database integer: SQLite's driver raises on them, so each must be refused before it."""
    app, server = own_app
    modules_back_on(app)
    client = Client(server.url).login("admin")
    names = {"pk", "id", "unit", "org", "camp", "home", "item", "year", "next"}
    failures, checked = [], 0
    for rule in routes(app):
        if rule.arguments or "GET" not in rule.methods:
            continue
        r = client.get(rule.rule, params={n: BIG for n in names})
        checked += 1
        if r.status_code >= 500:
            failures.append((rule.rule, r.status_code, r.text[:120]))
    assert checked > 50
    assert not failures, failures
    assert client.post("/messages/read", data={"id": BIG}).status_code < 500
    r = client.post("/api/v1/messages/read", json={"ids": [int(BIG), BIG]})
    assert r.status_code == 200 and r.json()["marked"] == 0, r.text[:300]
