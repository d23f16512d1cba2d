"""亲青汇训练营 in a real browser (Chromium): a clerk of 佛山 enters a camp
through the form, enrols a leader from the camp's page (the organization
picker searches as you type, within 佛山), is refused in the form when the
camp is full, and downloads the printable sign-in sheet; an inspector of
佛山 sees the trainees' ID numbers and phones masked in the lists and the
detail pages."""

import io
import openpyxl
import pytest
from playwright.sync_api import expect

from plugins.training.models import Enrolment
from core.testing.browser import choose, login, search, submit, type_date
from core.testing import PASSWORD
from plugins.training.tests.conftest import CAMPS, ENROL, count, create, new_mobile, new_resident_id, unique

pytestmark = pytest.mark.browser

ORGS = "/api/v1/youthorg/"


def masked_id(number: str) -> str:
    return number[:6] + "********" + number[-4:]


def masked_phone(number: str) -> str:
    return number[:3] + "****" + number[-4:]


def fill_enrolment(page, tag, name, phone, resident_id):
    search(page, "youth_org", tag, [f"{tag}青年志愿服务队（顺德区）"]).click()  # not Shenzhen's namesake
    page.fill("#name", name)
    choose(page, "gender", "男")
    page.fill("#phone", phone)
    page.fill("#resident_id", resident_id)
    page.fill("#role", "秘书长")
    type_date(page, "enrolled_on", "2012-04-01")


def test_camp_enrolment_full_camp_and_sign_in_sheet(browser, live, as_user, org_payload, db):
    tag = unique("浏览器训练")
    r = as_user("fs_clerk").post(ORGS, json=org_payload(name=tag + "青年志愿服务队", unit="440606"))
    assert r.status_code == 201, r.text
    r = as_user("sz_clerk").post(ORGS, json=org_payload(name=tag + "深圳志愿服务队", unit="440300"))
    assert r.status_code == 201, r.text
    title = tag + "骨干训练营"
    rid, phone, name = new_resident_id(male=True), new_mobile(), unique("张")[:6]

    page = browser.new_page()
    page.set_default_timeout(10000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page, live.url, "fs_clerk", PASSWORD)

        # a camp of one place, through the form
        page.goto(live.url + "/trainingcamp/add")
        page.fill("#title", title)
        page.fill("#session_no", "1")
        search(page, "unit", "佛山市", ["佛山市（440600）"]).click()
        type_date(page, "starts_on", "2012-04-20")
        type_date(page, "ends_on", "2012-04-22")
        page.fill("#place", "佛山市顺德区青年之家")
        page.fill("#capacity", "1")
        choose(page, "status", "报名中")
        page.fill("#media_partners", "佛山日报")
        submit(page)
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:1000]

        page.goto(live.url + "/trainingcamp/list/?_flt_0_title=" + title)
        row = page.locator("tbody tr", has_text=title)
        expect(row).to_have_count(1)
        cells = row.inner_text()
        for text in ("佛山市", "2012年4月20日", "2012年4月22日", "佛山市顺德区青年之家", "报名中"):
            assert text in cells, (text, cells)

        # its page, from the row; enrol a leader from there
        row.locator("a[href*='/trainingcamp/show/']").click()
        page.wait_for_load_state()
        camp = int(page.url.split("/show/")[1].split("?")[0])
        assert title in page.inner_text("body")
        page.click("a.qqh-enrol")
        page.wait_for_load_state()
        assert page.locator("#camp option:checked").inner_text().startswith(title)  # the camp is chosen already
        fill_enrolment(page, tag, name, phone, rid)
        submit(page)
        assert page.url.endswith(f"/trainingcamp/show/{camp}"), page.inner_text("form")[:1000]
        assert page.locator(".alert-success").count() == 1
        # the roster on the camp's page: a clerk sees the ID number and phone masked
        html = page.content()
        assert name in html and masked_id(rid) in html and masked_phone(phone) in html
        assert rid not in html and phone not in html

        # the camp is full: the form says so in Chinese, keeps the input, saves nothing
        page.click("a.qqh-enrol")
        page.wait_for_load_state()
        other = unique("李")[:6]
        fill_enrolment(page, tag, other, new_mobile(), new_resident_id(male=True))
        with page.expect_response(lambda r: r.request.method == "POST" and "/trainingenrolment/add" in r.url) as answer:
            submit(page)
        assert answer.value.status == 200  # the form again, not a 500 nor a redirect
        message = page.locator("tr", has=page.locator("#camp")).locator(".alert-danger")
        expect(message).to_have_text("训练营已满员：1个名额已全部报满。")
        assert page.locator("form .alert-danger").count() == 1
        assert page.input_value("#name") == other
        assert count(db, Enrolment, camp_id=camp) == 1

        # the printable sign-in sheet, from the camp's page
        page.goto(f"{live.url}/trainingcamp/show/{camp}")
        with page.expect_download() as download:
            page.click("a.qqh-signin")
        assert download.value.suggested_filename == f"{title}（第1期）签到表.xlsx"
        with open(download.value.path(), "rb") as fh:
            ws = openpyxl.load_workbook(io.BytesIO(fh.read())).worksheets[0]
        rows = [[c.value for c in r] for r in ws.iter_rows()]
        assert rows[0][0] == f"{title}（第1期）签到表"
        assert "2012年4月20日—2012年4月22日" in rows[1][0] and "佛山市顺德区青年之家" in rows[1][0]
        assert rows[3] == ["序号", "学员姓名", "性别", "青年社会组织", "在组织中的职务", "手机号码", "身份证号码", "签名"]
        assert rows[4] == [1, name, "男", tag + "青年志愿服务队", "秘书长", masked_phone(phone), masked_id(rid), None]
        assert len(rows) == 5
        assert not errors, errors
    finally:
        page.close()


def test_inspector_sees_personal_data_masked(pages_once, browser, live, as_user, org_payload, camp_payload):
    fs = as_user("fs_clerk")
    title = unique("浏览器脱敏训练营")
    camp = create(fs, CAMPS, camp_payload(title=title, capacity=5))
    r = fs.post(ORGS, json=org_payload(name=unique("脱敏测试组织"), unit="440606"))
    assert r.status_code == 201, r.text
    rid, phone, name = new_resident_id(male=False), new_mobile(), unique("王")[:6]
    pk = create(fs, ENROL, dict(camp=camp, youth_org=r.json()["id"], name=name, gender="female", phone=phone,
                                resident_id=rid, role="会长", enrolled_on="2012-04-01"))

    page = browser.new_page()
    page.set_default_timeout(10000)
    try:
        login(page, live.url, "fs_inspector", PASSWORD)

        def shows_masked(where):
            html = page.content()
            assert rid not in html and phone not in html, where  # not even hidden in the page
            return html

        page.goto(live.url + "/trainingenrolment/list/?_flt_0_name=" + name)
        row = page.locator("tbody tr", has_text=name)
        expect(row).to_have_count(1)
        cells = row.inner_text()
        assert masked_id(rid) in cells and masked_phone(phone) in cells and "女" in cells, cells
        shows_masked("enrolment list")

        row.locator(f"a[href*='/trainingenrolment/show/{pk}']").click()
        page.wait_for_load_state()
        text = page.inner_text("body")
        assert name in text and masked_id(rid) in text and masked_phone(phone) in text, text[:1000]
        shows_masked("enrolment page")

        page.goto(f"{live.url}/trainingcamp/show/{camp}")
        assert page.locator("a.qqh-enrol").count() == 0  # an inspector only reads
        html = shows_masked("camp page")
        assert masked_id(rid) in html and masked_phone(phone) in html

        page.goto(live.url + "/trainingtrainee/list/?_flt_0_name=" + name)
        row = page.locator("tbody tr", has_text=name)
        expect(row).to_have_count(1)
        assert masked_id(rid) in row.inner_text() and masked_phone(phone) in row.inner_text()
        shows_masked("trainee list")
    finally:
        page.close()
