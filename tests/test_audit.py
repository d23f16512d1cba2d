"""The audit log (core/audit/trail.py): every create, update and delete of every
model, core's and plugins', written by the session's own events in the same
transaction; imports set-based; account events in their own transaction;
read-only, scoped, newest first. Real databases, a live server.

Users (tests/conftest.py): admin (province), fs_admin 佛山 unit admin,
fs_clerk 佛山, sd_clerk 顺德区 (below 佛山), sz_clerk 深圳, fs_inspector."""

from __future__ import annotations

import contextlib
import io
import json
import uuid

import openpyxl
import sqlalchemy as sa
from core.testing import statements_of

API = "/api/v1/auditlog/"


def tag() -> str:
    return "aud" + uuid.uuid4().hex[:8]


@contextlib.contextmanager
def db(app):
    with app.app_context():
        with sa.orm.Session(app.extensions["qqh_db"].engine) as s:
            yield s


def since_created(log: list, label: str) -> list:
    """The rows from the record's creation (its label starts with ``label``) on (SQLite reuses the id of a record an earlier test deleted)."""
    start = next(i for i, r in enumerate(log) if r.action == "create" and (r.label or "").startswith(label))
    return log[start:]


def rows(app, since: int = 0, **where) -> list:
    """Audit rows matching ``where`` (column=value), oldest first, after the row ``since`` (SQLite gives a
    deleted record's id to the next one: the session's database holds other files' records)."""
    from core.audit.trail import AuditLog

    with db(app) as s:
        stmt = sa.select(AuditLog).where(AuditLog.id > since).order_by(AuditLog.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(AuditLog, k) == v)
        return list(s.execute(stmt).scalars())


def last_row(app) -> int:
    from core.audit.trail import AuditLog

    with db(app) as s:
        return s.execute(sa.select(sa.func.max(AuditLog.id))).scalar() or 0


def unit_id(app, code) -> int:
    from core.tenancy.units import Unit

    with db(app) as s:
        return s.execute(sa.select(Unit.id).where(Unit.code == code)).scalar_one()


def api_rows(client, **filters) -> list[dict]:
    flt = ",".join(f"(col:{k},opr:eq,value:'{v}')" for k, v in filters.items())
    r = client.get(API, params={"q": f"(filters:!({flt}),page_size:100)"})
    assert r.status_code == 200, r.text
    return r.json()["result"]


def test_rest_create_update_delete_of_a_plugin_record(app, as_user):
    t = tag()
    clerk = as_user("sd_clerk")
    sd = unit_id(app, "440606")
    r = clerk.post("/api/v1/memonote/", json={"title": t, "body": "甲", "noted_on": "2012-03-05", "unit": sd})
    assert r.status_code == 201, r.text
    pk = r.json()["id"]
    assert clerk.put(f"/api/v1/memonote/{pk}", json={"title": t, "body": "乙", "noted_on": "2012-03-05", "unit": sd}).status_code == 200
    assert clerk.delete(f"/api/v1/memonote/{pk}").status_code == 200

    log = since_created(rows(app, model="memo_note", record_id=str(pk)), t)
    assert [r.action for r in log] == ["create", "update", "delete"]
    create, update, delete = log
    assert {r.username for r in log} == {"sd_clerk"} and {r.unit_id for r in log} == {sd}
    assert create.address == "127.0.0.1" and create.label == t
    assert create.before == {} and create.after["body"] == "甲" and create.after["noted_on"] == "2012-03-05"
    assert update.before == {"body": "甲"} and update.after == {"body": "乙"}  # the changed column only
    assert delete.before["title"] == t and delete.after == {}
    # the admin reads the same through the API, newest first
    got = api_rows(as_user("admin"), model="memo_note", record_id=str(pk))
    assert [g["action"] for g in got][:3] == ["delete", "update", "create"]
    assert json.loads(got[1]["values_before"]) == {"body": "甲"}


def test_page_writes_of_a_core_model_and_a_plugin_model(app, as_user):
    from core.tenancy.units import Unit

    t = tag()
    admin = as_user("admin")
    fs = unit_id(app, "440600")
    code = "T" + uuid.uuid4().hex[:6]
    r = admin.post("/unitview/add", data={"code": code, "name": f"{t}单位", "level": "town", "tier": "town", "prd": "y", "undergraduate": "y", "parent": fs})
    assert r.status_code == 302, r.text[:2000]
    with db(app) as s:
        uid = s.execute(sa.select(Unit.id).where(Unit.code == code)).scalar_one()
    r = admin.post(f"/unitview/edit/{uid}", data={"code": code, "name": f"{t}新名", "level": "town", "tier": "town", "prd": "y", "undergraduate": "y", "parent": fs})
    assert r.status_code == 302, r.text[:2000]
    assert admin.post(f"/unitview/delete/{uid}").status_code == 302
    log = since_created(rows(app, model="qqh_unit", record_id=str(uid)), f"{t}单位")
    assert [r.action for r in log] == ["create", "update", "delete"]
    assert log[1].before == {"name": f"{t}单位"} and log[1].after == {"name": f"{t}新名"}
    assert {r.unit_id for r in log} == {uid} and {r.username for r in log} == {"admin"}

    clerk = as_user("fs_clerk")
    r = clerk.post("/memonoteview/add", data={"title": t, "body": "页", "noted_on": "2012-03-05", "unit": fs})
    assert r.status_code == 302, r.text[:2000]
    (create,) = rows(app, model="memo_note", label=t)
    assert create.username == "fs_clerk" and create.unit_id == fs and create.after["body"] == "页"
    r = clerk.post(f"/memonoteview/edit/{create.record_id}", data={"title": t, "body": "页二", "noted_on": "2012-03-06", "unit": fs})
    assert r.status_code == 302, r.text[:2000]
    update = rows(app, model="memo_note", record_id=create.record_id)[-1]
    assert update.before == {"body": "页", "noted_on": "2012-03-05"} and update.after == {"body": "页二", "noted_on": "2012-03-06"}


def test_role_changes_and_passwords(app):
    from core.tenancy.security import QqhUser

    name = tag()
    start = last_row(app)
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(name, name, "测试", f"{name}@t.local", sm.find_role("clerk"), password="Secret-pass-99")
        user.roles = [sm.find_role("unit_admin")]
        app.appbuilder.session.commit()
        sm.reset_password(user.id, "Other-pass-77")
        uid = user.id
    log = rows(app, since=start, model="ab_user", record_id=str(uid))
    assert [r.action for r in log] == ["create", "update", "update"]
    assert log[0].after["password"] == "******" and log[0].label
    assert log[1].before == {"roles": ["clerk"]} and log[1].after == {"roles": ["unit_admin"]}
    assert log[2].before == {"password": "******"} and log[2].after == {"password": "******"}
    with db(app) as s:
        hashed = s.get(QqhUser, uid).password
    for r in log:
        assert hashed not in (r.values_before or "") + (r.values_after or "")


def test_a_rolled_back_change_leaves_no_row(app, as_user):
    from tests.memo_plugin.models import MemoNote

    t = tag()
    with app.test_request_context():
        session = app.appbuilder.session
        session.add(MemoNote(title=t, noted_on=__import__("datetime").date(2012, 3, 5), unit_id=unit_id(app, "440606")))
        session.flush()
        from core.audit.trail import AuditLog

        assert session.execute(sa.select(sa.func.count()).where(AuditLog.label == t)).scalar() == 1  # same transaction
        session.rollback()
    assert rows(app, label=t) == []
    # a refused write (another city's unit) writes neither the record nor a row
    r = as_user("sd_clerk").post("/api/v1/memonote/", json={"title": t, "noted_on": "2012-03-05", "unit": unit_id(app, "440300")})
    assert r.status_code == 422
    assert rows(app, label=t) == []


def test_personal_fields_are_masked(app, as_user, monkeypatch):
    from tests.memo_plugin.models import MemoNote

    monkeypatch.setattr(MemoNote, "__qqh_personal__", ("body",), raising=False)
    t = tag()
    clerk = as_user("sd_clerk")
    sd = unit_id(app, "440606")
    start = last_row(app)
    pk = clerk.post("/api/v1/memonote/", json={"title": t, "body": "13800138000", "noted_on": "2012-03-05", "unit": sd}).json()["id"]
    clerk.put(f"/api/v1/memonote/{pk}", json={"title": t, "body": "13900139000", "noted_on": "2012-03-05", "unit": sd})
    clerk.delete(f"/api/v1/memonote/{pk}")
    log = rows(app, since=start, model="memo_note", record_id=str(pk))
    assert len(log) == 3
    assert log[0].after["body"] == "******" and log[1].before == {"body": "******"} and log[1].after == {"body": "******"}
    assert log[2].before["body"] == "******"
    assert not any("138" in (r.values_before or "") + (r.values_after or "") for r in log)


def _xlsx(rows_) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["标题", "正文", "日期", "单位"])
    for r in rows_:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@contextlib.contextmanager
def counting(app):
    """Statements the app's engine runs meanwhile (every thread)."""
    with app.app_context():
        engine = app.extensions["qqh_db"].engine
    with statements_of(engine, every_thread=True) as seen:
        yield seen


def test_an_import_is_logged_set_based(app, as_user):
    clerk = as_user("sd_clerk")
    counts = {}
    for n in (5, 60):
        t = tag()
        data = _xlsx([(f"{t}-{i:03d}", "导入", "2012-03-05", "440606") for i in range(n)])
        with counting(app) as seen:
            r = clerk.post("/api/v1/import/memonote", params={"dry_run": 0, "on_duplicate": "update"}, files={"file": ("n.xlsx", data)})
        assert r.status_code == 200 and r.json()["result"]["written"], r.text
        counts[n] = len([q for q in seen if "qqh_job" not in q])  # the job worker polls and reports progress by time, not by row
        log = [r for r in rows(app, model="memo_note", action="create") if r.label.startswith(t)]
        assert len(log) == n and {r.username for r in log} == {"sd_clerk"}
        assert all(r.record_id and r.after["body"] == "导入" for r in log)
        # the records' ids are the logged ones
        from tests.memo_plugin.models import MemoNote

        with db(app) as s:
            ids = set(s.execute(sa.select(MemoNote.id).where(MemoNote.title.startswith(t))).scalars())
            assert {int(r.record_id) for r in log} == ids
            # a bulk DELETE is logged too, with the values deleted (one SELECT, one INSERT)
            with counting(app) as deleting:
                s.execute(sa.delete(MemoNote).where(MemoNote.title.startswith(t)))
                s.commit()
            assert len([q for q in deleting if "qqh_audit_log" in q]) == 1
        assert len([r for r in rows(app, model="memo_note", action="delete") if r.label.startswith(t)]) == n
    assert counts[5] == counts[60], counts  # no statement per row


def test_unit_admins_read_their_subtree_others_nothing(app, as_user):
    t = tag()
    for user, code in (("sd_clerk", "440606"), ("sz_clerk", "440300")):
        r = as_user(user).post("/api/v1/memonote/", json={"title": t, "noted_on": "2012-03-05", "unit": unit_id(app, code)})
        assert r.status_code == 201
    fs_admin = as_user("fs_admin")
    seen = {r["username"] for r in api_rows(fs_admin, label=t)}
    assert seen == {"sd_clerk"}
    assert {r["username"] for r in api_rows(as_user("admin"), label=t)} == {"sd_clerk", "sz_clerk"}
    page = fs_admin.get("/auditlog/list/")
    assert page.status_code == 200 and "sd_clerk" in page.text
    sz_row = rows(app, label=t, username="sz_clerk")[0]
    assert fs_admin.get(f"/auditlog/show/{sz_row.id}").status_code == 404
    assert fs_admin.get(f"{API}{sz_row.id}").status_code == 404
    for user in ("fs_clerk", "fs_inspector"):
        c = as_user(user)
        assert c.get(API).status_code in (401, 403)
        r = c.get("/auditlog/list/")
        assert r.status_code in (302, 403) and "sd_clerk" not in r.text
        assert "/auditlog/list/" not in c.get("/").text  # no menu entry


def test_the_log_cannot_be_written_through_pages_or_api(app, as_user, http):
    admin = as_user("admin")
    any_row = rows(app)[-1]
    for method, path in (("post", API), ("put", f"{API}{any_row.id}"), ("delete", f"{API}{any_row.id}"), ("patch", f"{API}{any_row.id}")):
        r = getattr(admin, method)(path, json={"action": "create"})
        assert r.status_code in (404, 405), (method, path, r.status_code)
    for path in ("/auditlog/add", f"/auditlog/edit/{any_row.id}", f"/auditlog/delete/{any_row.id}", "/auditlog/action_post",
                 f"/auditlog/download/{any_row.id}"):
        assert admin.get(path).status_code == 404, path
        assert admin.post(path, data={"action": "x"}).status_code in (404, 405), path
    assert rows(app)[-1].id == any_row.id and rows(app)[-1].action == any_row.action
    info = admin.get(f"{API}_info").json()
    assert info["permissions"] == ["can_audit"]
    assert http.get(API).status_code == 401


def test_log_event_outside_and_inside_a_request(app):
    from core.audit.trail import log_event
    from tests.memo_plugin.models import MemoNote

    t = tag()
    with app.app_context():
        log_event("lockout", username=t, unit_id=unit_id(app, "440606"), detail={"failures": 5, "password": "guess"})
    (row,) = rows(app, username=t)
    assert row.action == "lockout" and row.after == {"failures": 5, "password": "******"} and row.model is None
    # inside a request whose session wrote and is then rolled back: the event stays, the write goes
    t2 = tag()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        session = app.appbuilder.session
        session.add(MemoNote(title=t2, noted_on=__import__("datetime").date(2012, 3, 5), unit_id=unit_id(app, "440606")))
        session.flush()
        log_event("login_failed", username=t2)
        session.rollback()
    (row,) = rows(app, username=t2)
    assert row.action == "login_failed" and row.address == "10.1.2.3"
    assert rows(app, label=t2) == []
    # and when the request ends without commit or rollback
    t3 = tag()
    with app.test_request_context():
        session = app.appbuilder.session
        session.add(MemoNote(title=t3, noted_on=__import__("datetime").date(2012, 3, 5), unit_id=unit_id(app, "440606")))
        session.flush()
        log_event("logout", username=t3)
    assert [r.action for r in rows(app, username=t3)] == ["logout"]


def test_page_is_newest_first_filtered_and_in_chinese(app, as_user):
    from core.audit.trail import log_event

    t = tag()
    with app.app_context():
        log_event("login", username=t, unit_id=unit_id(app, "440600"))
        log_event("role_change", username=t, unit_id=unit_id(app, "440600"), detail={"roles": ["clerk"]})
    admin = as_user("admin")
    r = admin.get("/auditlog/list/", params={"_flt_0_username": t})
    assert r.status_code == 200
    text = r.text
    assert "审计日志" in text and "角色变更" in text and "登录成功" in text
    assert text.index("角色变更") < text.index("登录成功")  # newest first
    other = rows(app)[0]  # an older row of someone else: filtered out
    assert other.username != t and f"/auditlog/show/{other.id}\"" not in text
    import re

    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", text)
    row = rows(app, username=t)[-1]
    show = admin.get(f"/auditlog/show/{row.id}")
    assert show.status_code == 200 and "填报员" in show.text  # the role by its label


def test_changes_read_as_the_pages_show_the_records(app, as_user):
    """The 变更 column names fields by their labels and values as people read
    them: choice labels, units and users by name, check keys by the check's
    label, dates as 2012年3月5日, event details in Chinese; a page of rows
    reads the units and users it names in one statement per table."""
    import html
    import re

    from core.audit.trail import AuditLog

    t = tag()
    admin = as_user("admin")
    r = admin.post("/api/v1/kpitarget/", json={"plan_year": 2012, "check_key": "memo_notes", "tier": "county",
                                             "threshold": 5, "due": "2012-03-05", "period": "year"})
    assert r.status_code == 201, r.text
    target = r.json()["id"]
    fs, admin_id = unit_id(app, "440600"), None
    with db(app) as s:
        admin_id = s.execute(sa.text("SELECT id FROM ab_user WHERE username = 'admin'")).scalar_one()
        fs_name = s.execute(sa.text("SELECT name FROM qqh_unit WHERE id = :i"), {"i": fs}).scalar_one()
        common = {"username": t, "unit_id": fs, "at": __import__("datetime").datetime(2012, 3, 5, 9, 0),
                  "model": None, "record_id": None, "values_before": None}
        s.execute(sa.insert(AuditLog.__table__), [
            {**common, "action": "update", "model": "qqh_submission", "record_id": "1",
             "values_before": json.dumps({"status": "submitted", "reviewed_by_fk": None, "reviewed_on": None}),
             "values_after": json.dumps({"status": "approved", "reviewed_by_fk": admin_id,
                                         "reviewed_on": "2012-03-05T10:00:00"})},
            {**common, "action": "create", "model": "cultivation_youth_org", "record_id": "1",
             "values_after": json.dumps({"name": t, "category": "league_affairs", "reg_status": "registered",
                                         "unit_id": fs, "founded_on": "2011-05-04"})},
            {**common, "action": "role_change", "values_after": json.dumps({"user": t, "from": ["clerk"],
                                                                             "to": ["unit_admin"]})},
        ])
        s.commit()
    page = admin.get("/auditlog/list/", params={"_flt_0_username": t})
    assert page.status_code == 200
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.text))
    assert "状态: 待审核 → 已通过" in text
    assert "审核人: — → admin" in text and "审核时间: — → 2012年3月5日 10:00" in text
    assert "类别: 承接共青团事务类" in text and "状态: 已注册" in text and f"所属团组织: {fs_name}" in text
    assert "成立日期: 2011年5月4日" in text
    assert "原角色: 填报员" in text and "新角色: 单位管理员" in text
    for raw in ("submitted", "approved", "reviewed_by_fk", "league_affairs", "unit_id", "clerk", "2011-05-04"):
        assert raw not in text, raw
    # the target's own row: named by its check and tier, its date in Chinese
    show = admin.get("/auditlog/list/", params={"_flt_0_model": "qqh_kpi_target", "_flt_0_record_id": str(target)})
    shown = html.unescape(re.sub(r"<[^>]+>", " ", show.text))
    assert "2012 记事数 各县（市、区） ≥5 2012年3月5日" in shown
    assert "memo_notes" not in shown and "2012-03-05" not in shown
