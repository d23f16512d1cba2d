"""KPI engine, targets and the report: hand-computed values on a small
subtree of our own, statement counts, scoping, targets CRUD permissions."""

from __future__ import annotations

import datetime
import io
import json
import types
import uuid

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.kpi import engine as kpi
from core.kpi.engine import KpiCheck, KpiTarget
from core.tenancy.units import Unit, compute_path
from core.testing import statements_of

D = datetime.date
YEAR = 2013  # this module's plan year: its targets are its own


def titles_query(plan_year, as_of):
    """Distinct (unit, title) pairs: stands in for "people trained"."""
    from tests.memo_plugin.models import MemoNote

    return (
        select(MemoNote.unit_id, MemoNote.title)
        .where(MemoNote.noted_on >= D(plan_year, 1, 1), MemoNote.noted_on <= as_of)
        .distinct()
    )


TITLES = KpiCheck("kt_titles", "distinct titles", "titles", titles_query, rollup="distinct")


def make_unit(session, parent, code, level, prd=True):
    path, depth = compute_path(parent, code)
    u = Unit(code=code, name=f"测试{code}", level=level, tier=level, prd=prd, undergraduate=False, parent=parent, path=path, depth=depth)
    session.add(u)
    session.flush()
    return u


@pytest.fixture(scope="module")
def tree(app):
    """City C → counties A, B → towns A1, B1, with notes whose counts are
    worked out by hand in the tests."""
    from tests.memo_plugin.models import MemoNote

    tag = uuid.uuid4().hex[:5].upper()
    with app.app_context():
        s = app.appbuilder.session
        province = s.execute(select(Unit).where(Unit.code == "440000")).scalar_one()
        c = make_unit(s, province, f"KC{tag}", "city")
        a = make_unit(s, c, f"KA{tag}", "county")
        b = make_unit(s, c, f"KB{tag}", "county")
        a1 = make_unit(s, a, f"KA1{tag}", "town")
        b1 = make_unit(s, b, f"KB1{tag}", "town")
        notes = [
            (c, D(2013, 1, 10), "p1"),
            (a, D(2013, 2, 1), "p1"),
            (a, D(2013, 3, 15), "p2"),
            (a1, D(2013, 1, 5), "p2"),
            (a1, D(2013, 4, 2), "p3"),
            (a1, D(2013, 5, 20), "p3"),
            (b, D(2013, 3, 31), "p1"),
            (b1, D(2013, 6, 30), "p4"),
            (b1, D(2012, 12, 31), "p5"),  # the year before: never counted for 2013
        ]
        for unit, day, title in notes:
            s.add(MemoNote(unit_id=unit.id, title=title, noted_on=day))
        # the roll-up targets count 含下级 (a target counts its unit's own records by default)
        targets = [
            KpiTarget(plan_year=YEAR, check_key="memo_notes", tier="prd_city", threshold=8, due=D(2013, 6, 30), period="year", scope="subtree"),
            KpiTarget(plan_year=YEAR, check_key="memo_notes", tier="county", threshold=3, due=D(2013, 4, 30), period="year", scope="subtree"),
            KpiTarget(plan_year=YEAR, check_key="kt_titles", tier="county", threshold=3, due=D(2013, 3, 31), period="year", scope="subtree"),
            KpiTarget(plan_year=YEAR, check_key="kt_missing", tier="county", threshold=1, due=D(2013, 12, 31), period="year"),
            KpiTarget(plan_year=YEAR, check_key="memo_notes", tier="town", threshold=1, due=D(2013, 12, 31), period="quarter"),
        ]
        s.add_all(targets)
        s.commit()
        codes = types.SimpleNamespace(C=c.code, A=a.code, B=b.code, A1=a1.code, B1=b1.code)
    return codes


def checks(app):
    with app.app_context():
        return {**kpi.registered_checks(), "kt_titles": TITLES}


def run(app, code, as_of, depth=None, extra=True, today=None):
    """The report as it was on ``today`` (default: the as-of day itself)."""
    with app.app_context():
        s = app.appbuilder.session
        root = s.execute(select(Unit).where(Unit.code == code)).scalar_one()
        rep = kpi.evaluate(s, YEAR, root, as_of, depth=depth, checks=checks(app) if extra else None, today=today or as_of)
        assert rep.as_dicts() == [r.as_dict() for r in rep.rows]  # the API's rows, built per unit and target
        return {(r.unit.code, r.target.check_key, r.target.period): r for r in rep.rows}


def test_sum_rollup_covers_the_subtree_and_skips_other_years(app, tree):
    rows = run(app, tree.C, D(2013, 12, 31))
    # C: 1 + A 2 + A1 3 + B 1 + B1 1 (its 2012 note is not counted) = 8, cut at its due 6-30
    assert rows[(tree.C, "memo_notes", "year")].value == 8
    # A's county target is due 4-30: A 2 + A1 (1-05, 4-02) = 4; B: 1 (B1's note is 6-30)
    assert rows[(tree.A, "memo_notes", "year")].value == 4
    assert rows[(tree.B, "memo_notes", "year")].value == 1
    # the unit's own records (本级) come in the same pass: C 1, A 2, B 1 by the due dates
    assert [rows[(c, "memo_notes", "year")].own_value for c in (tree.C, tree.A, tree.B)] == [1, 2, 1]
    assert rows[(tree.C, "memo_notes", "year")].subtree_value == 8
    assert rows[(tree.C, "memo_notes", "year")].values_differ and not rows[(tree.B, "memo_notes", "year")].values_differ


def test_own_scope_counts_only_the_units_own_records(app, tree):
    with app.app_context():
        s = app.appbuilder.session
        t = s.execute(select(KpiTarget).where(KpiTarget.plan_year == YEAR, KpiTarget.tier == "prd_city")).scalar_one()
        t.scope = kpi.OWN
        s.commit()
    try:
        row = run(app, tree.C, D(2013, 12, 31))[(tree.C, "memo_notes", "year")]
        # C owns one note: 1 < 8 although its subtree has 8
        assert (row.value, row.own_value, row.subtree_value, row.status) == (1, 1, 8, kpi.OVERDUE)
        assert row.as_dict()["scope"] == "own" and row.as_dict()["subtree_value"] == 8
    finally:
        with app.app_context():
            s = app.appbuilder.session
            t = s.execute(select(KpiTarget).where(KpiTarget.plan_year == YEAR, KpiTarget.tier == "prd_city")).scalar_one()
            t.scope = kpi.SUBTREE
            s.commit()


def test_distinct_rollup_counts_a_member_once(app, tree):
    with app.app_context():
        s = app.appbuilder.session
        root = s.execute(select(Unit).where(Unit.code == tree.C)).scalar_one()
        values = kpi.compute_values(
            s, YEAR, {"kt_titles": {D(2013, 12, 31)}}, {"kt_titles": TITLES}, root, {tree.C, tree.A, tree.B}
        )
    size = {code: len(values[("kt_titles", D(2013, 12, 31), code)]) for code in (tree.C, tree.A, tree.B)}
    # p1 appears in C, A and B: one member for C. Summing children would give 3 + 2 + 1 = 6.
    assert size == {tree.C: 4, tree.A: 3, tree.B: 2}


def test_as_of_cut_off(app, tree):
    with app.app_context():
        s = app.appbuilder.session
        root = s.execute(select(Unit).where(Unit.code == tree.C)).scalar_one()
        cut = D(2013, 3, 31)
        values = kpi.compute_values(
            s, YEAR, {"memo_notes": {cut}, "kt_titles": {cut}}, checks(app), root, {tree.C, tree.A, tree.B}
        )
    assert [values.get(("memo_notes", cut, c), 0) for c in (tree.C, tree.A, tree.B)] == [5, 3, 1]
    assert [len(values[("kt_titles", cut, c)]) for c in (tree.C, tree.A, tree.B)] == [2, 2, 1]


def test_status_of_each_kind(app, tree):
    late = run(app, tree.C, D(2013, 12, 31))
    assert late[(tree.C, "memo_notes", "year")].status == kpi.MET  # 8 ≥ 8
    assert late[(tree.A, "memo_notes", "year")].status == kpi.MET  # 4 ≥ 3
    assert late[(tree.B, "memo_notes", "year")].status == kpi.OVERDUE  # 1 < 3, due 4-30
    assert late[(tree.A, "kt_titles", "year")].status == kpi.OVERDUE  # 2 distinct by 3-31 < 3
    missing = late[(tree.A, "kt_missing", "year")]
    assert missing.status == kpi.NOT_APPLICABLE and missing.value is None
    early = run(app, tree.C, D(2013, 3, 1))
    assert early[(tree.C, "memo_notes", "year")].value == 3  # C 1-10, A 2-01, A1 1-05
    assert early[(tree.B, "memo_notes", "year")].status == kpi.IN_PROGRESS
    assert early[(tree.A, "kt_titles", "year")].status == kpi.IN_PROGRESS
    row = early[(tree.B, "memo_notes", "year")].as_dict()
    assert row["unit"] == tree.B and row["tier"] == "prd_county" and row["target"] == 3
    assert row["due"] == "2013-04-30" and row["status"] == "in_progress" and row["value"] == 0


def test_quarterly_targets_show_this_quarter_and_flag_missed_ones(app, tree):
    may = run(app, tree.C, D(2013, 5, 25))
    a1, b1 = may[(tree.A1, "memo_notes", "quarter")], may[(tree.B1, "memo_notes", "quarter")]
    assert (a1.quarter, a1.value, a1.status, a1.due) == (2, 2, kpi.MET, D(2013, 6, 30))  # 4-02 and 5-20
    # B1 had nothing in Q1 (its 2012 note does not count): Q1 is listed as missed,
    # the row shows the current quarter, still in progress
    assert (b1.value, b1.status, b1.missed_quarters) == (0, kpi.IN_PROGRESS, [1])
    # after the plan year a missed quarter makes the target overdue
    after = run(app, tree.C, D(2013, 12, 31), today=D(2014, 1, 5))[(tree.B1, "memo_notes", "quarter")]
    assert after.status == kpi.OVERDUE and 1 in after.missed_quarters
    august = run(app, tree.C, D(2013, 8, 15))
    a1 = august[(tree.A1, "memo_notes", "quarter")]
    assert (a1.quarter, a1.value, a1.status, a1.missed_quarters) == (3, 0, kpi.IN_PROGRESS, [])
    past = run(app, tree.C, D(2013, 6, 30))  # asking inside a past quarter shows that quarter
    assert past[(tree.B1, "memo_notes", "quarter")].value == 1


def count_statements(app, fn):
    with app.app_context():
        engine = app.extensions["qqh_db"].engine
    with statements_of(engine) as seen:
        fn()
    return len(seen)


def test_statements_are_bounded_by_checks_not_units(app, tree):
    from tests.memo_plugin.models import MemoNote

    all_checks = checks(app)
    with app.app_context():
        s = app.appbuilder.session
        used = {t.check_key for t in s.execute(select(KpiTarget).where(KpiTarget.plan_year == YEAR)).scalars()}
        province = s.execute(select(Unit).where(Unit.code == "440000")).scalar_one()
        city = make_unit(s, province, f"KS{uuid.uuid4().hex[:5].upper()}", "city")
        county = make_unit(s, city, city.code + "X", "county")
        s.add(MemoNote(unit_id=county.id, title="x", noted_on=D(2013, 2, 1)))
        s.commit()
        code, county_code = city.code, county.code
    n_checks = len(used & set(all_checks))

    def report(root_code, live=False):  # the computation itself (core.kpi.live keeps it: see test_kpilive)
        def go():
            with app.app_context():
                s = app.appbuilder.session
                root = s.execute(select(Unit).where(Unit.code == root_code)).scalar_one()
                kpi.evaluate(s, YEAR, root, D(2013, 8, 15), depth=None, checks=all_checks, live=live)
        return go

    small = count_statements(app, report(code))
    # 40 more towns with notes: the statement count must not move
    with app.app_context():
        s = app.appbuilder.session
        county = s.execute(select(Unit).where(Unit.code == county_code)).scalar_one()
        for i in range(40):
            town = make_unit(s, county, f"{county_code}T{i:02d}", "town")
            s.add(MemoNote(unit_id=town.id, title=f"t{i}", noted_on=D(2013, 2, 1)))
        s.commit()
    bigger = count_statements(app, report(code))
    whole_province = count_statements(app, report("440000"))
    assert small == bigger == whole_province
    # the root, the units, the targets, the switched-off modules, then one statement per check
    assert small <= 4 + n_checks
    # kept figures: once computed, two statements (the versions, the figures) instead of the checks'
    count_statements(app, report(code, live=True))
    assert count_statements(app, report(code, live=True)) <= 4 + 2  # + the switched-off modules
    assert run(app, code, D(2013, 12, 31))[(county_code, "memo_notes", "year")].value == 41


@pytest.mark.parametrize("username", ["admin", "fs_clerk"])
def test_warm_pages_send_few_statements(app, tree, username):
    """The landing page and the report API, warm (figures kept), send a fixed handful of statements, the
    same whatever the unit (the province's 122 children or a city's): the table versions, the targets, the
    units, the switched-off modules below, the kept figures' versions and figures; the user (with unit,
    roles and groups), the to-do list and what the user's unit switched off kept since nothing was written.
    (Lazily loaded, the user's unit, roles and groups were three more on every request, the Public role's
    permissions one more on every protected one, the to-do list's sources five or more, and the "after the
    due date" figures a check's computation each.) A list page and a REST list send two."""
    from core.testing import PASSWORD

    client = app.test_client()
    assert client.post("/login/", data={"username": username, "password": PASSWORD}).status_code == 302
    with app.app_context():
        engine = app.extensions["qqh_db"].engine
    unit = "440000" if username == "admin" else "440600"
    urls = {"page": f"/?year={YEAR}&unit={unit}&as_of={YEAR}-08-15",
            "api": f"/api/v1/kpi/report?year={YEAR}&unit={unit}&as_of={YEAR}-08-15",
            "list page": "/memonoteview/list/", "REST list": "/api/v1/memonote/?q=(page_size:25)"}
    counts = {}
    for name, url in urls.items():
        assert client.get(url).status_code == 200  # computes and keeps the figures
        assert client.get(url).status_code == 200
        with statements_of(engine) as seen:
            assert client.get(url).status_code == 200
        counts[name] = [" ".join(q.split())[:80] for q in seen]
    assert len(counts["api"]) <= 6, counts["api"]
    assert len(counts["page"]) <= 7, "\n".join(counts["page"])
    assert not any("memo_note" in q for q in counts["api"] + counts["page"]), counts  # no check computed: all kept
    # a list: the table versions and the page (the user, the modules switched off, the low-code
    # definitions' version and the to-do list are kept while nothing is written, the record count while
    # its tables are not)
    assert len(counts["list page"]) <= 2 and len(counts["REST list"]) <= 2, counts
    every = [q for found in counts.values() for q in found]
    assert not any("ab_user" in q or "ab_role" in q or "ab_group" in q for q in every), counts


def test_checks_on_one_table_share_one_scan_with_the_same_figures(app, tree, monkeypatch):
    """Plain grouped counts and sums of one table, at several cut-offs, are
    read in ONE statement of conditional aggregates (core.kpi.engine._fused_scans):
    the figures, 本级 and 含下级, are those of one statement per check and
    cut-off; a distinct check keeps its own statement."""
    from sqlalchemy import func

    from tests.memo_plugin.models import MemoNote

    def count_p1(plan_year, as_of):  # COUNT(*), another condition
        return (select(MemoNote.unit_id, func.count()).where(MemoNote.title == "p1", MemoNote.noted_on <= as_of)
                .group_by(MemoNote.unit_id))

    def sum_ids(plan_year, as_of):  # a SUM (NULL where nothing counts)
        return (select(MemoNote.unit_id, func.sum(MemoNote.id).label("n"))
                .where(MemoNote.noted_on >= D(plan_year, 1, 1), MemoNote.noted_on <= as_of).group_by(MemoNote.unit_id))

    with app.app_context():
        all_checks = {**checks(app), "kt_p1": KpiCheck("kt_p1", "p1", "notes", count_p1),
                      "kt_ids": KpiCheck("kt_ids", "ids", "ids", sum_ids)}
        engine = app.extensions["qqh_db"].engine
        s = app.appbuilder.session
        cutoffs = {k: {D(2013, 1, 31), D(2013, 3, 31), D(2013, 12, 31)} for k in ("memo_notes", "kt_p1", "kt_ids", "kt_titles")}
        wanted = set(vars(tree).values())
        results = []
        for fuse in (True, False):
            if not fuse:
                monkeypatch.setattr(kpi, "_fused_scans", lambda *a: [])
            for code in (tree.C, "440000"):  # a subtree (records restricted to it) and the top
                root = s.execute(select(Unit).where(Unit.code == code)).scalar_one()
                own: dict = {}
                with statements_of(engine) as seen:
                    values = kpi.compute_values(s, YEAR, cutoffs, all_checks, root, wanted, own=own)
                nonzero = lambda d: {k: v for k, v in d.items() if v}
                results.append((fuse, code, len(seen), nonzero(values), nonzero(own)))
        fused, plain = results[:2], results[2:]
        for (_f, code, n_fused, values, own), (_p, _c, n_plain, values_p, own_p) in zip(fused, plain):
            assert (values, own) == (values_p, own_p), code
            assert n_fused == n_plain - 2 == 1 + 1 + 1, (code, n_fused, n_plain)  # the unit paths, ONE scan for three checks, the distinct one
        values = fused[0][3]
        assert values[("memo_notes", D(2013, 3, 31), tree.C)] == 5 and values[("kt_p1", D(2013, 3, 31), tree.C)] == 3
        assert values[("kt_titles", D(2013, 12, 31), tree.C)] == {"p1", "p2", "p3", "p4"}
        assert ("kt_ids", D(2013, 1, 31), tree.B) not in values  # nothing counted yet: no figure, as without sharing


def test_report_api_values_and_scoping(app, tree, as_user, http):
    admin = as_user("admin")
    r = admin.get(f"/api/v1/kpi/report?year={YEAR}&unit={tree.C}&as_of=2013-12-31")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["unit"] == tree.C and body["as_of"] == "2013-12-31"
    rows = {(x["unit"], x["check"]): x for x in body["result"]}
    # the unit and its children only
    assert {u for u, _c in rows} == {tree.C, tree.A, tree.B}
    assert set(rows[(tree.C, "memo_notes")]) >= {"unit", "unit_name", "tier", "check", "label", "value", "target", "due", "status"}
    assert rows[(tree.B, "memo_notes")]["status"] == "overdue"

    fs = as_user("fs_clerk")
    assert fs.get(f"/api/v1/kpi/report?year={YEAR}&unit=440300").status_code == 404
    assert fs.get(f"/api/v1/kpi/report?year={YEAR}&unit={tree.C}").status_code == 404
    own = fs.get(f"/api/v1/kpi/report?year={YEAR}")
    assert own.status_code == 200 and own.json()["unit"] == "440600"
    assert fs.get(f"/api/v1/kpi/report?year={YEAR}&unit=440606").status_code == 200
    assert as_user("sz_clerk").get(f"/api/v1/kpi/report?year={YEAR}&unit=440600").status_code == 404
    assert http.get(f"/api/v1/kpi/report?year={YEAR}").status_code == 401

    for query in ("year=abc", "year=1999", "", f"year={YEAR}&as_of=2013-02-30", f"year={YEAR}&as_of=tomorrow"):
        bad = admin.get("/api/v1/kpi/report?" + query)
        assert bad.status_code == 400, (query, bad.text)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in bad.json()["message"]), bad.json()

    xlsx = fs.get(f"/api/v1/kpi/report/xlsx?year={YEAR}&unit=440600&as_of={YEAR}-03-05")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    title = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]["A1"].value
    assert f"截至{YEAR}年3月5日" in title and f"{YEAR}-03-05" not in title, title  # as on the pages
    assert fs.get(f"/api/v1/kpi/report/xlsx?year={YEAR}&unit=440300").status_code == 404


def test_dashboard_is_scoped(app, tree, as_user, http):
    assert "/login" in http.get("/").text or "登录" in http.get("/").text
    admin = as_user("admin")
    page = admin.get(f"/?year={YEAR}&unit={tree.C}&as_of=2013-12-31")
    assert page.status_code == 200
    assert f'data-unit="{tree.A}"' in page.text and "qqh-dashboard-data" in page.text
    fs = as_user("fs_clerk")
    assert fs.get(f"/?year={YEAR}&unit=440300").status_code == 404
    home = fs.get(f"/?year={YEAR}")
    assert home.status_code == 200 and 'data-unit="440606"' in home.text and 'data-unit="440300"' not in home.text


def test_targets_crud_permissions(app, as_user):
    new = {"plan_year": YEAR, "check_key": "kt_crud", "tier": "county", "threshold": 3, "due": "2013-05-31", "period": "year"}
    fs = as_user("fs_clerk")
    assert fs.get("/api/v1/kpitarget/").status_code == 200
    assert fs.post("/api/v1/kpitarget/", json=new).status_code == 403
    assert as_user("fs_admin").post("/api/v1/kpitarget/", json=new).status_code == 403
    admin = as_user("admin")
    r = admin.post("/api/v1/kpitarget/", json=new)
    assert r.status_code == 201, r.text
    pk = r.json()["id"]
    assert fs.put(f"/api/v1/kpitarget/{pk}", json={**new, "threshold": 4}).status_code == 403
    assert fs.delete(f"/api/v1/kpitarget/{pk}").status_code == 403
    assert admin.put(f"/api/v1/kpitarget/{pk}", json={**new, "threshold": 4}).status_code == 200
    assert fs.get(f"/api/v1/kpitarget/{pk}").json()["result"]["threshold"] == 4
    for field, value in (("due", "2014-01-01"), ("tier", "galaxy"), ("threshold", -1), ("check_key", "Bad Key")):
        bad = admin.post("/api/v1/kpitarget/", json={**new, field: value})
        assert bad.status_code == 422, (field, bad.text)
        assert field in bad.json()["message"]
    # pages: clerks read, only province administrators add
    assert fs.get("/kpitargetview/list/").status_code == 200
    assert fs.get("/kpitargetview/add").status_code == 403
    assert admin.get("/kpitargetview/add").status_code == 200
    assert admin.delete(f"/api/v1/kpitarget/{pk}").status_code == 200
    # the page's form: a good target is saved, a bad one is refused with a message
    form = {"plan_year": YEAR, "check_key": "memo_notes", "tier": "nonprd_county", "threshold": "7", "due": "2013-10-31", "period": "year"}
    assert admin.post("/kpitargetview/add", data=form).status_code == 302
    refused = admin.post("/kpitargetview/add", data={**form, "due": "2014-10-31"}, allow_redirects=True)
    assert refused.status_code == 200 and "完成期限必须在计划年度之内" in refused.text
    assert fs.post("/kpitargetview/add", data={**form, "threshold": "8"}).status_code == 403
    with app.app_context():
        saved = app.appbuilder.session.execute(
            select(KpiTarget).where(KpiTarget.plan_year == YEAR, KpiTarget.tier == "nonprd_county")
        ).scalars().all()
        assert [(t.threshold, t.due) for t in saved] == [(7, D(2013, 10, 31))]
        saved_pk = saved[0].id
    # editing it with a negative threshold: the Chinese message on the field, nothing written (was FAB's "Database Error")
    edited = admin.post(f"/kpitargetview/edit/{saved_pk}", data={**form, "threshold": "-1"})
    assert edited.status_code == 200 and "Database Error" not in edited.text, edited.text[:300]
    assert "目标值必须是不小于0的数" in edited.text.split('name="threshold"', 1)[1].split('name="due"', 1)[0]
    with app.app_context():
        saved = app.appbuilder.session.get(KpiTarget, saved_pk)
        assert saved.threshold == 7
        app.appbuilder.session.delete(saved)
        app.appbuilder.session.commit()
    with app.app_context():
        assert app.appbuilder.session.get(KpiTarget, pk) is None


def test_default_targets_are_the_notice_and_load_once(app):
    year = 2041
    with app.app_context():
        s = app.appbuilder.session
        added = kpi.load_default_targets(year)
        assert added >= 25
        assert kpi.load_default_targets(year) == 0
        targets = list(s.execute(select(KpiTarget).where(KpiTarget.plan_year == year)).scalars())

    def applying(check, tier, kpi_tier, undergraduate=False):
        unit = types.SimpleNamespace(tier=tier, kpi_tier=kpi_tier, undergraduate=undergraduate)
        return {(t.threshold, t.due.strftime("%m-%d"), t.period) for t in targets if t.check_key == check and t.tier in kpi.unit_target_tiers(unit)}

    end = "12-31"
    assert applying("direct_contacts", "city", "prd_city") == {(30, "03-31", "year")}
    assert applying("direct_contacts", "county", "prd_county") == {(10, "04-30", "year")}
    assert applying("direct_contacts", "city", "nonprd_city") == {(20, "04-30", "year")}
    assert applying("direct_contacts", "county", "nonprd_county") == {(5, "04-30", "year")}
    assert applying("funds", "city", "prd_city") == {(1, "05-31", "year")}
    assert applying("funds", "city", "nonprd_city") == {(1, "06-30", "year")}
    assert applying("homes", "county", "prd_county") == {(1, "05-31", "year")}
    assert applying("homes", "county", "nonprd_county") == {(1, "06-30", "year")}
    assert applying("homes", "town", "town") == {(1, end, "year")}
    assert applying("cultivated", "city", "prd_city") == {(30, end, "year")}
    assert applying("cultivated", "city", "nonprd_city") == {(15, end, "year")}
    assert applying("trained_leaders", "county", "nonprd_county") == {(50, end, "year")}
    assert applying("trained_leaders", "province", "province") == {(1000, end, "year")}
    assert applying("pilots", "province", "province") == {(10, "03-20", "year")}
    assert applying("pilots", "city", "nonprd_city") == {(5, "03-20", "year")}
    assert applying("pilots", "county", "prd_county") == {(2, "03-20", "year")}
    assert applying("pilots", "university", "university", undergraduate=True) == {(5, "03-20", "year")}
    assert applying("camps", "province", "province") == {(10, end, "year")}
    assert applying("camps", "city", "prd_city") == {(1, end, "quarter")}
    # an area's targets arrive with the plugin of its checks: none for a check no plugin provides
    # (the notice's 5 visit days a quarter come with the plugin that counts them)
    with app.app_context():
        assert {t.check_key for t in targets} <= set(kpi.registered_checks())
        from core.kpi import assessment as asm

        indicators = asm.indicators_of(s, year)  # the assessment's, from the same plugins, in the notice's order
        assert [(i.key, i.check_key, i.weight, i.method, i.label) for i in indicators] == [
            ("homes", "homes", 20, "ratio", "“亲青家园”建设状况"),
            ("funds", "funds", 15, "reached", "孵化基金成立情况"),
            ("cultivation", "cultivated", 20, "ratio", "青年社会组织孵化培育状况"),
            ("training", "trained_leaders", 20, "ratio", "骨干培训数量"),
        ]
        assert asm.full_points(indicators) == 75 and asm.not_installed(indicators) == []
    # whose records count: a city's camps and trained leaders include its counties', nothing else
    scopes = {(t.check_key, t.tier): t.scope for t in targets}
    assert {k for k, v in scopes.items() if v == kpi.SUBTREE} == {
        ("camps", "city"), ("trained_leaders", "prd_city"), ("trained_leaders", "nonprd_city")}
    assert scopes[("pilots", "province")] == scopes[("camps", "province")] == scopes[("funds", "prd_city")] == kpi.OWN
    # the city's quarterly camps count from Q2 (the notice came out in March)
    assert {(t.check_key, t.first_quarter) for t in targets if t.period == "quarter"} == {("camps", 2)}
    assert applying("fund_amount", "province", "province") == {(5_000_000, end, "year")}


def test_cli_report_and_targets_load(app, tree, tmp_path):
    from core.cli import cli

    runner = CliRunner()
    r = runner.invoke(cli, ["kpi", "report", "--year", str(YEAR), "--unit", tree.C, "--as-of", "2013-12-31", "--format", "json"], obj={"app": app})
    assert r.exit_code == 0, r.output
    rows = {(x["unit"], x["check"]): x for x in json.loads(r.output)}
    assert rows[(tree.C, "memo_notes")]["value"] == 8
    out = tmp_path / "r.xlsx"
    r = runner.invoke(cli, ["kpi", "report", "--year", str(YEAR), "--unit", tree.C, "--format", "xlsx", "--out", str(out)], obj={"app": app})
    assert r.exit_code == 0 and out.read_bytes()[:2] == b"PK"
    r = runner.invoke(cli, ["kpi", "report", "--year", str(YEAR), "--unit", tree.C, "--as-of", "2013-13-01"], obj={"app": app})
    assert r.exit_code != 0 and "Traceback" not in r.output
    r = runner.invoke(cli, ["targets", "load", "--year", "2042"], obj={"app": app})
    assert r.exit_code == 0 and "added" in r.output
