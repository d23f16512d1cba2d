"""The organization's profile page (cultivation's) shows its bases and its
grants through the hook qqh_youthorg_profile_sections, within the viewer's
scope."""

from plugins.homes.tests.conftest import (
    FUND_API, GRANT_API, HOME_API, RESIDENCY_API, create, fund_payload, grant_payload, home_payload,
)


def test_profile_shows_residencies_and_grants_in_scope(as_user, unit_ids, make_org):
    fs = as_user("fs_clerk")
    org = make_org("440606")
    city_home = create(fs, HOME_API, home_payload(unit_ids, unit="440600", name="佛山青年社会组织孵化基地（测试）"))
    county_home = create(fs, HOME_API, home_payload(unit_ids, unit="440606", name="顺德飞扬地带（测试）"))
    r = create(fs, RESIDENCY_API, {"org": org, "home": county_home, "entered_on": "2012-04-10"})
    assert fs.put(f"{RESIDENCY_API}{r}", json={"status": "graduated", "ended_on": "2012-10-31"}).status_code == 200
    create(fs, RESIDENCY_API, {"org": org, "home": city_home, "entered_on": "2012-11-01", "status": "incubating"})
    fund = create(fs, FUND_API, fund_payload(unit_ids))
    create(fs, GRANT_API, grant_payload(fund, org, purpose="留守儿童四点半课堂", amount="12345.60"))

    page = fs.get(f"/youthorg/profile/{org}")
    assert page.status_code == 200
    html = page.text
    for text in ("亲青家园", "佛山青年社会组织孵化基地（测试）", "顺德飞扬地带（测试）", "孵化中", "已出壳", "2012年10月31日",
                 "孵化基金资助", "留守儿童四点半课堂", "12,345.60", "待审批"):
        assert text in html, text
    assert 'data-plugin="homes"' in html

    # the county's clerk sees the organization, and only the county's records of it
    sd = as_user("sd_clerk").get(f"/youthorg/profile/{org}").text
    assert "顺德飞扬地带（测试）" in sd and "已出壳" in sd
    assert "佛山青年社会组织孵化基地（测试）" not in sd and "留守儿童四点半课堂" not in sd
    assert "未获孵化基金资助" in sd


def test_profile_without_records_says_so(as_user, make_org):
    html = as_user("fs_clerk").get(f"/youthorg/profile/{make_org()}").text
    assert "未入驻任何“亲青家园”" in html and "未获孵化基金资助" in html


def test_sections_only_of_plugins_the_organizations_unit_uses(module_off, as_user, make_org):
    """南海 (440605) switches homes off: the province's and 佛山's clerks,
    who use homes, no longer see a homes section on the profile of a 南海
    organization (nor does 南海's own clerk); 佛山's organizations keep it."""
    nanhai, foshan = make_org("440605"), make_org("440600")
    module_off("440605", "homes")
    fs = as_user("fs_clerk")
    page = fs.get(f"/youthorg/profile/{nanhai}")
    assert page.status_code == 200 and 'data-plugin="homes"' not in page.text
    assert "未获孵化基金资助" not in page.text
    assert 'data-plugin="homes"' in fs.get(f"/youthorg/profile/{foshan}").text
