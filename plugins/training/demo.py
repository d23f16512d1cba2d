"""Deterministic demo data for plan year 2012: the province's ten camps (the
first on 3月23-25日 in 佛山南海, as the notice announces), four camps in every
PRD city (one in Q1, the others in the quarters it holds camps in), two or
three in every other city, a few county camps, and a large camp in 45 % of
the counties, which train enough leaders for their target; the leaders of
cultivation's demo organizations enrolled in them (about 85% attend; many
attend more than one camp), and a lecturer pool kept by universities' cities
and the province, shared across camps. Late in the plan year, some cities and
counties have met their targets and others not (see ``STRONG_SHARE``).

Idempotent: a camp whose (unit, title, session) exists is left alone with
its roster; people and lecturers that exist are reused. New people and the
rosters go in with set-based inserts."""

from __future__ import annotations

import datetime
import random

from sqlalchemy import insert, select

from core.api import Unit, resident_id_check_char
from plugins.cultivation.models import YouthOrg
from plugins.training.models import CANCELLED, FINISHED, Camp, Enrolment, Lecturer, Trainee

YEAR = 2012
SEED = 2012
D = datetime.date

PROVINCE_TITLE = "广东省“亲青汇训练营”"
# (first day, last day, place) of the province's ten sessions
PROVINCE_SESSIONS = [
    (D(YEAR, 3, 23), D(YEAR, 3, 25), "佛山市南海区（南海桂城创益中心）"),
    (D(YEAR, 4, 20), D(YEAR, 4, 22), "广州市青年文化宫"),
    (D(YEAR, 5, 18), D(YEAR, 5, 20), "深圳市青少年活动中心"),
    (D(YEAR, 6, 15), D(YEAR, 6, 17), "珠海市青年活动中心"),
    (D(YEAR, 7, 13), D(YEAR, 7, 15), "汕头市青少年宫"),
    (D(YEAR, 8, 17), D(YEAR, 8, 19), "湛江市青年活动中心"),
    (D(YEAR, 9, 14), D(YEAR, 9, 16), "江门市青少年宫"),
    (D(YEAR, 10, 19), D(YEAR, 10, 21), "惠州市青少年宫"),
    (D(YEAR, 11, 16), D(YEAR, 11, 18), "韶关学院"),
    (D(YEAR, 12, 14), D(YEAR, 12, 16), "广东青年职业学院"),
]
MEDIA = ["南方日报", "广东电视台", "南方都市报", "羊城晚报", "广东人民广播电台", "中国青年报广东记者站"]
ORGS = ["广东青年社会组织培育发展中心", "广东省青年志愿者协会", "广州市青年志愿者协会", "南海桂城创益中心"]
INSTITUTIONS = ["公益大讲堂", "广东青年职业学院", "中山大学社会工作教育与研究中心", "广东省社会工作师联合会"]
# county camps: "县域范围内的骨干培训纳入市级培训序列"
COUNTY_CAMPS = {"440605": 1, "440606": 2, "440106": 1}
CANCELLED_CAMP = ("440900", 2)  # one camp called off, for realism
# A living demo: about 45 % of the counties (drawn per county) train enough of
# their organizations' leaders (骨干) in a camp of their own to meet their
# target (PRD 100, others 50), held in a quarter of their city's camps; in
# each of Q2-Q4, 40 % of the cities hold a camp (every city at least one), so
# "one camp every quarter" is met in some quarters and not in others.
TRAINED_TARGETS = {True: 100, False: 50}
STRONG_SHARE = 0.45
QUARTER_SHARE = 0.4


def ranked(codes, *key) -> list[str]:
    """``codes`` in a deterministic random order (drawn per code)."""
    return sorted(codes, key=lambda c: random.Random(":".join(map(str, (SEED, *key, c)))).random())


def strong_counties(units) -> set[str]:
    """The counties that train enough leaders: 45 % of the PRD ones and of the others."""
    out = set()
    for prd in (True, False):
        codes = [u.code for u in units if u.level == "county" and bool(u.prd) == prd]
        out.update(ranked(codes, "strong", "trained")[: round(len(codes) * STRONG_SHARE)])
    return out


def camp_quarters(cities) -> dict[str, list[int]]:
    """The quarters of every city's camps, one entry per camp: in each of
    Q2-Q4, 40 % of the cities hold one (a city holding none of them holds
    one in a quarter of its own choice); PRD cities hold four camps (one in
    Q1), the others two or three."""
    codes = sorted(c.code for c in cities)
    held_by = {q: set(ranked(codes, "quarter", q)[: round(len(codes) * QUARTER_SHARE)]) for q in (2, 3, 4)}
    out = {}
    for city in cities:
        rnd = random.Random(f"{SEED}:quarters:{city.code}")
        held = [q for q in (2, 3, 4) if city.code in held_by[q]] or [rnd.choice([2, 3, 4])]
        first = [1] if city.prd or rnd.random() < 0.5 else []
        n = 4 if city.prd else rnd.choice([2, 3])
        out[city.code] = sorted(first + [held[i % len(held)] for i in range(n - len(first))])
    return out


# the shared lecturer pool (fictional people at real institutions)
LECTURERS = [
    ("陈思远", "中山大学社会学与人类学学院", "教授", "社会工作理论、社会组织治理", "440100", "020-84110001"),
    ("李婉清", "华南师范大学政治与行政学院", "副教授", "青少年社会工作、志愿服务管理", "440100", "020-85210002"),
    ("黄志明", "广东工业大学政法学院", "讲师", "社会组织财务与项目管理", "440100", "020-39320003"),
    ("张慧敏", "广州大学公共管理学院", "副教授", "公益项目设计与评估", "440100", "020-39360004"),
    ("郑伟强", "暨南大学管理学院", "教授", "非营利组织管理、公益筹款", "440100", "020-85220005"),
    ("林秀珍", "华南农业大学人文与法学学院", "讲师", "农村留守儿童服务", "440100", "020-85280006"),
    ("刘建华", "深圳大学管理学院", "教授", "社会企业、公益创业", "440300", "0755-26530007"),
    ("吴晓琳", "深圳职业技术学院", "讲师", "社区营造、青年参与", "440300", "0755-26730008"),
    ("梁家乐", "佛山科学技术学院", "副教授", "社区社会工作、外来务工青年服务", "440600", "0757-82980009"),
    ("邓国辉", "汕头大学法学院", "副教授", "青少年权益保护法律实务", "440500", "0754-86500010"),
    ("许丽娟", "广东海洋大学", "讲师", "志愿服务组织管理", "440800", "0759-23830011"),
    ("冯振宇", "韶关学院", "讲师", "山区青少年发展", "440200", "0751-81200012"),
    ("何雪梅", "广东青年职业学院", "副教授", "团务知识、青年社会组织团建", "440000", "020-87650013"),
    ("曾凤仪", "广东省社会工作师联合会", "高级社工师", "督导与个案管理", "440000", "020-83760014"),
]
SURNAMES = "陈李黄张梁林刘吴罗何郑谢杨邓叶朱许蔡冯曾彭萧潘卢钟麦欧关"
GIVEN_M = ["子豪", "伟杰", "俊杰", "志强", "家豪", "浩然", "锦辉", "振华", "国栋", "文斌", "嘉俊", "明轩", "少鹏", "永康"]
GIVEN_F = ["嘉欣", "晓婷", "敏仪", "泳诗", "丽华", "咏琳", "思敏", "雅婷", "慧玲", "诗琪", "婉婷", "颖欣", "凯琳", "秀贞"]
ROLES = ["会长", "秘书长", "副会长", "理事", "项目主管", "骨干成员", "总干事", "志愿者队长"]


def short_name(name: str) -> str:
    for suffix in ("市", "区", "县"):
        if name.endswith(suffix) and len(name) > 2:
            return name[: -len(suffix)]
    return name


def person(rnd: random.Random, division: str, index: int) -> dict:
    """A leader: name, gender, mobile, and (three times in four) a valid ID."""
    male = rnd.random() < 0.5
    name = rnd.choice(SURNAMES) + rnd.choice(GIVEN_M if male else GIVEN_F)
    mobile = rnd.choice(["135", "136", "137", "138", "139", "150", "158", "186", "189"]) + f"{rnd.randint(0, 99999999):08d}"
    rid = None
    if rnd.random() < 0.75:
        born = D(1975, 1, 1) + datetime.timedelta(days=rnd.randint(0, 365 * 19))
        seq = rnd.randint(0, 49) * 20 + rnd.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
        body = f"{division}{born:%Y%m%d}{seq:03d}"
        rid = body + resident_id_check_char(body)
    return {"name": name, "gender": "male" if male else "female", "phone": mobile, "resident_id": rid,
            "role": ROLES[index] if index < 2 else rnd.choice(ROLES[2:])}


def leaders_of(orgs: list[tuple[YouthOrg, Unit]]) -> list[tuple[YouthOrg, Unit, dict]]:
    """One to three leaders per organization, each from the organization's
    own random stream (what else exists never shifts them)."""
    out = []
    for org, unit in orgs:
        rnd = random.Random(f"{SEED}:leaders:{unit.code}:{org.name}")
        division = unit.code[:6] if unit.code != "440000" else "440106"
        for i in range(rnd.randint(1, 3)):
            out.append((org, unit, person(rnd, division, i)))
    return out


def plan_camps(units: dict[str, Unit]) -> list[dict]:
    """Every demo camp: unit, title, session, dates, place, capacity, how many enrol."""
    camps = []
    province = units.get("440000")
    if province is not None:
        for n, (first, last, place) in enumerate(PROVINCE_SESSIONS, start=1):
            rnd = random.Random(f"{SEED}:province:{n}")
            camps.append(dict(
                unit=province, title=PROVINCE_TITLE, n=n, starts=first, ends=last, place=place, capacity=120,
                enrol=rnd.randint(95, 115), media="、".join(rnd.sample(MEDIA, 2)), orgs=rnd.choice(ORGS),
                institutions="、".join(rnd.sample(INSTITUTIONS, 2)),
            ))
    cities = sorted((u for u in units.values() if u.level == "city"), key=lambda u: u.code)
    quarters_of = camp_quarters(cities)
    for city in cities:
        rnd = random.Random(f"{SEED}:city:{city.code}")
        quarters = quarters_of[city.code]
        for n, q in enumerate(quarters, start=1):
            first = D(YEAR, 3 * q - 2, 1) + datetime.timedelta(days=rnd.randint(14, 70))
            if q == 1:
                first = max(first, D(YEAR, 3, 26))  # after the province's first camp
            camps.append(dict(
                unit=city, title=f"{city.name}“亲青汇训练营”", n=n, starts=first,
                ends=first + datetime.timedelta(days=rnd.choice([1, 2])),
                place=f"{city.name}{rnd.choice(['青年文化宫', '青少年宫', '团校', '青年社会组织孵化基地'])}",
                capacity=60 if city.prd else 50, enrol=rnd.randint(40, 58) if city.prd else rnd.randint(25, 45),
                media=f"{short_name(city.name)}日报", orgs=None,
                institutions=rnd.choice(["公益大讲堂", f"{short_name(city.name)}市委党校", f"{city.name}社会工作协会"]),
            ))
    for code, count in COUNTY_CAMPS.items():
        county = units.get(code)
        if county is None or county.level == "city":  # 顺德区 at city tier has its city camps
            continue
        rnd = random.Random(f"{SEED}:county:{code}")
        city_held = sorted({q for q in quarters_of.get(code[:4] + "00", [2, 3]) if q > 1})
        for n in range(1, count + 1):
            q = city_held[(n - 1) % len(city_held)]  # with the city's camps
            first = D(YEAR, 3 * q - 2, 1) + datetime.timedelta(days=rnd.randint(10, 50))
            camps.append(dict(
                unit=county, title=f"{county.name}“亲青汇训练营”", n=n, starts=first,
                ends=first + datetime.timedelta(days=1), place=f"{county.name}青少年活动中心", capacity=40,
                enrol=rnd.randint(20, 35), media=None, orgs=None, institutions="公益大讲堂",
            ))
    # the counties that train enough leaders: one large camp, in a quarter of their city's camps
    strong = strong_counties(units.values())
    for county in sorted((u for u in units.values() if u.level == "county"), key=lambda u: u.code):
        city = units.get(county.code[:4] + "00")
        if city is None or county.code not in strong:
            continue
        rnd = random.Random(f"{SEED}:county-trained:{county.code}")
        q = rnd.choice([k for k in quarters_of[city.code] if k > 1])
        first = D(YEAR, 3 * q - 2, 1) + datetime.timedelta(days=rnd.randint(14, 65))
        need = TRAINED_TARGETS[bool(county.prd)]
        enrol = need * 5 // 4 + rnd.randint(3, 10)  # about 85 % attend
        camps.append(dict(
            unit=county, title=f"{county.name}青年社会组织骨干培训班", n=1, starts=first,
            ends=first + datetime.timedelta(days=rnd.choice([1, 2])), place=f"{county.name}青少年活动中心",
            capacity=enrol + 10, enrol=enrol, backbone=True, media=None, orgs=None,
            institutions=rnd.choice(["公益大讲堂", f"{county.name}社会工作协会"]),
        ))
    return camps


def backbone(orgs: list[tuple[YouthOrg, Unit]], unit: Unit, n: int) -> list[tuple[YouthOrg, dict]]:
    """``n`` more leaders (骨干) of the organizations ``orgs`` of ``unit``, for a
    county's large camp, each from the county's own random stream."""
    out = []
    for k in range(n):
        org, org_unit = orgs[k % len(orgs)]
        rnd = random.Random(f"{SEED}:backbone:{unit.code}:{k}")
        division = org_unit.code[:6]
        out.append((org, person(rnd, division, 2 + k)))
    return out


def insert_rows(session, model, rows: list[dict], chunk: int = 1000) -> None:
    """Set-based inserts of ``rows``, a thousand per statement; empty values
    written as NULL, so that every row has the same columns and they go in
    together (else each run of rows with other empty columns is a statement)."""
    stmt = insert(model).execution_options(render_nulls=True)
    for i in range(0, len(rows), chunk):
        session.execute(stmt, rows[i : i + chunk])


def load(session) -> int:
    units = {
        u.code: u for u in session.execute(
            select(Unit).where(Unit.level.in_(("province", "city", "county")) | Unit.code.in_(list(COUNTY_CAMPS)))
        ).scalars()
    }
    added = 0

    # the lecturer pool
    pool_keys = set(session.execute(select(Lecturer.unit_id, Lecturer.name, Lecturer.institution)).all())
    for name, inst, title, expertise, code, phone in LECTURERS:
        unit = units.get(code)
        if unit is None or (unit.id, name, inst) in pool_keys:
            continue
        session.add(Lecturer(unit=unit, name=name, institution=inst, title=title, expertise=expertise, phone=phone))
        pool_keys.add((unit.id, name, inst))
        added += 1
    session.flush()
    pool = session.execute(select(Lecturer).order_by(Lecturer.unit_id, Lecturer.name)).scalars().all()

    # the leaders of the organizations, by city
    orgs = session.execute(
        select(YouthOrg, Unit).join(Unit, Unit.id == YouthOrg.unit_id).order_by(Unit.code, YouthOrg.name)
    ).all()
    leaders = leaders_of(orgs)
    # people already stored, by ID number and by (name, phone); new ones are rows to insert
    by_id = dict(session.execute(select(Trainee.resident_id, Trainee.id).where(Trainee.resident_id.is_not(None))).all())
    by_name_phone = {(n, ph): i for i, n, ph in session.execute(select(Trainee.id, Trainee.name, Trainee.phone))}
    new_people: list[dict] = []

    def trainee_for(p: dict) -> int | dict:
        """The stored trainee's id, or the row of a person to insert."""
        t = by_id.get(p["resident_id"]) if p["resident_id"] else None
        if t is None:
            t = by_name_phone.get((p["name"], p["phone"]))
        if t is None:
            t = {"name": p["name"], "gender": p["gender"], "phone": p["phone"], "resident_id": p["resident_id"]}
            new_people.append(t)
            if p["resident_id"]:
                by_id[p["resident_id"]] = t
            by_name_phone[(p["name"], p["phone"])] = t
        return t

    enrolments: list[tuple[Camp, int | dict, dict]] = []  # (camp, trainee, the roster line)
    existing = set(session.execute(select(Camp.unit_id, Camp.title, Camp.session_no)).all())
    for plan in plan_camps(units):
        unit = plan["unit"]
        if (unit.id, plan["title"], plan["n"]) in existing:
            continue
        local = [(org, u) for org, u in orgs if u.path.startswith(unit.path)]
        if plan.get("backbone") and not local:  # a county without organizations trains nobody
            continue
        rnd = random.Random(f"{SEED}:camp:{unit.code}:{plan['n']}")
        cancelled = (unit.code, plan["n"]) == CANCELLED_CAMP
        camp = Camp(
            unit=unit, title=plan["title"], session_no=plan["n"], starts_on=plan["starts"], ends_on=plan["ends"],
            place=plan["place"], capacity=plan["capacity"], status=CANCELLED if cancelled else FINISHED,
            media_partners=plan["media"], org_partners=plan["orgs"], institution_partners=plan["institutions"],
        )
        mine = [lec for lec in pool if lec.unit.path.startswith(unit.path) or lec.unit.parent_id is None]
        others = [lec for lec in pool if lec not in mine]
        chosen = rnd.sample(mine, min(len(mine), 2))
        if others:
            chosen.append(rnd.choice(others))  # shared across units
        camp.lecturers = sorted(set(chosen), key=lambda lec: lec.name)
        session.add(camp)
        added += 1
        candidates = [(org, p) for org, u, p in leaders if u.path.startswith(unit.path)]
        if cancelled:
            candidates = candidates[: min(len(candidates), 8)]
        if plan.get("backbone"):  # a county's large camp: its organizations send more of their leaders
            if len(candidates) < plan["enrol"]:
                candidates = candidates + backbone(local, unit, plan["enrol"] - len(candidates))
        taken = set()
        for org, p in rnd.sample(candidates, min(len(candidates), plan["enrol"], plan["capacity"])):
            trainee = trainee_for(p)
            key = id(trainee) if isinstance(trainee, dict) else trainee
            if key in taken:  # the same person twice in one camp: never
                continue
            taken.add(key)
            enrolments.append((camp, trainee, dict(
                youth_org_id=org.id, name=p["name"], gender=p["gender"], phone=p["phone"],
                resident_id=p["resident_id"], role=p["role"],
                enrolled_on=plan["starts"] - datetime.timedelta(days=rnd.randint(3, 20)),
                attended=(not cancelled) and rnd.random() < 0.85,
            )))
    session.flush()
    # the new people and the rosters: one set-based insert each
    if new_people:
        insert_rows(session, Trainee, new_people)
        added += len(new_people)
        by_id = dict(session.execute(
            select(Trainee.resident_id, Trainee.id).where(Trainee.resident_id.is_not(None))).all())
        by_name_phone = {(n, ph): i for i, n, ph in session.execute(select(Trainee.id, Trainee.name, Trainee.phone))}
    rows = []
    for camp, t, line in enrolments:
        if isinstance(t, dict):
            t = by_id[t["resident_id"]] if t["resident_id"] else by_name_phone[(t["name"], t["phone"])]
        rows.append({**line, "camp_id": camp.id, "unit_id": camp.unit_id, "trainee_id": t})
    if rows:
        insert_rows(session, Enrolment, rows)
        added += len(rows)
    return added
