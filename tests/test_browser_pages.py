"""Pages in a real browser: the search-as-you-type unit picker."""

import uuid

import pytest

from core.testing.browser import login, wait_for_options
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_unit_picker_searches_as_you_type_and_saves(browser, live, app):  # noqa: F811
    title = "浏览器记事" + uuid.uuid4().hex[:6]
    page = browser.new_page()
    try:
        login(page, live.url, "fs_clerk", PASSWORD)
        page.goto(live.url + "/memonoteview/add")
        assert page.locator("select#unit option").count() <= 2  # no list of every unit
        page.fill("#title", title)
        page.click("#unit + .select2 .select2-selection")
        page.locator(".select2-search__field").press_sequentially("宝安", delay=50)  # 深圳's: not in 佛山
        page.wait_for_selector(".select2-results__message:has-text('没有找到匹配的结果')", timeout=10000)
        page.locator(".select2-search__field").fill("")
        page.locator(".select2-search__field").press_sequentially("顺德", delay=50)
        options = page.locator(".select2-results__option")
        wait_for_options(page, 1)
        assert options.inner_text() == "顺德区（440606）"  # only 佛山's subtree, only matches
        options.click()
        page.locator("input[name=noted_on]").evaluate("el => { el.value = '2012-03-23'; }")
        page.click("form:not(.qqh-logout) button[type=submit], form:not(.qqh-logout) input[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:1000]
        page.goto(live.url + "/memonoteview/list/?_flt_2_title=" + title)
        row = page.locator("tr", has_text=title)
        assert "顺德区" in row.inner_text()
    finally:
        page.close()
