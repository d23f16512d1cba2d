"""The REST API keeps the contract of its own OpenAPI document.

* the document validates against the OpenAPI 3 specification, and every
  route the app serves under /api/ is in it, with its parameters and a
  response schema;
* enumerated columns carry their codes and Chinese labels, limits are in the
  schema, in the document and in ``_info``;
* labels, titles and messages follow the request's language;
* schemathesis (all checks, plus tests/contract/hooks.py's: every error is
  JSON with a Chinese message) against a live server on a throwaway SQLite
  database (the province's units and the test users), with a bearer token of
  each role, examples and fuzzing, a few cases per operation (QQH_FUZZ_EXAMPLES
  and QQH_FUZZ_PHASES raise it). SQLite
  only: the run checks the contract, not the storage (the plugins' REST
  tests run on both engines), and a second engine would double its time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests

from tests.conftest import PASSWORD, LiveServer, initialise, make_app, new_database

ROLES = ("admin", "fs_admin", "fs_clerk", "fs_inspector")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory):
    """A live server of its own, on a database that the fuzzing may wreck."""
    url, drop = new_database("sqlite", tmp_path_factory)
    app = make_app(url, tmp_path_factory.mktemp("contract"))
    initialise(app)
    server = LiveServer(app)
    yield server
    server.stop()
    with app.app_context():
        app.extensions["qqh_db"].session.remove()
        app.extensions["qqh_db"].engine.dispose()
    drop()


def token(base: str, username: str, refresh: bool = False) -> dict:
    r = requests.post(f"{base}/api/v1/security/login", json={
        "username": username, "password": PASSWORD, "provider": "db", "refresh": refresh}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def document(contract_server):
    headers = {"Authorization": "Bearer " + token(contract_server.url, "admin")["access_token"]}
    r = requests.get(contract_server.url + "/api/v1/_openapi", headers=headers, timeout=60)
    assert r.status_code == 200, r.text[:300]
    return r.json()


def test_document_is_valid_openapi_3(document):
    from openapi_spec_validator import validate

    validate(document)


def test_every_api_route_is_documented_with_parameters_and_response_schemas(contract_server, document):
    app = contract_server.server.app
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    documented = {(p, m) for p, ops in document["paths"].items() for m in ops}
    assert served - documented == set()
    for path, ops in document["paths"].items():
        names = set(re.findall(r"{([a-z_]+)}", path))
        for method, op in ops.items():
            given = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names <= given, (path, method, names - given)
            for code, resp in op["responses"].items():
                if "$ref" in resp:
                    continue
                assert resp.get("content"), (path, method, code)
            for code in ("400", "401", "403", "404", "405"):
                if path.endswith(("/security/login", "/security/refresh")) and code == "403":
                    continue
                assert code in op["responses"], (path, method, code)


def test_enumerations_and_limits_are_declared(contract_server, document):
    schemas = document["components"]["schemas"]
    post = schemas["YouthOrgApi.post"]["properties"]
    assert post["category"]["enum"] == ["league_affairs", "interest"]
    assert post["category"]["x-labels"]["league_affairs"] == "承接共青团事务类"
    assert set(post["service_field"]["enum"]) >= {"migrant_workers", "other"}
    assert post["reg_status"]["x-labels"]["registered"] == "已注册"
    assert post["legal_form"]["enum"][-1] is None  # may be empty
    assert (post["members"]["minimum"], post["members"]["maximum"]) == (0, 1_000_000)
    assert (post["youth_share"]["minimum"], post["youth_share"]["maximum"]) == (0, 100)
    assert post["credit_code"]["pattern"] == "^[0-9A-HJ-NPQRTUWXY]{18}$"
    assert post["name"]["maxLength"] == 200
    assert "pattern" in schemas["EnrolmentApi.post"]["properties"]["resident_id"]
    assert schemas["CampApi.post"]["properties"]["status"]["enum"] == ["planned", "open", "finished", "cancelled"]
    assert schemas["QinqingHomeApi.post"]["properties"]["kind"]["x-labels"]["youth_centre"]
    # and in _info, for a client that builds its form from it
    headers = {"Authorization": "Bearer " + token(contract_server.url, "fs_clerk")["access_token"]}
    info = requests.get(contract_server.url + "/api/v1/youthorg/_info", headers=headers, timeout=30).json()
    fields = {f["name"]: f for f in info["add_columns"]}
    assert fields["category"]["enum"] == ["league_affairs", "interest"]
    assert fields["category"]["x-labels"] == {"league_affairs": "承接共青团事务类", "interest": "兴趣爱好自主类"}
    assert (fields["members"]["minimum"], fields["members"]["maximum"]) == (0, 1_000_000)
    assert all(isinstance(v, str) and "<" not in v for f in fields.values() for v in f["validate"])


def test_labels_titles_and_messages_follow_the_request_language(contract_server):
    base = contract_server.url
    headers = {"Authorization": "Bearer " + token(base, "fs_clerk")["access_token"]}
    zh = requests.get(base + "/api/v1/unit/", headers=headers, timeout=30).json()
    assert zh["label_columns"]["parent.code"] == "上级单位代码"
    assert zh["label_columns"]["id"] == "ID"
    assert not re.search(r"[A-Za-z]{3,}", "".join(zh["label_columns"].values()) + zh["list_title"]), zh
    orgs = requests.get(base + "/api/v1/youthorg/", headers=headers, timeout=30).json()
    assert orgs["list_title"] == "青年社会组织" and orgs["label_columns"]["unit.name"] == "所属团组织名称"
    assert requests.get(base + "/api/v1/unit/99999", headers=headers, timeout=30).json() == {"message": "未找到"}
    en = {**headers, "Accept-Language": "en"}
    assert requests.get(base + "/api/v1/unit/99999", headers=en, timeout=30).json() == {"message": "Not found"}
    assert requests.get(base + "/api/v1/youthorg/", headers=en, timeout=30).json()["list_title"] == "Youth organizations"


@pytest.mark.parametrize("bad", ["xx", "Bearer", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"])
def test_a_bad_token_is_401_in_chinese(contract_server, bad):
    r = requests.get(contract_server.url + "/api/v1/youthorg/", headers={"Authorization": f"Bearer {bad}"}, timeout=30)
    assert r.status_code == 401, r.text
    assert re.search(r"[\u4e00-\u9fff]", r.json()["message"]), r.json()


def test_405_names_the_allowed_methods(contract_server):
    r = requests.request("TRACE", contract_server.url + "/api/v1/youthorg/", timeout=30)
    assert r.status_code == 405 and "GET" in r.headers["Allow"], r.headers
    assert r.json()["message"] == "此地址不允许使用该请求方法。"


@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_finds_nothing(contract_server, role, tmp_path):
    base = contract_server.url
    bearer = token(base, role)["access_token"]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="tests.contract.hooks", PYTHONPATH=ROOT)
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "--no-color",
        "--config-file", os.path.join(HERE, "contract", "schemathesis.toml"),
        "run", f"{base}/api/v1/_openapi",
        "-H", f"Authorization: Bearer {bearer}",
        "--checks", "all",
        "--max-examples", os.environ.get("QQH_FUZZ_EXAMPLES", "3" if role == "admin" else "1"),
        # the coverage phase (boundary and negative cases, ~6,500 cases) takes ~2 minutes alone on an
        # idle machine: QQH_FUZZ_PHASES=examples,coverage,fuzzing runs it
        "--phases", os.environ.get("QQH_FUZZ_PHASES", "examples,fuzzing"),
        "--seed", "14",
        "--workers", "2",
        "--generation-database", "none",
        "--suppress-health-check", "all",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=540)
    log = os.path.join(os.environ.get("QQH_FUZZ_LOG_DIR", str(tmp_path)), f"schemathesis-{role}.log")
    with open(log, "w") as fh:
        fh.write(run.stdout + run.stderr)
    summary = run.stdout[run.stdout.rfind("SUMMARY"):] if "SUMMARY" in run.stdout else run.stdout[-3000:]
    tested = re.search(r"Tested: (\d+)", summary)
    cases = re.search(r"(\d+) generated", summary)
    print(f"\n[{role}] operations tested: {tested and tested.group(1)}, cases generated: {cases and cases.group(1)}")
    assert run.returncode == 0, f"full output in {log}\n" + summary[-6000:] + run.stderr[-2000:]
