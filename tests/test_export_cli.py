"""`qqh export NAME --as USER` runs as a request of that user: their
subtree only, and personal data masked as the pages mask it for them
(the training roster's ID numbers and phones: province administrators
only see them in full). Without --as the operator gets everything."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

pytest.importorskip("plugins.training")

from core.cli import cli  # noqa: E402
from core.excel.engine import run_import  # noqa: E402
from core.tenancy.units import Unit, subtree_of, unit_by_code  # noqa: E402
from plugins.training.tests.conftest import new_mobile, new_resident_id, unique  # noqa: E402

HEADER = "训练营,学员姓名,性别,手机号码,身份证号码,青年社会组织,在组织中的职务,报名日期,已参训,备注"
ID, PHONE, NAME = "身份证号码", "手机号码", "学员姓名"


@pytest.fixture
def rosters(app):
    """One trainee on a 佛山 camp (organization in 顺德) and one on a 深圳 camp."""
    from plugins.cultivation.models import YouthOrg
    from plugins.training.importing import ENROLMENT, camp_cell
    from plugins.training.models import Camp

    people = {}
    with app.app_context():
        s = app.appbuilder.session
        for code, org_code in (("440600", "440606"), ("440300", "440300")):
            unit = unit_by_code(s, code)
            camp = Camp(unit=unit, title=unique("导出训练营"), session_no=1, starts_on=datetime.date(2012, 4, 20),
                        ends_on=datetime.date(2012, 4, 22), place=unit.name, capacity=30, status="finished")
            org = YouthOrg(name=unique("导出组织"), unit=unit_by_code(s, org_code), category="interest",
                           service_field="other", reg_status="unregistered")
            s.add_all([camp, org])
            s.commit()
            person = {NAME: unique("学员")[:10], ID: new_resident_id(), PHONE: new_mobile()}
            row = f"{camp_cell(camp)},{person[NAME]},男,{person[PHONE]},{person[ID]},{org.name},会长,2012-04-01,是,"
            data = ("\n".join([HEADER, row]) + "\n").encode("utf-8-sig")
            report = run_import(s, ENROLMENT, "r.csv", data, scope=unit.path, commit=True)
            assert report.ok, report.as_dict()
            people[code] = person
    return people


def export(app, tmp_path, *options) -> tuple[int, str, list[dict]]:
    out = tmp_path / "export.xlsx"
    if out.exists():
        out.unlink()
    r = CliRunner().invoke(cli, ["export", "enrolment", "--out", str(out), *options], obj={"app": app},
                           catch_exceptions=False)
    if r.exit_code != 0:
        return r.exit_code, r.output, []
    return 0, r.output, rows_of(out.read_bytes())


def rows_of(content: bytes) -> list[dict]:
    lines = list(openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
    return [dict(zip(lines[0], line)) for line in lines[1:]]


def by_name(rows, person):
    found = [r for r in rows if r[NAME] == person[NAME]]
    assert len(found) <= 1
    return found[0] if found else None


def enrolments_in(app, code: str) -> int:
    from plugins.training.models import Enrolment

    with app.app_context():
        s = app.appbuilder.session
        path = unit_by_code(s, code).path
        return s.execute(
            select(func.count(Enrolment.id)).where(Enrolment.unit_id.in_(select(Unit.id).where(subtree_of(path))))
        ).scalar_one()


def masked_id(value: str) -> str:
    return value[:6] + "********" + value[-4:]


def masked_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:]


def test_export_as_an_inspector_is_masked_and_scoped(app, tmp_path, rosters):
    fs, sz = rosters["440600"], rosters["440300"]
    code, output, rows = export(app, tmp_path, "--as", "fs_inspector")
    assert code == 0, output
    assert len(rows) == enrolments_in(app, "440600")  # 佛山's rows, all of them, nothing else
    assert by_name(rows, sz) is None
    mine = by_name(rows, fs)
    assert mine[ID] == masked_id(fs[ID]) and mine[PHONE] == masked_phone(fs[PHONE])
    assert all("*" in r[PHONE] for r in rows) and all(r[ID] is None or "*" in r[ID] for r in rows)


def test_export_as_a_user_is_what_their_request_exports(app, tmp_path, rosters, as_user):
    """The command and the page's export give the same workbook rows."""
    for username in ("fs_clerk", "sz_clerk"):
        code, output, rows = export(app, tmp_path, "--as", username)
        assert code == 0, output
        r = as_user(username).get("/api/v1/export/enrolment")
        assert r.status_code == 200, r.text[:300]
        key = lambda row: (row[NAME], row[PHONE])  # noqa: E731
        assert sorted(rows, key=key) == sorted(rows_of(r.content), key=key), username
    sz = by_name(rows, rosters["440300"])
    assert sz[ID] == masked_id(rosters["440300"][ID]) and by_name(rows, rosters["440600"]) is None


def test_export_as_a_province_admin_and_without_a_user_is_in_full(app, tmp_path, rosters):
    total = enrolments_in(app, "440000")
    for options in (("--as", "admin"), ()):
        code, output, rows = export(app, tmp_path, *options)
        assert code == 0, output
        assert len(rows) == total
        for person in rosters.values():
            row = by_name(rows, person)
            assert row[ID] == person[ID] and row[PHONE] == person[PHONE], options
    # --unit narrows an administrator's export, still in full
    code, output, rows = export(app, tmp_path, "--as", "admin", "--unit", "440300")
    assert code == 0 and by_name(rows, rosters["440600"]) is None
    assert by_name(rows, rosters["440300"])[ID] == rosters["440300"][ID]


def test_export_as_refuses_unknown_inactive_and_outside(app, tmp_path):
    code, output, _ = export(app, tmp_path, "--as", "nobody-" + unique())
    assert code == 1 and "nobody-" in output
    code, output, _ = export(app, tmp_path, "--as", "fs_inspector", "--unit", "440300")  # 深圳: not theirs
    assert code == 1
    name = unique("off")
    with app.app_context():
        sm, s = app.appbuilder.sm, app.appbuilder.session
        user = sm.add_user(name, name, "测试", f"{name}@t.local", sm.find_role("province_admin"), password="x" * 12)
        user.unit, user.active = unit_by_code(s, "440000"), False
        s.commit()
        pk = user.id
    try:
        code, output, rows = export(app, tmp_path, "--as", name)
        assert code == 1 and name in output and rows == []
    finally:
        with app.app_context():
            from core.tenancy.security import QqhUser

            s = app.appbuilder.session
            s.delete(s.get(QqhUser, pk))
            s.commit()
