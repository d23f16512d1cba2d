"""No script from data, in a real browser: hostile text is stored in every
free-text column of every mapped model (found from the model registry, not
listed by hand), then every list and show page, every add page's pickers,
the dashboard's charts (tooltips shown) and the assessment page are opened
in Chromium. No script may run (``window.__xss`` stays undefined, no dialog
opens) and no markup from data may become an element (``.qqhx``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.testing.browser import login, wait_until
from tests.conftest import PASSWORD, LiveServer, initialise, make_app, new_database

pytestmark = pytest.mark.browser

PAYLOADS = [
    '"><img src=x onerror=window.__xss=1><i class=qqhx>',
    "'\"><script>window.__xss=1</script><i class=qqhx>",
    "javascript:window.__xss=1//<svg onload=window.__xss=1><i class=qqhx>",
]
# not free text: identifiers the app looks records up by, hashes, and tables of FAB's machinery
SKIP_COLUMNS = {"path", "password", "username", "check_key", "plugin", "uuid", "key", "key_hash", "lookup_hash", "registration_hash"}
SKIP_TABLES = {"ab_permission", "ab_role", "ab_view_menu", "ab_api_key", "ab_register_user", "ab_permission_view"}

PROBE = """() => ({
  xss: typeof window.__xss !== "undefined",
  injected: document.querySelectorAll(".qqhx, script:not([src]):not([nonce]):not([type='application/json'])").length
})"""


def free_text_columns(model_base):
    """(table, column, length) of every String/Text column long enough to be free text."""
    seen = set()
    for mapper in model_base.registry.mappers:
        table = mapper.local_table
        if table.name in SKIP_TABLES:
            continue
        for col in table.columns:
            if not isinstance(col.type, sa.String) or isinstance(col.type, sa.Enum):
                continue
            length = getattr(col.type, "length", None)
            if col.name in SKIP_COLUMNS or col.primary_key or col.foreign_keys or (length is not None and length < 50):
                continue
            if (table.name, col.name) not in seen:
                seen.add((table.name, col.name))
                yield table, col, length


@pytest.fixture(scope="module")
def hostile(engine_name, tmp_path_factory):
    if engine_name != "sqlite":
        pytest.skip("what a page renders does not depend on the engine: once, on SQLite")
    from flask_appbuilder import Model

    from core.ops.demo import load_demo

    url, drop = new_database(engine_name, tmp_path_factory)
    application = make_app(url, tmp_path_factory.mktemp("instance"))
    initialise(application)
    touched = []
    with application.app_context():
        load_demo(application)
        import datetime

        from core.kpi.engine import KpiTarget

        session = application.appbuilder.session
        for tier in ("province", "prd_city", "nonprd_city", "county"):
            session.add(KpiTarget(plan_year=2012, check_key="memo_notes", tier=tier, threshold=5, due=datetime.date(2012, 12, 31), period="year"))
        session.commit()
        engine = application.extensions["qqh_db"].engine
        with engine.begin() as conn:
            # the tables of this app's plugins (a model of a plugin it does not enable may be imported:
            # the example plugin's, by its own tests in the same process)
            present = set(sa.inspect(conn).get_table_names())
            columns = [c for c in free_text_columns(Model) if c[0].name in present]
            for i, (table, col, length) in enumerate(columns):
                value = sa.func.coalesce(col, "") + PAYLOADS[i % len(PAYLOADS)]
                if length:
                    value = sa.func.substr(value, 1, length)
                stmt = table.update().values({col.name: value})
                if table.name == "ab_user":
                    stmt = stmt.where(table.c.username != "admin")
                conn.execute(stmt)
                touched.append(f"{table.name}.{col.name}")
    server = LiveServer(application)
    yield application, server, touched
    server.stop()
    with application.app_context():
        application.extensions["qqh_db"].session.remove()
        application.extensions["qqh_db"].engine.dispose()
    drop()


def test_no_script_from_data_runs_anywhere(browser, hostile):  # noqa: F811
    app, server, touched = hostile
    assert {"qqh_unit.name", "memo_note.title", "training_enrolment.name", "ab_user.first_name"} <= set(touched)
    page = browser.new_page()
    dialogs, failures = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_default_timeout(10000)

    def visit(path):
        r = page.goto(server.url + path)
        assert r.status < 500, (path, r.status)
        return r

    def check(where):
        state = page.evaluate(PROBE)
        if state["xss"] or state["injected"] or dialogs:
            failures.append((where, state, list(dialogs)))
            dialogs.clear()

    try:
        login(page, server.url, "admin", PASSWORD)
        lists = sorted(r.rule for r in app.url_map.iter_rules() if r.endpoint.endswith(".list") and not r.arguments)
        adds = sorted(r.rule for r in app.url_map.iter_rules() if r.endpoint.endswith(".add") and not r.arguments)
        shown_hostile = 0
        for path in lists:
            visit(path)
            shown_hostile += page.locator("td", has_text="<i class=qqhx>").count() > 0
            check(path)
            link = page.locator("a[href*='/show/']").first
            if link.count():
                href = link.get_attribute("href")
                visit(href)
                check(href)
        assert shown_hostile >= 8  # the hostile text is on the pages, as text
        for path in adds:
            visit(path)
            for sel in page.locator(".select2-selection").all()[:2]:
                sel.click()
                box = page.locator(".select2-container--open .select2-search__field")
                if box.count():
                    box.press_sequentially("i", delay=20)
                    page.wait_for_timeout(250)
                page.keyboard.press("Escape")
            check(path)
        # the dashboard: every bar's tooltip, on both charts
        visit("/")
        wait_until(page, "() => window.qqhCharts && window.qqhCharts.progress")
        tips = page.evaluate("""() => {
          const out = [];
          for (const name of ["progress", "status"]) {
            const chart = window.qqhCharts[name];
            const n = name === "progress" ? chart.getOption().xAxis[0].data.length : chart.getOption().yAxis[0].data.length;
            for (let i = 0; i < n; i++) {
              chart.dispatchAction({ type: "showTip", seriesIndex: 0, dataIndex: i });
              const tip = [...document.querySelectorAll("div")].find(d => d.style.pointerEvents === "none" && d.style.position === "absolute" && d.textContent);
              if (tip) out.push(tip.textContent);
            }
          }
          return out;
        }""")
        check("dashboard tooltips")
        assert any("<i class=qqhx>" in t for t in tips), tips[:3]  # unit names shown, as text
        page.mouse.move(400, 400)
        check("dashboard hover")
        visit("/assessment/")
        check("/assessment/")
    finally:
        page.close()
    assert not failures, failures
