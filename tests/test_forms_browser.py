"""Issue 19 in a real Chromium, one story of a 佛山 clerk: from the list to a
new organization's form — required fields starred, the date picker in
Chinese, the unit found by its pinyin initials — every problem told in one
round, then saved and back on the list; an amount typed as 5万元; a search
that finds by "contains"; pages that do not exist answer in Chinese; a city
admin switches a module off for a county below it."""

import re

import pytest

from core.testing.browser import login, search, submit, type_date
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_clerk_fills_forms_in_one_round(engine_name, browser, live, as_user, app):
    if engine_name != "sqlite":
        pytest.skip("the pages are the same on both engines; once is enough for the suite's time (HTTP tests cover both)")
    import uuid

    name = f"青年志愿者协会{uuid.uuid4().hex[:6]}"
    page = browser.new_page()
    try:
        login(page, live.url, "fs_clerk", PASSWORD)
        page.goto(live.url + "/youthorg/list/")
        page.goto(live.url + "/youthorg/add")  # as a link from the list does (the Referer says where from)

        # 1. required fields starred; the rest not
        label = lambda field: page.locator(f"label[for={field}]").inner_text().strip()  # noqa: E731
        assert label("category").endswith("*") and label("service_field").endswith("*") and label("reg_status").endswith("*")
        assert not label("credit_code").endswith("*")

        # the date picker speaks Chinese: 2026年12月, 日 一 二 …, weeks from Monday
        page.click("#founded_on")
        title = page.locator(".datepicker-days .datepicker-switch").inner_text()
        assert re.fullmatch(r"\d{4}年\d{1,2}月", title), title
        days = page.locator(".datepicker-days th.dow").all_inner_texts()
        assert days == ["一", "二", "三", "四", "五", "六", "日"], days
        page.keyboard.press("Escape")

        # 3. the unit picker finds 顺德区 by its initials
        search(page, "unit", "sdq", ["顺德区（440606）"]).first.click()

        # 1. everything wrong at once: the browser does not stop the submit, the server says it all
        page.fill("#name", name)
        page.fill("#credit_code", "91440606MA4UXXXX0")  # 17 characters
        page.fill("#contact_phone", "12345")
        submit(page)
        problems = page.locator("td .alert-danger").all_inner_texts()
        joined = " ".join(problems)
        assert len(problems) == 5, problems
        assert all(words in joined for words in ("类别", "服务领域", "注册状态", "统一社会信用代码", "电话")), problems

        # 2. corrected and saved: back on the list it came from, not the dashboard
        page.locator("select#category").select_option("interest")
        page.locator("select#service_field").select_option("creative_culture")
        page.locator("select#reg_status").select_option("unregistered")
        page.fill("#credit_code", "")
        page.fill("#contact_phone", "13812345678")
        page.fill("#founded_on", "")
        type_date(page, "founded_on", "2011-01-01")
        submit(page)
        assert page.url.rstrip("/").endswith("/youthorg/list"), page.url
        assert page.locator(".alert-success").count() == 1

        # 3. a search by "contains", the default operator
        page.goto(live.url + "/youthorg/list/?_flt_0_name=" + name[3:])
        assert name in page.inner_text("body")

        # 4. a page that does not exist, in Chinese
        page.goto(live.url + "/no/such/page")
        body = page.inner_text("body")
        assert "未找到" in body and "Not Found" not in body
    finally:
        page.close()

    # 6. 佛山's administrator switches the organizations module off for 南海区, below it
    from core.tenancy import modules
    from core.tenancy.units import unit_by_code

    with app.app_context():
        nanhai = unit_by_code(app.appbuilder.session, "440605").id
    page = browser.new_page()
    try:
        login(page, live.url, "fs_admin", PASSWORD)
        page.goto(live.url + "/modules/")
        search(page, "qqh-module-unit", "nhq", ["南海区（440605）"]).first.click()
        page.click("form.qqh-module-unit button[type=submit]")
        page.wait_for_load_state()
        assert "南海区" in page.locator("h2").inner_text()
        page.locator("input[name=plugin][value=cultivation]").uncheck()
        page.locator("button.btn-primary[type=submit]", has_text="保存").click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/modules/?unit={nanhai}") and page.locator(".alert-success").count() == 1
        assert not page.locator("input[name=plugin][value=cultivation]").is_checked()
        with app.app_context():
            s = app.appbuilder.session
            assert "cultivation" in modules.switched_off(s, unit_by_code(s, "440605"))
    finally:
        page.close()
        with app.app_context():
            s = app.appbuilder.session
            modules.set_module(s, unit_by_code(s, "440605"), "cultivation", True)
            s.commit()
