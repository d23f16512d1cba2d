"""待办, 通知公告 and attachments (core/reporting/todo.py, core/reporting/notices.py,
core/ops/attachments.py): over HTTP with a cookie session and with a bearer
token, on both engines; one browser story at the end."""

from __future__ import annotations

import datetime
import io
import os
import stat
import uuid
import zipfile

import pytest
from sqlalchemy import delete, func, select

from core.ops import attachments
from core.ops.attachments import Attachment
from core.reporting.notices import Notice, NoticeRead
from core.tenancy.units import unit_by_code
from core.testing import PNG, unique_bytes
from core.testing.browser import login
from tests.conftest import PASSWORD

API = "/api/v1/attachment/"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def ooxml(folder="word/", types=True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if types:
            z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(folder + "document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.fixture
def note(app):
    """Make a memo note of a unit; the test's notes are deleted after it."""
    from tests.memo_plugin.models import MemoNote

    made = []

    def make(code="440600"):
        with app.app_context():
            s = app.appbuilder.session
            n = MemoNote(title="附件测试" + uuid.uuid4().hex[:6], noted_on=datetime.date(2012, 3, 5), unit=unit_by_code(s, code))
            s.add(n)
            s.commit()
            made.append(n.id)
            return n.id

    yield make
    with app.app_context():
        s = app.appbuilder.session
        for pk in made:
            obj = s.get(MemoNote, pk)
            if obj is not None:
                s.delete(obj)
        s.commit()


def rows(app, **where) -> int:
    with app.app_context():
        s = app.appbuilder.session
        stmt = select(func.count(Attachment.id)).filter_by(**where)
        n = s.execute(stmt).scalar()
        s.rollback()
        return n


def files_in(app) -> set[str]:
    with app.app_context():
        base = attachments.folder()
    return {n for _r, _d, names in os.walk(base) for n in names} if os.path.isdir(base) else set()


def upload(client, record_id, name, data, record_type="memo_note"):
    return client.post(API, data={"record_type": record_type, "record_id": str(record_id)},
                       files={"file": (name, data)})


# -- the content check, without a server ---------------------------------------------------------
def test_content_is_checked_not_the_name(app):
    from core.tenancy.scope import InvalidInput

    with app.test_request_context():
        assert attachments.check_file("照片.PNG", PNG) == "png"
        assert attachments.check_file("签到表.docx", ooxml("word/")) == "ooxml"
        assert attachments.check_file("名单.xlsx", ooxml("xl/")) == "ooxml"
        assert attachments.check_file("旧表.xls", attachments.OLE_MAGIC + b"\x00" * 100) == "ole"
        assert attachments.check_file("方案.pdf", b"%PDF-1.4\n...") == "pdf"
        refused = [
            ("setup.pdf", EXE), ("setup.exe", EXE), ("照片.jpg", PNG), ("签到表.docx", ooxml("xl/")),
            ("签到表.docx", ooxml(types=False)), ("a.docx", b"PK\x03\x04broken"), ("noext", PNG),
            ("page.html", b"<html><script>alert(1)</script>"), ("x.svg", b"<svg onload=alert(1)>"),
        ]
        for name, data in refused:
            with pytest.raises(InvalidInput) as exc:
                attachments.check_file(name, data)
            assert "只能上传" in str(exc.value), (name, str(exc.value))
        app.config["QQH_ATTACHMENT_MAX_BYTES"] = 100
        try:
            with pytest.raises(InvalidInput, match="太大"):
                attachments.check_file("big.pdf", b"%PDF-" + b"0" * 200)
        finally:
            app.config.pop("QQH_ATTACHMENT_MAX_BYTES")


# -- attachments over the API ------------------------------------------------------------------------
def test_attachments_api_upload_read_scope_and_refusals(app, as_api_user, note):
    fs = as_api_user("fs_clerk")
    pk = note("440600")
    data = unique_bytes()
    r = upload(fs, pk, "活动照片.png", data)
    assert r.status_code == 201, r.text
    att = r.json()["result"][0]
    assert att["kind"] == "png" and att["size"] == len(data) and att["is_image"]
    # stored outside the database, by content hash, not readable by others
    with app.app_context():
        path = attachments.file_path(att["sha256"])
    assert open(path, "rb").read() == data
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    got = fs.get(f"{API}{att['id']}/content")
    assert got.status_code == 200 and got.content == data and got.headers["Content-Type"] == "image/png"
    listed = fs.get(API, params={"record_type": "memo_note", "record_id": pk}).json()["result"]
    assert [a["id"] for a in listed] == [att["id"]]
    assert fs.get(API).status_code == 400 and "record_id" in fs.get(API).json()["message"]

    before_rows, before_files = rows(app), files_in(app)
    # a renamed executable, a file over the limit: Chinese message, nothing written
    r = upload(fs, pk, "通知.pdf", EXE)
    assert r.status_code == 422 and "只能上传" in "".join(r.json()["message"]["file"])
    app.config["QQH_ATTACHMENT_MAX_BYTES"] = 1000
    try:
        r = upload(fs, pk, "大照片.png", PNG + b"\x00" * 2000)
        assert r.status_code == 422 and "太大" in "".join(r.json()["message"]["file"])
    finally:
        app.config.pop("QQH_ATTACHMENT_MAX_BYTES")
    # another subtree: its record and its attachment are "not found"
    sz = as_api_user("sz_clerk")
    r = upload(sz, pk, "照片.png", unique_bytes())
    assert r.status_code == 404, r.text
    assert sz.get(f"{API}{att['id']}").status_code == 404
    assert sz.get(f"{API}{att['id']}/content").status_code == 404
    assert sz.delete(f"{API}{att['id']}").status_code == 404
    assert sz.get(API, params={"record_type": "memo_note", "record_id": pk}).status_code == 404
    assert upload(fs, pk, "x.png", PNG, record_type="ab_user").status_code == 404  # users are no records
    # an inspector reads but does not attach
    insp = as_api_user("fs_inspector")
    assert insp.get(f"{API}{att['id']}").status_code == 200
    assert upload(insp, pk, "照片.png", unique_bytes()).status_code in (401, 403)
    assert rows(app) == before_rows and files_in(app) == before_files

    # deleting the attachment removes its file
    assert fs.delete(f"{API}{att['id']}").status_code == 200
    assert not os.path.exists(path) and rows(app, id=att["id"]) == 0


def test_shared_content_stays_while_referenced_and_no_orphans(app, as_user, note):
    from tests.memo_plugin.models import MemoNote

    fs = as_user("fs_clerk")
    first, second, third = note(), note(), note()
    data = unique_bytes()
    a = upload(fs, first, "签到表.png", data).json()["result"][0]
    b = upload(fs, second, "签到表副本.png", data).json()["result"][0]
    assert a["sha256"] == b["sha256"]
    with app.app_context():
        path = attachments.file_path(a["sha256"])
    # the record's page (cookie session, form POST) attaches too
    r = fs.post("/attachments/upload", data={"record_type": "memo_note", "record_id": third,
                                              "next": f"/memonoteview/show/{third}"},
                files={"file": ("方案.pdf", b"%PDF-1.4 " + uuid.uuid4().bytes)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/memonoteview/show/{third}")
    page = fs.get(f"/memonoteview/show/{third}")
    assert page.status_code == 200 and "方案.pdf" in page.text and "附件" in page.text
    c = fs.get(API, params={"record_type": "memo_note", "record_id": third}).json()["result"][0]
    with app.app_context():
        pdf_path = attachments.file_path(c["sha256"])

    # deleting a record (REST) takes its attachments; the shared file stays while referenced
    assert fs.delete(f"/api/v1/memonote/{first}").status_code == 200
    assert rows(app, id=a["id"]) == 0 and os.path.exists(path)
    assert fs.delete(f"/api/v1/memonote/{second}").status_code == 200
    assert rows(app, id=b["id"]) == 0 and not os.path.exists(path)
    # a bulk delete of records (as a unit's records are removed) leaves no orphan either
    with app.app_context():
        s = app.appbuilder.session
        s.execute(delete(MemoNote).where(MemoNote.id == third))
        s.commit()
    assert rows(app, id=c["id"]) == 0 and not os.path.exists(pdf_path)
    # the audit log has every step, with the record's unit
    with app.app_context():
        from core.audit.trail import AuditLog

        s = app.appbuilder.session
        actions = s.execute(select(AuditLog.action, AuditLog.unit_id).where(
            AuditLog.model == "qqh_attachment", AuditLog.record_id == str(a["id"])).order_by(AuditLog.id.desc()).limit(2)).all()
        fs_unit = unit_by_code(s, "440600").id  # (SQLite may reuse an id: the last two rows are this test's)
        assert [x for x, _u in actions] == ["delete", "create"] and {u for _a, u in actions} == {fs_unit}
        s.rollback()


# -- notices and the to-do list ------------------------------------------------------------------------
def todo(client) -> list[dict]:
    r = client.get("/api/v1/todo/")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == sum(i["count"] for i in body["result"])
    for item in body["result"]:
        assert set(item) == {"kind", "title", "url", "due", "count"}
    return body["result"]


def publish(client, title, deadline="", files=None):
    return client.post("/notices/add", data={"title": title, "body": "请各单位于截止日期前报送。\n<b>不是标签</b>",
                                             "deadline": deadline}, files=files or {})


def notice_id(app, title) -> int:
    with app.app_context():
        s = app.appbuilder.session
        pk = s.execute(select(Notice.id).where(Notice.title == title)).scalar()
        s.rollback()
        return pk


@pytest.fixture
def cleanup(app):
    yield
    with app.app_context():
        s = app.appbuilder.session
        for n in s.execute(select(Notice).where(Notice.title.like("测试通知%"))).scalars():
            s.delete(n)
        from core.kpi.engine import KpiTarget

        s.execute(delete(KpiTarget).where(KpiTarget.check_key == "inbox_test"))
        s.commit()


def test_notices_todo_and_read_status(app, as_user, as_token, cleanup):
    admin = as_user("fs_admin")
    title = "测试通知" + uuid.uuid4().hex[:6]
    r = publish(admin, title, "2012-03-05", files={"file": ("报送表.xlsx", ooxml("xl/"))})
    assert r.status_code == 302, r.text[:2000]
    pk = notice_id(app, title)
    assert rows(app, record_type="qqh_notice", record_id=pk) == 1

    clerk = as_token("fs_clerk")  # the to-do list by bearer token
    items = [i for i in todo(clerk) if i["kind"] == "notice"]
    mine = [i for i in items if title in i["title"]]
    assert mine == [{"kind": "notice", "title": f"通知：{title}", "url": f"/notices/{pk}", "due": "2012-03-05", "count": 1}]
    assert all(title not in i["title"] for i in todo(admin))  # the publisher has nothing to do for it
    # outside the subtree: not in the to-do list, the notice and its files are "not found"
    sz = as_user("sz_clerk")
    assert all(title not in i["title"] for i in todo(sz))
    assert sz.get(f"/notices/{pk}").status_code == 404
    assert sz.post(f"/notices/{pk}/read").status_code == 404
    assert "测试通知" not in sz.get("/notices/").text
    with app.app_context():
        att = app.appbuilder.session.execute(select(Attachment.id).where(Attachment.record_id == pk,
                                                                         Attachment.record_type == "qqh_notice")).scalar()
    assert sz.get(f"{API}{att}/content").status_code == 404
    assert as_token("fs_inspector").get(f"{API}{att}/content").status_code == 200

    # the recipient reads (cookie session); the page escapes the text
    cookie_clerk = as_user("fs_clerk")
    page = cookie_clerk.get(f"/notices/{pk}")
    assert page.status_code == 200 and "&lt;b&gt;不是标签&lt;/b&gt;" in page.text and "报送表.xlsx" in page.text
    assert "2012年3月5日" in page.text
    assert cookie_clerk.post(f"/notices/{pk}/read").status_code == 302
    assert cookie_clerk.post(f"/notices/{pk}/read").status_code == 302  # twice: still one row
    with app.app_context():
        assert app.appbuilder.session.execute(select(func.count(NoticeRead.id)).where(NoticeRead.notice_id == pk)).scalar() == 1
    assert all(title not in i["title"] for i in todo(clerk))
    # the publisher sees who has read it and who has not
    status = admin.get(f"/notices/{pk}").text
    assert 'data-user="fs_clerk"' in status and 'data-user="fs_inspector"' in status
    row = status.split('data-user="fs_clerk"', 1)[1].split("</tr>", 1)[0]
    assert "已读" in row
    row = status.split('data-user="fs_inspector"', 1)[1].split("</tr>", 1)[0]
    assert "未读" in row

    # bad input: nothing written, Chinese messages
    before = rows(app)
    r = publish(admin, "测试通知坏附件", files={"file": ("通知.docx", EXE)})
    assert r.status_code == 200 and "只能上传" in r.text and notice_id(app, "测试通知坏附件") is None
    r = publish(admin, " ")
    assert r.status_code == 200 and "请填写通知标题" in r.text
    r = publish(admin, "测试通知坏日期", deadline="2012-13-40")
    assert r.status_code == 200 and "不是有效的日期" in r.text and notice_id(app, "测试通知坏日期") is None
    assert rows(app) == before
    assert as_user("fs_inspector").post("/notices/add", data={"title": "测试通知x"}).status_code in (302, 403)
    assert notice_id(app, "测试通知x") is None

    # the province's notice: the units below read it and its attachments, and change nothing of them
    province = "测试通知全省" + uuid.uuid4().hex[:6]
    assert publish(as_user("admin"), province, files={"file": ("方案.pdf", b"%PDF-1.4 " + uuid.uuid4().bytes)}).status_code == 302
    pk = notice_id(app, province)
    assert any(i["url"] == f"/notices/{pk}" for i in todo(clerk))
    with app.app_context():
        att = app.appbuilder.session.execute(select(Attachment.id).where(Attachment.record_id == pk,
                                                                         Attachment.record_type == "qqh_notice")).scalar()
    assert clerk.get(f"{API}{att}/content").status_code == 200
    assert clerk.get(API, params={"record_type": "qqh_notice", "record_id": pk}).status_code == 200
    assert clerk.delete(f"{API}{att}").status_code == 404
    assert upload(clerk, pk, "x.png", unique_bytes(), record_type="qqh_notice").status_code == 404
    assert cookie_clerk.get(f"/notices/{pk}").status_code == 200 and "阅读情况" not in cookie_clerk.get(f"/notices/{pk}").text


def test_deadlines_of_my_unit_are_in_the_todo(app, as_api_user, cleanup):
    from core.values import clock
    from core.kpi.engine import KpiTarget

    today = clock.today()
    soon, later = today + datetime.timedelta(days=5), today + datetime.timedelta(days=40)
    with app.app_context():
        s = app.appbuilder.session
        for due, tier in ((soon, "city"), (later, "city"), (soon, "county")):
            if due.year == today.year:
                s.add(KpiTarget(plan_year=due.year, check_key="inbox_test", tier=tier, threshold=5_000_000, due=due))
        s.commit()
    items = [i for i in todo(as_api_user("fs_clerk")) if i["kind"] == "deadline" and i["due"] in (soon.isoformat(), later.isoformat())]
    if soon.year == today.year:
        assert [i["due"] for i in items] == [soon.isoformat()]  # the city's, in the next 14 days only
        assert "5,000,000" in items[0]["title"] and "e+" not in items[0]["title"] and items[0]["url"].startswith("/")


# -- the story in a real browser -------------------------------------------------------------------------
@pytest.mark.browser
def test_browser_publish_notice_recipient_reads_publisher_sees(browser, live, app, engine_name, cleanup):
    from playwright.sync_api import expect

    if engine_name != "sqlite":  # the pages are the same on both; the HTTP tests above run on both engines
        pytest.skip("the browser story runs once, on SQLite (suite time budget)")

    title = "测试通知浏览器" + uuid.uuid4().hex[:6]
    publisher = browser.new_context(locale="zh-CN")
    reader = browser.new_context(locale="zh-CN")
    try:
        page = publisher.new_page()
        login(page, live.url, "fs_admin", PASSWORD)
        page.goto(live.url + "/notices/add")
        page.fill("#title", title)
        page.fill("#body", "请于3月5日前报送直接联系名单。")
        page.fill("#deadline", "2012-03-05")
        page.set_input_files("#file", files=[{"name": "活动照片.png", "mimeType": "image/png", "buffer": unique_bytes()}])
        page.click(".qqh-notice-form button[type=submit]")
        page.wait_for_load_state()
        expect(page.locator("#qqh-notice h2")).to_have_text(title)
        expect(page.locator('tr[data-user="fs_clerk"] .qqh-unread')).to_have_text("未读")

        other = reader.new_page()
        login(other, live.url, "fs_clerk", PASSWORD)
        other.goto(live.url + "/")
        item = other.locator("#qqh-todo .qqh-todo-notice a", has_text=title)
        expect(item).to_be_visible()
        badge = int(other.locator("#qqh-todo-badge .badge").inner_text())
        assert badge >= 1
        item.click()
        other.wait_for_load_state()
        expect(other.locator(".qqh-notice-body")).to_contain_text("直接联系名单")
        expect(other.locator("#qqh-notice")).to_contain_text("2012年3月5日")
        assert other.evaluate("() => document.querySelector('.qqh-attachment-preview').naturalWidth") == 1
        other.click("#qqh-notice-mark-read")
        other.wait_for_load_state()
        expect(other.locator(".qqh-notice-read")).to_contain_text("已读")
        other.goto(live.url + "/")
        expect(other.locator("#qqh-todo .qqh-todo-notice a", has_text=title)).to_have_count(0)
        assert int(other.locator("#qqh-todo-badge .badge").inner_text()) == badge - 1

        page.reload()
        expect(page.locator('tr[data-user="fs_clerk"] .qqh-read')).to_have_text("已读")
        expect(page.locator('tr[data-user="fs_inspector"] .qqh-unread')).to_have_text("未读")
    finally:
        publisher.close()
        reader.close()
