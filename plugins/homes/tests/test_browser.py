"""亲青家园 in a real browser (Chromium), as a clerk of 佛山 uses it: a base
entered through the add form (the unit picker searches as you type and
offers only 佛山's subtree), its page, a resident organization added from
that page (the organization picker searches as you type), an incubation fund
and its grants entered through the forms, and a grant that would overdraw
the fund refused in the form, in Chinese, with nothing saved. The lists
show dates as 2012年3月5日 and amounts as 35,000.00.

The rows of the lists link to each record's page, and a picker with no
match says so in Chinese."""

import pytest
from playwright.sync_api import expect

from plugins.homes.models import Grant
from core.testing.browser import choose, login, search, submit, type_date
from core.testing import PASSWORD
from plugins.homes.tests.conftest import count, unique

pytestmark = pytest.mark.browser

ORGS = "/api/v1/youthorg/"


def test_base_through_the_forms_its_page_and_a_resident(pages_once, browser, live, as_user, org_payload):
    tag = unique("浏览器家园")
    fs = as_user("fs_clerk")
    r = fs.post(ORGS, json=org_payload(name=tag + "青年读书会", unit="440605"))
    assert r.status_code == 201, r.text
    org = r.json()["id"]
    r = as_user("sz_clerk").post(ORGS, json=org_payload(name=tag + "深圳读书会", unit="440300"))
    assert r.status_code == 201, r.text
    # the namesakes outside 佛山 exist: the province sees them
    province = as_user("admin")
    offered = {u["text"] for q in ("南山", "南海")
               for u in province.get("/api/v1/unit/picker", params={"q": q}).json()["results"]}
    assert {"南山区（440305）", "南海街道（440904001）"} <= offered, offered

    page = browser.new_page()
    page.set_default_timeout(10000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page, live.url, "fs_clerk", PASSWORD)
        page.goto(live.url + "/qinqinghome/add")
        assert page.locator("h1, h2, h3, .panel-title").filter(has_text="新增亲青家园").count() >= 1
        assert page.locator("select#unit option").count() <= 2  # no list of every unit
        page.fill("#name", tag)
        # the unit picker: 南山 is a district of 深圳 and a town of 佛山's 三水区;
        # 南海 a district of 佛山 and a street of 茂名: only 佛山's are offered
        search(page, "unit", "宝安", ["没有找到匹配的结果"])  # 深圳's district: not offered, said in Chinese
        page.keyboard.press("Escape")
        search(page, "unit", "南山", ["南山镇（440607106）"])
        page.keyboard.press("Escape")
        search(page, "unit", "南海", ["南海区（440605）"]).click()
        choose(page, "kind", "青年地带")
        page.fill("#address", "佛山市南海区桂城街道南海大道北58号")
        page.fill("#area", "350.5")
        type_date(page, "opened_on", "2012-03-05")
        type_date(page, "signage_on", "2012-05-04")
        page.check("#offers_venue")
        page.check("#offers_custody")
        page.fill("#manager", "陈嘉欣")
        page.fill("#phone", "0757-83331234")
        submit(page)
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:1000]

        # the list: the Chinese date, the area with two decimals, the services
        page.goto(live.url + "/qinqinghome/list/?_flt_0_name=" + tag)
        row = page.locator("tbody tr", has_text=tag)
        expect(row).to_have_count(1)
        cells = [t.strip() for t in row.locator("td").all_inner_texts()]
        # name, unit, kind, opened on, sign hung on, area, services (then the checklist score)
        assert cells[-8:-1] == [
            tag, "南海区（440605）", "青年地带", "2012年3月5日", "2012年5月4日", "350.50", "场地、财务托管"], cells

        # the base's page (its row has no "show" button: see the module's notes)
        show = row.locator("a[href*='/qinqinghome/show/']")
        pk = int(show.get_attribute("href").split("/show/")[1].split("?")[0])
        show.click()
        page.wait_for_load_state()
        assert page.locator("h2").first.inner_text().startswith(tag)
        record = page.locator(".qqh-home-page").inner_text()
        for text in ("南海区", "盘活原有阵地", "青年地带", "2012年3月5日", "350.50", "陈嘉欣", "标准化建设清单",
                     "暂无入驻组织"):
            assert text in record, text

        # a resident organization, added from the base's page
        page.locator("#residents a[href*='/homeresidency/add']").click()
        page.wait_for_load_state()
        assert page.locator("#home option:checked").inner_text().startswith(tag)  # the base is chosen already
        search(page, "org", tag, [f"{tag}青年读书会（南海区）"]).click()  # not Shenzhen's namesake
        choose(page, "status", "孵化中")
        type_date(page, "entered_on", "2012-04-01")
        submit(page)
        assert page.url.endswith(f"/qinqinghome/show/{pk}"), page.inner_text("form")[:1000]
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:1000]
        resident = page.locator("#residents tbody tr", has_text=tag + "青年读书会")
        expect(resident).to_have_count(1)
        for text in ("孵化中", "2012年4月1日"):
            assert text in resident.inner_text(), text
        assert resident.locator("a").first.get_attribute("href").endswith(f"/youthorg/profile/{org}")
        assert page.locator("#residents .badge").inner_text() == "1"
        assert not errors, errors
    finally:
        page.close()


def test_fund_and_grants_through_the_forms_and_an_overdraft_refused(browser, live, as_user, org_payload, db):
    tag = unique("浏览器基金")
    r = as_user("fs_clerk").post(ORGS, json=org_payload(name=tag + "志愿服务队", unit="440604"))
    assert r.status_code == 201, r.text
    fund_name = tag + "孵化基金"

    page = browser.new_page()
    page.set_default_timeout(10000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page, live.url, "fs_clerk", PASSWORD)
        page.goto(live.url + "/incubationfund/add")
        page.fill("#name", fund_name)
        search(page, "unit", "禅城", ["禅城区（440604）"]).click()
        type_date(page, "established_on", "2012-03-05")
        page.fill("#from_entrepreneurs", "35000")
        page.fill("#purpose", "扶持禅城区青年社会组织")
        submit(page)
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:1000]

        # the list: committed and balance with thousands and two decimals, the Chinese date
        page.goto(live.url + "/incubationfund/list/?_flt_0_name=" + fund_name)
        row = page.locator("tbody tr", has_text=fund_name)
        expect(row).to_have_count(1)
        cells = [t.strip() for t in row.locator("td").all_inner_texts()]
        # name, unit, established on, committed, granted, balance
        assert cells[-6:] == [fund_name, "禅城区（440604）", "2012年3月5日", "35,000.00", "0.00", "35,000.00"], cells

        # the fund's page (its row has no "show" button: see the module's notes)
        show = row.locator("a[href*='/incubationfund/show/']")
        pk = int(show.get_attribute("href").split("/show/")[1].split("?")[0])
        show.click()
        page.wait_for_load_state()
        assert page.locator("h2").first.inner_text().startswith(fund_name)
        assert "青企青商会员" in page.locator("#money").inner_text()
        assert page.locator(".qqh-committed").inner_text() == "35,000.00"
        assert page.locator(".qqh-balance").inner_text() == "35,000.00"

        # a grant, entered from the fund's page
        page.locator("#grants a[href*='/incubationgrant/add']").click()
        page.wait_for_load_state()
        assert page.locator("#fund option:checked").inner_text().startswith(fund_name)  # the fund is chosen already
        search(page, "org", tag, [f"{tag}志愿服务队（禅城区）"]).click()
        page.fill("#purpose", tag + "项目启动资金")
        type_date(page, "applied_on", "2012-04-01")
        page.fill("#amount", "20000")
        choose(page, "status", "已批准")
        type_date(page, "approved_on", "2012-04-10")
        page.fill("#approved_by", "共青团佛山市委员会")
        submit(page)
        assert page.url.endswith(f"/incubationfund/show/{pk}"), page.inner_text("form")[:1000]
        assert page.locator(".alert-success").count() == 1
        assert page.locator(".qqh-granted").inner_text() == "20,000.00"
        assert page.locator(".qqh-balance").inner_text() == "15,000.00"
        granted = page.locator("#grants tbody tr", has_text=tag + "志愿服务队")
        expect(granted).to_have_count(1)
        for text in ("已批准", "2012年4月1日", "2012年4月10日", "20,000.00", "共青团佛山市委员会"):
            assert text in granted.inner_text(), text

        # a grant one cent beyond the balance: the form comes back with the
        # input and a Chinese message beside the amount; nothing is saved
        page.locator("#grants a[href*='/incubationgrant/add']").click()
        page.wait_for_load_state()
        search(page, "org", tag, [f"{tag}志愿服务队（禅城区）"]).click()
        page.fill("#purpose", tag + "第二期活动经费")
        type_date(page, "applied_on", "2012-05-01")
        page.fill("#amount", "15000.01")
        with page.expect_response(lambda r: r.request.method == "POST" and "/incubationgrant/add" in r.url) as answer:
            submit(page)
        assert answer.value.status == 200  # the form again, not a 500 nor a redirect
        assert "/incubationgrant/add" in page.url
        message = page.locator("tr", has=page.locator("#amount")).locator(".alert-danger")
        expect(message).to_have_text("该笔资助15,000.01元超出基金可用余额（15,000.00元），未予保存。")
        assert page.locator("form .alert-danger").count() == 1
        assert page.input_value("#amount") == "15000.01" and page.input_value("#purpose") == tag + "第二期活动经费"
        assert count(db, Grant, fund_id=pk) == 1
        page.goto(f"{live.url}/incubationfund/show/{pk}")
        assert page.locator(".qqh-balance").inner_text() == "15,000.00"
        expect(page.locator("#grants tbody tr")).to_have_count(1)

        # the grants' list: the Chinese dates and the amount with two decimals
        page.goto(live.url + "/incubationgrant/list/?_flt_0_purpose=" + tag)
        row = page.locator("tbody tr", has_text=tag + "项目启动资金")
        expect(row).to_have_count(1)
        cells = row.inner_text()
        for text in (fund_name, "2012年4月1日", "2012年4月10日", "20,000.00", "已批准", "禅城区"):
            assert text in cells, (text, cells)
        assert not errors, errors
    finally:
        page.close()
