"""The reference plugin's own tests: scoping of its records, its pages (the record page with its children,
the picker, "add from here"), its REST API with a bearer token, its import, its KPI figure and default
target and its command (its demo data: tests/test_platform.py). Users (core.testing.USERS): fs_clerk (佛山 440600), sd_clerk
(顺德 440606, under the province at city tier), sz_clerk (深圳 440300), admin (the province)."""

import json
import re
import uuid

import pytest
import requests


def tag() -> str:
    return "样例" + uuid.uuid4().hex[:6]


def text(r) -> str:
    """A JSON answer as the user reads it (not \\u-escaped)."""
    return json.dumps(r.json(), ensure_ascii=False)


def unit_id(clients, code) -> int:
    r = clients("admin", token=True).get("/api/v1/unit/", params={"q": f"(filters:!((col:code,opr:eq,value:'{code}')))"})
    return r.json()["ids"][0]


def test_records_are_scoped_and_the_api_takes_a_bearer_token(clients):
    fs, sz = clients("fs_clerk", token=True), clients("sz_clerk", token=True)
    t = tag()
    r = fs.post("/api/v1/sampleevent/", json={"title": t, "held_on": "2012-05-04", "unit": unit_id(clients, "440600")})
    assert r.status_code == 201, r.text
    event = r.json()["id"]
    try:
        # another unit's event: refused in Chinese, nothing written
        r = fs.post("/api/v1/sampleevent/", json={"title": t + "x", "held_on": "2012-05-04",
                                                  "unit": unit_id(clients, "440300")})
        assert r.status_code == 422 and "本单位" in text(r), r.text
        # the same title twice in a unit: the declared uniqueness
        r = fs.post("/api/v1/sampleevent/", json={"title": t, "held_on": "2012-05-05", "unit": unit_id(clients, "440600")})
        assert r.status_code == 422 and "同名活动" in text(r), r.text
        # a child: its unit is its event's
        r = fs.post("/api/v1/samplesignup/", json={"event": event, "name": "张三", "signed_on": "2012-05-01"})
        assert r.status_code == 201, r.text
        signup = fs.get(f"/api/v1/samplesignup/{r.json()['id']}").json()["result"]
        assert signup["unit"]["code"] == "440600" and signup["event"]["title"] == t
        r = fs.post("/api/v1/samplesignup/", json={"event": event, "name": "张三", "signed_on": "2012-05-01"})
        assert r.status_code == 422 and "已报名" in text(r), r.text
        # another unit's clerk sees neither, may not sign up for it, and the picker does not offer it
        assert sz.get(f"/api/v1/sampleevent/{event}").status_code == 404
        assert t not in sz.get("/api/v1/samplesignup/").text and t not in sz.get("/api/v1/sampleevent/").text
        r = sz.post("/api/v1/samplesignup/", json={"event": event, "name": "李四", "signed_on": "2012-05-01"})
        assert r.status_code in (404, 422) and "李四" not in sz.get("/api/v1/samplesignup/").text
        assert t not in sz.get("/api/v1/sampleevent/picker", params={"q": t}).text
        assert [x["id"] for x in fs.get("/api/v1/sampleevent/picker", params={"q": t}).json()["results"]] == [event]
        # no token, no data
        assert requests.get(fs.base + "/api/v1/sampleevent/", timeout=30).status_code == 401
    finally:
        for s in fs.get("/api/v1/samplesignup/", params={"q": "(page_size:100)"}).json()["result"]:
            if s["event"]["title"] == t:
                fs.delete(f"/api/v1/samplesignup/{s['id']}")
        fs.delete(f"/api/v1/sampleevent/{event}")


def test_record_page_lists_the_children_and_adds_from_there(clients, sample_engine):
    if sample_engine != "sqlite":
        pytest.skip("the pages are the same on both engines")
    fs = clients("fs_clerk")
    t = tag()
    api = clients("fs_clerk", token=True)
    event = api.post("/api/v1/sampleevent/", json={"title": t, "held_on": "2012-05-04", "place": "禅城",
                                                   "unit": unit_id(clients, "440600")}).json()["id"]
    try:
        menu = fs.get("/sampleevent/list/").text
        assert "样例活动" in menu and t in menu
        # "add a signup" from the event's page: the form has the event chosen, saving returns to the event
        page = fs.get(f"/sampleevent/show/{event}").text
        assert "新增样例报名" in page and f"/samplesignup/add?event={event}" in page.replace("&amp;", "&")
        form = fs.get(f"/samplesignup/add?event={event}").text
        assert re.search(rf'<option value="{event}" selected>{t}</option>', form), form[-3000:]
        assert "qqh-picker" in form and "/api/v1/sampleevent/picker" in form
        r = fs.post(f"/samplesignup/add?event={event}", data={"event": event, "name": "王五", "signed_on": "2012-05-02"})
        assert r.status_code == 302 and r.headers["Location"].endswith(f"/sampleevent/show/{event}"), r.text[:500]
        page = fs.get(f"/sampleevent/show/{event}").text
        assert "王五" in page and "2012年5月4日" in page  # the child listed on the parent's page; dates in Chinese
        # bad input: a Chinese message, nothing written
        r = fs.post("/samplesignup/add", data={"event": event, "name": "赵六", "signed_on": "2099-01-01"})
        assert r.status_code == 200 and "日期不能晚于今天" in r.text, r.text[-2000:]
        assert "赵六" not in fs.get(f"/sampleevent/show/{event}").text
        # another unit's clerk: not found
        assert clients("sz_clerk").get(f"/sampleevent/show/{event}").status_code in (302, 404)
    finally:
        for s in api.get("/api/v1/samplesignup/", params={"q": "(page_size:100)"}).json()["result"]:
            if s["event"]["title"] == t:
                api.delete(f"/api/v1/samplesignup/{s['id']}")
        api.delete(f"/api/v1/sampleevent/{event}")


def test_import_kpi_figure_default_target_and_command(clients, qqh):
    fs, admin = clients("fs_clerk", token=True), clients("admin", token=True)
    t = tag()
    # the import: the list's template headers, a dry run, then the import; another unit's row is refused
    csv = f"标题,日期,地点,单位\n{t}-1,2012-06-01,南海,440605\n{t}-2,2012-06-02,,440600\n".encode()
    r = fs.post("/api/v1/import/sampleevent", params={"dry_run": 1}, files={"file": ("活动.csv", csv)})
    assert r.status_code == 200 and r.json()["result"]["new"] == 2, r.text
    r = fs.post("/api/v1/import/sampleevent", params={"dry_run": 0}, files={"file": ("活动.csv", csv)})
    assert r.status_code == 200 and r.json()["result"]["new"] == 2, r.text
    bad = f"标题,日期,地点,单位\n{t}-3,2012-06-01,,440300\n".encode()
    r = fs.post("/api/v1/import/sampleevent", params={"dry_run": 0}, files={"file": ("活动.csv", bad)})
    assert r.status_code == 422, r.text
    events = {e["title"]: e["id"] for e in fs.get("/api/v1/sampleevent/", params={"q": "(page_size:100)"}).json()["result"]}
    assert {f"{t}-1", f"{t}-2"} <= set(events) and f"{t}-3" not in events

    # the default target, loaded as `qqh targets load` loads the notice's; the figure: the signups per unit
    r = qqh("targets", "load", "--year", "2012")
    assert r.returncode == 0, r.stderr
    r = qqh("db", "check")  # the plugin's migrations and its models agree
    assert r.returncode == 0 and "agree" in r.stdout, (r.stdout, r.stderr)
    for name in ("甲", "乙"):
        assert fs.post("/api/v1/samplesignup/", json={"event": events[f"{t}-2"], "name": name + t,
                                                      "signed_on": "2012-06-01"}).status_code == 201
    report = admin.get("/api/v1/kpi/report", params={"year": 2012, "unit": "440000"}).json()["result"]
    row = next(x for x in report if x["unit"] == "440600" and x["check"] == "sample_signups")
    assert (row["value"], row["target"], row["label"]) == (2, 10, "样例报名数"), row

    # the command, as a user (their scope), and refused outside it
    r = qqh("sample", "events", "--as", "fs_clerk", "--unit", "440600")
    lines = {line.split("\t")[1]: line for line in r.stdout.splitlines() if "\t" in line}
    assert r.returncode == 0 and lines[f"{t}-2"].startswith("2012年6月2日\t") and "报名 2 人" in lines[f"{t}-2"], r
    assert f"{t}-1" in lines, r.stdout  # 南海区 is in 佛山's subtree
    r = qqh("sample", "events", "--as", "fs_clerk", "--unit", "440300")  # 深圳: not among 佛山's units
    assert r.returncode == 1 and r.stderr.startswith("错误 Error:") and "440300" in r.stderr, r.stderr
