"""The homes plugin in core's 待办 and attachments: grants awaiting approval
come through the qqh_todo_items hook; a checklist record's 佐证材料 are
attachments (core/ops/attachments.py)."""

import os

from core.testing.engines import attachments
from plugins.homes.tests.conftest import (
    ENTRY_API, FUND_API, GRANT_API, HOME_API, ITEM_API, create, fund_payload, grant_payload, home_payload,
)
from core.testing import PNG, unique_bytes


def pending(client) -> int:
    r = client.get("/api/v1/todo/")
    assert r.status_code == 200, r.text
    items = [i for i in r.json()["result"] if i["kind"] == "grants_pending"]
    assert len(items) <= 1
    for i in items:
        assert set(i) == {"kind", "title", "url", "due", "count"} and i["title"] == "待审批的资助" and i["due"] is None
    return items[0]["count"] if items else 0


def test_grants_awaiting_approval_are_in_the_todo(as_api_user, unit_ids, make_org):
    fs, sz = as_api_user("fs_clerk"), as_api_user("sz_clerk")
    before, other = pending(fs), pending(sz)
    fund = create(fs, FUND_API, fund_payload(unit_ids))
    grant = create(fs, GRANT_API, grant_payload(fund, make_org("440600")))
    assert pending(fs) == before + 1 and pending(sz) == other  # scoped: not 深圳's to do
    url = next(i["url"] for i in fs.get("/api/v1/todo/").json()["result"] if i["kind"] == "grants_pending")
    if "Authorization" not in fs.headers:  # the page behind the link (cookie session)
        assert fs.get(url).status_code == 200
    r = fs.put(f"{GRANT_API}{grant}", json={"status": "approved", "approved_on": "2012-06-20", "approved_by": "书记办公会"})
    assert r.status_code == 200, r.text
    assert pending(fs) == before


def test_checklist_evidence_is_attached(app, as_user, unit_ids):
    fs = as_user("fs_clerk")
    home = create(fs, HOME_API, home_payload(unit_ids))
    item = fs.get(ITEM_API, params={"q": '(page_size:1,filters:!((col:active,opr:eq,value:!t)))'}).json()["ids"][0]
    entry = create(fs, ENTRY_API, {"home": home, "item": item, "met_on": "2012-05-01", "evidence": "挂牌照片"})
    photo = unique_bytes(PNG)
    r = fs.post("/api/v1/attachment/", data={"record_type": "homes_checklist_entry", "record_id": entry},
                files={"file": ("挂牌照片.png", photo)})
    assert r.status_code == 201, r.text
    att = r.json()["result"][0]
    page = fs.get(f"/homechecklistentry/show/{entry}")
    assert page.status_code == 200 and "挂牌照片.png" in page.text and f"/attachments/{att['id']}/preview" in page.text
    preview = fs.get(f"/attachments/{att['id']}/preview")
    assert preview.status_code == 200 and preview.content == photo and "inline" in preview.headers.get("Content-Disposition", "inline")
    assert as_user("sz_clerk").get(f"/attachments/{att['id']}/preview").status_code == 404
    with app.app_context():
        path = attachments.file_path(att["sha256"])
    assert fs.delete(f"{ENTRY_API}{entry}").status_code == 200
    assert not os.path.exists(path)
    assert fs.get(f"/attachments/{att['id']}/download").status_code == 404
