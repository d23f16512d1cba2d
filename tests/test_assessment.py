"""December assessment: scores from KPI values, adjustments with reason and
author, ranking within each tier, publish/lock, export, scoping."""

from __future__ import annotations

import datetime
import io
import re
import types
import uuid

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.kpi import assessment as asm
from core.kpi.engine import KpiTarget
from core.tenancy.units import Unit, compute_path

D = datetime.date
YEAR = 2014  # this module's plan year


def make_unit(session, parent, code, level):
    path, depth = compute_path(parent, code)
    u = Unit(code=code, name=f"考核{code}", level=level, tier=level, prd=True, undergraduate=False, parent=parent, path=path, depth=depth)
    session.add(u)
    session.flush()
    return u


@pytest.fixture(scope="module")
def units(app):
    """A PRD city X with counties X1 (4 notes), X2 (2 notes), X3 (1 note)."""
    from tests.memo_plugin.models import MemoNote

    tag = uuid.uuid4().hex[:5].upper()
    with app.app_context():
        s = app.appbuilder.session
        province = s.execute(select(Unit).where(Unit.code == "440000")).scalar_one()
        x = make_unit(s, province, f"AX{tag}", "city")
        counties = [make_unit(s, x, f"AX{i}{tag}", "county") for i in (1, 2, 3)]
        for county, n in zip(counties, (4, 2, 1)):
            for i in range(n):
                s.add(MemoNote(unit_id=county.id, title=f"考核记事{i}", noted_on=D(YEAR, 3, 1 + i)))
        s.add(KpiTarget(plan_year=YEAR, check_key="memo_notes", tier="county", threshold=4, due=D(YEAR, 12, 31), period="year"))
        for key, label, check, weight, method, target, pos in (
            ("notes", "记事完成情况", "memo_notes", 60, "ratio", None, 0),
            ("notes_reached", "记事达标", "memo_notes", 40, "reached", 2, 1),
            ("ghost", "未安装模块的项目", "no_such_check", 10, "ratio", 5, 2),
        ):
            s.add(asm.AssessmentIndicator(plan_year=YEAR, key=key, label=label, check_key=check, weight=weight, method=method, target=target, position=pos))
        s.commit()
        return types.SimpleNamespace(X=x.code, X1=counties[0].code, X2=counties[1].code, X3=counties[2].code)


@pytest.fixture(scope="module")
def computed(app, units):
    """The draft of YEAR computed once (the tests below read it in any order)."""
    with app.app_context():
        asm.compute(app.appbuilder.session, YEAR)
        app.appbuilder.session.commit()
    return units


@pytest.fixture
def adjusted(app, computed):
    """X3 raised by 60 for 团建示范点建设突出, once."""
    with app.app_context():
        s = app.appbuilder.session
        x3 = s.execute(select(Unit).where(Unit.code == computed.X3)).scalar_one()
        draft = asm.get_assessment(s, YEAR)
        if not s.execute(select(asm.ScoreAdjustment).where(
                asm.ScoreAdjustment.unit_id == x3.id, asm.ScoreAdjustment.assessment_id == draft.id)).first():
            asm.add_adjustment(s, YEAR, computed.X3, 60, "团建示范点建设突出")
            s.commit()
    return computed


def rows_by_unit(body):
    return {r["unit"]: r for r in body["result"]}


def test_scores_follow_the_indicators(app, units, as_user):
    admin = as_user("admin")
    r = admin.post("/api/v1/assessment/compute", json={"year": YEAR})
    assert r.status_code == 200, r.text
    rows = rows_by_unit(r.json())
    x1, x2, x3 = rows[units.X1], rows[units.X2], rows[units.X3]
    # ratio: min(value / 4, 1) × 60; reached: 40 once value ≥ 2; "ghost" is not applicable
    assert (x1["points"], x2["points"], x3["points"]) == (100, 70, 15)
    assert x1["max_points"] == 100
    assert x1["details"]["notes"] == {"applicable": True, "value": 4, "target": 4, "score": 60, "weight": 60}
    assert x1["details"]["ghost"]["applicable"] is False
    # the city has no KPI target for notes: only the indicator with its own target counts,
    # on the city's own records (本级, the default): it owns no note, 0 of 40
    # (before targets had a scope its counties' 7 notes gave it 40)
    assert (rows[units.X]["points"], rows[units.X]["max_points"]) == (0, 40)
    # what cannot be scored is said, with its points; full marks are the sum of the weights
    assert x1["details"]["ghost"]["not_installed"] is True
    assert r.json()["not_assessed"] == [
        {"key": "ghost", "label": "未安装模块的项目", "check": "no_such_check", "weight": 10, "reason": "未纳入考核（模块未安装）"}]
    assert r.json()["full_points"] == 110
    assert x1["tier"] == "prd_county" and rows[units.X]["tier"] == "prd_city"
    assert x1["rank"] < x2["rank"] < x3["rank"]
    # the indicators' list names each check by its label, not its key
    page = admin.get("/assessmentindicatorview/list/", params={"_flt_0_plan_year": YEAR})
    text = re.sub(r"<[^>]+>", " ", page.text)
    assert page.status_code == 200 and "记事完成情况" in text and "记事数" in text and "memo_notes" not in text
    # competition ranking inside the tier: every PRD county is ranked
    tier = sorted(r["rank"] for r in r.json()["result"] if r["tier"] == "prd_county")
    assert tier[0] == 1 and len(tier) > 3


def test_adjustments_need_reason_and_move_the_ranking(app, computed, as_user):
    units = computed
    with app.app_context():  # from no adjustment, whatever ran before
        s = app.appbuilder.session
        s.query(asm.ScoreAdjustment).filter(asm.ScoreAdjustment.assessment_id == asm.get_assessment(s, YEAR).id).delete()
        s.commit()
    admin = as_user("admin")
    r = admin.post("/api/v1/assessment/adjustment", json={"year": YEAR, "unit": units.X3, "points": 60})
    assert r.status_code == 422 and "reason" in r.json()["message"]
    r = admin.post("/api/v1/assessment/adjustment", json={"year": YEAR, "unit": units.X3, "points": "lots", "reason": "示范点"})
    assert r.status_code == 422 and "points" in r.json()["message"]
    r = admin.post("/api/v1/assessment/adjustment", json={"year": YEAR, "unit": "440000", "points": 5, "reason": "省级"})
    assert r.status_code == 422 and "unit" in r.json()["message"]
    assert as_user("fs_clerk").post(
        "/api/v1/assessment/adjustment", json={"year": YEAR, "unit": units.X3, "points": 60, "reason": "x"}
    ).status_code == 403
    r = admin.post("/api/v1/assessment/adjustment", json={"year": YEAR, "unit": units.X3, "points": 60, "reason": "团建示范点建设突出"})
    assert r.status_code == 201, r.text
    body = admin.get(f"/api/v1/assessment/?year={YEAR}").json()
    rows = rows_by_unit(body)
    assert (rows[units.X3]["adjustment"], rows[units.X3]["total"]) == (60, 75)
    assert rows[units.X3]["rank"] < rows[units.X2]["rank"]
    adj = [a for a in body["adjustments"] if a["unit"] == units.X3]
    assert adj == [dict(adj[0], points=60, reason="团建示范点建设突出", made_by="admin")]
    # recomputing keeps the adjustment
    assert admin.post("/api/v1/assessment/compute", json={"year": YEAR}).status_code == 200
    assert rows_by_unit(admin.get(f"/api/v1/assessment/?year={YEAR}").json())[units.X3]["total"] == 75


def test_results_are_scoped_and_read_only_for_others(app, computed, as_user):
    units = computed
    fs = as_user("fs_inspector")
    body = fs.get(f"/api/v1/assessment/?year={YEAR}").json()
    assert body["result"] == [] and body["hidden"] is True  # a draft: the province's only (issue 12)
    assert fs.post("/api/v1/assessment/compute", json={"year": YEAR}).status_code == 403
    assert fs.post("/api/v1/assessment/publish", json={"year": YEAR}).status_code == 403
    page = fs.get(f"/assessment/?year={YEAR}")
    assert page.status_code == 200 and units.X1 not in page.text and "/assessment/publish" not in page.text
    assert as_user("admin").get(f"/assessment/?year={YEAR}").text.count("/assessment/publish") == 1
    assert fs.get("/api/v1/assessment/?year=20x4").status_code == 400


def test_export_for_awards(app, adjusted, as_user):
    units = adjusted
    r = as_user("admin").get(f"/api/v1/assessment/export?year={YEAR}")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    ranking = wb.worksheets[0]
    lines = [[c.value for c in row] for row in ranking.iter_rows()]
    header = lines[1]
    assert "记事完成情况（60）" in header
    x1 = next(line for line in lines if units.X1 in line)
    assert x1[header.index("记事完成情况（60）")] == 60
    assert x1[header.index("未安装模块的项目（10）")] == "未纳入考核（模块未安装）"
    assert (x1[header.index("纳入考核分值")], x1[header.index("满分")]) == (100, 110)
    assert "未纳入考核（模块未安装）" in lines[0][2] and "未安装模块的项目（10）" in lines[0][2]
    reasons = [c.value for c in wb.worksheets[1]["D"]]
    assert "团建示范点建设突出" in reasons


def test_publish_locks_everything(app, units, as_user):
    """Publishing is for ever: it gets a plan year of its own (YEAR + 1, the
    same indicators and target), so that the draft tests above pass in any
    order and alone."""
    year = YEAR + 1
    with app.app_context():
        s = app.appbuilder.session
        if not asm.indicators_of(s, year):
            s.add(KpiTarget(plan_year=year, check_key="memo_notes", tier="county", threshold=4, due=D(year, 12, 31), period="year"))
            for ind in asm.indicators_of(s, YEAR):
                s.add(asm.AssessmentIndicator(plan_year=year, key=ind.key, label=ind.label, check_key=ind.check_key,
                                              weight=ind.weight, method=ind.method, target=ind.target, position=ind.position))
            s.commit()
    admin = as_user("admin")
    assert admin.post("/api/v1/assessment/compute", json={"year": year}).status_code == 200
    r = admin.post("/api/v1/assessment/adjustment", json={"year": year, "unit": units.X3, "points": 60, "reason": "团建示范点建设突出"})
    assert r.status_code == 201, r.text
    listed = admin.get(f"/api/v1/assessmentindicator/?q=(filters:!((col:plan_year,opr:eq,value:{year})))").json()
    indicator, record = listed["ids"][0], listed["result"][0]
    r = admin.post("/api/v1/assessment/publish", json={"year": year})
    assert r.status_code == 200 and r.json()["status"] == "published"
    before = rows_by_unit(r.json())
    for url, payload in (
        ("/api/v1/assessment/compute", {"year": year}),
        ("/api/v1/assessment/adjustment", {"year": year, "unit": units.X1, "points": -5, "reason": "迟报"}),
        ("/api/v1/assessment/publish", {"year": year}),
    ):
        refused = admin.post(url, json=payload)
        assert refused.status_code == 409, (url, refused.text)
        assert str(year) in refused.json()["message"] and "不能再修改" in refused.json()["message"]
    edited = {k: record[k] for k in ("plan_year", "position", "key", "label", "check_key", "method", "target")}
    r = admin.put(f"/api/v1/assessmentindicator/{indicator}", json={**edited, "weight": 99})
    assert r.status_code == 422 and "不能再修改" in str(r.json()["message"])
    assert admin.delete(f"/api/v1/assessmentindicator/{indicator}").status_code == 422
    # the page refuses too, with the message
    page = admin.post("/assessment/compute", data={"year": year}, allow_redirects=True)
    assert page.status_code == 200 and "分数不能再修改" in page.text
    after = rows_by_unit(admin.get(f"/api/v1/assessment/?year={year}").json())
    assert {k: (v["total"], v["rank"]) for k, v in after.items()} == {k: (v["total"], v["rank"]) for k, v in before.items()}
    assert after[units.X3]["total"] == after[units.X3]["points"] + 60
    published = as_user("fs_inspector").get(f"/api/v1/assessment/?year={year}").json()  # now each unit sees its subtree's
    assert published["result"] and all(r["unit"].startswith("4406") for r in published["result"])
    with app.app_context():
        with pytest.raises(asm.AssessmentLocked):
            asm.compute(app.appbuilder.session, year)


def test_bad_requests_never_500(app, as_user):
    admin = as_user("admin")
    assert admin.post("/api/v1/assessment/compute", json={"year": "abc"}).status_code == 400
    assert admin.post("/api/v1/assessment/compute", data="not json", headers={"Content-Type": "application/json"}).status_code == 400
    r = admin.post("/api/v1/assessment/compute", json={"year": 2099})
    assert r.status_code == 422 and "2099" in str(r.json()["message"])
    assert admin.post("/api/v1/assessment/publish", json={"year": 2098}).status_code == 422
    assert admin.post("/api/v1/assessment/adjustment", json={"year": 2097, "unit": "440100", "points": 1, "reason": "x"}).status_code == 422
