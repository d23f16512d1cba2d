"""The reporting loop (core/reporting/reports.py): submit → review → return/approve,
snapshots, the table of one item, locking, notifications. Both engines, a
live server, cookie session and bearer token."""

from __future__ import annotations

import datetime
import io
import json
import socket
import threading
import uuid

import pytest
from sqlalchemy import delete, func, select
from core.testing import statements_of

ITEM = "direct_contact_list"


def _t(r) -> str:
    return json.dumps(r.json(), ensure_ascii=False)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _clear(app, year):
    from core.reporting.notify import Notification
    from core.reporting.reports import Submission, SubmissionEvent

    with app.app_context():
        s = app.appbuilder.session
        ids = select(Submission.id).where(Submission.plan_year == year)
        s.execute(delete(SubmissionEvent).where(SubmissionEvent.submission_id.in_(ids)))
        s.execute(delete(Submission).where(Submission.plan_year == year))
        s.execute(delete(Notification))
        s.commit()


def _orgs(app, code, year, names):
    from core.tenancy.units import unit_by_code
    from plugins.cultivation.models import YouthOrg

    with app.app_context():
        s = app.appbuilder.session
        unit = unit_by_code(s, code)
        orgs = [YouthOrg(name=n, unit=unit, category="interest", service_field="other", reg_status="unregistered",
                         directly_connected_on=datetime.date(year, 3, 1)) for n in names]
        s.add_all(orgs)
        s.commit()
        return [o.id for o in orgs]


def _count_events(app, sub_id):
    from core.reporting.reports import SubmissionEvent

    with app.app_context():
        return app.appbuilder.session.execute(
            select(func.count()).where(SubmissionEvent.submission_id == sub_id)).scalar()


@pytest.fixture(params=["session", "token"])
def story(request, app, as_user, as_token):
    year = 2026 if request.param == "session" else 2025
    _clear(app, year)
    names = [unique("=报送组织"), unique("报送组织")]
    ids = _orgs(app, "440606", year, names)
    other = _orgs(app, "440606", year - 3, [unique("往年组织")])[0]
    make = as_user if request.param == "session" else as_token
    return dict(year=year, names=names, ids=ids, other=other, make=make, kind=request.param)


def test_submit_review_return_resubmit_approve_lock(app, story):
    year, make = story["year"], story["make"]
    sd, fs, sz, admin = make("sd_clerk"), make("fs_clerk"), make("sz_clerk"), make("admin")

    r = sd.post("/api/v1/reporting/submit", json={"item": ITEM, "year": year, "comment": "第一次"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"] == "submitted" and sub["rows"] == 2 and sub["round"] == 1
    pk = sub["id"]

    # submitting twice: refused, nothing written
    r = sd.post("/api/v1/reporting/submit", json={"item": ITEM, "year": year})
    assert r.status_code == 422 and "已提交" in _t(r)
    assert _count_events(app, pk) == 1
    # reviewing one's own, outside one's subtree, from too high up: refused
    r = sd.post(f"/api/v1/reporting/review/{pk}", json={"decision": "approve"})
    assert r.status_code == 422 and "本单位" in _t(r)
    assert sz.post(f"/api/v1/reporting/review/{pk}", json={"decision": "approve"}).status_code == 404
    r = admin.post(f"/api/v1/reporting/review/{pk}", json={"decision": "approve"})
    assert r.status_code == 422 and "直接上级" in _t(r)
    assert _count_events(app, pk) == 1

    # later edits do not change the snapshot
    renamed = unique("改名")
    r = sd.put(f"/api/v1/youthorg/{story['ids'][1]}", json={"name": renamed})
    assert r.status_code == 200, r.text
    snap = fs.get(f"/api/v1/reporting/submission/{pk}").json()["snapshot"]
    assert sorted(row[1] for row in snap["rows"]) == sorted(story["names"])

    # return needs a reason; then the clerk is notified
    r = fs.post(f"/api/v1/reporting/review/{pk}", json={"decision": "return"})
    assert r.status_code == 422 and "退回" in _t(r)
    r = fs.post(f"/api/v1/reporting/review/{pk}", json={"decision": "return", "reason": "缺少信用代码"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    msgs = sd.get("/api/v1/messages/").json()
    assert msgs["unread"] >= 1 and any("缺少信用代码" in m["title"] for m in msgs["result"])

    r = sd.post("/api/v1/reporting/submit", json={"item": ITEM, "year": year, "comment": "已补充"})
    assert r.status_code == 201 and r.json()["round"] == 2 and r.json()["id"] == pk
    r = fs.post(f"/api/v1/reporting/review/{pk}", json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    # resubmitting an approved one: refused
    r = sd.post("/api/v1/reporting/submit", json={"item": ITEM, "year": year})
    assert r.status_code == 422 and "通过" in _t(r)
    history = fs.get(f"/api/v1/reporting/submission/{pk}").json()["history"]
    assert [(h["action"], h["user"]) for h in history] == [
        ("submit", "sd_clerk"), ("return", "fs_clerk"), ("submit", "sd_clerk"), ("approve", "fs_clerk")]

    # locked: edits at the unit and from above, deletes, imports refused; another year is not
    r = sd.put(f"/api/v1/youthorg/{story['ids'][0]}", json={"note": "锁定后修改"})
    assert r.status_code == 422 and "撤销审核" in _t(r)
    r = fs.put(f"/api/v1/youthorg/{story['ids'][0]}", json={"note": "锁定后修改"})
    assert r.status_code == 422 and "撤销审核" in _t(r)
    r = sd.delete(f"/api/v1/youthorg/{story['ids'][0]}")
    assert r.status_code == 422 and "撤销审核" in _t(r)
    r = sd.post("/api/v1/youthorg/", json={"name": unique("新组织"), "unit": _unit_id(app, "440606"), "category": "interest",
                                          "service_field": "other", "directly_connected_on": f"{year}-05-01"})
    assert r.status_code == 422 and "撤销审核" in _t(r)
    assert sd.put(f"/api/v1/youthorg/{story['other']}", json={"note": "往年的可以改"}).status_code == 200
    _import_refused(app, story)

    # the city's own submission carries its approved county along
    r = fs.post("/api/v1/reporting/submit", json={"item": ITEM, "year": year})
    assert r.status_code == 201
    city = fs.get(f"/api/v1/reporting/submission/{r.json()['id']}").json()["snapshot"]
    shunde = next(c for c in city["children"] if c["unit"] == "440606")
    assert shunde["status"] == "approved" and len(shunde["snapshot"]["rows"]) == 2
    assert all(c["snapshot"] is None for c in city["children"] if c["status"] != "approved")

    # the province's table
    t = admin.get(f"/api/v1/reporting/table?item={ITEM}&year={year}").json()
    states = {row["unit"]: row["state"] for row in t["result"]}
    assert states["440606"] == "approved" and states["440600"] == "submitted"
    assert states["440300"] in ("not_submitted", "overdue") and len(states) > 1800

    # export exactly as submitted (the approved round, taken after the rename), neutralised
    from openpyxl import load_workbook

    r = fs.get(f"/api/v1/reporting/submission/{pk}/xlsx")
    assert r.status_code == 200
    cells = [c for ws in load_workbook(io.BytesIO(r.content)).worksheets for row in ws.iter_rows(values_only=True) for c in row]
    assert "'" + story["names"][0] in cells and renamed in cells and story["names"][1] not in cells

    # 撤销审核 unlocks
    r = sd.post(f"/api/v1/reporting/reopen/{pk}", json={})
    assert r.status_code == 422
    r = fs.post(f"/api/v1/reporting/reopen/{pk}", json={"reason": "需要更正"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert sd.put(f"/api/v1/youthorg/{story['ids'][0]}", json={"note": "撤销后可改"}).status_code == 200


def _unit_id(app, code):
    from core.tenancy.units import unit_by_code

    with app.app_context():
        return unit_by_code(app.appbuilder.session, code).id


def _import_refused(app, story):
    from openpyxl import Workbook

    from core.excel.service import importables
    from core.excel.engine import run_import
    from core.excel.workbooks import save_workbook
    from core.tenancy.scope import Scope
    from core.tenancy.units import unit_by_code

    with app.app_context():
        s = app.appbuilder.session
        imp = importables()["youthorg"][1]
        wb = Workbook()
        ws = wb.active
        ws.append([str(c.header) for c in imp.columns])
        org = s.get(imp.model, story["ids"][0])
        values = {"name": org.name, "unit": "440606", "category": "interest", "service_field": "other", "reg_status": "unregistered",
                  "directly_connected_on": f"{story['year']}-03-01", "note": "导入修改"}
        ws.append([values.get(c.attr) for c in imp.columns])
        shunde = unit_by_code(s, "440606")
        report = run_import(s, imp, "x.xlsx", save_workbook(wb), scope=Scope(path=shunde.path), commit=True)
        assert not report.written
        assert any("撤销审核" in e["message"] for e in report.as_dict()["errors"]), report.as_dict()["errors"]


def test_table_is_one_statement_and_reminds_the_late(app):
    from core.reporting import reports as rep
    from core.kpi.engine import top_unit
    from core.reporting.notify import Notification

    year = 2021  # long over: every unit without a submission is overdue
    _clear(app, year)
    with app.test_request_context():
        s = app.appbuilder.session
        root = top_unit(s)
        item = rep.registered_items()[ITEM]
        with statements_of(s.get_bind()) as statements:
            due, rows = rep.state_table(s, item, year, root)
        assert len(statements) == 1, statements
        assert due == datetime.date(year, 12, 31) and {r.state for r in rows} == {rep.OVERDUE}
        n = rep.remind_late(s, item, year, root)
        assert n == len(rows)
        users = s.execute(select(func.count(func.distinct(Notification.user_id)))).scalar()
        assert users >= 4  # every test user below the province


class _SMTP(threading.Thread):
    """A tiny SMTP server that keeps what it receives."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.received = []

    def run(self):
        conn, _ = self.sock.accept()
        f = conn.makefile("rwb")

        def say(line):
            f.write(line.encode() + b"\r\n")
            f.flush()

        say("220 test")
        data = None
        for raw in f:
            line = raw.decode().rstrip("\r\n")
            if data is not None:
                if line == ".":
                    self.received.append("\n".join(data))
                    data = None
                    say("250 ok")
                else:
                    data.append(line)
                continue
            cmd = line[:4].upper()
            if cmd in ("EHLO", "HELO"):
                say("250 test")
            elif cmd == "DATA":
                data = []
                say("354 go")
            elif cmd == "QUIT":
                say("221 bye")
                break
            else:
                say("250 ok")
        conn.close()
        self.sock.close()


def test_notifications_in_app_and_by_mail(app, as_user):
    from core.reporting.notify import notify

    server = _SMTP()
    server.start()
    with app.app_context():
        s = app.appbuilder.session
        uid = app.appbuilder.sm.find_user(username="fs_inspector").id
        app.config["QQH_SMTP_HOST"], app.config["QQH_SMTP_PORT"] = "127.0.0.1", server.port
        try:
            notify(s, [uid], "测试消息", "正文")
            s.commit()
        finally:
            app.config["QQH_SMTP_HOST"] = None
    server.join(10)
    assert server.received and "fs_inspector@t.local" in server.received[0]
    c = as_user("fs_inspector")  # an inspector reads and marks read
    page = c.get("/messages/")
    assert page.status_code == 200 and "测试消息" in page.text
    before = c.get("/api/v1/messages/").json()["unread"]
    assert c.post("/api/v1/messages/read", json={}).json()["marked"] == before
    assert c.get("/api/v1/messages/").json()["unread"] == 0
    # off by default: no server needed
    with app.app_context():
        notify(app.appbuilder.session, [uid], "无邮件")
        app.appbuilder.session.commit()


def test_todo_items_and_kpi_as_approved(app):
    from core.reporting import reports as rep
    from core.kpi.engine import APPROVED, KpiTarget, evaluate
    from core.tenancy.units import unit_by_code

    year = 2024
    _clear(app, year)
    with app.test_request_context():
        s = app.appbuilder.session
        sm = app.appbuilder.sm
        sd, fs = sm.find_user(username="sd_clerk"), sm.find_user(username="fs_clerk")
        sub = rep.submit(s, "training_figures", year, sd)
        kinds = {t["kind"]: t for t in rep.todo_items(fs)}
        assert kinds["reporting_review"]["count"] >= 1 and "/reporting/" in kinds["reporting_review"]["url"]
        rep.review(s, sub.id, fs, approve=True)
        s.add(KpiTarget(plan_year=year, check_key="camps", tier="county", threshold=5, due=datetime.date(year, 12, 31),
                        period="year", scope="own", counts=APPROVED))
        s.commit()
        from plugins.cultivation.models import YouthOrg
        from plugins.training.models import Camp, Enrolment, Trainee

        shunde = unit_by_code(s, "440606")
        camp = Camp(unit=shunde, title=unique("营"), session_no=1, starts_on=datetime.date(year, 4, 1),
                    ends_on=datetime.date(year, 4, 2), place="顺德", capacity=10, status="finished")
        org = YouthOrg(name=unique("营组织"), unit=shunde, category="interest", service_field="other", reg_status="unregistered")
        trainee = Trainee(name="学员", phone="13800000000", gender="male")
        s.add_all([camp, org, Enrolment(camp=camp, youth_org=org, trainee=trainee, name="学员", phone="13800000000",
                                        gender="male", role="骨干", attended=True)])
        s.commit()
        report = evaluate(s, year, unit_by_code(s, "440600"), datetime.date(year, 12, 31))
        row = next(r for r in report.rows if r.unit.code == "440606" and r.target.check_key == "camps")
        assert row.value == 0 and row.entered_value == 1  # approved 0 camps, 1 entered since
        assert row.as_dict()["counts"] == "approved"


def test_browser_submit_return_fix_resubmit_approve(engine_name, browser, live, app):  # noqa: F811
    """A county clerk (顺德区) and its city (佛山) walk the whole loop in Chromium."""
    if engine_name != "sqlite":
        pytest.skip("the pages are the same on both engines; once is enough for the suite's time (HTTP tests cover both)")
    from core.testing.browser import login
    from tests.conftest import PASSWORD

    year = 2023
    _clear(app, year)
    ids = _orgs(app, "440606", year, [unique("页面组织")])
    clerk = browser.new_context(locale="zh-CN").new_page()
    city = browser.new_context(locale="zh-CN").new_page()
    try:
        login(clerk, live.url, "sd_clerk", PASSWORD)
        clerk.goto(f"{live.url}/reporting/?year={year}")
        row = clerk.locator(f"#qqh-my-reports tr[data-item={ITEM}]")
        row.locator("input[name=comment]").fill("请审核")
        row.locator("button[type=submit]").click()
        clerk.wait_for_load_state()
        assert "已报送上级单位审核" in clerk.content()
        assert row.locator(".qqh-rep-state").inner_text() == "待审核"

        login(city, live.url, "fs_clerk", PASSWORD)
        city.goto(f"{live.url}/reporting/reviews")
        city.locator("#qqh-reviews a").first.click()
        city.wait_for_load_state()
        city.click("#qqh-return")  # no reason: refused with a message
        city.wait_for_load_state()
        assert "退回时请填写退回理由" in city.content()
        city.fill("#qqh-review-reason", "名单缺少信用代码")
        city.click("#qqh-return")
        city.wait_for_load_state()
        assert city.locator("#qqh-sub-status").inner_text() == "已退回"

        clerk.goto(f"{live.url}/messages/")
        assert "名单缺少信用代码" in clerk.locator("#qqh-messages").inner_text()
        clerk.goto(f"{live.url}/youthorg/edit/{ids[0]}")  # fix the record
        fixed = unique("更正后组织")
        clerk.fill("#name", fixed)
        clerk.click("form:not(.qqh-logout) button[type=submit], form:not(.qqh-logout) input[type=submit]")
        clerk.wait_for_load_state()
        clerk.goto(f"{live.url}/reporting/?year={year}")
        assert row.locator(".qqh-rep-state").inner_text() == "已退回"
        row.locator("button[type=submit]").click()  # 重新报送
        clerk.wait_for_load_state()
        assert row.locator(".qqh-rep-state").inner_text() == "待审核"

        city.reload()
        city.click("#qqh-approve")
        city.wait_for_load_state()
        assert city.locator("#qqh-sub-status").inner_text() == "已通过"
        assert fixed in city.locator("#qqh-snapshot").inner_text()
        history = city.locator("#qqh-history").inner_text()
        assert history.count("报送") == 2 and "已退回" in history and "审核通过" in history
        assert "年" in history and "月" in history  # 2026年12月1日 14:05

        # the county's record is now locked on its page
        clerk.goto(f"{live.url}/youthorg/edit/{ids[0]}")
        clerk.fill("#note", "通过后修改")
        clerk.click("form:not(.qqh-logout) button[type=submit], form:not(.qqh-logout) input[type=submit]")
        clerk.wait_for_load_state()
        assert "撤销审核" in clerk.content()
    finally:
        clerk.context.close()
        city.context.close()


def test_the_todo_count_kept_between_requests_follows_every_write(app, live, as_user):
    """The navbar's to-do count is kept per user between requests while nothing is written (one query
    instead of its sources'); a write from anywhere — another connection, as another gunicorn worker's —
    shows at the next request, and a kept count is never another user's."""
    import re

    import sqlalchemy as sa

    from core.reporting.notify import Notification

    def badge(client) -> int:
        r = client.get("/todo/")
        assert r.status_code == 200
        m = re.search(r'id="qqh-todo-badge">.*?<span class="badge">(\d+)</span>', r.text, re.S)
        assert m, r.text[:300]
        return int(m.group(1))

    fs, sd = as_user("fs_clerk"), as_user("sd_clerk")
    before_fs, before_sd = badge(fs), badge(sd)
    assert badge(fs) == before_fs  # kept: the same
    with app.app_context():
        uid = app.appbuilder.sm.find_user(username="fs_clerk").id
        other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # not the app's engine: another process's
    try:
        with other.begin() as c:
            c.execute(Notification.__table__.insert().values(
                user_id=uid, created_on=datetime.datetime(2012, 3, 5), title="保管测试"))
        assert badge(fs) == before_fs + 1
        assert badge(sd) == before_sd  # not fs_clerk's
        with other.begin() as c:
            c.execute(Notification.__table__.delete().where(Notification.title == "保管测试"))
        assert badge(fs) == before_fs
    finally:
        other.dispose()
