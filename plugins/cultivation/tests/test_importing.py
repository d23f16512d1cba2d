"""The direct-contact list and the service list through core's import and
export engine: declaration, template, import with refusals, round trip."""

import io

import pytest
from sqlalchemy import select

from core.testing.engines import check_declaration, run_import, write_export, write_template, unit_by_code
from plugins.cultivation.importing import IMPORTABLES, ORG_KEYS, SERVICE, YOUTHORG
from plugins.cultivation.models import (
    CATEGORIES, LEGAL_FORMS, REG_STATUSES, SERVICE_FIELDS, SERVICE_KINDS, Service, YouthOrg, find_orgs,
)
from plugins.cultivation.tests.conftest import new_credit_code, unique

HEADER = "组织名称,所属团组织,统一社会信用代码,类别,服务领域,注册状态,登记类型,成立日期,联系人,联系电话,成员人数,青年占比（%）,直接联系日期,试点,培育日期,备注"


def test_declarations(app):  # app: every model (FAB's User too) is mapped
    for imp in IMPORTABLES:
        check_declaration("cultivation", imp)  # what core checks at start-up
    cols = {c.attr: c for c in YOUTHORG.columns}
    assert list(cols) == ["name", "unit", "credit_code", "category", "service_field", "reg_status", "legal_form",
                          "founded_on", "contact_name", "contact_phone", "members", "youth_share",
                          "directly_connected_on", "is_pilot", "cultivated_on", "note"]
    assert {a for a, c in cols.items() if c.required} == {"name", "unit", "category", "service_field", "reg_status"}
    assert cols["category"].choices is CATEGORIES and cols["service_field"].choices is SERVICE_FIELDS
    assert cols["reg_status"].choices is REG_STATUSES and cols["legal_form"].choices is LEGAL_FORMS
    assert cols["unit"].kind == "unit" and cols["directly_connected_on"].kind == "date"
    assert cols["is_pilot"].kind == "bool" and cols["members"].kind == "int"
    # identified by credit code when registered, else by name within the unit: the
    # engine takes one key, so (name, unit), which every row has
    assert ORG_KEYS == (("credit_code",), ("name", "unit")) and YOUTHORG.natural_key == ("name", "unit")
    with pytest.raises(ValueError):
        cols["credit_code"].parse("91350100M000100Y44")
    assert cols["contact_phone"].parse("0757 2238 3456") == "0757-22383456"
    scols = {c.attr: c for c in SERVICE.columns}
    assert scols["org"].kind == "ref" and scols["kind"].choices is SERVICE_KINDS and scols["amount"].kind == "decimal"
    assert SERVICE.natural_key == ("org", "kind", "starts_on")


def fs_scope(session):
    return unit_by_code(session, "440600").path


def csv_bytes(*lines, encoding="utf-8-sig"):
    return ("\n".join(lines) + "\n").encode(encoding)


def test_template_is_a_workbook(app):
    with app.app_context():
        s = app.appbuilder.session
        data = write_template(s, YOUTHORG, scope=fs_scope(s))
    assert data[:2] == b"PK"
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    header, example = [[c.value for c in row] for row in wb.worksheets[0].iter_rows(max_row=2)]
    assert "统一社会信用代码" in "".join(str(h) for h in header)
    assert "承接共青团事务类" in example and "已注册" in example and "是" in example  # labels, not codes


def test_import_update_and_refusals(app):
    a, b = unique("导入组织"), unique("导入组织")
    code = new_credit_code("440606")
    good = [
        f"{a},440606,{code},承接共青团事务类,留守少年儿童健康成长,已注册,社会团体,2010年5月4日,梁嘉欣,0757-22383456,60,85,2012-03-15,是,2012/6/30,",
        f"{b},佛山市,,兴趣爱好自主类,青年创意文化,未注册,,40999,陈伟杰,13812345678,20,100,,否,,",
    ]
    with app.app_context():
        s = app.appbuilder.session
        scope = fs_scope(s)
        report = run_import(s, YOUTHORG, "名单.csv", csv_bytes(HEADER, *good), scope=scope, commit=True)
        assert report.ok and report.written and report.new == 2, report.as_dict()
        org = s.execute(select(YouthOrg).where(YouthOrg.name == a)).scalar_one()
        assert org.credit_code == code and org.is_pilot and org.unit.code == "440606" and org.legal_form == "social_group"
        assert str(org.founded_on) == "2010-05-04" and str(org.cultivated_on) == "2012-06-30"
        other = s.execute(select(YouthOrg).where(YouthOrg.name == b)).scalar_one()
        assert str(other.founded_on) == "2012-03-31"  # an Excel serial date

        # the same list again, with a change: updated, not duplicated
        again = [good[0].replace(",60,85,", ",75,85,"), good[1]]
        report = run_import(s, YOUTHORG, "名单.csv", csv_bytes(HEADER, *again), scope=scope, commit=True)
        assert report.ok and report.new == 0 and report.updated == 1 and report.unchanged == 1, report.as_dict()
        assert s.execute(select(YouthOrg.members).where(YouthOrg.name == a)).scalar_one() == 75

        # one bad row among good ones: nothing written, the row and reason named
        c, d = unique("导入组织"), unique("导入组织")
        rows = [
            f"{c},440606,,兴趣爱好自主类,其他,未注册,,,,,,,,,,",
            f"{d},440606,91350100M000100Y44,兴趣爱好自主类,其他,已注册,社会团体,,,,,,,,,",
            f"{unique()},440300,,兴趣爱好自主类,其他,未注册,,,,,,,,,,",  # Shenzhen: outside Foshan
            f"{unique()},440606,,兴趣爱好自主类,其他,已注册,,,,,,,,,,",  # registered without code or form
            f"{unique()},440606,,兴趣爱好自主类,其他,未注册,,,,123,,,,,,",
            f"{unique()},440606,,兴趣爱好自主类,其他,未注册,,2999-01-01,,,-3,,,,,",
        ]
        report = run_import(s, YOUTHORG, "名单.csv", csv_bytes(HEADER, *rows), scope=scope, commit=True)
        assert not report.ok and not report.written
        errors = {(p.row, p.column): p.message for p in report.errors}
        assert any(r == 3 and "校验" in m for (r, _), m in errors.items()), errors
        assert any(r == 4 and "440300" in m for (r, _), m in errors.items()), errors
        assert any(r == 5 and "统一社会信用代码" in m for (r, _), m in errors.items()), errors
        assert any(r == 6 and "电话" in m for (r, _), m in errors.items()), errors
        assert any(r == 7 and "成立日期" in m for (r, _), m in errors.items()), errors
        assert any(r == 7 and "成员人数" in m for (r, _), m in errors.items()), errors
        assert s.execute(select(YouthOrg).where(YouthOrg.name.in_([c, d]))).first() is None

        # a credit code that another organization has
        dup = f"{unique()},440604,{code},承接共青团事务类,其他,已注册,社会团体,,,,,,,,,"
        report = run_import(s, YOUTHORG, "名单.csv", csv_bytes(HEADER, dup), scope=scope, commit=True)
        assert not report.ok and "已有其他组织使用" in report.errors[0].message


def test_services_import_and_export_round_trip(app):
    name = unique("服务导入")
    code = new_credit_code("440606")
    with app.app_context():
        s = app.appbuilder.session
        scope = fs_scope(s)
        org = YouthOrg(name=name, unit=unit_by_code(s, "440606"), category="interest", service_field="other",
                       reg_status="registered", legal_form="other", credit_code=code)
        s.add(org)
        s.commit()
        # the one finder of the three plugins' lists: by credit code or by exact name, in reach only
        assert find_orgs(s, {code, name, "没有这个组织"}, scope) == {code: org, name: org}
        assert find_orgs(s, {name}, unit_by_code(s, "440300").path) == {}
        header = "青年社会组织,所属团组织,服务类型,开始日期,结束日期,辅导结果,合同,金额（元）,托管方,备注"
        rows = [
            f"{code},,购买服务,2012-04-01,2012-12-31,,飞扬地带,\"120,000.50\",,",
            f"{name},,注册辅导,2012-03-01,,仍在办理,,,,",
        ]
        report = run_import(s, SERVICE, "服务.csv", csv_bytes(header, *rows), scope=scope, commit=True)
        assert report.ok and report.new == 2, report.as_dict()
        services = s.execute(select(Service).where(Service.org_id == org.id).order_by(Service.starts_on)).scalars().all()
        assert [x.kind for x in services] == ["counselling", "purchase"]
        assert str(services[1].amount) == "120000.50" and all(x.unit.code == "440606" for x in services)

        bad = [f"{code},,购买服务,2012-05-01,2012-04-01,,倒序,-5,,"]
        report = run_import(s, SERVICE, "服务.csv", csv_bytes(header, *bad), scope=scope, commit=True)
        assert not report.ok
        text = " ".join(p.message for p in report.errors)
        assert "负" in text

        # export → import gives the same records
        out = io.BytesIO()
        n = write_export(SERVICE, services, out)
        assert n == 2
        report = run_import(s, SERVICE, "服务.xlsx", out.getvalue(), scope=scope, commit=True)
        assert report.ok and report.unchanged == 2 and report.new == 0, report.as_dict()
        out = io.BytesIO()
        write_export(YOUTHORG, [org], out)
        report = run_import(s, YOUTHORG, "组织.xlsx", out.getvalue(), scope=scope, commit=True)
        assert report.ok and report.unchanged == 1, report.as_dict()
