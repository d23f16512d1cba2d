"""The dashboard in a real browser (Debian's Chromium through Playwright):
log in through the form, see the charts drawn, drill down from the province
to a city, and save the screenshot the README shows (docs/dashboard.png)."""

from __future__ import annotations

import datetime
import os
import random

import pytest
from sqlalchemy import select

from core.kpi import KpiTarget
from core.units import Unit
from tests.browser import wait_until
from tests.conftest import PASSWORD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCREENSHOT = os.path.join(ROOT, "docs", "dashboard.png")
YEAR = 2012
TITLE = "看板测试记事"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def figures(app):
    """Notes of 2012 in every city and county, and targets for them."""
    from plugins.sample.models import SampleNote

    rnd = random.Random(YEAR)
    with app.app_context():
        s = app.appbuilder.session
        if s.execute(select(SampleNote.id).where(SampleNote.title == TITLE).limit(1)).first() is None:
            units = s.execute(select(Unit.id, Unit.level).where(Unit.level.in_(("city", "county")))).all()
            rows = []
            for unit_id, level in units:
                for _ in range(rnd.randint(1, 12 if level == "city" else 9)):
                    day = datetime.date(YEAR, rnd.randint(1, 6), rnd.randint(1, 28))
                    rows.append(dict(unit_id=unit_id, title=TITLE, noted_on=day, created_on=datetime.datetime.now(), changed_on=datetime.datetime.now()))
            s.execute(SampleNote.__table__.insert(), rows)
        have = {(t.tier, t.due) for t in s.execute(select(KpiTarget).where(KpiTarget.plan_year == YEAR, KpiTarget.check_key == "sample_notes")).scalars()}
        for tier, threshold, due in (
            ("province", 500, datetime.date(YEAR, 12, 31)),
            ("prd_city", 60, datetime.date(YEAR, 6, 30)),
            ("nonprd_city", 45, datetime.date(YEAR, 9, 30)),
            ("county", 6, datetime.date(YEAR, 5, 31)),
        ):
            if (tier, due) not in have:
                # the cities' and the province's figures roll up their subtree (含下级)
                scope = "own" if tier == "county" else "subtree"
                s.add(KpiTarget(plan_year=YEAR, check_key="sample_notes", tier=tier, threshold=threshold, due=due, period="year", scope=scope))
        s.commit()


CHART_STATE = """
(id) => {
  const el = document.getElementById(id);
  const inst = el && window.echarts ? echarts.getInstanceByDom(el) : null;
  const canvas = el ? el.querySelector("canvas") : null;
  let inked = 0;
  if (canvas) {
    const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < px.length; i += 4) { if (px[i] > 0) inked++; }
  }
  return {
    instance: !!inst,
    width: canvas ? canvas.width : 0,
    height: canvas ? canvas.height : 0,
    inked: inked,
    bars: inst ? inst.getOption().series[0].data.length : 0,
  };
}
"""


def assert_drawn(page, chart_id, bars=None):
    wait_until(page, f"() => document.querySelector('#{chart_id} canvas') !== null")
    page.wait_for_timeout(600)  # let the entry animation finish
    state = page.evaluate(CHART_STATE, chart_id)
    assert state["instance"], state
    assert state["width"] > 100 and state["height"] > 100, state
    assert state["inked"] > 2000, state  # pixels were actually drawn
    if bars is not None:
        assert state["bars"] == bars, state
    return state


def test_dashboard_login_chart_drilldown_screenshot(browser, live, figures, engine_name, tmp_path):
    # the README's picture comes from the SQLite run (two engines in parallel must not both write it)
    screenshot = SCREENSHOT if engine_name == "sqlite" else str(tmp_path / "dashboard.png")
    outside, errors = [], []
    context = browser.new_context(viewport={"width": 1360, "height": 1000}, locale="zh-CN")
    try:
        page = context.new_page()
        page.on("request", lambda req: None if req.url.startswith((live.url, "data:")) else outside.append(req.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        # anonymous: the login prompt; then the login form
        page.goto(live.url + "/")
        assert page.locator("#qqh-dashboard").count() == 0
        page.goto(live.url + "/login/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(live.url + "/")
        assert page.locator("#qqh-dashboard").count() == 1

        # choose the plan year and date with the page's own form
        page.select_option("#qqh-year", str(YEAR))
        page.fill("#qqh-as-of", f"{YEAR}-07-15")
        page.locator(".qqh-dash-form button[type=submit]").click()
        page.wait_for_load_state("load")
        title = page.locator("h2.qqh-dash-title").inner_text()
        assert str(YEAR) in title and "广东省" in title and "2012-07-15" in title
        cities = page.locator("tr.qqh-child-row").count()
        assert cities >= 21
        assert_drawn(page, "qqh-chart-progress", bars=cities)
        assert_drawn(page, "qqh-chart-status")
        legend = page.locator("#qqh-legend").inner_text()
        for word in ("达标", "进行中", "逾期", "不适用"):
            assert word in legend
        # colour and words together: every status cell says its status
        assert page.locator("tr.qqh-child-row td[data-status]").count() >= cities
        assert page.locator("td[data-status=met] .qqh-status-word").first.inner_text() == "达标"
        assert page.locator("td[data-status=overdue] .qqh-status-word").first.inner_text() == "逾期"
        os.makedirs(os.path.dirname(screenshot), exist_ok=True)
        page.screenshot(path=screenshot)

        # drill down into 佛山市
        page.locator('tr[data-unit="440600"] a.qqh-drill').click()
        page.wait_for_load_state("load")
        assert "佛山市" in page.locator("h2.qqh-dash-title").inner_text()
        assert "广东省" in page.locator(".qqh-crumbs").inner_text()
        assert page.locator('tr[data-unit="440606"]').count() == 1
        assert_drawn(page, "qqh-chart-progress", bars=page.locator("tr.qqh-child-row").count())

        # the export link answers with a workbook
        href = page.locator("#qqh-export").get_attribute("href")
        response = page.request.get(live.url + href)
        assert response.status == 200 and response.body()[:2] == b"PK"
        assert not errors, errors
    finally:
        context.close()
    assert not outside, f"the page reached outside the server: {outside}"
    assert os.path.getsize(screenshot) > 20000
