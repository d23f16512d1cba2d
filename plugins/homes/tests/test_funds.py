"""Incubation funds and grants over the REST API: happy path, refusals,
scoping, and the balance that is never overdrawn — also when grants are
made at the same moment by concurrent requests."""

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from plugins.homes.models import Grant, IncubationFund
from plugins.homes.tests.conftest import FUND_API, GRANT_API, count, create, fund_payload, grant_payload, unique


def message_of(r, field) -> str:
    assert r.status_code == 422, r.text
    messages = r.json()["message"]
    assert field in messages, messages
    return "".join(messages[field])


def granted(db, fund) -> Decimal:
    with db() as s:
        return Decimal(s.execute(
            select(func.coalesce(func.sum(Grant.amount), 0)).where(Grant.fund_id == fund, Grant.status != "rejected")
        ).scalar_one())


def test_fund_and_grants_happy_path(as_user, unit_ids, make_org, db):
    fs = as_user("fs_clerk")
    fund = create(fs, FUND_API, fund_payload(unit_ids, from_other="5000", other_source="爱心企业"))
    got = fs.get(f"{FUND_API}{fund}").json()["result"]
    assert got["committed"] == "105000.00" and got["granted_total"] == "0.00" and got["balance"] == "105000.00"
    assert got["from_volunteer_foundation"] == "40000.00" and got["unit"]["code"] == "440600"
    assert "青少年发展基金会 60,000.00" in got["sources_text"] and "其他来源（爱心企业） 5,000.00" in got["sources_text"]

    org = make_org("440606")
    pk = create(fs, GRANT_API, grant_payload(fund, org, amount="30000.50"))
    got = fs.get(f"{GRANT_API}{pk}").json()["result"]
    assert got["amount"] == "30000.50" and got["status"] == "pending" and got["status_label"] == "待审批"
    assert got["unit"]["code"] == "440600"  # the fund's unit, not the organization's
    r = fs.put(f"{GRANT_API}{pk}", json={"status": "approved", "approved_on": "2012-06-20", "approved_by": "佛山团市委书记办公会"})
    assert r.status_code == 200, r.text
    rejected = create(fs, GRANT_API, grant_payload(fund, org, amount="70000"))
    assert fs.put(f"{GRANT_API}{rejected}", json={"status": "rejected", "approved_on": "2012-06-30"}).status_code == 200
    got = fs.get(f"{FUND_API}{fund}").json()["result"]
    assert got["granted_total"] == "30000.50" and got["balance"] == "74999.50"  # a rejected grant takes nothing
    # raising the committed amount is fine; lowering it below what was granted is not
    assert fs.put(f"{FUND_API}{fund}", json={"from_entrepreneurs": "10000"}).status_code == 200
    r = fs.put(f"{FUND_API}{fund}", json={"from_youth_foundation": "0", "from_volunteer_foundation": "0",
                                          "from_entrepreneurs": "0"})
    assert "不能少于基金已资助的金额" in message_of(r, "from_youth_foundation")
    assert fs.get(f"{FUND_API}{fund}").json()["result"]["committed"] == "115000.00"
    # a fund with grants cannot be deleted; a grant can
    r = fs.delete(f"{FUND_API}{fund}")
    assert r.status_code == 422 and "不能删除" in str(r.json()["message"])
    assert fs.delete(f"{GRANT_API}{rejected}").status_code == 200
    assert count(db, IncubationFund, id=fund) == 1 and count(db, Grant, fund_id=fund) == 1


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(name=" "), "name", "请填写基金名称"),
        (dict(established_on=None), "established_on", "成立日期"),
        (dict(established_on="2999-01-01"), "established_on", "不能晚于今天"),
        (dict(from_youth_foundation="-1"), "from_youth_foundation", "负"),
        (dict(from_youth_foundation="1.005"), "from_youth_foundation", "两位"),
        (dict(from_youth_foundation="0", from_volunteer_foundation="0"), "from_youth_foundation", "至少填写一项认缴金额"),
        (dict(from_other="100"), "other_source", "其他来源的名称"),
        (dict(from_entrepreneurs="abc"), "from_entrepreneurs", "不是有效的金额"),
    ],
)
def test_bad_fund_is_refused_and_nothing_written(as_user, unit_ids, db, changes, field, words):
    payload = fund_payload(unit_ids, **changes)
    r = as_user("fs_clerk").post(FUND_API, json=payload)
    assert words in message_of(r, field)
    assert count(db, IncubationFund, name=payload["name"].strip() or " ") == 0


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(amount="0"), "amount", "必须大于零"),
        (dict(amount="-10"), "amount", "负"),
        (dict(amount="100000.01"), "amount", "超出基金可用余额"),
        (dict(amount=None), "amount", "“金额（元）”为必填项"),
        (dict(purpose=""), "purpose", "资助用途"),
        (dict(applied_on="2012-05-01"), "applied_on", "申请日期不能早于成立日期"),
        (dict(applied_on="2999-01-01"), "applied_on", "不能晚于今天"),
        (dict(status="approved"), "approved_on", "审批日期"),
        (dict(status="approved", approved_on="2012-07-01"), "approved_by", "批准单位"),
        (dict(status="approved", approved_on="2012-05-30", approved_by="书记办公会"), "approved_on", "不能早于申请日期"),
        (dict(approved_on="2012-07-01"), "approved_on", "留空"),
        (dict(status="maybe"), "status", "审批状态"),
        (dict(org=None), "org", "“青年社会组织”为必填项"),
        (dict(org=10 ** 9), "org", "记录不存在"),  # as for an organization of another unit
    ],
)
def test_bad_grant_is_refused_and_nothing_written(as_user, unit_ids, make_org, db, changes, field, words):
    fs = as_user("fs_clerk")
    fund = create(fs, FUND_API, fund_payload(unit_ids))
    payload = grant_payload(fund, make_org())
    payload.update(changes)
    r = fs.post(GRANT_API, json={k: v for k, v in payload.items() if v is not ...})
    assert words in message_of(r, field)
    assert count(db, Grant, fund_id=fund) == 0


def test_the_balance_is_checked_on_every_write(as_user, unit_ids, make_org, db):
    fs = as_user("fs_clerk")
    fund = create(fs, FUND_API, fund_payload(unit_ids))  # 100,000.00
    org = make_org()
    first = create(fs, GRANT_API, grant_payload(fund, org, amount="60000"))
    r = fs.post(GRANT_API, json=grant_payload(fund, org, amount="40000.01"))
    assert "超出基金可用余额（40,000.00元）" in message_of(r, "amount")
    last = create(fs, GRANT_API, grant_payload(fund, org, amount="40000"))  # exactly the balance
    assert fs.get(f"{FUND_API}{fund}").json()["result"]["balance"] == "0.00"
    # raising a grant overdraws too; so does moving a grant to a fund without room
    assert "超出" in message_of(fs.put(f"{GRANT_API}{first}", json={"amount": "60000.01"}), "amount")
    other = create(fs, FUND_API, fund_payload(unit_ids, from_youth_foundation="50000", from_volunteer_foundation="0"))
    assert "超出" in message_of(fs.put(f"{GRANT_API}{first}", json={"fund": other}), "amount")
    # a decision is final
    assert fs.put(f"{GRANT_API}{last}", json={"status": "rejected", "approved_on": "2012-07-01"}).status_code == 200
    r = fs.put(f"{GRANT_API}{last}", json={"status": "pending", "approved_on": None})
    assert "审批结果一经作出不能更改" in message_of(r, "status")
    assert granted(db, fund) == Decimal("60000.00")


def test_scoping_of_funds_and_grants(as_user, unit_ids, make_org, db):
    fs, sz = as_user("fs_clerk"), as_user("sz_clerk")
    fund = create(fs, FUND_API, fund_payload(unit_ids))
    grant = create(fs, GRANT_API, grant_payload(fund, make_org()))
    for path in (f"{FUND_API}{fund}", f"{GRANT_API}{grant}"):
        assert sz.get(path).status_code == 404
        assert sz.put(path, json={"purpose": "越权", "name": "越权"}).status_code == 404
        assert sz.delete(path).status_code == 404
    assert sz.post(GRANT_API, json=grant_payload(fund, make_org("440300"))).status_code in (400, 422)
    assert fs.post(GRANT_API, json=grant_payload(fund, make_org("440300"))).status_code == 422  # org outside Foshan
    assert count(db, Grant, fund_id=fund) == 1
    r = fs.post(FUND_API, json=fund_payload(unit_ids, unit="440300"))
    assert r.status_code == 422 and "unit" in r.json()["message"]
    listed = sz.get(FUND_API, params={"q": "(page_size:100)"}).json()["result"]
    assert fund not in {f["id"] for f in listed}
    assert all(f["unit"]["code"].startswith("440300") for f in listed)
    # a county clerk sees neither the city's fund nor its grants
    sd = as_user("sd_clerk")
    assert sd.get(f"{FUND_API}{fund}").status_code == 404 and sd.get(f"{GRANT_API}{grant}").status_code == 404


def test_concurrent_grants_never_overdraw_the_fund(as_user, unit_ids, make_org, db, engine_name):
    """Eight clerks' grants of 30,000.00 hit a fund of 100,000.00 at the same
    moment: exactly three are affordable, the others are refused (422) and
    nothing of theirs is written; the balance never goes negative."""
    admin = as_user("admin")
    fund = create(admin, FUND_API, fund_payload(unit_ids, name=unique("并发测试基金")))
    orgs = [make_org() for _ in range(8)]
    clients = [as_user("fs_clerk") for _ in orgs]
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def post(i):
        payload = grant_payload(fund, orgs[i], amount="30000.00", purpose=f"并发资助{i}")
        barrier.wait()
        r = clients[i].post(GRANT_API, json=payload)
        results[i] = (r.status_code, r.json())

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(code for code, _ in results)
    assert codes == [201] * 3 + [422] * 5, results
    for code, body in results:
        if code == 422:
            assert "超出基金可用余额" in "".join(body["message"]["amount"]), body
    assert granted(db, fund) == Decimal("90000.00")
    assert count(db, Grant, fund_id=fund) == 3
    assert admin.get(f"{FUND_API}{fund}").json()["result"]["balance"] == "10000.00"


@pytest.mark.postgres
def test_waiting_writers_read_the_balance_after_the_lock_on_postgresql(app, engine_name, as_user, unit_ids, make_org, db):
    """A deterministic race on PostgreSQL: another writer holds the fund's
    row lock and takes 40,000.00 of 100,000.00; meanwhile eight grants of
    30,000.00 arrive and all wait on the lock (seen in pg_stat_activity).
    When the writer commits, they go one at a time and read the balance
    anew: exactly two fit. Without the lock all eight would have read
    100,000.00 and been written."""
    if engine_name != "postgresql":
        pytest.skip("PostgreSQL only")
    import datetime
    import time

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    fs = as_user("fs_clerk")
    fund = create(fs, FUND_API, fund_payload(unit_ids, name=unique("并发测试基金")))
    orgs = [make_org() for _ in range(8)]
    clients = [as_user("fs_clerk") for _ in orgs]
    with app.app_context():
        engine = app.extensions["qqh_db"].engine
    writer = Session(bind=engine)
    watcher = engine.connect()
    try:
        writer.execute(select(IncubationFund.id).where(IncubationFund.id == fund).with_for_update())
        unit_id = writer.execute(select(IncubationFund.unit_id).where(IncubationFund.id == fund)).scalar_one()
        writer.add(Grant(fund_id=fund, org_id=orgs[0], unit_id=unit_id, purpose="先到的资助", amount=Decimal("40000.00"),
                         applied_on=datetime.date(2012, 6, 1), status="pending"))
        writer.flush()
        results = []
        lock = threading.Lock()

        def post(i):
            r = clients[i].post(GRANT_API, json=grant_payload(fund, orgs[i], amount="30000.00", purpose=f"并发资助{i}"))
            with lock:
                results.append((r.status_code, r.json()))

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        waiting, deadline = 0, time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )).scalar_one()
            watcher.commit()
            if waiting >= len(clients):
                break
            time.sleep(0.05)
        assert waiting == len(clients), "the requests did not all wait on the fund's lock"
        writer.commit()
        for t in threads:
            t.join(60)
    finally:
        writer.close()
        watcher.close()
    codes = sorted(code for code, _ in results)
    assert codes == [201] * 2 + [422] * 6, results
    assert all("超出基金可用余额" in "".join(body["message"]["amount"]) for code, body in results if code == 422)
    assert granted(db, fund) == Decimal("100000.00")
    assert fs.get(f"{FUND_API}{fund}").json()["result"]["balance"] == "0.00"


def test_fund_record_page_panel_escaped_dated_and_scoped(as_user, unit_ids, make_org):
    """The fund's page is core's record page: its grants panel shows values as
    every page does (2012年6月1日, labels, 12,345.60), escaped; "add from here"
    opens the grant form with the fund chosen, each row's edit link comes back
    here; read-only users get neither; other subtrees get a 404."""
    fs = as_user("fs_clerk")
    fund = create(fs, FUND_API, fund_payload(unit_ids))
    name = unique("家园测试组织")
    org = make_org("440600", name=name)
    create(fs, GRANT_API, grant_payload(fund, org, purpose="<b>粗体</b>课堂", amount="12345.60"))
    page = fs.get(f"/incubationfund/show/{fund}")
    assert page.status_code == 200
    html = page.text
    panel = html.split('id="grants"', 1)[1]
    for text in ("2012年6月1日", "12,345.60", "待审批", "&lt;b&gt;粗体&lt;/b&gt;课堂", name):
        assert text in panel, text
    assert "<b>粗体" not in html and "2012-06-01" not in panel
    assert f'href="/incubationgrant/add?fund={fund}"' in panel and f"fund={fund}" in panel.split("qqh-edit-here", 1)[1][:200]
    assert "基本信息" in html and "qqh-fund-page" in html and 'id="money"' in html
    inspector = as_user("fs_inspector").get(f"/incubationfund/show/{fund}").text
    assert "12,345.60" in inspector and "/incubationgrant/add" not in inspector and "qqh-edit-here" not in inspector
    assert as_user("sd_clerk").get(f"/incubationfund/show/{fund}").status_code == 404
