"""Bases, funds and grants through core's import and export engine:
declarations, template, import with refusals (nothing written), the fund
balance checked across the rows of one file, and an export read back."""

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.testing.engines import check_declaration, run_import, write_export, write_template, unit_by_code
from plugins.homes.importing import FUNDS, GRANTS, HOMES, IMPORTABLES, find_funds, find_orgs, parse_area
from plugins.homes.models import Grant, Home, IncubationFund
from plugins.homes.tests.conftest import unique

HOME_HEADER = "家园名称,所属团组织,阵地类型,地址,面积（平方米）,启用日期,挂牌日期,场地,网络,后勤,注册辅导,财务托管,骨干培训,负责人,联系电话,备注"
FUND_HEADER = "基金名称,所属团组织,成立日期,青少年发展基金会,志愿者基金会,青联委员,青企青商会员,其他来源,其他来源名称,基金用途"
GRANT_HEADER = "孵化基金,青年社会组织,所属团组织,资助用途,申请日期,金额（元）,审批状态,审批日期,批准单位或文号,备注"


def csv_bytes(*lines):
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def fs_scope(session):
    return unit_by_code(session, "440600").path


def test_declarations(app):
    for imp in IMPORTABLES:
        check_declaration("homes", imp)  # what core checks at start-up
    assert [c.attr for c in HOMES.columns][:7] == ["name", "unit", "kind", "address", "area", "opened_on", "signage_on"]
    assert HOMES.natural_key == ("name", "unit") and FUNDS.natural_key == ("name", "unit")
    assert GRANTS.natural_key == ("fund", "org", "applied_on") and GRANTS.defaults == {"status": "pending"}
    assert parse_area("1,200.5平方米") == Decimal("1200.50")
    for bad in ("-1", "许多", "1.234"):
        with pytest.raises(ValueError):
            parse_area(bad)


def test_template_is_a_workbook(app):
    import openpyxl

    with app.app_context():
        s = app.appbuilder.session
        for imp in IMPORTABLES:
            data = write_template(s, imp, scope=fs_scope(s))
            assert data[:2] == b"PK"
            headers = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(max_row=1))]
            assert str(imp.columns[0].header) in "".join(str(h) for h in headers)


def test_import_homes_update_and_refusals(app):
    a, b = unique("导入家园"), unique("导入家园")
    good = [
        f"{a},440606,青年地带,佛山市顺德区容桂街道,\"1,200平方米\",2012年4月1日,2012/5/4,是,是,否,是,否,否,何咏琳,0757-22383456,",
        f"{b},佛山市,志愿服务站,佛山市禅城区,,40999,,是,否,否,否,否,否,,,",
    ]
    with app.app_context():
        s = app.appbuilder.session
        scope = fs_scope(s)
        report = run_import(s, HOMES, "家园.csv", csv_bytes(HOME_HEADER, *good), scope=scope, commit=True)
        assert report.ok and report.written and report.new == 2, report.as_dict()
        home = s.execute(select(Home).where(Home.name == a)).scalar_one()
        assert home.kind == "youth_zone" and home.area == Decimal("1200.00") and home.unit.code == "440606"
        assert home.offers_counselling and not home.offers_logistics and home.phone == "0757-22383456"
        other = s.execute(select(Home).where(Home.name == b)).scalar_one()
        assert str(other.opened_on) == "2012-03-31" and other.offers_network is False  # an Excel serial date

        # the same list again, changed: updated, not duplicated
        again = [good[0].replace("何咏琳", "梁嘉欣"), good[1]]
        report = run_import(s, HOMES, "家园.csv", csv_bytes(HOME_HEADER, *again), scope=scope, commit=True)
        assert report.ok and report.new == 0 and report.updated == 1 and report.unchanged == 1, report.as_dict()

        c = unique("导入家园")
        rows = [
            f"{c},440606,青年中心,地址,100,2012-04-01,,,,,,,,,,",
            f"{unique()},440606,青年中心,地址,-5,2012-04-01,,,,,,,,,,",  # negative area
            f"{unique()},440606,青年中心,地址,,2012-04-01,2012-03-01,,,,,,,,,",  # sign before opening
            f"{unique()},440300,青年中心,地址,,2012-04-01,,,,,,,,,,",  # Shenzhen: outside Foshan
            f"{unique()},440606,城堡,地址,,2012-04-01,,,,,,,,,,",  # no such kind
            f"{unique()},440606,青年中心,,,2012-04-01,,,,,,,,,123,",  # no address, bad phone
        ]
        report = run_import(s, HOMES, "家园.csv", csv_bytes(HOME_HEADER, *rows), scope=scope, commit=True)
        assert not report.ok and not report.written
        errors = [(p.row, f"{p.column} {p.message}") for p in report.errors]
        for row, words in [(3, "面积不能为负数"), (4, "挂牌日期不能早于启用日期"), (5, "440300"), (6, "城堡"),
                           (7, "地址"), (7, "电话")]:
            assert any(r == row and words in m for r, m in errors), (row, words, errors)
        assert s.execute(select(Home).where(Home.name == c)).first() is None


def test_import_funds_and_grants_never_overdraw(app, make_org):
    name = unique("导入基金")
    orgs = [make_org("440606") for _ in range(3)]
    with app.app_context():
        s = app.appbuilder.session
        scope = fs_scope(s)
        report = run_import(s, FUNDS, "基金.csv", csv_bytes(
            FUND_HEADER, f"{name},440600,2012-05-28,5万元,\"30,000\",0,,5000,爱心企业,扶持家园"), scope=scope, commit=True)
        assert report.ok and report.new == 1, report.as_dict()
        fund = s.execute(select(IncubationFund).where(IncubationFund.name == name)).scalar_one()
        assert fund.committed == Decimal("85000.00") and fund.from_entrepreneurs == 0
        fund_id = fund.id
        from plugins.cultivation.models import YouthOrg

        org_names = [s.get(YouthOrg, o).name for o in orgs]
        assert find_funds(s, {name, f"{name}（440600）", f"{name}（440300）"}, scope).keys() == {name, f"{name}（440600）"}
        assert find_orgs(s, {org_names[0]}, unit_by_code(s, "440300").path) == {}

        # three rows of 30,000 against 85,000: each fits alone, the third does not fit after the first two
        rows = [f"{name},{n},,项目启动资金,2012-06-0{i + 1},30000,,,," for i, n in enumerate(org_names)]
        report = run_import(s, GRANTS, "资助.csv", csv_bytes(GRANT_HEADER, *rows), scope=scope, commit=True)
        assert not report.ok and not report.written
        assert [(p.row, "超出基金可用余额（25,000.00元）" in p.message) for p in report.errors] == [(4, True)], report.as_dict()
        assert s.execute(select(func.count(Grant.id)).where(Grant.fund_id == fund_id)).scalar_one() == 0

        # a rejected grant takes nothing: the same file with the third one rejected is written
        rows[2] = rows[2].replace(",30000,,,,", ",30000,未获批准,2012-06-30,,")
        report = run_import(s, GRANTS, "资助.csv", csv_bytes(GRANT_HEADER, *rows), scope=scope, commit=True)
        assert report.ok and report.new == 3, report.as_dict()
        grants = s.execute(select(Grant).where(Grant.fund_id == fund_id).order_by(Grant.applied_on)).scalars().all()
        assert [g.status for g in grants] == ["pending", "pending", "rejected"]
        assert all(g.unit.code == "440600" for g in grants)

        # raising a grant in a re-import is checked too
        rows[0] = rows[0].replace(",30000,", ",55000.01,")
        report = run_import(s, GRANTS, "资助.csv", csv_bytes(GRANT_HEADER, *rows), scope=scope, commit=True)
        assert not report.ok and "超出基金可用余额" in report.errors[0].message
        # ... and other refusals, with nothing written
        bad = [
            f"{name},{org_names[0]},,用途,2012-05-01,100,,,,",  # before the fund was established
            f"{name},{org_names[0]},,用途,2012-06-10,0,,,,",  # not more than zero
            f"{name},不存在的组织,,用途,2012-06-10,100,,,,",
            f"不存在的基金,{org_names[0]},,用途,2012-06-10,100,,,,",
            f"{name},{org_names[0]},,用途,2012-06-11,100,已批准,,,",  # approved without date or approver
        ]
        report = run_import(s, GRANTS, "资助.csv", csv_bytes(GRANT_HEADER, *bad), scope=scope, commit=True)
        assert not report.ok and not report.written
        errors = [(p.row, f"{p.column} {p.message}") for p in report.errors]
        for row, words in [(2, "不能早于成立日期"), (3, "大于零"), (4, "不存在的组织"), (5, "不存在的基金"), (6, "审批日期")]:
            assert any(r == row and words in m for r, m in errors), (row, words, errors)
        assert s.execute(select(func.count(Grant.id)).where(Grant.fund_id == fund_id)).scalar_one() == 3

        # an export reads back as it is: nothing new, nothing changed
        out = io.BytesIO()
        query = s.execute(select(Grant).where(Grant.fund_id == fund_id).order_by(Grant.id)).scalars().all()
        assert write_export(GRANTS, query, out) == 3
        report = run_import(s, GRANTS, "资助.xlsx", out.getvalue(), scope=scope, commit=True)
        assert report.ok and report.new == 0 and report.unchanged == 3, report.as_dict()
