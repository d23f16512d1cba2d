"""Low-code (issue 18): the custom values in every list's own REST API and
its OpenAPI document (point 2 of the low-code task), and custom lists
(自定义台账: point 1). Real databases, real HTTP, bearer tokens."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from tests.test_lowcode import add_field, clean_definitions, db, stored, unit_id  # noqa: F401 (fixture)


def count_notes(app, title):
    from plugins.sample.models import SampleNote

    with db(app) as s:
        return s.execute(sa.select(sa.func.count()).select_from(SampleNote).where(SampleNote.title == title)).scalar()


def test_plugin_rest_api_carries_custom_values(app, as_user, as_token, clean_definitions):
    t = uuid.uuid4().hex[:6]
    admin = as_user("admin")
    for spec in (dict(code=f"k{t}", label="组织类别", kind="choice", options="1=社会组织\n2=志愿组织", required="y"),
                 dict(code=f"d{t}", label="活动日期", kind="date"), dict(code=f"b{t}", label="经费", kind="amount"),
                 dict(code=f"g{t}", label="标签", kind="multichoice", options="a=文化\nb=体育")):
        assert add_field(admin, **spec).status_code == 302
    clerk = as_token("fs_clerk")
    api = "/api/v1/samplenote/"
    base = {"title": f"接口{t}", "noted_on": "2012-03-05", "unit": unit_id(app, "440600")}
    # bad values: 422 in Chinese, nothing written
    r = clerk.post(api, json={**base, f"cf_k{t}": "9"})
    assert r.status_code == 422 and "不是" in json.dumps(r.json(), ensure_ascii=False) and f"cf_k{t}" in r.json()["message"], r.text
    r = clerk.post(api, json={**base, f"cf_k{t}": "1", f"cf_d{t}": "2012-13-40"})
    assert r.status_code == 422 and f"cf_d{t}" in r.json()["message"]
    r = clerk.post(api, json=base)  # a required field left out
    assert r.status_code == 422 and "组织类别" in json.dumps(r.json(), ensure_ascii=False), r.text
    r = clerk.post(api, json={**base, f"cf_k{t}": "1", "cf_nosuch": 1})
    assert r.status_code == 422 and "cf_nosuch" in r.json()["message"]
    assert count_notes(app, base["title"]) == 0
    # written and read back
    r = clerk.post(api, json={**base, f"cf_k{t}": "2", f"cf_d{t}": "2012-03-05", f"cf_b{t}": 12.5, f"cf_g{t}": ["a", "b"]})
    assert r.status_code == 201, r.text
    pk = r.json()["id"]
    assert r.json()["result"][f"cf_k{t}"] == "2"
    want = {f"k{t}": "2", f"d{t}": "2012-03-05", f"b{t}": "12.50", f"g{t}": ["a", "b"]}
    assert stored(app, pk) == want
    got = clerk.get(f"{api}{pk}").json()["result"]
    assert {k: got[f"cf_{k}"] for k in want} == want
    rows = clerk.get(api, params={f"cf_k{t}": "2"}).json()
    assert rows["ids"] == [pk] and rows["result"][0][f"cf_b{t}"] == "12.50"
    # PUT changes only what it sends (null empties); a bad value writes nothing
    r = clerk.put(f"{api}{pk}", json={f"cf_b{t}": None, f"cf_k{t}": "1"})
    assert r.status_code == 200 and r.json()["result"][f"cf_k{t}"] == "1", r.text
    assert stored(app, pk) == {f"k{t}": "1", f"d{t}": "2012-03-05", f"g{t}": ["a", "b"]}
    r = clerk.put(f"{api}{pk}", json={"title": "不该写入", f"cf_g{t}": ["z"]})
    assert r.status_code == 422
    assert count_notes(app, "不该写入") == 0 and stored(app, pk)[f"g{t}"] == ["a", "b"]
    assert as_token("sz_clerk").get(f"{api}{pk}").status_code == 404
    # the OpenAPI document, per request: the fields of now
    spec = clerk.get("/api/v1/_openapi").json()["components"]["schemas"]
    post = spec["SampleNoteApi.post"]
    assert post["properties"][f"cf_k{t}"]["enum"] == ["1", "2"] and f"cf_k{t}" in post["required"]
    assert spec["SampleNoteApi.get"]["properties"][f"cf_d{t}"]["format"] == "date"
    assert spec["SampleNoteApi.put"]["properties"][f"cf_g{t}"]["type"] == "array"
