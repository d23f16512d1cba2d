"""Deterministic demo data: several hundred youth organizations over the real
cities and counties of Guangdong in plan year 2012, some registered (with
valid credit codes), some not, with the services their League units gave them.
Idempotent: an organization whose (unit, name) exists is left alone."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from sqlalchemy import select

from core.api import CREDIT_CODE_ALPHABET, Unit, credit_code_check_char
from plugins.cultivation.models import Service, YouthOrg

YEAR = 2012
SEED = 2012

# Real organizations named in the notice and in 2012 press reports.
# (unit code, name, category, field, reg status, legal form, founded, members, connected, pilot, cultivated)
REAL = [
    ("440606006", "容桂街道青少年成长促进会", "league_affairs", "left_behind_children", "registered", "social_group",
     datetime.date(2010, 5, 4), 85, datetime.date(2012, 3, 10), True, datetime.date(2012, 6, 30)),
    ("440400", "珠海市新豫青少年综合服务中心", "league_affairs", "migrant_workers", "registered", "private_non_enterprise",
     datetime.date(2011, 9, 1), 40, datetime.date(2012, 3, 5), True, datetime.date(2012, 5, 20)),
    ("440000", "广东青年社会组织培育发展中心", "league_affairs", "other", "registering", None,
     datetime.date(2012, 2, 20), 12, datetime.date(2012, 3, 1), True, datetime.date(2012, 9, 28)),
    ("440000", "广东省圆梦青工素质提升服务中心", "league_affairs", "migrant_workers", "registering", None,
     datetime.date(2012, 2, 28), 15, datetime.date(2012, 3, 1), True, datetime.date(2012, 10, 15)),
    ("440100", "广州市青年志愿者协会", "league_affairs", "other", "registered", "social_group",
     datetime.date(2007, 12, 5), 320, datetime.date(2012, 3, 12), True, None),
    ("442000", "中山市青年社区学院联合会", "league_affairs", "creative_culture", "unregistered", None,
     datetime.date(2011, 11, 1), 45, datetime.date(2012, 3, 18), False, datetime.date(2012, 7, 1)),
]

THEMES = {
    "migrant_workers": ["外来青工服务中心", "新莞人青年互助会", "青工成长驿站", "异地务工青年联谊会", "青工文体俱乐部",
                        "务工青年法律援助队", "青工技能互助社"],
    "graduates": ["大学生创业联盟", "青年创业者协会", "大学生就业服务社", "青年创客空间", "毕业生互助会",
                  "青年电商创业协会", "大学生实习就业促进会"],
    "left_behind_children": ["留守儿童关爱服务队", "青少年成长促进会", "阳光少年服务社", "四点半课堂志愿队",
                             "童心守护服务中心", "青少年社工服务站", "乡村少年陪伴计划"],
    "creative_culture": ["青年动漫协会", "青年摄影协会", "青年话剧社", "青年创意文化协会", "街舞联盟",
                         "青年读书会", "青年音乐人联盟", "汉服文化社"],
    "youth_rights": ["青少年法律援助服务中心", "青少年权益保护协会", "青年调解志愿队", "青少年心理援助热线",
                     "反校园欺凌志愿服务队"],
    "other": ["青年志愿者协会", "义工联合会", "青年户外运动俱乐部", "青年环保协会", "应急救援志愿队",
              "青年公益发展中心", "青年社工协会", "青年爱心车队"],
}
FIELD_WEIGHTS = [("migrant_workers", 3), ("graduates", 2), ("left_behind_children", 2), ("creative_culture", 3),
                 ("youth_rights", 1), ("other", 3)]
SURNAMES = "陈李黄张梁林刘吴罗何郑谢杨邓叶朱许蔡冯曾彭萧潘卢钟"
GIVEN = ["嘉欣", "子豪", "晓婷", "伟杰", "敏仪", "俊杰", "泳诗", "志强", "丽华", "家豪", "咏琳", "浩然", "思敏",
         "锦辉", "雅婷", "振华", "慧玲", "国栋", "诗琪", "文斌"]
AREA_CODES = {
    "4401": "020", "4402": "0751", "4403": "0755", "4404": "0756", "4405": "0754", "4406": "0757", "4407": "0750",
    "4408": "0759", "4409": "0668", "4412": "0758", "4413": "0752", "4414": "0753", "4415": "0660", "4416": "0762",
    "4417": "0662", "4418": "0763", "4419": "0769", "4420": "0760", "4451": "0768", "4452": "0663", "4453": "0766",
}


def short_place(name: str) -> str:
    if "自治县" in name:
        return name[:2]  # 连山壮族瑶族自治县 → 连山
    for suffix in ("街道", "自治县", "市", "区", "县", "镇"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def pick_field(rnd: random.Random) -> str:
    total = sum(w for _, w in FIELD_WEIGHTS)
    x = rnd.uniform(0, total)
    for field, w in FIELD_WEIGHTS:
        x -= w
        if x <= 0:
            return field
    return FIELD_WEIGHTS[-1][0]


def day_between(rnd: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    return first + datetime.timedelta(days=rnd.randint(0, (last - first).days))


def make_credit_code(rnd: random.Random, division: str, legal_form: str) -> str:
    """A valid 统一社会信用代码 of a 民政-registered organization (5 + kind)."""
    kind = {"social_group": "1", "private_non_enterprise": "2"}.get(legal_form, "9")
    body = "5" + kind + division[:6] + "".join(rnd.choice(CREDIT_CODE_ALPHABET) for _ in range(9))
    return body + credit_code_check_char(body)


def contact(rnd: random.Random, unit_code: str) -> tuple[str, str]:
    name = rnd.choice(SURNAMES) + rnd.choice(GIVEN)
    if rnd.random() < 0.7:
        phone = rnd.choice(["13", "15", "18", "13", "15"]) + str(rnd.randint(0, 9)) + f"{rnd.randint(0, 99999999):08d}"
    else:
        area = AREA_CODES.get(unit_code[:4], "020")
        digits = 8 if area in ("020", "0755", "0757", "0769") else 7
        phone = f"{area}-{rnd.randint(2, 8)}{rnd.randint(0, 10 ** (digits - 1) - 1):0{digits - 1}d}"
    return name, phone


# the notice's targets a unit meets in the demo when it is one of the "strong" ones (about
# 45 % of the units, drawn per unit and target): direct contacts and organizations cultivated
CONTACT_TARGETS = {("city", True): 30, ("county", True): 10, ("city", False): 20, ("county", False): 5}
CULTIVATED_TARGETS = {("city", True): 30, ("county", True): 10, ("city", False): 15, ("county", False): 5}
CONTACTS_DUE = {("city", True): datetime.date(YEAR, 3, 31)}  # else 4-30


PILOT_TARGETS = {"city": 5, "county": 2}  # the notice's pilots directly connected by 3月20日


def strong(unit: Unit, what: str) -> bool:
    """Whether ``unit`` meets its ``what`` target in the demo (deterministic, about 45 %)."""
    return random.Random(f"{SEED}:strong:{what}:{unit.code}").random() < 0.45


def plan_units(session) -> list[tuple[Unit, int]]:
    """(unit, how many organizations) for every city and county, in code order:
    enough for the targets of the units that meet them, fewer for the others."""
    units = session.execute(
        select(Unit).where(Unit.level.in_(("city", "county"))).order_by(Unit.code)
    ).scalars().all()
    plan = []
    for unit in units:
        rnd = random.Random(f"{SEED}:count:{unit.code}")
        if unit.level == "city":
            n = rnd.randint(10, 16) if unit.prd else rnd.randint(6, 10)
        else:
            n = rnd.randint(2, 4) if unit.prd else rnd.randint(1, 3)
        key = (unit.level, bool(unit.prd))
        if strong(unit, "contacts"):
            n = max(n, CONTACT_TARGETS[key] + rnd.randint(0, 2))
        if strong(unit, "cultivated"):
            n = max(n, CULTIVATED_TARGETS[key] + rnd.randint(1, 3))
        if strong(unit, "pilots"):
            n = max(n, PILOT_TARGETS[unit.level])
        plan.append((unit, n))
    return plan


def services_for(rnd: random.Random, org: YouthOrg, city_name: str) -> list[Service]:
    out = []
    start = max(org.founded_on or datetime.date(YEAR, 1, 1), datetime.date(YEAR - 1, 9, 1))
    if org.reg_status != "registered" and rnd.random() < 0.6:
        outcome = "in_progress" if org.reg_status == "registering" else rnd.choice(["in_progress", "not_registered"])
        out.append(Service(org=org, kind="counselling", starts_on=day_between(rnd, start, datetime.date(YEAR, 9, 30)),
                           outcome=outcome))
    if org.reg_status == "unregistered" and rnd.random() < 0.25:
        begin = day_between(rnd, datetime.date(YEAR, 3, 1), datetime.date(YEAR, 8, 31))
        out.append(Service(org=org, kind="custody", starts_on=begin, custodian=f"{city_name}青年社会组织孵化基地"))
    if org.reg_status == "registered" and rnd.random() < 0.5:
        begin = day_between(rnd, datetime.date(YEAR, 3, 1), datetime.date(YEAR, 9, 30))
        amount = Decimal(rnd.randint(5, 300) * 1000 + rnd.choice([0, 0, 500]))
        out.append(Service(org=org, kind="purchase", starts_on=begin, ends_on=datetime.date(YEAR, 12, 31),
                           contract=f"{org.name}{YEAR}年度服务项目", amount=amount))
    for kind in ("venue", "network", "logistics"):
        if rnd.random() < 0.15:
            out.append(Service(org=org, kind=kind, starts_on=day_between(rnd, datetime.date(YEAR, 3, 1), datetime.date(YEAR, 10, 31)),
                               note=f"{city_name}团委免费提供"))
    return out


def org_random(unit_code: str, name: str) -> random.Random:
    """Each organization draws from its own stream, so what exists already
    never shifts the others (idempotent and deterministic)."""
    return random.Random(f"{SEED}:{unit_code}:{name}")


def choose_names(rnd: random.Random, place: str, n: int) -> list[tuple[str, str]]:
    """n distinct (name, service field) pairs for a place."""
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    while len(out) < n:
        field = pick_field(rnd)
        free = [t for t in THEMES[field] if f"{place}{t}" not in used]
        if not free:
            continue
        name = f"{place}{rnd.choice(free)}"
        used.add(name)
        out.append((name, field))
    return out


def load(session) -> int:
    existing = set(tuple(r) for r in session.execute(select(YouthOrg.unit_id, YouthOrg.name)).all())
    taken = set(session.execute(select(YouthOrg.credit_code).where(YouthOrg.credit_code.is_not(None))).scalars())
    units_by_code = {
        u.code: u for u in session.execute(select(Unit).where(Unit.level.in_(("province", "city", "county")))).scalars()
    }
    added = 0

    def add(org: YouthOrg, rnd: random.Random, city_name: str) -> None:
        nonlocal added
        if (org.unit.id, org.name) in existing or (org.credit_code and org.credit_code in taken):
            return
        existing.add((org.unit.id, org.name))
        if org.credit_code:
            taken.add(org.credit_code)
        services = services_for(rnd, org, city_name)
        session.add(org)
        session.add_all(services)
        added += 1 + len(services)

    for code, name, category, field, status, form, founded, members, connected, pilot, cultivated in REAL:
        unit = units_by_code.get(code) or session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
        if unit is None:
            continue
        rnd = org_random(code, name)
        person, phone = contact(rnd, code)
        org = YouthOrg(
            unit=unit, name=name, credit_code=make_credit_code(rnd, code, form) if status == "registered" else None,
            category=category, service_field=field, reg_status=status, legal_form=form, founded_on=founded,
            contact_name=person, contact_phone=phone, members=members, youth_share=rnd.randint(70, 95),
            directly_connected_on=connected, is_pilot=pilot, cultivated_on=cultivated,
        )
        city = units_by_code.get(code[:4] + "00")
        add(org, rnd, short_place(city.name) if city and code != "440000" else "广东省")

    for unit, n in plan_units(session):
        place = short_place(unit.name)
        city = units_by_code.get(unit.code[:4] + "00") or unit
        names = choose_names(random.Random(f"{SEED}:{unit.code}"), place, n)
        key = (unit.level, bool(unit.prd))
        contacts_due = CONTACTS_DUE.get(key, datetime.date(YEAR, 4, 30))
        # the strong units connect enough organizations by the due date and cultivate enough by late November
        on_time = CONTACT_TARGETS[key] + 1 if strong(unit, "contacts") else 0
        grown = CULTIVATED_TARGETS[key] + 1 if strong(unit, "cultivated") else 0
        for i, (name, field) in enumerate(names):
            rnd = org_random(unit.code, name)
            category = "league_affairs" if field in ("migrant_workers", "youth_rights") or rnd.random() < 0.3 else "interest"
            founded = day_between(rnd, datetime.date(2004, 1, 1), datetime.date(YEAR, 3, 31))
            x = rnd.random()
            status = "registered" if x < 0.35 else ("registering" if x < 0.5 else "unregistered")
            form = rnd.choice(["social_group", "social_group", "private_non_enterprise", "other"]) if status == "registered" else None
            connected = None
            if rnd.random() < 0.7:
                connected = day_between(rnd, datetime.date(YEAR, 2, 15), datetime.date(YEAR, 11, 30))
            # the strong units have their pilots connected by 3月20日; the others some of them
            pilot = connected is not None and i < PILOT_TARGETS[unit.level] and rnd.random() < 0.8
            pilot = pilot or (strong(unit, "pilots") and i < PILOT_TARGETS[unit.level])
            if pilot:
                connected = day_between(rnd, datetime.date(YEAR, 2, 15), datetime.date(YEAR, 3, 20))
            if i < on_time and not pilot:
                connected = day_between(rnd, datetime.date(YEAR, 2, 15), contacts_due)
            cultivated = None
            if i < grown:
                cultivated = day_between(rnd, datetime.date(YEAR, 4, 1), datetime.date(YEAR, 11, 30))
            elif rnd.random() < 0.45:
                cultivated = day_between(rnd, datetime.date(YEAR, 4, 1), datetime.date(YEAR, 12, 31))
            person, phone = contact(rnd, unit.code)
            org = YouthOrg(
                unit=unit, name=name, credit_code=make_credit_code(rnd, unit.code, form) if form else None,
                category=category, service_field=field, reg_status=status, legal_form=form, founded_on=founded,
                contact_name=person, contact_phone=phone, members=rnd.randint(8, 260), youth_share=rnd.randint(55, 100),
                directly_connected_on=connected, is_pilot=pilot, cultivated_on=cultivated,
            )
            add(org, rnd, short_place(city.name))
    session.flush()
    return added
