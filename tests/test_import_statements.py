"""Import speed on real lists (issue 16 point 7): the SQL statements of a dry
run and of a real import do not grow with the number of rows, for the youth
organization list (uniqueness declared on the model, checked per batch) and
for camp rosters (people, twins and places read ahead by the model's
prepare_checks); what those checks refuse is still refused, with the same
words, row by row."""

import datetime
import uuid

from sqlalchemy import func, select

from core.excel.engine import run_import
from core.tenancy.units import unit_by_code
from plugins.cultivation.importing import YOUTHORG
from plugins.cultivation.models import YouthOrg
from plugins.training.importing import ENROLMENT, camp_cell
from plugins.training.models import Camp, Enrolment, Trainee
from core.values.validators import credit_code_check_char, resident_id_check_char
from core.testing import statements_of

ORG_HEADER = "name,unit,credit_code,category,service_field,reg_status,legal_form,contact_phone,members"
ROSTER_HEADER = "camp,name,gender,phone,resident_id,youth_org,role,attended"


def csv_bytes(header, lines):
    return ("\n".join([header, *lines]) + "\n").encode("utf-8-sig")


def credit(tag: str, i: int) -> str:
    body = f"52440606T{tag}{i:04d}"[:17]
    return body + credit_code_check_char(body)


def resident(i: int, seq0: int) -> str:
    body = f"44060619900307{(seq0 + i) % 1000:03d}"
    return body + resident_id_check_char(body)


def org_rows(tag, n, start=0):
    out = []
    for i in range(start, start + n):
        if i % 2:  # registered, with a credit code
            out.append(f"组织{tag}{i},440606,{credit(tag, i)},承接共青团事务类,青年创意文化,已注册,社会团体,13812345678,20")
        else:
            out.append(f"组织{tag}{i},{'440606' if i % 4 else '佛山市'},,兴趣爱好自主类,其他,未注册,,,")
    return out


def counted(app, fn, leave_out=None):
    """(statements, result) of ``fn()``; ``leave_out``: a statement prefix not counted."""
    engine = app.extensions["qqh_db"].engine
    with statements_of(engine) as seen:
        result = fn()
    return len([x for x in seen if not (leave_out and x.startswith(leave_out))]), result


def test_youthorg_statements_do_not_grow_with_rows(app):
    tag = uuid.uuid4().hex[:4].upper()  # hex: never I O S V Z, which credit codes leave out
    with app.app_context():
        s = app.appbuilder.session
        scope = unit_by_code(s, "440600").path

        def imp(lines, commit=False):
            return run_import(s, YOUTHORG, "orgs.csv", csv_bytes(ORG_HEADER, lines), scope=scope, commit=commit)

        assert imp(org_rows(tag, 4, start=500)).ok  # caches warm (custom fields, reporting locks)
        small, r1 = counted(app, lambda: imp(org_rows(tag, 30)))
        large, r2 = counted(app, lambda: imp(org_rows(tag, 60)))
        assert r1.ok and r2.ok and (r1.new, r2.new) == (30, 60), r2.errors[:3]
        assert small == large <= 20, (small, large)
        small, r1 = counted(app, lambda: imp(org_rows(tag, 30), commit=True))
        large, r2 = counted(app, lambda: imp(org_rows(tag, 60, start=100), commit=True))
        assert r1.written and r2.written and (r1.new, r2.new) == (30, 60)
        assert small == large <= 25, (small, large)
        again, r3 = counted(app, lambda: imp(org_rows(tag, 60, start=100), commit=True))
        assert r3.written and r3.unchanged == 60 and again <= large

        # what the declarations refuse, row by row, nothing written: a credit code another
        # organization has (in the database, and earlier in the file), the same name twice in a
        # unit written once by code, once by name (the engine's key sees two units' texts)
        taken = credit(tag, 1)
        bad = [
            f"新组织{tag}A,440606,{taken},承接共青团事务类,青年创意文化,已注册,社会团体,,",
            f"新组织{tag}B,440606,{credit(tag, 901)},承接共青团事务类,青年创意文化,已注册,社会团体,,",
            f"新组织{tag}C,440606,{credit(tag, 901)},承接共青团事务类,青年创意文化,已注册,社会团体,,",
        ]
        before = s.execute(select(func.count(YouthOrg.id))).scalar_one()
        report = imp(bad, commit=True)
        assert not report.written
        errors = [(e.row, e.column, e.message) for e in report.errors]
        assert errors == [(2, "统一社会信用代码", "已有其他组织使用这个统一社会信用代码。"),
                          (4, "统一社会信用代码", "已有其他组织使用这个统一社会信用代码。")], errors
        assert s.execute(select(func.count(YouthOrg.id))).scalar_one() == before


def roster_rows(camp, org, n, seq0):
    out = []
    for i in range(n):
        rid = resident(i, seq0) if i % 2 else ""
        gender = "" if rid else "女"
        out.append(f"{camp},学员{seq0}x{i},{gender},139{seq0:03d}{i:05d},{rid},{org},会长,是")
    return out


def test_roster_statements_do_not_grow_with_rows(app):
    with app.app_context():
        s = app.appbuilder.session
        foshan, shunde = unit_by_code(s, "440600"), unit_by_code(s, "440606")
        tag = uuid.uuid4().hex[:8]
        camp = Camp(unit=foshan, title=f"计数训练营{tag}", session_no=1, starts_on=datetime.date(2012, 4, 20),
                    ends_on=datetime.date(2012, 4, 22), place="佛山", capacity=500, status="finished")
        org = YouthOrg(name=f"计数组织{tag}", unit=shunde, category="interest", service_field="other",
                       reg_status="unregistered")
        s.add_all([camp, org])
        s.commit()
        cell, org_name, scope, camp_id = camp_cell(camp), org.name, foshan.path, camp.id
        seq0 = int(tag[:6], 16) % 900  # ID numbers and phones of this run

        def imp(lines, commit=False):
            return run_import(s, ENROLMENT, "roster.csv", csv_bytes(ROSTER_HEADER, lines), scope=scope, commit=commit)

        small, r1 = counted(app, lambda: imp(roster_rows(cell, org_name, 20, seq0)))
        large, r2 = counted(app, lambda: imp(roster_rows(cell, org_name, 40, seq0)))
        assert r1.ok and r2.ok and (r1.new, r2.new) == (20, 40), r2.errors[:3]
        assert small == large <= 20, (small, large)
        # a new person is one INSERT of a trainee: SQLAlchemy's unit of work cannot batch INSERT … RETURNING
        # on SQLite (no order guaranteed); every other statement is per import
        trainee_insert = "INSERT INTO training_trainee"
        r1 = imp(roster_rows(cell, org_name, 20, seq0), commit=True)
        assert r1.written and r1.new == 20
        # N then 2N people enrolled already (found by ID number or by name and phone; those without a
        # gender in the file take it from the ID number again: "updated"), and as many new ones
        small, r2 = counted(app, lambda: imp(roster_rows(cell, org_name, 40, seq0), commit=True), trainee_insert)
        large, r3 = counted(app, lambda: imp(roster_rows(cell, org_name, 80, seq0), commit=True), trainee_insert)
        assert r2.written and r2.new == 20 and r2.unchanged + r2.updated == 20, r2.as_dict()
        assert r3.written and r3.new == 40 and r3.unchanged + r3.updated == 40, r3.as_dict()
        assert small == large <= 30, (small, large)
        assert s.execute(select(func.count(Enrolment.id)).where(Enrolment.camp_id == camp_id)).scalar_one() == 80
        people = s.execute(select(func.count(Trainee.id)).where(Trainee.name.startswith(f"学员{seq0}x"))).scalar_one()
        assert people == 80

        # the same person twice under another name-and-phone (same ID number), and a full camp
        s.execute(Camp.__table__.update().where(Camp.id == camp_id).values(capacity=81))
        s.commit()
        rid = resident(1, seq0)  # 学员…x1's
        bad = [f"{cell},别名{tag},,13700000001,{rid},{org_name},,是",
               f"{cell},新人{tag}A,女,13700000002,,{org_name},,是",
               f"{cell},新人{tag}B,女,13700000003,,{org_name},,是"]
        report = imp(bad, commit=True)
        assert not report.written
        messages = [(e.row, e.message) for e in report.errors]
        assert len(messages) == 2 and messages[0][0] == 2 and "已报名" in messages[0][1], messages
        assert messages[1][0] == 4 and "已满员" in messages[1][1], messages
