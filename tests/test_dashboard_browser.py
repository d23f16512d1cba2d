"""The dashboard in a real browser (Debian's Chromium through Playwright):
log in through the form, see the charts drawn, drill down from the province
to a city, and save the screenshot the README shows (docs/dashboard.png)."""

from __future__ import annotations

import datetime
import os
import random

import pytest
from sqlalchemy import select

from core.kpi.engine import KpiTarget
from core.tenancy.units import Unit
from core.testing.browser import wait_until
from tests.conftest import PASSWORD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCREENSHOT = os.path.join(ROOT, "docs", "dashboard.png")
YEAR = 2012
TITLE = "看板测试记事"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def figures(app):
    """Notes of 2012 in every city and county, and targets for them."""
    from tests.memo_plugin.models import MemoNote

    rnd = random.Random(YEAR)
    with app.app_context():
        s = app.appbuilder.session
        if s.execute(select(MemoNote.id).where(MemoNote.title == TITLE).limit(1)).first() is None:
            units = s.execute(select(Unit.id, Unit.level).where(Unit.level.in_(("city", "county")))).all()
            rows = []
            for unit_id, level in units:
                for _ in range(rnd.randint(1, 12 if level == "city" else 9)):
                    day = datetime.date(YEAR, rnd.randint(1, 6), rnd.randint(1, 28))
                    rows.append(dict(unit_id=unit_id, title=TITLE, noted_on=day, created_on=datetime.datetime.now(), changed_on=datetime.datetime.now()))
            s.execute(MemoNote.__table__.insert(), rows)
        have = {(t.tier, t.due) for t in s.execute(select(KpiTarget).where(KpiTarget.plan_year == YEAR, KpiTarget.check_key == "memo_notes")).scalars()}
        for tier, threshold, due in (
            ("province", 500, datetime.date(YEAR, 12, 31)),
            ("prd_city", 60, datetime.date(YEAR, 6, 30)),
            ("nonprd_city", 45, datetime.date(YEAR, 9, 30)),
            ("county", 6, datetime.date(YEAR, 5, 31)),
        ):
            if (tier, due) not in have:
                # the cities' and the province's figures roll up their subtree (含下级)
                scope = "own" if tier == "county" else "subtree"
                s.add(KpiTarget(plan_year=YEAR, check_key="memo_notes", tier=tier, threshold=threshold, due=due, period="year", scope=scope))
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
        assert str(YEAR) in title and "广东省" in title and "2012年7月15日" in title
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


# -- issue 19: the dashboard explains and ranks, prints on A4, works on a phone -------------
AS_OF = datetime.date(YEAR, 7, 15)
COUNTY_DUE = datetime.date(YEAR, 5, 31)  # the county target of ``figures``

NAVBAR_ROWS = """() => {
  const tops = [...document.querySelectorAll('.navbar-nav > li')].filter(li => li.offsetParent).map(li => li.getBoundingClientRect().top);
  return new Set(tops.map(t => Math.floor((t - Math.min(...tops)) / 20))).size;  // a row is ~50 px: sub-pixel offsets are one row
}"""
SCROLL_WIDTH = "() => document.scrollingElement.scrollWidth"
PRINT_STATE = """() => ({
  width: document.scrollingElement.scrollWidth,
  navbar: getComputedStyle(document.querySelector('.navbar')).display,
  urls: [...document.querySelectorAll('a[href]')].map(a => getComputedStyle(a, '::after').content)
        .filter(c => c && c !== 'none' && c !== 'normal' && c !== '""'),
  colours: [...document.querySelectorAll('td[data-status]')].slice(0, 40).map(td => getComputedStyle(td).backgroundColor),
})"""


def late_notes(app, code):
    """Notes a county owns dated after its due date, up to the as-of date (what the page must show)."""
    from tests.memo_plugin.models import MemoNote

    with app.app_context():
        s = app.appbuilder.session
        unit_id = s.execute(select(Unit.id).where(Unit.code == code)).scalar_one()
        return len(s.execute(select(MemoNote.id).where(
            MemoNote.unit_id == unit_id, MemoNote.noted_on > COUNTY_DUE, MemoNote.noted_on <= AS_OF)).all())


def cell_figures(page):
    """{unit code: (value, target, percent text, after-due or 0)} of the memo_notes column."""
    return dict(page.evaluate("""() => [...document.querySelectorAll('tr.qqh-child-row')].map(tr => {
      const c = tr.querySelector('.qqh-cell[data-check=memo_notes]');
      const late = c && c.querySelector('.qqh-after-due');
      return [tr.dataset.unit, c ? [Number(c.dataset.value), Number(c.dataset.target),
        c.querySelector('.qqh-percent').textContent.trim(), late ? Number(late.dataset.after) : 0] : null];
    })"""))


def test_dashboard_explains_ranks_prints_and_fits_a_phone(browser, live, app, figures, engine_name):
    if engine_name != "sqlite":
        pytest.skip("the pages are the same on both engines; once is enough for the suite's time (HTTP tests cover both)")
    errors = []
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live.url + "/login/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(live.url + "/")
        # the navbar on one row at 1366 px, the province administrator's (the widest); every entry still there
        assert page.evaluate(NAVBAR_ROWS) == 1
        links = page.evaluate("() => [...document.querySelectorAll('.navbar a[href]')].map(a => a.getAttribute('href'))")
        for href in ("/users/list/", "/roles/list/", "/notices/", "/reporting/", "/messages/", "/auditlog/list/",
                     "/lowcode/", "/users/userinfo/"):
            assert href in links, href

        # 佛山's counties: what counts is said, records after the due date are shown apart
        q = f"/?year={YEAR}&as_of={AS_OF.isoformat()}&unit=440600"
        page.goto(live.url + q)
        assert "期限当天及之前" in page.locator("#qqh-counts-rule").inner_text()
        cells = cell_figures(page)
        assert len(cells) >= 5
        late_seen = 0
        for code, (value, target, pct, late) in cells.items():
            assert late == late_notes(app, code), (code, late)
            assert pct == f"{int(value * 100 / target)}%", (code, value, target, pct)
            late_seen += late > 0
        assert late_seen, "no county of 佛山 has a note after its due date: the check would prove nothing"
        text = page.locator('tr[data-unit] .qqh-after-due').first.inner_text()
        assert text.startswith("期限后新增 ")

        # ranking: by completion, best first, ranks 1.. with ties sharing one
        page.locator("#qqh-sort-rank").click()
        page.wait_for_load_state("load")
        ranked = page.evaluate("""() => [...document.querySelectorAll('tr.qqh-child-row')].map(tr =>
          [Number(tr.querySelector('.qqh-rank').textContent), parseFloat(tr.querySelector('.qqh-completion').dataset.completion)])""")
        assert ranked[0][0] == 1 and [r for r, _ in ranked] == sorted(r for r, _ in ranked)
        assert [c for _, c in ranked] == sorted((c for _, c in ranked), reverse=True)
        # sorting by a target: its completion, highest first
        page.locator('th[data-col="memo_notes:year"] a').click()
        page.wait_for_load_state("load")
        by_col = [v / t for v, t, _p, _l in cell_figures(page).values()]
        assert by_col == sorted(by_col, reverse=True)
        # the charts' labels are wrapped or given room, never cut
        wait_until(page, "() => window.qqhCharts && qqhCharts.status.getOption().yAxis")
        assert page.evaluate("() => qqhCharts.status.getOption().yAxis[0].axisLabel.overflow") == "break"
        assert page.evaluate("() => qqhCharts.progress.getOption().grid[0].containLabel") is True

        # print on A4 landscape (277 mm ≈ 1047 px): no URLs after links, colours kept, nothing wider
        page.set_viewport_size({"width": 1047, "height": 740})
        page.emulate_media(media="print")
        from tests.memo_plugin.models import MemoNote

        with app.app_context():
            note_id = app.appbuilder.session.execute(select(MemoNote.id).where(MemoNote.title == TITLE).limit(1)).scalar_one()
        for path in (q, f"/memonoteview/show/{note_id}", f"/assessment/?year={YEAR}"):
            page.goto(live.url + path)
            page.wait_for_load_state("load")
            state = page.evaluate(PRINT_STATE)
            assert state["width"] <= 1047 and state["navbar"] == "none" and not state["urls"], (path, state)
            assert all(c not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)") for c in state["colours"]), (path, state)
        page.emulate_media(media="screen")
    finally:
        context.close()

    # a phone (390 × 844): login, dashboard, adding and editing a record, nothing scrolls sideways
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live.url + "/login/")
        assert page.evaluate(SCROLL_WIDTH) <= 390
        page.fill("input[name=username]", "fs_clerk")
        page.fill("input[name=password]", PASSWORD)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(live.url + "/")
        page.goto(live.url + f"/?year={YEAR}&as_of={AS_OF.isoformat()}")
        assert page.locator("#qqh-dash-table").count() == 1
        assert page.evaluate(SCROLL_WIDTH) <= 390
        # the wide table scrolls inside its own box
        assert page.evaluate("() => { const b = document.querySelector('.qqh-scroll'); return b.scrollWidth > b.clientWidth && b.getBoundingClientRect().right <= 390; }")
        title = "手机记事" + str(random.randrange(10 ** 6))
        page.goto(live.url + "/memonoteview/add")
        assert page.evaluate(SCROLL_WIDTH) <= 390
        page.fill("#title", title)
        page.click("#unit + .select2 .select2-selection")
        page.locator(".select2-search__field").press_sequentially("顺德", delay=30)
        page.locator(".select2-results__option", has_text="顺德区").first.click()
        page.locator("input[name=noted_on]").evaluate(f"el => {{ el.value = '{YEAR}-06-20'; }}")
        with page.expect_navigation():
            page.locator("form:not(.qqh-logout) button[type=submit], form:not(.qqh-logout) input[type=submit]").first.tap()
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:800]
        from tests.memo_plugin.models import MemoNote

        with app.app_context():
            note_id = app.appbuilder.session.execute(select(MemoNote.id).where(MemoNote.title == title)).scalar_one()
        page.goto(live.url + f"/memonoteview/edit/{note_id}")
        assert page.evaluate(SCROLL_WIDTH) <= 390
        page.fill("#title", title + "改")
        with page.expect_navigation():
            page.locator("form:not(.qqh-logout) button[type=submit], form:not(.qqh-logout) input[type=submit]").first.tap()
        assert page.locator(".alert-success").count() == 1, page.inner_text("body")[:800]
        page.goto(live.url + f"/memonoteview/show/{note_id}")
        assert title + "改" in page.inner_text("body")
        assert page.evaluate(SCROLL_WIDTH) <= 390
    finally:
        phone.close()
    assert not errors, errors


def test_screenshot_script_takes_every_picture(browser, live, figures, engine_name, tmp_path):
    """bin/screenshots' photographing (its take()) against this server: five PNGs, each small."""
    if engine_name != "sqlite":
        pytest.skip("the script's pages do not depend on the engine: once is enough")
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("qqh_screenshots", os.path.join(ROOT, "bin", "screenshots"))
    spec = importlib.util.spec_from_loader("qqh_screenshots", loader)
    script = importlib.util.module_from_spec(spec)
    loader.exec_module(script)
    files = script.take(live.url, str(tmp_path), browser=browser, admin=("admin", PASSWORD), clerk=("fs_clerk", PASSWORD),
                        resource="memonote", list_path="/memonoteview/list/", dashboard_query=f"?year={YEAR}")
    names = sorted(os.path.basename(f) for f in files)
    assert names == ["dashboard.png", "import-dry-run.png", "list.png", "phone.png", "record.png"]
    for f in files:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
        assert 3000 < os.path.getsize(f) <= script.MAX_BYTES, (f, os.path.getsize(f))
    # the committed pictures are small too
    committed = os.path.join(ROOT, "docs", "screenshots")
    for name in names:
        assert os.path.getsize(os.path.join(committed, name)) <= script.MAX_BYTES, name
