"""In a real browser: the organization's profile (core's record page) has
its services panel; "add a service" from there opens the form with the
organization chosen, its picker searches as you type within the user's
subtree, and the saved service is back on the profile's panel."""

import pytest

from core.testing.browser import login, wait_for_options
from core.testing import PASSWORD
from plugins.cultivation.tests.conftest import unique

pytestmark = pytest.mark.browser


def test_org_picker_and_service_form(pages_once, browser, live, as_user, org_payload):  # noqa: F811
    tag = unique("浏览器")
    mine = as_user("fs_clerk").post("/api/v1/youthorg/", json=org_payload(name=tag + "青年读书会", unit="440606"))
    assert mine.status_code == 201, mine.text
    theirs = as_user("sz_clerk").post("/api/v1/youthorg/", json=org_payload(name=tag + "深圳青年读书会", unit="440300"))
    assert theirs.status_code == 201, theirs.text
    pk = mine.json()["id"]
    page = browser.new_page()
    try:
        login(page, live.url, "fs_clerk", PASSWORD)
        page.goto(f"{live.url}/youthorg/profile/{pk}")
        assert "暂无服务记录" in page.locator("#services").inner_text()  # the panel, empty
        page.click("#services a.qqh-add-here")
        page.wait_for_load_state()
        assert page.locator("select#org option:checked").inner_text() == tag + "青年读书会"  # chosen from the profile
        assert page.locator("select#org option").count() <= 2  # no list of every organization
        page.click("#org + .select2 .select2-selection")
        page.locator(".select2-search__field").press_sequentially(tag, delay=30)
        wait_for_options(page, 1)
        option = page.locator(".select2-results__option")
        assert option.inner_text() == f"{tag}青年读书会（顺德区）"  # Shenzhen's namesake is not offered
        option.click()
        page.locator("select#kind").evaluate("el => { el.value = 'purchase'; }")
        page.locator("input[name=starts_on]").evaluate("el => { el.value = '2012-04-01'; }")
        page.locator("input[name=ends_on]").evaluate("el => { el.value = '2012-12-31'; }")
        page.fill("#contract", "青年读书会购买服务")
        page.fill("#amount", "35000")
        page.click("form:not(.qqh-logout) button[type=submit], form:not(.qqh-logout) input[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:1000]
        assert page.url.endswith(f"/youthorg/profile/{pk}")  # back on the record page
        row = page.locator("#services tbody tr")
        assert row.count() == 1
        for text in ("青年读书会购买服务", "35,000.00", "购买服务", "2012年4月1日"):
            assert text in row.inner_text(), text
    finally:
        page.close()
