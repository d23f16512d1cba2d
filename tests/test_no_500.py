"""No request ever yields a 500: every registered route, given garbage, ids
that do not exist and malformed bodies, answers with a 4xx (or a page)."""

import re

import pytest

from tests.conftest import Client, LiveServer, initialise, make_app, new_database

GARBAGE_Q = ["(", "(page_size:-1)", "(filters:!((col:nope,opr:eq,value:1)))", "(order_column:nope)", "!!", "(page:99999999)"]
BODIES = [None, "not json", {"unit": "x"}, {"unit": 999999}, {"title": None}, {"noted_on": "2012-02-30"}, [], {"id": {"x": 1}}]


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("appbuilder.") or "logout" in rule.rule:
            continue
        yield rule


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
def test_no_route_answers_500(own_app, user):
    app, server = own_app
    client = Client(server.url).login(user)
    failures = []
    for rule in routes(app):
        for value in ("999999", "abc", "0"):
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
